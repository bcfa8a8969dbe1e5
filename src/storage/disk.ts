import { createHash } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import { access, lstat, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidContentError, InvalidRequestError, NotFoundError } from '../errors.js';
import { isTemporaryName, streamDurably, syncDirectory, temporaryPath, writeDurably } from './atomic-file.js';
import { ByteMeter } from './byte-meter.js';
import { FileStream } from './file-stream.js';
import { asStorageFull } from './space.js';
import { asUnwritable } from './write-access.js';
import type { FileStaging, StagedObject } from './staging.js';
import type { PutOptions, Storage, StoredObject } from './storage.js';

/** A file of the staging folder left by a write that never finished. */
export interface Leftover {
  /** Its absolute path. */
  file: string;
  size: number;
  /** When it was last written. */
  modified: Date;
}

/** Temporaries older than this at the first put are taken for leftovers of a crash and removed. */
const ORPHAN_AGE_MS = 60 * 60 * 1000;
/** Most file systems refuse longer names (ENAMETOOLONG); refusing them here keeps that a bad request. */
const MAX_SEGMENT_BYTES = 255;

/**
 * Storage in a folder: key `a/b/c` is the file `<root>/a/b/c`, so with the module-cache keys of
 * protocol/keys.ts the root is a `GOPROXY=file://<root>` tree. Puts go through a temporary file in
 * `<root>/.tmp`, fsynced and renamed into place, so a reader or a crash never leaves or shows a partial
 * object. Top-level names starting with `.` belong to the driver and are never keys. Files are staged
 * in `<root>/.tmp` too (FileStaging), so that a commit moves them in without copying. Objects are read as
 * FileStreams, which a server may read into buffers of its own.
 */
export class DiskStorage implements Storage, FileStaging {
  readonly root: string;
  private readonly rootPrefix: string;
  private readonly tempDir: string;
  private swept: Promise<void> | undefined;

  constructor(options: { root: string }) {
    this.root = resolve(options.root);
    this.rootPrefix = this.root.endsWith(sep) ? this.root : this.root + sep;
    this.tempDir = join(this.root, '.tmp');
  }

