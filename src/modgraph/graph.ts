// The module graph of a project as go 1.19 resolves it, without a go binary: what `godepot bundle
// create` and `godepot mirror` must fetch so that go can build the project offline.
import { ConfigError } from '../errors.js';
import type { ModuleVersion } from '../module/gomod.js';
import { loadGraph, sortModules } from './load.js';
import { readMainModules, readModuleGoMod, type MainModuleSet, type Pruning } from './main-modules.js';
import { GoModSummaries, type ModSource } from './summaries.js';

export type { ModuleVersion } from '../module/gomod.js';
export type { GoModLocation, MainModuleSet, Pruning } from './main-modules.js';
export { GraphLoadError } from './errors.js';

/** Where go.mod files come from: an Origin or a CachingDepot adapter satisfies it. */
export interface GoModSource {
  mod(path: string, version: string, signal?: AbortSignal): Promise<Buffer>;
  /** `.info` JSON ({"Version": ...}) for a query such as `latest`, `v1.2.3`, `master`. */
  info(path: string, query: string, signal?: AbortSignal): Promise<Buffer>;
}

/** One input as resolveGraph read it. */
export interface ResolvedInput {
  /** As given on the command line. */
  spec: string;
  kind: 'gomod' | 'gowork' | 'module';
  /** Module paths of the main module(s); for kind 'module', the module itself. */
  mainModules: string[];
  /** go.sum lines of the input project(s) (`path version[/go.mod] h1:...`), sorted as go writes them; empty when none. */
  goSum: string[];
  /** The main modules' go.sum files that do not exist: go will not build such a project offline until `go mod tidy` writes them. */
  missingGoSums: string[];
  /** How its graph was loaded: 'pruned' (main module at go >= 1.17), 'unpruned' (older, or a module@version input) or 'workspace'. */
  pruning: Pruning;
  /** What this input alone needs, in the same form as ModuleGraph's fields. */
  goMods: ModuleVersion[];
  buildList: ModuleVersion[];
}

/** What the inputs need, together. */
export interface ModuleGraph {
  inputs: ResolvedInput[];
  /**
   * Every module version whose go.mod go reads while loading the graph (after replacement: the
   * replacement's path@version), sorted by path then semver; never main modules or local-dir
   * replacements. Includes every buildList entry: `go list -m all` and `go mod download` read those too.
   */
  goMods: ModuleVersion[];
  /**
   * The build list (`go list -m all` minus main modules and local-dir replacements), after
   * replacement, sorted: the modules whose .info/.mod/.zip go needs.
   */
  buildList: ModuleVersion[];
}

/** One module's graph as go loads it to build or vendor that module: the versions selected before replacement. */
export interface MainModuleGraph {
  /** The main module, its requirements and the replace and exclude rules of its go.mod. */
  mains: MainModuleSet;
  /** The selected version of every module path the graph names but the main module's, sorted, before replacement. */
  selected: ModuleVersion[];
}

function checkConcurrency(concurrency: number): void {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ConfigError(`concurrency must be a whole number of at least 1, not ${concurrency}`);
}

/**
 * Loads the graph of the module whose go.mod is `gomodFile` (never a workspace, whatever go.work lies
 * around), its go.mod files fetched from `source` as resolveGraph fetches them. Throws what
 * resolveGraph throws for an unusable go.mod or a go.mod of the graph that cannot be had.
 */
export async function loadModuleGraph(
  gomodFile: string,
  source: ModSource,
  options: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<MainModuleGraph> {
  const concurrency = options.concurrency ?? 16;
  checkConcurrency(concurrency);
  const mains = await readModuleGoMod(gomodFile);
  const loaded = await loadGraph(gomodFile, mains, new GoModSummaries(source, concurrency, options.signal), options.signal);
  return { mains, selected: loaded.selected };
}

/**
 * Resolves each input (a go.mod or go.work file, a folder holding one, or `module@query`) separately
 * and returns the union of what they need. go.mod files are fetched from `source` in parallel, at
 * most `concurrency` (default 16) at a time, each once. Throws ConfigError, InvalidRequestError or
 * GoModSyntaxError for an unusable input, and GraphLoadError (its `cause` the source's error) when a
 * go.mod the graph needs cannot be fetched or read; with `onInputFailure`, such an input is reported
 * there instead and left out, and the others are still resolved.
 */
export async function resolveGraph(
  specs: string[],
  source: GoModSource,
  options: { cwd: string; concurrency?: number; signal?: AbortSignal; onInputFailure?: (spec: string, err: unknown) => void },
): Promise<ModuleGraph> {
  const concurrency = options.concurrency ?? 16;
  checkConcurrency(concurrency);
  const summaries = new GoModSummaries(source, concurrency, options.signal);
  const inputs: ResolvedInput[] = [];
  // One input after the other: the first bad one is the one reported, and what they share is fetched once.
  for (const spec of specs) {
    let mains: Awaited<ReturnType<typeof readMainModules>>;
    let loaded: Awaited<ReturnType<typeof loadGraph>>;
    try {
      mains = await readMainModules(spec, options.cwd, source, options.signal);
      loaded = await loadGraph(spec, mains, summaries, options.signal);
    } catch (err) {
      if (options.onInputFailure === undefined || options.signal?.aborted) throw err;
      options.onInputFailure(spec, err);
      continue;
    }
    const buildList: ModuleVersion[] = [];
    for (const m of loaded.selected) {
      const location = mains.replacement(m);
      if (location === null) buildList.push(m);
      else if (location.kind === 'module') buildList.push({ path: location.path, version: location.version });
    }
    inputs.push({
      spec,
      kind: mains.kind,
      mainModules: mains.reported,
      goSum: mains.goSum,
      missingGoSums: mains.missingGoSums,
      pruning: mains.pruning,
      goMods: union([loaded.goModsRead, buildList]),
      buildList: union([buildList]),
    });
  }
  return {
    inputs,
    goMods: union(inputs.map((i) => i.goMods)),
    buildList: union(inputs.map((i) => i.buildList)),
  };
}

function union(lists: ModuleVersion[][]): ModuleVersion[] {
  const byKey = new Map<string, ModuleVersion>();
  for (const list of lists) for (const m of list) byKey.set(`${m.path}@${m.version}`, { path: m.path, version: m.version });
  return sortModules([...byKey.values()]);
}
