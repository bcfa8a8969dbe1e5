// Test projects whose module graphs exercise what go's graph loading does (pruned and unpruned
// dependencies, MVS, replace, exclude, workspaces), over a static GOPROXY tree, and a GoModSource that
// reads such a tree directly.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../../src/errors.js';
import { escapePath, escapeVersion } from '../../src/module/path.js';
import { compare, prerelease } from '../../src/module/semver.js';
import { canonicalVersion } from '../../src/module/version.js';
import type { GoModSource } from '../../src/modgraph/graph.js';
import { writeTree } from './git.js';
import { addModule } from './modgraph.js';

/** One module version of a test graph. */
interface Spec {
  path: string;
  version: string;
  /** The `go` line; '' for none. */
  go: string;
  /** Requirements, `path version`. */
  require?: string[];
  /** Module paths whose root package the root package imports. */
  imports?: string[];
  /** Module paths whose root package a test of the root package imports. */
  testImports?: string[];
  /** The path on the `module` line when it differs from `path` (a fork). */
  declares?: string;
}

/** go.mod text for a module: path, go version ('' for none), requirements. */
export function goModText(path: string, go: string, require: string[] = [], extra = ''): string {
  const goLine = go === '' ? '' : `\ngo ${go}\n`;
  const req = require.length > 0 ? `\nrequire (\n${require.map((r) => `\t${r}\n`).join('')})\n` : '';
  return `module ${path}\n${goLine}${req}${extra}`;
}

