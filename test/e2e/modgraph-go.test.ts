// resolveGraph against the real go 1.19: for each test project, go runs in a fresh module cache against
// a static GOPROXY tree, and every go.mod and zip it fetched must be among what resolveGraph says the
// project needs. For `go mod download all` and `go list -m all` the two must be equal; for `go build`
// and `go test`, which fetch less, whatever resolveGraph adds is reported with the reason.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { resolveGraph, type ModuleGraph, type ModuleVersion } from '../../src/modgraph/graph.js';
import { unescapePath, unescapeVersion } from '../../src/module/path.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { buildModuleGraph, writeConsumer } from '../support/modgraph.js';
import { addProjectModules, goModText, treeSource, writeEdgeProjects, writeProject, writeWorkspace } from '../support/projects.js';

let work: string;
let tree: string;
let goproxy: string;
const worlds: GoWorld[] = [];

async function world(env: NodeJS.ProcessEnv = {}): Promise<GoWorld> {
  const w = await makeGoWorld(goproxy, env);
  worlds.push(w);
  return w;
}

// -mod=mod lets go complete go.mod and go.sum as it goes, as `bundle create` users' go will; go
// refuses it in workspace mode, where readonly is the only choice.
const modMode = { GOFLAGS: '-modcacherw -mod=mod' };

/** A test project: where it lives and how go must run in it. */
interface Project {
  name: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  /** What `go build` and `go test` build; none when go.mod and go.sum are not complete enough to build. */
  packages: string[];
}
const projects: Project[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-modgraph-'));
  tree = (await buildModuleGraph(work)).tree;
  await addProjectModules(tree, work);
  goproxy = pathToFileURL(tree).href;

  // Each project as written (only direct requirements), and as go mod tidy completes it.
  const prep = await world(modMode);
  for (const [name, write] of [['consumer', writeConsumer], ['project', writeProject]] as const) {
    const raw = join(work, `${name}-raw`);
    const tidy = join(work, `${name}-tidy`);
    await write(raw);
    await write(tidy);
    await prep.go(['mod', 'tidy'], { cwd: tidy });
    projects.push({ name: `${name} as written`, dir: raw, env: modMode, packages: [] });
    projects.push({ name: `${name} after go mod tidy`, dir: tidy, env: modMode, packages: ['./...'] });
  }
  const [unpruned, pruned] = await writeEdgeProjects(join(work, 'edges'));
  projects.push({ name: 'edge cases at go 1.16', dir: unpruned!, env: modMode, packages: [] });
  projects.push({ name: 'edge cases at go 1.17', dir: pruned!, env: modMode, packages: [] });
  // A workspace runs readonly, so its go.work.sum must hold every hash go checks: go mod download writes them.
  const workspace = join(work, 'workspace');
  await writeWorkspace(workspace);
  await (await world()).go(['mod', 'download'], { cwd: workspace });
  projects.push({ name: 'workspace', dir: workspace, env: {}, packages: ['./app/...', './lib/...'] });
});

after(async () => {
  for (const w of worlds) await w.dispose();
  await rm(work, { recursive: true, force: true });
});

const key = (m: ModuleVersion): string => `${m.path}@${m.version}`;

/** The `.mod` and `.zip` files go put into its download cache, as path@version. */
async function fetched(w: GoWorld): Promise<{ mods: string[]; zips: string[] }> {
  const root = join(w.env.GOMODCACHE!, 'cache', 'download');
  const mods: string[] = [];
  const zips: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const rel = join(entry.parentPath, entry.name).slice(root.length + 1).split(sep).join('/');
    const m = /^(.+)\/@v\/(.+)\.(mod|zip)$/.exec(rel);
    if (m === null || rel.startsWith('sumdb/')) continue;
    const name = `${unescapePath(m[1]!)}@${unescapeVersion(m[2]!)}`;
    (m[3] === 'mod' ? mods : zips).push(name);
  }
  return { mods: mods.sort(), zips: zips.sort() };
}

/** A copy of the project for one go run (go may rewrite go.mod and go.sum). */
async function copyOf(project: Project, run: string): Promise<string> {
  const dir = join(work, 'runs', `${project.dir.split(sep).pop()}-${run}`);
  await cp(project.dir, dir, { recursive: true });
  return dir;
}

