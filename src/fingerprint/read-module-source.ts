// What `godepot fingerprint` and `godepot compare` read: a project, a go.sum, a bundle, or an environment
// holding modules, each told apart by what is on disk rather than by a flag.

import type { Stats } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parseGoSum } from '../module/gosum.js';
import { parseGoWork } from '../module/gowork.js';
import { ModuleSet } from './module-set.js';
import { ModuleSourceError } from './module-source-error.js';
import { readModuleTree } from './module-tree.js';
import { readBundle } from './read-bundle.js';

/**
 * What a source is. `project`, `workspace` and `go.sum` list the checksums a build expects; the others
 * hold modules: `goproxy-tree` is a godepot storage folder or any GOPROXY=file:// tree, `module-cache` a
 * GOMODCACHE.
 */
export type ModuleSourceKind = 'project' | 'workspace' | 'go.sum' | 'bundle' | 'goproxy-tree' | 'module-cache';

/** A source read into a module set. */
export interface ModuleSource {
  kind: ModuleSourceKind;
  /** The absolute path that was read. */
  location: string;
  set: ModuleSet;
}

/** How stores are read. */
export interface ReadOptions {
  /**
   * Hash every zip (and a bundle's go.mod files) instead of believing the hashes recorded beside them
   * (`.ziphash`, a bundle's manifest), and refuse a recorded hash that disagrees.
   */
  rehash?: boolean;
}

/** True for the kinds made of go.sum files: what a build expects rather than what a store holds. */
export function listsChecksums(kind: ModuleSourceKind): boolean {
  return kind === 'project' || kind === 'workspace' || kind === 'go.sum';
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await statOrNull(path))?.isFile() === true;
}

async function startsWithGzipMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

async function readGoSumFile(file: string): Promise<ModuleSet> {
  return ModuleSet.fromGoSumLines(parseGoSum(await readFile(file), file).lines());
}

/** A go.sum that may be absent: a module without dependencies has none. */
async function readOptionalGoSum(file: string): Promise<ModuleSet> {
  return (await isFile(file)) ? readGoSumFile(file) : new ModuleSet([]);
}

// Go reads one go.sum per workspace module plus go.work.sum, and checks every download against all of
// them; the workspace's set is their union.
async function readWorkspace(dir: string): Promise<ModuleSet> {
  const goWorkFile = join(dir, 'go.work');
  const goWork = parseGoWork(goWorkFile, await readFile(goWorkFile));
  const sets = [await readOptionalGoSum(join(dir, 'go.work.sum'))];
  for (const use of goWork.use) {
    const moduleDir = isAbsolute(use.path) ? use.path : join(dir, use.path);
    if ((await statOrNull(moduleDir))?.isDirectory() !== true) {
      throw new ModuleSourceError(goWorkFile, `use ${use.path}: directory ${moduleDir} does not exist`);
    }
    sets.push(await readOptionalGoSum(join(moduleDir, 'go.sum')));
  }
  return new ModuleSet(sets.flatMap((s) => s.entries()));
}

async function readProject(dir: string): Promise<ModuleSource> {
  return { kind: 'project', location: dir, set: await readOptionalGoSum(join(dir, 'go.sum')) };
}

async function readDirectory(dir: string, options: ReadOptions): Promise<ModuleSource> {
  if (await isFile(join(dir, 'go.work'))) return { kind: 'workspace', location: dir, set: await readWorkspace(dir) };
  if ((await isFile(join(dir, 'go.mod'))) || (await isFile(join(dir, 'go.sum')))) return readProject(dir);
  const download = join(dir, 'cache', 'download');
  if ((await statOrNull(download))?.isDirectory() === true) {
    return { kind: 'module-cache', location: dir, set: (await readModuleTree(download, options)) ?? new ModuleSet([]) };
  }
  const set = await readModuleTree(dir, options);
  if (set === null) {
    throw new ModuleSourceError(
      dir,
      'is not a Go project (go.mod, go.sum or go.work), a module cache (cache/download) or a GOPROXY tree (<module>/@v/<version>.mod)',
    );
  }
  return { kind: 'goproxy-tree', location: dir, set };
}

/**
 * Reads `location` as whichever source it is. A directory is a workspace when it holds a go.work, a
 * project when it holds a go.mod or go.sum (only that folder: no search upwards), a module cache when it
 * holds cache/download, else a GOPROXY tree or godepot storage folder. A file is a bundle when it is
 * gzip-compressed, the module or workspace of its folder when named go.mod or go.work, else a go.sum. Throws
 * ModuleSourceError for a path that does not exist or is none of these, GoSumSyntaxError for a bad go.sum,
 * BundleFormatError for a gzip-compressed file that is not a bundle.
 */
export async function readModuleSource(location: string, options: ReadOptions = {}): Promise<ModuleSource> {
  const path = resolve(location);
  const stats = await statOrNull(path);
  if (stats === null) throw new ModuleSourceError(location, 'no such file or directory');
  if (stats.isDirectory()) return readDirectory(path, options);
  if (!stats.isFile()) throw new ModuleSourceError(location, 'neither a file nor a directory');
  const name = basename(path);
  if (name === 'go.mod') return readProject(dirname(path));
  if (name === 'go.work') return { kind: 'workspace', location: dirname(path), set: await readWorkspace(dirname(path)) };
  if (await startsWithGzipMagic(path)) return { kind: 'bundle', location: path, set: await readBundle(path, options) };
  return { kind: 'go.sum', location: path, set: await readGoSumFile(path) };
}
