// The module graph of one main module set, loaded as go 1.19's modload does it (buildlist.go
// readModGraph and the root updates of updatePrunedRoots, modfile.go goModSummary, mvs.Graph).
import { InvalidContentError } from '../errors.js';
import type { ModuleVersion } from '../module/gomod.js';
import { compare } from '../module/semver.js';
import { GraphLoadError } from './errors.js';
import type { GoModLocation, MainModuleSet, Pruning } from './main-modules.js';
import { pruningForGoVersion, type GoModSummaries, type GoModSummary } from './summaries.js';

/** The loaded graph of one input. */
export interface LoadedGraph {
  /** The selected version of every module path other than the main modules', sorted (before replacement). */
  selected: ModuleVersion[];
  /** Every remote go.mod read while loading, after replacement, in no particular order. */
  goModsRead: ModuleVersion[];
}

/**
 * Loads the graph of `mains` the way go 1.19 loads it for `go list -m all` with -mod=mod: every
 * go.mod it reads and the build list it selects. Throws GraphLoadError naming the first module (in
 * sort order) whose go.mod could not be loaded.
 */
export async function loadGraph(spec: string, mains: MainModuleSet, summaries: GoModSummaries, signal?: AbortSignal): Promise<LoadedGraph> {
  const loader = new Loader(spec, mains, summaries, signal);
  let graph: Graph;
  if (mains.pruning === 'workspace') {
    graph = await loader.loadWorkspace();
  } else if (mains.pruning === 'unpruned') {
    // The transitive closure: making its roots consistent cannot change what it selects, nor add a read.
    graph = await loader.load('unpruned', mains.modules[0]!.require.filter((m) => !mains.isExcluded(m)));
  } else {
    graph = await loader.loadPruned();
  }
  return { selected: graph.buildList(), goModsRead: loader.remoteReads() };
}

/** go's cmpVersion: the main modules' version '' is above every other. */
function compareVersions(v: string, w: string): number {
  if (v === w) return 0;
  if (v === '') return 1;
  if (w === '') return -1;
  return compare(v, w);
}