// The package name of a module's root package: its last element, lower-cased, without a major suffix.
function packageName(modulePath: string): string {
  const elems = modulePath.split('/').filter((e) => !/^v[0-9]+$/.test(e));
  return elems[elems.length - 1]!.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Go source for a package naming itself and the packages it imports. */
function goSource(pkg: string, name: string, imports: string[]): string {
  const imp = imports.length > 0 ? `import (\n${imports.map((p, i) => `\tp${i} "${p}"\n`).join('')})\n\n` : '';
  const deps = imports.map((_, i) => ` + " " + p${i}.Name`).join('');
  return `package ${pkg}\n\n${imp}// Name names this package and what it imports.\nvar Name = "${name}"${deps}\n`;
}

function goTest(pkg: string, imports: string[]): string {
  const imp = imports.map((p, i) => `\tp${i} "${p}"\n`).join('');
  const uses = imports.map((_, i) => `\tif p${i}.Name == "" {\n\t\tt.Fatal("empty")\n\t}\n`).join('');
  return `package ${pkg}\n\nimport (\n\t"testing"\n\n${imp})\n\nfunc TestName(t *testing.T) {\n${uses}}\n`;
}

function moduleFiles(spec: Spec): Record<string, string> {
  const pkg = packageName(spec.declares ?? spec.path);
  const files: Record<string, string> = { [`${pkg}.go`]: goSource(pkg, `${spec.path}@${spec.version}`, spec.imports ?? []) };
  if (spec.testImports !== undefined) files[`${pkg}_test.go`] = goTest(pkg, spec.testImports);
  if (spec.go !== '' || spec.require !== undefined || spec.declares !== undefined) {
    files['go.mod'] = goModText(spec.declares ?? spec.path, spec.go, spec.require);
  }
  return files;
}

const p = (name: string): string => `example.com/proj/${name}`;
const ws = (name: string): string => `example.com/ws/${name}`;
const pseudo = 'v0.0.0-20230405060708-abcdefabcdef';

/**
 * The modules of the project graph. What each is for:
 * - major/v3 (v2+ path), Upper (upper case), pseudo (a pseudo-version);
 * - the project requires bumped v1.0.0 but pseudo requires v1.1.0: as written, the root is below its
 *   selected version, so go loads the graph again from bumped v1.1.0, which brings in bumpdep;
 * - orig v1.0.0 is replaced by fork v1.0.1, a fork whose go.mod keeps orig's module line; local is
 *   replaced by a folder of the project, at go 1.16 (unpruned), reaching vialocal;
 * - leaf v1.2.0 is excluded by the project: wantsnew's requirement on it is dropped, so MVS selects
 *   leaf v1.1.0 (from vialocal), not v1.2.0;
 * - old is at go 1.16 (unpruned): oldonly and oldonlydep, required only through go.mod files and
 *   never imported, still have their go.mod files read;
 * - testdep is imported only by the project's test; its own test imports testonly, so testonly is in
 *   the build list but never built, and testonlydep, below the pruned testonly, is not in the graph;
 * - the ws/ modules belong to the workspace project.
 */
const projectSpecs: Spec[] = [
  { path: p('leaf'), version: 'v1.0.0', go: '1.17' },
  { path: p('leaf'), version: 'v1.1.0', go: '1.17' },
  { path: p('leaf'), version: 'v1.2.0', go: '1.17' },
  { path: p('major/v3'), version: 'v3.1.0', go: '1.17', require: [`${p('leaf')} v1.0.0`], imports: [p('leaf')] },
  { path: p('Upper'), version: 'v1.2.0', go: '1.18' },
  { path: p('pseudo'), version: pseudo, go: '1.17', require: [`${p('bumped')} v1.1.0`], imports: [p('bumped')] },
  { path: p('bumped'), version: 'v1.0.0', go: '1.17' },
  { path: p('bumped'), version: 'v1.1.0', go: '1.17', require: [`${p('bumpdep')} v1.0.0`], imports: [p('bumpdep')] },
  { path: p('bumpdep'), version: 'v1.0.0', go: '1.17' },
  { path: p('orig'), version: 'v1.0.0', go: '1.17', require: [`${p('leaf')} v1.0.0`] },
  { path: p('fork'), version: 'v1.0.1', go: '1.17', declares: p('orig'), require: [`${p('forkdep')} v1.0.0`], imports: [p('forkdep')] },
  { path: p('forkdep'), version: 'v1.0.0', go: '1.17' },
  { path: p('vialocal'), version: 'v1.0.0', go: '1.17', require: [`${p('leaf')} v1.1.0`], imports: [p('leaf')] },
  { path: p('wantsnew'), version: 'v1.0.0', go: '1.17', require: [`${p('leaf')} v1.2.0`], imports: [p('leaf')] },
  { path: p('old'), version: 'v1.0.0', go: '1.16', require: [`${p('oldonly')} v1.0.0`] },
  { path: p('oldonly'), version: 'v1.0.0', go: '1.17', require: [`${p('oldonlydep')} v1.0.0`] },
  { path: p('oldonlydep'), version: 'v1.0.0', go: '1.17', require: [`${p('leaf')} v1.0.0`] },
  {
    path: p('testdep'),
    version: 'v1.0.0',
    go: '1.17',
    require: [`${p('testdepdep')} v1.0.0`, `${p('testonly')} v1.0.0`],
    imports: [p('testdepdep')],
    testImports: [p('testonly')],
  },
  { path: p('testdepdep'), version: 'v1.0.0', go: '1.17' },
  { path: p('testonly'), version: 'v1.0.0', go: '1.17', require: [`${p('testonlydep')} v1.0.0`] },
  { path: p('testonlydep'), version: 'v1.0.0', go: '1.17' },
  { path: ws('lib'), version: 'v1.0.0', go: '1.18', require: [`${ws('shared')} v1.0.0`] },
  { path: ws('shared'), version: 'v1.0.0', go: '1.18' },
  { path: ws('shared'), version: 'v1.1.0', go: '1.18', require: [`${ws('sharedep')} v1.0.0`], imports: [ws('sharedep')] },
  { path: ws('sharedep'), version: 'v1.0.0', go: '1.18', require: [`${ws('sharedeepest')} v1.0.0`] },
  { path: ws('sharedeepest'), version: 'v1.0.0', go: '1.18' },
];

const edge = (name: string): string => `example.com/edge/${name}`;

/**
 * Modules for the corner cases of writeEdgeProjects: a requirement cycle through two versions of a,
 * a dependency requiring an old version of the main module itself, and duplicated roots.
 */
const edgeSpecs: Spec[] = [
  { path: edge('a'), version: 'v1.0.0', go: '1.17', require: [`${edge('b')} v1.0.0`] },
  { path: edge('a'), version: 'v1.1.0', go: '1.17', require: [`${edge('b')} v1.0.0`] },
  { path: edge('b'), version: 'v1.0.0', go: '', require: [`${edge('a')} v1.1.0`, `${edge('main')} v0.9.0`] },
  { path: edge('main'), version: 'v0.9.0', go: '1.17', require: [`${edge('z')} v1.0.0`] },
  { path: edge('z'), version: 'v1.0.0', go: '1.17' },
  { path: edge('dup'), version: 'v1.0.0', go: '1.17', require: [`${edge('onlyviadup')} v1.0.0`] },
  { path: edge('dup'), version: 'v1.1.0', go: '1.17' },
  { path: edge('onlyviadup'), version: 'v1.0.0', go: '1.17' },
  { path: edge('excluded'), version: 'v1.0.0', go: '1.17', require: [`${edge('z')} v1.0.0`] },
];

/**
 * Writes two main modules of example.com/edge/main into `dir`/unpruned and `dir`/pruned: the first at
 * go 1.16 requires a (a cycle that also requires main v0.9.0); the second at go 1.17 requires dup at
 * two versions and a version it also excludes.
 */
export async function writeEdgeProjects(dir: string): Promise<string[]> {
  const unpruned = join(dir, 'unpruned');
  const pruned = join(dir, 'pruned');
  await writeTree(unpruned, { 'go.mod': goModText(edge('main'), '1.16', [`${edge('a')} v1.0.0`]) });
  await writeTree(pruned, {
    'go.mod': goModText(edge('main'), '1.17', [`${edge('dup')} v1.1.0`, `${edge('dup')} v1.0.0`, `${edge('excluded')} v1.0.0`], `
exclude ${edge('excluded')} v1.0.0
`),
  });
  return [unpruned, pruned];
}

/**
 * Adds the project graph's modules to the GOPROXY tree at `tree` (sources under `work`); `extraFiles`
 * gives more files for each module (bench/bundle makes the modules as large as real ones with it).
 */
export async function addProjectModules(tree: string, work: string, extraFiles: (modulePath: string) => Record<string, string> = () => ({})): Promise<void> {
  for (const spec of [...projectSpecs, ...edgeSpecs]) await addModule(tree, work, spec.path, spec.version, { ...extraFiles(spec.path), ...moduleFiles(spec) });
}

/**
 * Writes the project into `dir`: a go 1.17 main module requiring the modules above directly (go mod
 * tidy completes it), with its replace and exclude lines and the `./local` folder it replaces a module with.
 */
export async function writeProject(dir: string): Promise<void> {
  const direct = [p('major/v3'), p('Upper'), p('pseudo'), p('bumped'), p('orig'), p('local'), p('wantsnew'), p('old')];
  const versions: Record<string, string> = { [p('major/v3')]: 'v3.1.0', [p('Upper')]: 'v1.2.0', [p('pseudo')]: pseudo };
  const require = [...direct, p('testdep')].map((m) => `${m} ${versions[m] ?? 'v1.0.0'}`);
  const extra =
    `\nexclude ${p('leaf')} v1.2.0\n` +
    `\nreplace ${p('orig')} v1.0.0 => ${p('fork')} v1.0.1\n` +
    `\nreplace ${p('local')} => ./local\n`;
  await writeTree(dir, {
    'go.mod': goModText(p('main'), '1.17', require, extra),
    'main.go': mainSource(direct),
    'main_test.go': goTest('main', [p('testdep')]),
    'local/go.mod': goModText(p('local'), '1.16', [`${p('vialocal')} v1.0.0`]),
    'local/local.go': goSource('local', p('local'), [p('vialocal')]),
  });
}

/**
 * Writes a workspace into `dir`: go.work using ./app and ./lib. app requires lib at v1.0.0 (a version
 * the proxy has, which the workspace's own lib overrides) and shared v1.0.0; lib requires shared
 * v1.1.0, whose dependencies therefore matter to the workspace.
 */
export async function writeWorkspace(dir: string): Promise<void> {
  await writeTree(dir, {
    'go.work': 'go 1.18\n\nuse (\n\t./app\n\t./lib\n)\n',
    'app/go.mod': goModText(ws('app'), '1.18', [`${ws('lib')} v1.0.0`, `${ws('shared')} v1.0.0`, `${p('leaf')} v1.0.0`]),
    'app/main.go': mainSource([ws('lib'), p('leaf')]),
    'lib/go.mod': goModText(ws('lib'), '1.18', [`${ws('shared')} v1.1.0`]),
    'lib/lib.go': goSource('lib', ws('lib'), [ws('shared')]),
  });
}

function mainSource(imports: string[]): string {
  const imp = imports.map((m, i) => `\tp${i} "${m}"\n`).join('');
  const prints = imports.map((_, i) => `\tfmt.Println(p${i}.Name)\n`).join('');
  return `package main\n\nimport (\n\t"fmt"\n\n${imp})\n\nfunc main() {\n${prints}}\n`;
}

/**
 * A GoModSource reading a GOPROXY tree in place: `.mod` files, `.info` of canonical versions, and
 * `latest` as the highest listed version (releases before prereleases), as a proxy answers it.
 */
export function treeSource(tree: string): GoModSource {
  const file = async (modulePath: string, name: string): Promise<Buffer> => {
    try {
      return await readFile(join(tree, escapePath(modulePath), '@v', name));
    } catch {
      throw new NotFoundError(`${modulePath}: ${name} not found in the tree`);
    }
  };
  return {
    mod: (modulePath, version) => file(modulePath, `${escapeVersion(version)}.mod`),
    async info(modulePath, query) {
      if (query !== 'latest') {
        if (canonicalVersion(query) !== query) throw new NotFoundError(`${modulePath}@${query}: the tree answers canonical versions and latest only`);
        return file(modulePath, `${escapeVersion(query)}.info`);
      }
      const listed = (await file(modulePath, 'list')).toString('utf8').split('\n').filter(Boolean);
      const releases = listed.filter((v) => prerelease(v) === '');
      const best = (releases.length > 0 ? releases : listed).sort(compare).at(-1);
      if (best === undefined) throw new NotFoundError(`${modulePath}: no versions`);
      return file(modulePath, `${escapeVersion(best)}.info`);
    },
  };
}
