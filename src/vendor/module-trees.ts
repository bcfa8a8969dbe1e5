// The files of each module a vendor run looks into, as folders: the main module's own, a replacement
// folder, or the module's zip from the source, checked against the project's go.sum and extracted into a
// scratch folder, as go extracts it into its module cache before it looks for packages.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GoModLocation } from '../modgraph/main-modules.js';
import type { ModuleVersion } from '../module/gomod.js';
import type { GoSum } from '../module/gosum.js';
import { hashZip } from '../module/hash.js';
import { unzip } from '../module/zip.js';
import type { VendorSource } from './module-source.js';

/** Where a module's files are. */
export interface ModuleTree {
  dir: string;
  /** A folder of the user's (the main module, a replacement folder), which may hold nested modules; not a module zip. */
  isLocal: boolean;
}

export interface ModuleTreesOptions {
  source: VendorSource;
  /** The project's go.sum: a zip it records another hash for is refused. */
  goSum: GoSum;
  /** An empty folder the zips are extracted into; the caller removes it. */
  scratch: string;
  main: { path: string; dir: string };
  /** Where a module's content really comes from (the main go.mod's replace directives). */
  replacement(m: ModuleVersion): GoModLocation | null;
  signal?: AbortSignal;
}

// Zips fetched and extracted at once: the source and the disk are both kept busy, memory stays small.
const FETCH_CONCURRENCY = 4;

/** Each module's folder, made at most once per module version. */
export class ModuleTrees {
  private readonly trees = new Map<string, Promise<ModuleTree>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private extracted = 0;

  constructor(private readonly options: ModuleTreesOptions) {}

  /**
   * The folder of `m` (a module of the build list, before replacement; version '' for the main module).
   * Throws NotFoundError when the source lacks the zip, ChecksumMismatchError when go.sum records
   * another hash for it, ZipError when go would refuse the zip.
   */
  tree(m: ModuleVersion): Promise<ModuleTree> {
    const key = `${m.path}@${m.version}`;
    let tree = this.trees.get(key);
    if (tree === undefined) {
      tree = this.locate(m);
      this.trees.set(key, tree);
    }
    return tree;
  }

  private async locate(m: ModuleVersion): Promise<ModuleTree> {
    const { main } = this.options;
    if (m.version === '' && m.path === main.path) return { dir: main.dir, isLocal: true };
    const location = this.options.replacement(m);
    if (location?.kind === 'dir') return { dir: location.dir, isLocal: true };
    const actual = location === null ? m : { path: location.path, version: location.version };
    return { dir: await this.withSlot(() => this.extract(actual)), isLocal: false };
  }

  private async extract(m: ModuleVersion): Promise<string> {
    const { source, goSum, scratch, signal } = this.options;
    const n = this.extracted++;
    const zipFile = join(scratch, `${n}.zip`);
    const dir = join(scratch, String(n));
    await mkdir(scratch, { recursive: true });
    try {
      await source.saveZip(m.path, m.version, zipFile, signal);
      goSum.verifyZip(m.path, m.version, await hashZip(zipFile));
      await unzip(dir, m.path, m.version, zipFile);
    } finally {
      await rm(zipFile, { force: true });
    }
    return dir;
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= FETCH_CONCURRENCY) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      this.options.signal?.throwIfAborted();
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so `running` counts it throughout.
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }
}
