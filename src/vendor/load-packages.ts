// The packages `go mod vendor` vendors: go's "all" as vendoring reads it (modload.LoadPackages with
// UseVendorAll): every package of the main module, what they and their tests import, and what those
// import in turn, never the tests of dependencies. Each import is found in the build list as go finds
// it (importFromModules): in the one module of the build list whose path is a prefix of it and whose
// folder for it holds Go files, looking first at the main module's own requirements when its graph is
// pruned. Build constraints are read with every tag satisfied but `ignore`.
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isGodepotError } from '../errors.js';
import type { ModuleVersion } from '../module/gomod.js';
import { checkImportPath } from '../module/path.js';
import { eachConcurrently } from '../module/zipparallel.js';
import { PackageLoadError } from './errors.js';
import type { ModuleTree } from './module-trees.js';
import { hasGoFiles, scanPackageDir } from './package-dir.js';

/** A package of "all" provided by a module (the main module or one of the build list). */
export interface LoadedPackage {
  /** Its import path. */
  path: string;
  /** The build list's module providing it, before replacement; version '' for the main module. */
  module: ModuleVersion;
  /** The folder holding its files. */
  dir: string;
}

/** What loading "all" found. */
export interface AllPackages {
  /** Every package of "all" but the standard library's, sorted by import path. */
  packages: LoadedPackage[];
  /** The import paths the main module's packages and their tests import. */
  directImports: ReadonlySet<string>;
}

export interface LoadOptions {
  main: { path: string; dir: string };
  /** The selected version of every module path of the build list but the main module's. */
  selected: ReadonlyMap<string, string>;
  /** When the graph is pruned (go ≥ 1.17), the paths the main go.mod requires, searched before the rest of the build list; else null. */
  roots: ReadonlySet<string> | null;
  trees: { tree(m: ModuleVersion): Promise<ModuleTree> };
}

// Packages read at once; their module zips are fetched within ModuleTrees' own limit.
const LOAD_CONCURRENCY = 16;

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parentPath(p: string): string | null {
  const slash = p.lastIndexOf('/');
  return slash < 0 ? null : p.slice(0, slash);
}

/** go's search.IsStandardImportPath: no dot in the first element. */
function looksStandard(path: string): boolean {
  return !path.split('/')[0]!.includes('.');
}

async function isGoModFile(dir: string): Promise<boolean> {
  const info = await stat(join(dir, 'go.mod')).catch(() => null);
  return info !== null && !info.isDirectory();
}

/**
 * The main module's packages as go's "all" starts from them: every folder of the module with a Go file
 * that builds (or one go cannot read, which then fails to load), but folders named `testdata` or
 * starting with `.` or `_`, nested modules, and what is below a `vendor` folder.
 */
async function mainModulePackages(root: string, modulePath: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, importPath: string, elem: string): Promise<void> => {
    const isPackage = await scanPackageDir(dir).then(
      (imports) => imports !== null,
      (err: unknown) => {
        if (err instanceof PackageLoadError) return true;
        throw err;
      },
    );
    if (isPackage) found.push(importPath);
    if (elem === 'vendor') return;
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const name = entry.name;
      if (!entry.isDirectory() || name.startsWith('.') || name.startsWith('_') || name === 'testdata') continue;
      const sub = join(dir, name);
      if (await isGoModFile(sub)) continue;
      await walk(sub, `${importPath}/${name}`, name);
    }
  };
  await walk(root, modulePath, '');
  return found.sort();
}

class Loader {
  readonly found = new Map<string, LoadedPackage>();
  readonly directImports = new Set<string>();
  private readonly seen = new Set<string>();

  constructor(private readonly options: LoadOptions) {}

  async run(): Promise<AllPackages> {
    const { main } = this.options;
    let frontier = (await mainModulePackages(main.dir, main.path)).map((path) => ({ path, importer: null as string | null }));
    for (const { path } of frontier) this.seen.add(path);
    while (frontier.length > 0) {
      const next: Array<{ path: string; importer: string }> = [];
      const failures = new Map<string, unknown>();
      await eachConcurrently(frontier, LOAD_CONCURRENCY, async ({ path, importer }) => {
        try {
          for (const imported of await this.load(path, importer)) next.push({ path: imported, importer: path });
        } catch (err) {
          if (!isGodepotError(err)) throw err;
          failures.set(path, err);
        }
      });
      if (failures.size > 0) throw failures.get([...failures.keys()].sort()[0]!);
      frontier = [];
      // In path order, each under its first importer in that order: errors name the same importer every run.
      for (const item of next.sort((a, b) => compareText(a.path, b.path) || compareText(a.importer, b.importer))) {
        if (this.seen.has(item.path)) continue;
        this.seen.add(item.path);
        frontier.push(item);
      }
    }
    const packages = [...this.found.values()].sort((a, b) => compareText(a.path, b.path));
    return { packages, directImports: this.directImports };
  }

