import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Options of writeFileAtomically. */
export interface AtomicWriteOptions {
  /**
   * Where the temporary file is made: by default beside `path`. It must be on the same file system as
   * `path`, since the rename that publishes the file cannot cross file systems.
   */
  tempDir?: string;
}

/** True for the names writeFileAtomically gives its temporary files (`.<name>.<12 hex digits>.tmp`). */
export function isTemporaryName(name: string): boolean {
  return /^\..*\.[0-9a-f]{12}\.tmp$/s.test(name);
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
  const temp = join(options.tempDir ?? dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
  try {
    const result = await write(out);
    if (!out.writableFinished) await finished(out);
    const handle = await open(temp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await syncDirectory(dirname(path));
    return result;
  } catch (err) {
    // The stream opens its file asynchronously: removing the file before the stream has closed could
    // run before the open, which would then create the temporary again and leave it behind.
    if (!out.closed) {
      const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
      out.destroy();
      await closed;
    }
    await rm(temp, { force: true });
    throw err;
  }
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