  async get(key: string, options: { signal?: AbortSignal; start?: number; end?: number } = {}): Promise<FileStream> {
    const path = this.pathOf(key);
    const { start, end } = options;
    checkRange(start, end);
    options.signal?.throwIfAborted();
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (isAbsent(err)) throw new NotFoundError(`${key}: not found in storage`, { cause: err });
      throw err;
    }
    let size: number;
    try {
      const stats = await handle.stat();
      // Opening a folder succeeds; only reading it fails.
      if (!stats.isFile()) throw new NotFoundError(`${key}: not found in storage`);
      size = stats.size;
    } catch (err) {
      await handle.close();
      throw err;
    }
    const stream = new FileStream(handle, start ?? 0, end === undefined ? size : Math.min(end + 1, size));
    return options.signal === undefined ? stream : addAbortSignal(options.signal, stream);
  }

  async stat(key: string): Promise<StoredObject | null> {
    const path = this.pathOf(key);
    try {
      const s = await stat(path);
      return s.isFile() ? { size: s.size, modified: s.mtime } : null;
    } catch (err) {
      if (isAbsent(err)) return null;
      throw err;
    }
  }

  /**
   * Stores `body`; a write that runs out of space fails with StorageFullError, one refused by the
   * folder's permissions or a read-only file system with StorageUnusableError naming the fix, both
   * leaving nothing behind.
   */
  async put(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<StoredObject> {
    try {
      return await this.write(key, body, options);
    } catch (err) {
      throw await asUnwritable(asStorageFull(err), this.root);
    }
  }

  private async write(key: string, body: Readable | Uint8Array, options: PutOptions): Promise<StoredObject> {
    const path = this.pathOf(key);
    options.signal?.throwIfAborted();
    await this.sweep();
    const temp = temporaryPath(this.tempDir, basename(path));
    const declared = options.size;
    let size: number;
    const changed = [dirname(path)];
    if (body instanceof Readable) {
      // A stream cannot be replayed, so its folders are made first.
      await makeFolders(this.tempDir);
      changed.push(...(await makeFolders(dirname(path))));
      const meter = new ByteMeter(declared ?? Infinity, () => new InvalidContentError(`${key}: body longer than the declared ${declared} bytes`), {
        hash: options.sha256 !== undefined,
      });
      await streamDurably(temp, async (out) => {
        await pipeline(body, meter, out, options.signal === undefined ? {} : { signal: options.signal });
        checkBody(key, meter.size, declared, options.sha256 === undefined ? undefined : [meter.sha256(), options.sha256]);
      });
      size = meter.size;
    } else {
      const digest = options.sha256 === undefined ? undefined : createHash('sha256').update(body).digest('hex');
      checkBody(key, body.byteLength, declared, digest === undefined ? undefined : [digest, options.sha256!]);
      await this.writeTemporary(temp, body);
      size = body.byteLength;
    }
    try {
      changed.push(...(await renameMaking(temp, path)));
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    const [modified] = await Promise.all([stat(path).then((s) => s.mtime), ...changed.map(syncDirectory)]);
    return { size, modified };
  }

  async stage(): Promise<string> {
    await this.sweep();
    // The caller writes the staged file itself: a folder it may not write is found here, where the
    // failure is known to be the storage's, and reported with its fix.
    await makeFolders(this.tempDir)
      .then(() => access(this.tempDir, constants.W_OK))
      .catch(async (err: unknown) => {
        throw await asUnwritable(asStorageFull(err), this.root);
      });
    return temporaryPath(this.tempDir, 'staged');
  }

  /**
   * Every file is complete on disk (staged ones fsynced, bodies written to fsynced temporaries) before
   * the first rename, and each changed folder is synced once after the last: a commit costs one fsync
   * per file and one per folder, all of a kind at once, where a put per object costs one of each per
   * object, one after the other. Staged files are renamed into place, never copied. Every key is checked
   * before anything is touched. Running out of space fails with StorageFullError, a refused write as put's does.
   */
  async commit(objects: readonly StagedObject[]): Promise<void> {
    try {
      await this.move(objects);
    } catch (err) {
      throw await asUnwritable(asStorageFull(err), this.root);
    }
  }

  private async move(objects: readonly StagedObject[]): Promise<void> {
    const targets = objects.map((object) => {
      if ('file' in object) this.checkStaged(object.file);
      return { object, path: this.pathOf(object.key), temp: '' };
    });
    await this.sweep();
    const changed = targets.map((t) => dirname(t.path));
    try {
      // Settled, not raced: a failure is thrown once no write is left running to leave a temporary behind.
      const written = await Promise.allSettled(
        targets.map(async (t) => {
          if ('file' in t.object) {
            await syncFile(t.object.file);
            t.temp = t.object.file;
          } else {
            const temp = temporaryPath(this.tempDir, basename(t.path));
            await this.writeTemporary(temp, t.object.body);
            t.temp = temp;
          }
        }),
      );
      const failed = written.find((w) => w.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      for (const t of targets) changed.push(...(await renameMaking(t.temp, t.path)));
    } catch (err) {
      // Temporaries this commit made; staged files stay the caller's to discard.
      await Promise.all(targets.filter((t) => t.temp !== '' && !('file' in t.object)).map((t) => rm(t.temp, { force: true })));
      throw err;
    }
    await Promise.all([...new Set(changed)].map(syncDirectory));
  }

  async discard(file: string): Promise<void> {
    this.checkStaged(file);
    await rm(file, { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const base = prefix === '' ? this.root : this.pathOf(prefix);
    const keys: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isAbsent(err)) return;
        throw err;
      }
      for (const entry of entries) {
        if (keyPrefix === '' && entry.name.startsWith('.')) continue;
        const key = keyPrefix === '' ? entry.name : `${keyPrefix}/${entry.name}`;
        // Symbolic links are not followed: nothing outside the root is ever read.
        if (entry.isDirectory()) await walk(join(dir, entry.name), key);
        else if (entry.isFile()) keys.push(key);
      }
    };
    await walk(base, prefix);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      // A folder is not an object; unlink refuses it with EISDIR (EPERM on some systems).
      if (isAbsent(err) || (await isFolder(path))) return;
      throw err;
    }
  }

  /** Removes old temporaries, once. */
  private async sweep(): Promise<void> {
    await (this.swept ??= this.removeOrphans().catch((err: unknown) => {
      this.swept = undefined;
      throw err;
    }));
  }

  // Small bodies are written without making the temporary folder first: it exists but for the first
  // write (or after someone removed it), and a failed open costs less than a mkdir every time.
  private async writeTemporary(temp: string, body: Uint8Array): Promise<void> {
    try {
      await writeDurably(temp, body);
    } catch (err) {
      if (!isAbsent(err)) throw err;
      await makeFolders(this.tempDir);
      await writeDurably(temp, body);
    }
  }

  // Only files stage() named may be moved in or removed: no caller can rename or delete other files.
  private checkStaged(file: string): void {
    if (dirname(file) !== this.tempDir || !isTemporaryName(basename(file))) {
      throw new InvalidRequestError(`${JSON.stringify(file)} is not a file staged in this storage`);
    }
  }

  /**
   * The file holding `key`'s object (absent when the object is): for a reader that needs the whole file
   * at random, as a zip check does, where get() streams it. Throws InvalidRequestError as get() does.
   */
  fileOf(key: string): string {
    return this.pathOf(key);
  }

  /** The file of `key`, which is checked first: whatever the key, the file is inside the root. */
  private pathOf(key: string): string {
    const problem = keyProblem(key);
    if (problem !== null) throw new InvalidRequestError(`invalid storage key ${JSON.stringify(key)}: ${problem}`);
    const path = join(this.root, ...key.split('/'));
    if (!path.startsWith(this.rootPrefix)) throw new InvalidRequestError(`invalid storage key ${JSON.stringify(key)}: outside the root`);
    return path;
  }

  /**
   * The files a write that never finished left in the staging folder: temporaries an hour old or more,
   * which the first put, stage or commit of a DiskStorage on this root removes. Younger ones may belong
   * to a write under way (in another process sharing the root, a server finishing its downloads during a
   * restart), so they are not listed. Remove one with discard().
   */
  async leftovers(): Promise<Leftover[]> {
    let names: string[];
    try {
      names = await readdir(this.tempDir);
    } catch (err) {
      if (isAbsent(err)) return [];
      throw err;
    }
    const cutoff = Date.now() - ORPHAN_AGE_MS;
    const found: Leftover[] = [];
    for (const name of names.filter(isTemporaryName).sort()) {
      const file = join(this.tempDir, name);
      const s = await lstat(file).catch(() => null);
      if (s !== null && s.isFile() && s.mtimeMs < cutoff) found.push({ file, size: s.size, modified: s.mtime });
    }
    return found;
  }

  // A process killed in the middle of a put leaves its temporary behind.
  private async removeOrphans(): Promise<void> {
    for (const { file } of await this.leftovers()) await rm(file, { force: true });
  }
}

