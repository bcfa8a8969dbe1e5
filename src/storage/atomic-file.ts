import { randomBytes } from 'node:crypto';
import { link, open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { streamToNewFile } from '../stream-to-new-file.js';

/** Options of writeFileAtomically. */
export interface AtomicWriteOptions {
  /**
   * Where the temporary file is made: by default beside `path`. It must be on the same file system as
   * `path`, since the rename that publishes the file cannot cross file systems.
   */
  tempDir?: string;
  /**
   * False: never replace a file at `path`, however it got there meanwhile; the write then fails with
   * EEXIST's error and leaves nothing. Default true.
   */
  replace?: boolean;
}

/** True for the names temporaryPath gives (`.<name>.<12 hex digits>.tmp`). */
export function isTemporaryName(name: string): boolean {
  return /^\..*\.[0-9a-f]{12}\.tmp$/s.test(name);
}

/** A new, unused temporary file name in `dir` for a file to be called `name`; isTemporaryName knows it. */
export function temporaryPath(dir: string, name: string): string {
  return join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Creates the file `path` (which must not exist) holding `bytes`, flushed to disk; on failure no file is left. */
export async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(bytes);
    // Data and the size needed to read it back: what a rename of the file may rely on.
    await handle.datasync();
  } catch (err) {
    await handle.close();
    await rm(path, { force: true });
    throw err;
  }
  await handle.close();
}

/**
 * Creates the file `path` (which must not exist), fills it through `write` and flushes it to disk before
 * resolving with what `write` returned; on failure no file is left. `write` must end the stream it is
 * given (or let a pipeline end it).
 */
export function streamDurably<T>(path: string, write: (out: Writable) => Promise<T>): Promise<T> {
  return streamToNewFile(path, write, { mode: 0o644, flush: true });
}

/**
 * Writes `path` all or nothing: `write` fills a temporary file, which is flushed to disk and only then
 * renamed into place. A crash or an error at any point leaves either the old file or no file, never a
 * truncated one under the real name (a crash may leave the temporary, which isTemporaryName recognizes).
 * `write` must end the stream it is given (or let it be ended by a pipeline); the result of `write` is
 * returned.
 */
export async function writeFileAtomically<T>(
  path: string,
  write: (out: Writable) => Promise<T>,
  options: AtomicWriteOptions = {},
): Promise<T> {
  const temp = temporaryPath(options.tempDir ?? dirname(path), basename(path));
  const result = await streamDurably(temp, write);
  if (options.replace === false) await publishNew(temp, path);
  else await publish(temp, path);
  return result;
}

/** As publish, but refuses (EEXIST) to replace a file at `path`; `temp` is removed either way. */
async function publishNew(temp: string, path: string): Promise<void> {
  try {
    // link, unlike rename, refuses to replace an existing file.
    await link(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
  await syncDirectory(dirname(path));
}

/** Renames the complete, flushed file `temp` to `path` and makes the new name durable; on failure `temp` is removed. */
export async function publish(temp: string, path: string): Promise<void> {
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** Makes a rename or a new entry in `dir` durable: without syncing the folder, a power loss can forget the name. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `path` holding `data` with `mode`, whole or not at all, and never over an existing file (for
 * keys: one replaced by mistake signs what nobody can check any more). Throws EEXIST's error when the
 * file exists.
 */
export async function writeNewFile(path: string, data: string, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // link, unlike rename, refuses to replace an existing file.
    await link(temp, path);
    await syncDirectory(dirname(path));
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
