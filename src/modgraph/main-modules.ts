// One input of resolveGraph turned into what go's modload calls the main module set: the main
// module(s) with their requirements, and the replace and exclude rules every go.mod read obeys.
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, InvalidContentError, InvalidRequestError } from '../errors.js';
import { isDirectoryPath, parseGoMod, type GoModFile, type ModuleVersion, type Replace, type VersionFixer } from '../module/gomod.js';
import { formatGoSum, parseGoSum, type GoSumLine } from '../module/gosum.js';
import { parseGoWork } from '../module/gowork.js';
import { checkImportPath, checkPath } from '../module/path.js';
import { canonicalVersion, checkModule, InvalidVersionError } from '../module/version.js';
import { pruningForGoVersion, type ModulePruning } from './summaries.js';

/** How the graph of one input is loaded: go's modPruning. */
export type Pruning = ModulePruning | 'workspace';

/** Where a module version's go.mod is read from once replacements are applied. */
export type GoModLocation = { kind: 'module'; path: string; version: string } | { kind: 'dir'; dir: string };

/** A main module: its path, folder and what its go.mod requires. */
export interface MainModule {
  path: string;
  /** Absolute folder of its go.mod; '' for the synthetic main module of a `module@version` input. */
  dir: string;
  goVersion: string;
  /** Its requirements in file order, excluded versions included. */
  require: ModuleVersion[];
}

/** One input ready for graph loading. */
export interface MainModuleSet {
  kind: 'gomod' | 'gowork' | 'module';
  /** The module paths to report as the input's main modules. */
  reported: string[];
  modules: MainModule[];
  pruning: Pruning;
  goSum: string[];
  /** The main modules' go.sum files that do not exist (a workspace's go.work.sum is optional, never listed). */
  missingGoSums: string[];
  /** Where `m`'s go.mod and source really come from, or null when `m` is not replaced. */
  replacement(m: ModuleVersion): GoModLocation | null;
  /** True when a main module's go.mod excludes exactly this version. */
  isExcluded(m: ModuleVersion): boolean;
}

/** What reading a `module@query` input needs from the source. */
export interface QuerySource {
  info(path: string, query: string, signal?: AbortSignal): Promise<Buffer>;
}

/**
 * The main module of a `module@version` input. go uses this name for the main module of
 * `go install pkg@version`; it can never be a dependency's path (its first element has no dot).
 */
const syntheticMainModule = 'command-line-arguments';

/**
 * Reads one input: a go.mod or go.work file, a folder holding one (go.work first, as go prefers it),
 * or `module@query`. Throws ConfigError for files that are missing or unusable, GoModSyntaxError for
 * bad go.mod/go.work text, InvalidRequestError for a malformed `module@query`; errors from the source
 * while resolving a query pass through.
 */
export async function readMainModules(spec: string, cwd: string, source: QuerySource, signal?: AbortSignal): Promise<MainModuleSet> {
  // As for `go install m@v`, an argument with an @ after a module path is a module query; a file or
  // folder whose name merely holds an @ is still read as one.
  const at = spec.indexOf('@');
  if (at > 0 && pathProblem(spec.slice(0, at)) === '') return readModuleQuery(spec, source, signal);
  const target = resolve(cwd, spec);
  const info = await stat(target).catch((err: NodeJS.ErrnoException) => {
    if (at >= 0 && err.code === 'ENOENT') throw new InvalidRequestError(`${spec}: not a file, and not module@version: ${pathProblem(spec.slice(0, at))}`);
    throw new ConfigError(`${spec}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`, { cause: err });
  });
  if (info.isDirectory()) {
    if (await isFile(join(target, 'go.work'))) return readWorkspace(spec, join(target, 'go.work'));
    if (await isFile(join(target, 'go.mod'))) return readSingleModule(spec, join(target, 'go.mod'));
    throw new ConfigError(`${spec}: the folder holds neither go.work nor go.mod`);
  }
  return basename(target).endsWith('.work') ? readWorkspace(spec, target) : readSingleModule(spec, target);
}

/** The main module set of the go.mod file `gomodFile` alone; throws as readMainModules does. */
export function readModuleGoMod(gomodFile: string): Promise<MainModuleSet> {
  return readSingleModule(gomodFile, gomodFile);
}