function keyOf(m: ModuleVersion): string {
  return `${m.path}@${m.version}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts `list` in place as go's module.Sort does: by path, then by version (ties by text). */
export function sortModules(list: ModuleVersion[]): ModuleVersion[] {
  return list.sort((a, b) => compareText(a.path, b.path) || compareVersions(a.version, b.version) || compareText(a.version, b.version));
}

/** mvs.Graph: who requires what, and per path the highest version anything requires. */
class Graph {
  private readonly selectedVersion = new Map<string, string>();
  readonly required = new Map<string, ModuleVersion[]>();

  constructor(private readonly mainPaths: readonly string[]) {
    for (const p of mainPaths) this.selectedVersion.set(p, '');
  }

  require(m: ModuleVersion, reqs: ModuleVersion[]): void {
    this.required.set(keyOf(m), reqs);
    // Requirements of every loaded version count, selected or not.
    for (const r of reqs) {
      const current = this.selectedVersion.get(r.path);
      if (current === undefined || compareVersions(current, r.version) < 0) this.selectedVersion.set(r.path, r.version);
    }
  }

  /** The selected version of `path`, or undefined when the graph never names it. */
  selected(path: string): string | undefined {
    return this.selectedVersion.get(path);
  }

  buildList(): ModuleVersion[] {
    const list: ModuleVersion[] = [];
    for (const [path, version] of this.selectedVersion) if (!this.mainPaths.includes(path)) list.push({ path, version });
    return sortModules(list);
  }

  /** The shortest requirement chain from a main module to `target`, as `path@version` strings. */
  chainTo(target: ModuleVersion, roots: ModuleVersion[]): string[] {
    const name = (m: ModuleVersion): string => (m.version === '' ? m.path : keyOf(m));
    const parent = new Map<string, ModuleVersion | null>();
    const queue: ModuleVersion[] = [];
    for (const r of roots) {
      if (!parent.has(keyOf(r))) {
        parent.set(keyOf(r), null);
        queue.push(r);
      }
    }
    while (queue.length > 0) {
      const m = queue.shift()!;
      if (keyOf(m) === keyOf(target)) {
        const chain: string[] = [];
        for (let at: ModuleVersion | null = m; at !== null; at = parent.get(keyOf(at)) ?? null) chain.unshift(name(at));
        return chain;
      }
      for (const r of this.required.get(keyOf(m)) ?? []) {
        if (!parent.has(keyOf(r))) {
          parent.set(keyOf(r), m);
          queue.push(r);
        }
      }
    }
    return [name(target)];
  }
}

class Loader {
  private readonly mainPaths: string[];
  // Remote go.mod files read, keyed by path@version after replacement.
  private readonly reads = new Map<string, ModuleVersion>();
  private readonly failures = new Map<string, unknown>();

  constructor(
    private readonly spec: string,
    private readonly mains: MainModuleSet,
    private readonly summaries: GoModSummaries,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.mainPaths = mains.modules.map((m) => m.path);
  }

  remoteReads(): ModuleVersion[] {
    return [...this.reads.values()];
  }

  /**
   * A main module at go >= 1.17: its requirements are the roots, loaded pruned; while a root is not
   * the version the graph selects for its path, the roots move to the selected versions and the graph
   * is loaded again (go's expandGraph), since a newer root may require more.
   */
  async loadPruned(): Promise<Graph> {
    const main = this.mains.modules[0]!;
    let roots = sortModules(main.require.filter((m) => !this.mains.isExcluded(m)));
    // Duplicate roots, or ones on the main module's own path, are dropped (the highest version of each
    // path kept) before anything is loaded, so their go.mod files are never read.
    const highest = new Map<string, string>();
    for (const r of roots) highest.set(r.path, r.version);
    roots = this.consistentRoots(roots, (path) => highest.get(path)!).roots;
    for (;;) {
      const graph = await this.load('pruned', roots);
      const next = this.consistentRoots(roots, (path) => graph.selected(path)!);
      if (!next.upgraded) return graph;
      roots = next.roots;
    }
  }

  // One root per path (not a main module's), at the version `versionOf` gives; `upgraded` when that
  // moved any of them.
  private consistentRoots(roots: ModuleVersion[], versionOf: (path: string) => string): { roots: ModuleVersion[]; upgraded: boolean } {
    const seen = new Set(this.mainPaths);
    const out: ModuleVersion[] = [];
    let upgraded = false;
    for (const r of roots) {
      if (seen.has(r.path)) continue;
      seen.add(r.path);
      const version = versionOf(r.path);
      if (version !== r.version) upgraded = true;
      out.push({ path: r.path, version });
    }
    return { roots: out, upgraded };
  }

  /**
   * A workspace: every main module's go.mod is loaded and its requirements enqueued at their own
   * pruning. Then, as long as some module whose dependencies may matter requires a version of a path
   * below the one selected, the selected version is loaded too (its requirements may reach packages
   * that the older version's did not) and its path joins that set.
   */
  async loadWorkspace(): Promise<Graph> {
    const roots = this.mains.modules.map((m) => ({ path: m.path, version: '' }));
    const run = this.startRun();
    const { graph } = run;
    for (const m of roots) run.enqueue(m, 'workspace');
    await run.idle();
    const hasDepsInAll = new Set(roots.map((m) => m.path));
    const seen = new Set<string>();
    for (;;) {
      const needed = new Map<string, ModuleVersion>();
      for (const path of hasDepsInAll) {
        const m = { path, version: graph.selected(path) ?? '' };
        if (!seen.has(keyOf(m))) {
          needed.set(keyOf(m), m);
          continue;
        }
        for (const r of graph.required.get(keyOf(m)) ?? []) {
          const s = { path: r.path, version: graph.selected(r.path)! };
          if (compareVersions(s.version, r.version) > 0 && !seen.has(keyOf(s))) needed.set(keyOf(s), s);
        }
      }
      if (needed.size === 0) break;
      for (const m of needed.values()) {
        run.enqueue(m, 'workspace');
        seen.add(keyOf(m));
        hasDepsInAll.add(m.path);
      }
      await run.idle();
    }
    this.throwIfFailed(graph, roots);
    return graph;
  }

  /** One readModGraph run for a single main module: its `roots` loaded at `pruning`. */
  async load(pruning: 'pruned' | 'unpruned', roots: ModuleVersion[]): Promise<Graph> {
    const mainModule = { path: this.mainPaths[0]!, version: '' };
    const run = this.startRun();
    run.graph.require(mainModule, roots);
    for (const r of roots) run.enqueue(r, pruning);
    await run.idle();
    this.throwIfFailed(run.graph, [mainModule]);
    return run.graph;
  }

  private startRun(): Run {
    const graph = new Graph(this.mainPaths);
    const loaded = new Map<string, Promise<GoModSummary | null>>();
    const loadingUnpruned = new Set<string>();
    const pending = new Set<Promise<void>>();

    // Loads m's requirements into the graph (once per run); null when its go.mod failed.
    const loadOne = (m: ModuleVersion): Promise<GoModSummary | null> => {
      let summary = loaded.get(keyOf(m));
      if (summary === undefined) {
        summary = this.summary(m).then(
          (s) => {
            graph.require(m, s.require);
            return s;
          },
          (err: unknown) => {
            this.failures.set(keyOf(m), err);
            return null;
          },
        );
        loaded.set(keyOf(m), summary);
      }
      return summary;
    };

    // go's enqueue: a module reached through a pruned module contributes only its own requirements,
    // unless its go.mod is unpruned; everything reached through an unpruned one is loaded transitively.
    const enqueue = (m: ModuleVersion, pruning: Pruning): void => {
      if (this.failures.size > 0) return;
      if (pruning === 'unpruned') {
        if (loadingUnpruned.has(keyOf(m))) return;
        loadingUnpruned.add(keyOf(m));
      }
      const task = loadOne(m).then((summary) => {
        if (summary === null) return;
        if (pruning !== 'pruned' || summary.pruning === 'unpruned') {
          const next = pruning === 'unpruned' ? 'unpruned' : summary.pruning;
          for (const r of summary.require) enqueue(r, next);
        }
      });
      pending.add(task);
      void task.finally(() => pending.delete(task));
    };

    const idle = async (): Promise<void> => {
      while (pending.size > 0) await Promise.all([...pending]);
      this.signal?.throwIfAborted();
    };
    return { graph, enqueue, idle };
  }

  // go's goModSummary: the go.mod of m's replacement, if any, with requirements on versions the main
  // modules exclude dropped.
  private async summary(m: ModuleVersion): Promise<GoModSummary> {
    // Only a workspace loads its main modules' go.mod files as graph nodes.
    const main = m.version === '' ? this.mains.modules.find((mm) => mm.path === m.path) : undefined;
    const summary: GoModSummary =
      main !== undefined
        ? {
            modulePath: main.path,
            goVersion: main.goVersion,
            pruning: pruningForGoVersion(main.goVersion),
            require: main.require,
          }
        : await this.replacedSummary(m, this.mains.replacement(m));
    if (!summary.require.some((r) => this.mains.isExcluded(r))) return summary;
    return { ...summary, require: summary.require.filter((r) => !this.mains.isExcluded(r)) };
  }

  private async replacedSummary(m: ModuleVersion, location: GoModLocation | null): Promise<GoModSummary> {
    if (location?.kind === 'dir') return this.summaries.directory(location.dir);
    const actual = location === null ? m : { path: location.path, version: location.version };
    this.reads.set(keyOf(actual), actual);
    const summary = await this.summaries.module(actual);
    // A fork may keep the module line of what it replaces; anything else is the wrong module.
    if (summary.modulePath !== m.path && summary.modulePath !== actual.path) {
      throw new InvalidContentError(`go.mod of ${keyOf(actual)} declares its path as ${summary.modulePath}, but it was required as ${m.path}`);
    }
    return summary;
  }

  private throwIfFailed(graph: Graph, roots: ModuleVersion[]): void {
    if (this.failures.size === 0) return;
    const [key, err] = [...this.failures].sort(([a], [b]) => compareText(a, b))[0]!;
    const at = key.lastIndexOf('@');
    const module = { path: key.slice(0, at), version: key.slice(at + 1) };
    throw new GraphLoadError(this.spec, module, graph.chainTo(module, roots), err);
  }
}

interface Run {
  graph: Graph;
  enqueue(m: ModuleVersion, pruning: Pruning): void;
  idle(): Promise<void>;
}