/** Why `key` is not a storage key, or null when it is one. */
function keyProblem(key: string): string | null {
  if (key === '') return 'empty';
  if (key.includes('\\')) return 'backslash';
  if (key.includes('\0')) return 'NUL byte';
  const segments = key.split('/');
  if (segments[0]!.startsWith('.')) return 'top-level names starting with "." are reserved';
  for (const segment of segments) {
    if (segment === '') return 'empty path element';
    if (segment === '.' || segment === '..') return `path element ${JSON.stringify(segment)}`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `path element longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return null;
}

/** Checks a whole body's size and digest ([actual, declared]) against what the caller declared. */
function checkBody(key: string, size: number, declared: number | undefined, digests: [string, string] | undefined): void {
  if (declared !== undefined && size !== declared) throw new InvalidContentError(`${key}: body of ${size} bytes, declared ${declared}`);
  if (digests !== undefined && digests[0] !== digests[1]) {
    throw new InvalidContentError(`${key}: body has SHA-256 ${digests[0]}, declared ${digests[1]}`);
  }
}

/**
 * Renames `from` to `to`, making `to`'s missing folders when the first try finds none; returns the
 * folders (besides `to`'s own) that must be synced for the new names to last.
 */
async function renameMaking(from: string, to: string): Promise<string[]> {
  try {
    await rename(from, to);
    return [];
  } catch (err) {
    if (!isAbsent(err)) throw err;
    const changed = await makeFolders(dirname(to));
    await rename(from, to);
    return changed;
  }
}

/** Flushes a complete file's bytes, and what reading them back needs, to disk. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

function checkRange(start: number | undefined, end: number | undefined): void {
  const bad = (n: number | undefined): boolean => n !== undefined && !(Number.isSafeInteger(n) && n >= 0);
  if (bad(start) || bad(end) || (end !== undefined && end < (start ?? 0))) {
    throw new InvalidRequestError(`invalid byte range ${start ?? ''}-${end ?? ''}`);
  }
}

/**
 * Creates `dir` and its missing parents; returns the folders that gained an entry (the parent of each
 * new folder), which the caller syncs, all at once, before it counts on the new names.
 */
async function makeFolders(dir: string): Promise<string[]> {
  const first = await mkdir(dir, { recursive: true });
  const changed: string[] = [];
  if (first === undefined) return changed;
  for (let d = dir; ; d = dirname(d)) {
    changed.push(dirname(d));
    if (d === first) break;
  }
  return changed;
}

function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function isFolder(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null))?.isDirectory() ?? false;
}
