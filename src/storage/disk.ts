import { type Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidContentError, InvalidRequestError, NotFoundError } from '../errors.js';
import { isTemporaryName, syncDirectory, writeFileAtomically } from './atomic-file.js';
import { ByteMeter } from './byte-meter.js';
import type { PutOptions, Storage, StoredObject } from './storage.js';

/** Temporaries older than this at the first put are taken for leftovers of a crash and removed. */
const ORPHAN_AGE_MS = 60 * 60 * 1000;
/** Larger reads than fs's 64 KiB default: fewer system calls per zip served. */
const READ_CHUNK = 256 * 1024;
/** Most file systems refuse longer names (ENAMETOOLONG); refusing them here keeps that a bad request. */
const MAX_SEGMENT_BYTES = 255;

/**
 * Storage in a folder: key `a/b/c` is the file `<root>/a/b/c`, so with the module-cache keys of
 * protocol/keys.ts the root is a `GOPROXY=file://<root>` tree. Puts go through a temporary file in
 * `<root>/.tmp`, fsynced and renamed into place, so a reader or a crash never leaves or shows a partial
 * object. Top-level names starting with `.` belong to the driver and are never keys.
 */
export class DiskStorage implements Storage {
  readonly root: string;
  private readonly rootPrefix: string;
  private readonly tempDir: string;
  private swept: Promise<void> | undefined;

  constructor(options: { root: string }) {
    this.root = resolve(options.root);
    this.rootPrefix = this.root.endsWith(sep) ? this.root : this.root + sep;
    this.tempDir = join(this.root, '.tmp');
  }

  async get(key: string, options: { signal?: AbortSignal; start?: number; end?: number } = {}): Promise<Readable> {
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
    try {
      // Opening a folder succeeds; only reading it fails.
      if (!(await handle.stat()).isFile()) throw new NotFoundError(`${key}: not found in storage`);
    } catch (err) {
      await handle.close();
      throw err;
    }
    const stream = handle.createReadStream({ start, end, highWaterMark: READ_CHUNK });
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

  async put(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<StoredObject> {
    const path = this.pathOf(key);
    options.signal?.throwIfAborted();
    await (this.swept ??= this.removeOrphans());
    await makeFolders(this.tempDir);
    await makeFolders(dirname(path));
    const source = body instanceof Readable ? body : Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
    const declared = options.size;
    const meter = new ByteMeter(declared ?? Infinity, () => new InvalidContentError(`${key}: body longer than the declared ${declared} bytes`));
    await writeFileAtomically(
      path,
      async (out) => {
        await pipeline(source, meter, out, options.signal === undefined ? {} : { signal: options.signal });
        if (declared !== undefined && meter.size !== declared) {
          throw new InvalidContentError(`${key}: body of ${meter.size} bytes, declared ${declared}`);
        }
        if (options.sha256 !== undefined) {
          const actual = meter.sha256();
          if (actual !== options.sha256) throw new InvalidContentError(`${key}: body has SHA-256 ${actual}, declared ${options.sha256}`);
        }
      },
      { tempDir: this.tempDir },
    );
    return { size: meter.size, modified: (await stat(path)).mtime };
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

  /** The file of `key`, which is checked first: whatever the key, the file is inside the root. */
  private pathOf(key: string): string {
    const problem = keyProblem(key);
    if (problem !== null) throw new InvalidRequestError(`invalid storage key ${JSON.stringify(key)}: ${problem}`);
    const path = join(this.root, ...key.split('/'));
    if (!path.startsWith(this.rootPrefix)) throw new InvalidRequestError(`invalid storage key ${JSON.stringify(key)}: outside the root`);
    return path;
  }

  // A process killed in the middle of a put leaves its temporary behind. Only old ones go: another
  // process sharing the root (an old server finishing its downloads during a restart) may own young ones.
  private async removeOrphans(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.tempDir);
    } catch (err) {
      if (isAbsent(err)) return;
      throw err;
    }
    const cutoff = Date.now() - ORPHAN_AGE_MS;
    for (const name of names.filter(isTemporaryName)) {
      const path = join(this.tempDir, name);
      const s = await lstat(path).catch(() => null);
      if (s !== null && s.isFile() && s.mtimeMs < cutoff) await rm(path, { force: true });
    }
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

function checkRange(start: number | undefined, end: number | undefined): void {
  const bad = (n: number | undefined): boolean => n !== undefined && !(Number.isSafeInteger(n) && n >= 0);
  if (bad(start) || bad(end) || (end !== undefined && end < (start ?? 0))) {
    throw new InvalidRequestError(`invalid byte range ${start ?? ''}-${end ?? ''}`);
  }
}

/** Creates `dir` and its missing parents, syncing each new folder's parent so that the new names survive a power loss. */
async function makeFolders(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await syncDirectory(dirname(d));
    if (d === first) break;
  }
}

function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function isFolder(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null))?.isDirectory() ?? false;
}