  /** Loads one package and returns the imports to load next: its own, and its tests' in the main module. */
  private async load(path: string, importer: string | null): Promise<string[]> {
    const fail = (reason: string): never => {
      throw new PackageLoadError(importer === null ? `${path}: ${reason}` : `${importer} imports\n\t${path}: ${reason}`);
    };
    const resolved = await this.resolve(path, fail);
    if (resolved === null) return [];
    const scanned = await scanPackageDir(resolved.dir).catch((err: unknown) => (err instanceof PackageLoadError ? fail(err.message) : Promise.reject(err)));
    if (scanned === null) return fail(`build constraints exclude all Go files in ${resolved.dir}`);
    this.found.set(path, { path, module: resolved.module, dir: resolved.dir });
    const { main } = this.options;
    if (resolved.module.version !== '' || resolved.module.path !== main.path) return scanned.imports;
    for (const imported of [...scanned.imports, ...scanned.testImports]) this.directImports.add(imported);
    return [...scanned.imports, ...scanned.testImports];
  }

  /** The module and folder providing `path`, or null for a standard-library path no module provides. */
  private async resolve(path: string, fail: (reason: string) => never): Promise<{ module: ModuleVersion; dir: string } | null> {
    if (path.includes('@')) fail(`import path "${path}" should not have @version`);
    if (path === '.' || path === '..' || path.startsWith('./') || path.startsWith('../')) {
      fail(`"${path}" is relative, but relative import paths are not supported in module mode`);
    }
    if (path.startsWith('/')) fail(`"${path}" is not a package path; see 'go help packages'`);
    if (path === 'std' || path === 'cmd' || path === 'all') fail(`"${path}" is not an importable package; see 'go help packages'`);
    try {
      checkImportPath(path);
    } catch (err) {
      fail((err as Error).message);
    }
    const { main, selected, roots } = this.options;
    if (roots !== null) {
      const inRoots = await this.search(path, (prefix) => prefix === main.path || roots.has(prefix), fail);
      if (inRoots !== null) return inRoots;
    }
    const inBuildList = await this.search(path, (prefix) => prefix === main.path || selected.has(prefix), fail);
    if (inBuildList !== null) return inBuildList;
    // go finds standard packages in GOROOT, which godepot does not have: a path that looks standard and
    // that no module provides is taken as one (go says nothing of missing ones either when vendoring).
    if (looksStandard(path)) return null;
    return fail(`no required module provides package ${path} (run go mod tidy, or go get ${path}, with network access)`);
  }

  // The modules among the prefixes of `path` that `candidate` accepts and that hold Go files for it.
  private async search(
    path: string,
    candidate: (prefix: string) => boolean,
    fail: (reason: string) => never,
  ): Promise<{ module: ModuleVersion; dir: string } | null> {
    const { main, selected, trees } = this.options;
    const found: Array<{ module: ModuleVersion; dir: string }> = [];
    for (let prefix: string | null = path; prefix !== null; prefix = parentPath(prefix)) {
      if (!candidate(prefix)) continue;
      const module = { path: prefix, version: prefix === main.path ? '' : selected.get(prefix)! };
      const dir = await dirInModule(path, prefix, await trees.tree(module));
      if (dir !== null) found.push({ module, dir });
    }
    if (found.length > 1) {
      const where = found
        .reverse()
        .map((f) => `\t${f.module.path}${f.module.version === '' ? '' : ` ${f.module.version}`} (${f.dir})`)
        .join('\n');
      fail(`ambiguous import: found package ${path} in multiple modules:\n${where}`);
    }
    return found[0] ?? null;
  }
}

/**
 * The folder of package `path` in module `modulePath` whose files are in `tree`, or null when it holds
 * no Go file, or (in a folder of the user's) lies in a nested module.
 */
async function dirInModule(path: string, modulePath: string, tree: ModuleTree): Promise<string | null> {
  const rel = path === modulePath ? '' : path.slice(modulePath.length + 1);
  if (tree.isLocal) {
    for (let d: string | null = rel === '' ? null : rel; d !== null; d = parentPath(d)) {
      if (await isGoModFile(join(tree.dir, d))) return null;
    }
  }
  const dir = rel === '' ? tree.dir : join(tree.dir, rel);
  return (await hasGoFiles(dir)) ? dir : null;
}

/**
 * Loads go's "all" for vendoring. Throws PackageLoadError naming the importing package for an import
 * that cannot be resolved or a package that cannot be read, and whatever ModuleTrees throws for a module
 * that cannot be had.
 */
export function loadAllPackages(options: LoadOptions): Promise<AllPackages> {
  return new Loader(options).run();
}