/** `go list -m all` as path@version after replacement, main modules and folder replacements left out. */
function parseListAll(stdout: string): string[] {
  const out: string[] = [];
  for (const line of stdout.trim().split('\n')) {
    const f = line.trim().split(/\s+/);
    const arrow = f.indexOf('=>');
    const target = arrow < 0 ? f : f.slice(arrow + 1);
    if (target.length === 2) out.push(`${target[0]}@${target[1]}`);
  }
  return out.sort();
}

/**
 * Asserts that resolveGraph's list covers what go fetched; with `exact`, that it holds nothing more.
 * Anything more is reported as a diagnostic with `why`.
 */
function assertCovers(t: TestContext, label: string, goSaw: string[], ours: ModuleVersion[], exact: boolean, why: (m: string) => string): void {
  const mine = ours.map(key);
  assert.deepEqual(goSaw.filter((m) => !mine.includes(m)), [], `${label}: go fetched these and resolveGraph does not list them`);
  const extra = mine.filter((m) => !goSaw.includes(m));
  for (const m of extra) t.diagnostic(`${label}: resolveGraph also lists ${m}: ${why(m)}`);
  if (exact) assert.deepEqual(extra, [], `${label}: resolveGraph lists more than go fetched`);
}

async function resolveProject(project: Project): Promise<ModuleGraph> {
  return resolveGraph([project.dir], treeSource(tree), { cwd: work });
}

test('go mod download -json all and go list -m all fetch exactly what resolveGraph lists', async (t) => {
  await Promise.all(
    projects.map(async (project) => {
      const graph = await resolveProject(project);
      const w = await world(project.env);
      const dir = await copyOf(project, 'download');
      await w.go(['mod', 'download', '-json', 'all'], { cwd: dir });
      const { stdout } = await w.go(['list', '-m', 'all'], { cwd: dir });
      const seen = await fetched(w);
      const label = `${project.name} (${graph.inputs[0]!.pruning})`;
      t.diagnostic(`${label}: go fetched ${seen.mods.length} .mod and ${seen.zips.length} .zip files`);
      assertCovers(t, `${label}, .mod`, seen.mods, graph.goMods, true, () => 'go never read it');
      assertCovers(t, `${label}, .zip`, seen.zips, graph.buildList, true, () => 'go never downloaded it');
      assert.deepEqual(graph.buildList.map(key), parseListAll(stdout), `${label}: the build list is go list -m all`);
    }),
  );
});

test('go build ./... && go test ./... fetch nothing resolveGraph does not list', async (t) => {
  await Promise.all(
    projects
      .filter((project) => project.packages.length > 0)
      .map(async (project) => {
        const graph = await resolveProject(project);
        const w = await world(project.env);
        const dir = await copyOf(project, 'build');
        await w.go(['build', ...project.packages], { cwd: dir });
        await w.go(['test', ...project.packages], { cwd: dir });
        const seen = await fetched(w);
        t.diagnostic(`${project.name}: build+test fetched ${seen.mods.length} .mod and ${seen.zips.length} .zip files`);
        const buildList = new Set(graph.buildList.map(key));
        assertCovers(t, `${project.name}: build+test, .mod`, seen.mods, graph.goMods, false, (m) =>
          buildList.has(m)
            ? 'in the build list; go build reads go.mod files lazily, only of modules it loads packages from or needs for the graph'
            : 'read by go list -m all while loading the module graph, which go build does not need whole',
        );
        assertCovers(t, `${project.name}: build+test, .zip`, seen.zips, graph.buildList, false, () =>
          'in the build list, but no package of it is imported by the packages and tests built',
        );
      }),
  );
});

test('module@version: the unpruned closure equals what a go 1.16 consumer requiring it loads', async (t) => {
  const modules = ['example.com/proj/old@v1.0.0', 'example.com/deep/a@latest', 'example.com/proj/testdep@v1.0.0'];
  const graph = await resolveGraph(modules, treeSource(tree), { cwd: work });
  const requires = graph.inputs.map((input) => {
    const m = graph.buildList.find((b) => b.path === input.mainModules[0])!;
    return `${m.path} ${m.version}`;
  });
  const dir = join(work, 'module-consumer');
  await mkdir(dir);
  await writeFile(join(dir, 'go.mod'), goModText('example.com/shim', '1.16', requires));
  const w = await world(modMode);
  await w.go(['mod', 'download', 'all'], { cwd: dir });
  const seen = await fetched(w);
  assertCovers(t, 'module@version, .mod', seen.mods, graph.goMods, true, () => 'go never read it');
  assertCovers(t, 'module@version, .zip', seen.zips, graph.buildList, true, () => 'go never downloaded it');
});