// Why `path` is not a module path, or '' when it is one.
function pathProblem(path: string): string {
  try {
    checkPath(path);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}

async function readSingleModule(spec: string, gomodFile: string): Promise<MainModuleSet> {
  const dir = dirname(gomodFile);
  const { module, file } = await readMainGoMod(spec, gomodFile);
  const replacements = new Replacements(spec);
  replacements.addModule(file.replace, dir);
  return {
    kind: 'gomod',
    reported: [module.path],
    modules: [module],
    // go reads a go.mod without a go line as go 1.16 (unpruned); with -mod=mod it then adds one and
    // converts the requirements so that the build list stays what the unpruned graph selects.
    pruning: pruningForGoVersion(module.goVersion),
    ...(await readGoSums([join(dir, 'go.sum')])),
    replacement: (m) => (isMain(m, [module]) ? null : replacements.lookup(m)),
    isExcluded: excluder([file]),
  };
}

async function readWorkspace(spec: string, goworkFile: string): Promise<MainModuleSet> {
  const workDir = dirname(goworkFile);
  const work = parseGoWork(goworkFile, await readInputFile(spec, goworkFile));
  if (work.use.length === 0) throw new ConfigError(`${spec}: ${goworkFile} uses no module`);
  const modules: MainModule[] = [];
  const files: GoModFile[] = [];
  const replacements = new Replacements(spec);
  replacements.addWorkspace(work.replace, workDir);
  for (const use of work.use) {
    const dir = isAbsolute(use.path) ? use.path : join(workDir, use.path);
    const { module, file } = await readMainGoMod(spec, join(dir, 'go.mod'));
    const twin = modules.find((m) => m.path === module.path);
    if (twin !== undefined) throw new ConfigError(`${spec}: module ${module.path} appears multiple times in workspace (${twin.dir} and ${dir})`);
    modules.push(module);
    files.push(file);
    replacements.addModule(file.replace, dir);
  }
  for (const m of modules) {
    if (replacements.replacesEveryVersionInWorkFile(m.path)) {
      throw new ConfigError(`${spec}: workspace module ${m.path} is replaced at all versions in the go.work file`);
    }
  }
  const { goSum, missingGoSums } = await readGoSums(modules.map((m) => join(m.dir, 'go.sum')), [join(workDir, 'go.work.sum')]);
  return {
    kind: 'gowork',
    reported: modules.map((m) => m.path),
    modules,
    pruning: 'workspace',
    goSum,
    missingGoSums,
    replacement: (m) => (isMain(m, modules) ? null : replacements.lookup(m)),
    isExcluded: excluder(files),
  };
}

/**
 * `module@version` or `module@latest` (any query the source resolves). The module is required by a
 * synthetic main module whose graph is loaded UNPRUNED, the full transitive closure of go.mod files:
 * whoever builds the module offline later may do it as a dependency of a go < 1.17 module (which
 * reads that whole closure), as a dependency of a go >= 1.17 one (a subset of it, whatever versions
 * MVS lands on there), or as the main module itself (its pruned graph, again a subset). Only the
 * closure serves all of them.
 */
async function readModuleQuery(spec: string, source: QuerySource, signal: AbortSignal | undefined): Promise<MainModuleSet> {
  const at = spec.indexOf('@');
  const path = spec.slice(0, at);
  const query = spec.slice(at + 1);
  if (query === '' || query.includes('@')) throw new InvalidRequestError(`${spec}: expected module@version or module@latest`);
  const version = parseInfoVersion(spec, await source.info(path, query, signal));
  try {
    checkModule(path, version);
  } catch (err) {
    throw new InvalidContentError(`${spec}: the query resolved to ${version}: ${(err as Error).message}`, { cause: err });
  }
  const module: MainModule = { path: syntheticMainModule, dir: '', goVersion: '', require: [{ path, version }] };
  return {
    kind: 'module',
    reported: [path],
    modules: [module],
    pruning: 'unpruned',
    goSum: [],
    missingGoSums: [],
    replacement: () => null,
    isExcluded: () => false,
  };
}

function parseInfoVersion(spec: string, body: Buffer): string {
  let version: unknown;
  try {
    version = (JSON.parse(body.toString('utf8')) as { Version?: unknown }).Version;
  } catch (err) {
    throw new InvalidContentError(`${spec}: the .info answer is not JSON`, { cause: err });
  }
  if (typeof version !== 'string' || canonicalVersion(version) !== version) {
    throw new InvalidContentError(`${spec}: the .info answer names no canonical Version (${JSON.stringify(version)})`);
  }
  return version;
}

async function readInputFile(spec: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ConfigError(`${spec}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

// go resolves a version in the main go.mod that is not canonical ("v1.2", "master") with a network
// query and rewrites the file; a resolver that did that would give answers that change over time.
const requireCanonical: VersionFixer = (modulePath, version) => {
  if (canonicalVersion(version) !== version) {
    throw new InvalidVersionError(modulePath, version, 'not a canonical version (run go mod tidy to resolve it)');
  }
  return version;
};

async function readMainGoMod(spec: string, gomodFile: string): Promise<{ module: MainModule; file: GoModFile }> {
  const file = parseGoMod(gomodFile, await readInputFile(spec, gomodFile), requireCanonical);
  const path = file.module?.mod.path ?? '';
  if (path === '') throw new ConfigError(`${spec}: ${gomodFile} has no module directive`);
  try {
    checkImportPath(path);
  } catch (err) {
    throw new ConfigError(`${spec}: ${gomodFile}: ${(err as Error).message}`, { cause: err });
  }
  const module: MainModule = {
    path,
    dir: dirname(gomodFile),
    goVersion: file.go?.version ?? '',
    require: file.require.map((r) => ({ path: r.mod.path, version: r.mod.version })),
  };
  return { module, file };
}

// The lines of the go.sum files, and which of `files` (not of `optional`) do not exist.
async function readGoSums(files: string[], optional: string[] = []): Promise<{ goSum: string[]; missingGoSums: string[] }> {
  const lines: GoSumLine[] = [];
  const missingGoSums: string[] = [];
  for (const file of [...optional, ...files]) {
    const data = await readFile(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw new ConfigError(`cannot read ${file}: ${err.message}`, { cause: err });
    });
    if (data !== null) lines.push(...parseGoSum(data, file).lines());
    else if (!optional.includes(file)) missingGoSums.push(file);
  }
  return { goSum: formatGoSum(lines).split('\n').filter((l) => l !== ''), missingGoSums };
}

// The main module itself (version ''), never the versions of it that dependencies may require.
function isMain(m: ModuleVersion, modules: MainModule[]): boolean {
  return m.version === '' && modules.some((mm) => mm.path === m.path);
}

function excluder(files: GoModFile[]): (m: ModuleVersion) => boolean {
  const excluded = new Set(files.flatMap((f) => f.exclude.map((x) => `${x.mod.path}@${x.mod.version}`)));
  return (m) => excluded.has(`${m.path}@${m.version}`);
}

// A replacement's target with a local folder made absolute against the file that named it.
function locate(r: Replace, baseDir: string): GoModLocation {
  if (r.new.version === '' && isDirectoryPath(r.new.path)) return { kind: 'dir', dir: resolve(baseDir, r.new.path) };
  return { kind: 'module', path: r.new.path, version: r.new.version };
}

function sameLocation(a: GoModLocation, b: GoModLocation): boolean {
  return a.kind === 'dir' ? b.kind === 'dir' && a.dir === b.dir : b.kind === 'module' && a.path === b.path && a.version === b.version;
}

function describe(l: GoModLocation): string {
  return l.kind === 'dir' ? l.dir : `${l.path}@${l.version}`;
}

// Keys: `path@version` for one version, `path@` for every version.
type ReplaceMap = Map<string, GoModLocation>;

/**
 * The replace directives of go.work and of each main module's go.mod, applied as go's Replacement
 * does: go.work first (one version, then every version), then each main module's go.mod.
 */
class Replacements {
  private readonly work: ReplaceMap = new Map();
  private readonly modules: ReplaceMap[] = [];
  private readonly merged: ReplaceMap = new Map();

  constructor(private readonly spec: string) {}

  addWorkspace(replaces: Replace[], workDir: string): void {
    for (const [key, location] of this.toMap(replaces, workDir)) this.work.set(key, location);
  }

  addModule(replaces: Replace[], moduleDir: string): void {
    const map = this.toMap(replaces, moduleDir);
    for (const [key, location] of map) {
      // go.work settles conflicts among the workspace's go.mod files for the paths it replaces.
      const path = key.slice(0, key.lastIndexOf('@'));
      const settled = [...this.work.keys()].some((k) => k.slice(0, k.lastIndexOf('@')) === path);
      const previous = this.merged.get(key);
      if (!settled && previous !== undefined && !sameLocation(previous, location)) {
        throw new ConfigError(`${this.spec}: conflicting replacements for ${key}: ${describe(previous)} and ${describe(location)} (go.work can settle it)`);
      }
      this.merged.set(key, location);
    }
    this.modules.push(map);
  }

  replacesEveryVersionInWorkFile(path: string): boolean {
    return this.work.has(`${path}@`);
  }

  lookup(m: ModuleVersion): GoModLocation | null {
    const fromWork = this.work.get(`${m.path}@${m.version}`) ?? this.work.get(`${m.path}@`);
    if (fromWork !== undefined) return fromWork;
    let found: { from: string; location: GoModLocation } | null = null;
    for (const map of this.modules) {
      const exact = map.get(`${m.path}@${m.version}`);
      const match = exact !== undefined ? { from: m.version, location: exact } : wildcard(map, m.path);
      if (match === null) continue;
      if (found !== null && found.from !== match.from && !sameLocation(found.location, match.location)) {
        throw new ConfigError(
          `${this.spec}: conflicting replacements found for ${m.path}@${m.version} in workspace modules: ${describe(found.location)} and ${describe(match.location)}`,
        );
      }
      found = match;
    }
    return found?.location ?? null;
  }

  private toMap(replaces: Replace[], baseDir: string): ReplaceMap {
    const map: ReplaceMap = new Map();
    for (const r of replaces) {
      const key = `${r.old.path}@${r.old.version}`;
      const location = locate(r, baseDir);
      const previous = map.get(key);
      if (previous !== undefined && !sameLocation(previous, location)) {
        throw new ConfigError(`${this.spec}: conflicting replacements for ${key}: ${describe(previous)} and ${describe(location)}`);
      }
      map.set(key, location);
    }
    return map;
  }
}

function wildcard(map: ReplaceMap, path: string): { from: string; location: GoModLocation } | null {
  const location = map.get(`${path}@`);
  return location === undefined ? null : { from: '', location };
}
