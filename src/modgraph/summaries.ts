// The part of a go.mod file that module graph loading looks at, read once per module version (or
// replacement directory) however many inputs and graphs ask for it: go's rawGoModSummary.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, InvalidContentError } from '../errors.js';
import { parseGoModLax, type ModuleVersion } from '../module/gomod.js';

/** Whether a module's own go.mod lists everything its packages need (go >= 1.17) or not. */
export type ModulePruning = 'pruned' | 'unpruned';

/** What graph loading reads from one go.mod. */
export interface GoModSummary {
  /** The path of its `module` line, '' when it has none. */
  modulePath: string;
  /** Its `go` version, '' when it has no `go` line. */
  goVersion: string;
  pruning: ModulePruning;
  require: ModuleVersion[];
}

/** Where go.mod files come from (see GoModSource in graph.ts). */
export interface ModSource {
  mod(path: string, version: string, signal?: AbortSignal): Promise<Buffer>;
}

/**
 * Graph pruning starts at go 1.17; older modules, and go.mod files without a `go` line (go.mod-less
 * modules and +incompatible versions, whose `.mod` the proxy synthesises), are loaded unpruned.
 * Compared by major.minor alone: go 1.19 reads "1.21.0" or "1.21rc1" in a dependency as "1.21".
 */
export function pruningForGoVersion(goVersion: string): ModulePruning {
  const m = /^([0-9]+)\.([0-9]+)/.exec(goVersion);
  if (m === null) return 'unpruned';
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 1 || (major === 1 && minor >= 17) ? 'pruned' : 'unpruned';
}

/** Summarises go.mod text as go does for every module but a main one: a lax parse. */
export function summarise(filename: string, data: Uint8Array): GoModSummary {
  const f = parseGoModLax(filename, data);
  const goVersion = f.go?.version ?? '';
  return {
    modulePath: f.module?.mod.path ?? '',
    goVersion,
    pruning: pruningForGoVersion(goVersion),
    require: f.require.map((r) => ({ path: r.mod.path, version: r.mod.version })),
  };
}

/**
 * Fetches and reads go.mod files, each at most once, with at most `concurrency` fetches from the
 * source at a time. Failures are remembered like successes: asking again gives the same error.
 */
export class GoModSummaries {
  private readonly remote = new Map<string, Promise<GoModSummary>>();
  private readonly local = new Map<string, Promise<GoModSummary>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly source: ModSource,
    private readonly concurrency: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** The go.mod of `path@version` as the source serves it; it must have a `module` line (the caller checks which). */
  module(m: ModuleVersion): Promise<GoModSummary> {
    const key = `${m.path}@${m.version}`;
    let summary = this.remote.get(key);
    if (summary === undefined) {
      summary = this.fetch(m);
      this.remote.set(key, summary);
    }
    return summary;
  }

  /** The go.mod in directory `dir` (absolute), a replacement of some module: its `module` line may say anything. */
  directory(dir: string): Promise<GoModSummary> {
    let summary = this.local.get(dir);
    if (summary === undefined) {
      summary = this.read(dir);
      this.local.set(dir, summary);
    }
    return summary;
  }

  private async fetch(m: ModuleVersion): Promise<GoModSummary> {
    const data = await this.withSlot(() => this.source.mod(m.path, m.version, this.signal));
    const summary = summarise(`${m.path}@${m.version}/go.mod`, data);
    if (summary.modulePath === '') throw new InvalidContentError(`${m.path}@${m.version}: go.mod has no module line`);
    return summary;
  }

  private async read(dir: string): Promise<GoModSummary> {
    const file = join(dir, 'go.mod');
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (err) {
      throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    return summarise(file, data);
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      this.signal?.throwIfAborted();
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so `running` counts it throughout.
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }
}
