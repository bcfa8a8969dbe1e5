import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';

/** Options of streamToNewFile. */
export interface StreamToNewFileOptions {
  /** Permission bits of the new file (before the umask); default 0o666, as fs makes files. */
  mode?: number;
  /** Fsync the file before closing it, so that it is on disk once the write resolves. */
  flush?: boolean;
}

/**
 * Creates the file `path` (which must not exist), fills it through `write` and resolves with what `write`
 * returned once the file is closed; on failure no file is left, and an existing file at `path` is never
 * touched. `write` must end the stream it is given (or let a pipeline end it).
 */
export async function streamToNewFile<T>(path: string, write: (out: WriteStream) => Promise<T>, options: StreamToNewFileOptions = {}): Promise<T> {
  const out = createWriteStream(path, { flags: 'wx', mode: options.mode ?? 0o666, flush: options.flush ?? false });
  let created = false;
  out.once('open', () => (created = true));
  try {
    const result = await write(out);
    if (!out.closed) await finished(out);
    return result;
  } catch (err) {
    await closeStream(out);
    // Not when the open itself failed: a file already there (EEXIST) is someone else's.
    if (created) await rm(path, { force: true });
    throw err;
  }
}

/**
 * Destroys `out` and resolves once its file is closed. A stream opens its file asynchronously: a pipeline
 * whose source fails at once rejects before the open has finished, and the open would then create the
 * file after the caller removed it (or inside a folder being removed: ENOTEMPTY).
 */
export async function closeStream(out: WriteStream): Promise<void> {
  if (out.closed) return;
  const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
  out.destroy();
  await closed;
}
