// The audit log as a file: append-only JSON lines, each chained to the one before by `prev`, the SHA-256 of
// the previous line's bytes (64 zeros for the first line). A line's fields, in this order:
//   seq      1, 2, 3, … with no gaps: the line's place in the file
//   time     when record() was called, RFC 3339 UTC with milliseconds
//   action, actor, from, target, outcome, detail   the AuditEvent (detail left out when absent)
//   prev     the chain hash
// docs/audit-log.md describes the format, what `godepot audit verify` proves and what it cannot.
//
// Several processes append to one file (serve --workers, a `godepot token` command beside the server), so
// each append runs under a lock file beside the log (lock-file.ts): take the lock, read the last line
// (backwards from the end, never the whole file) for its seq and hash, append, fsync, release. record()
// calls that arrive while an append is under way wait and go together in the next one: one lock, one
// write, one fsync for all of them, which keeps a flood of refused requests cheap.
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hashLine, formatLine, GENESIS_PREV, MAX_LINE_BYTES, parseLine, sanitizeEvent, type UnchainedEntry } from './audit-line.js';
import type { Audit, AuditEvent } from './audit.js';
import { AuditLogError } from './errors.js';
import { isGodepotError } from '../errors.js';
import { acquireLockFile, type LockFileOptions } from '../lock/lock-file.js';

/** Bytes appended between two fsyncs at most; so also the most a crash can leave half-written at the end. */
const MAX_BATCH_BYTES = 1024 * 1024;

/** How openAuditLog waits for other processes. */
export interface AuditLogOptions {
  /** How long an append waits for another process's lock before failing (default 30 s). */
  lockTimeoutMs?: number;
  /** How old a lock whose holder is not alive on this host must be before it is taken over (default 5 s). */
  staleLockMs?: number;
}

/**
 * Opens (creating the folder, and the file with mode 0600, when missing) the audit log at `path` and checks
 * its end: a line left half-written by a crash is cut off and an `audit.repaired` event records what was
 * removed; any other damage at the end throws AuditLogError.
 */
export async function openAuditLog(path: string, options: AuditLogOptions = {}): Promise<Audit> {
  const lockOptions = { timeoutMs: options.lockTimeoutMs ?? 30_000, staleMs: options.staleLockMs ?? 5_000, timedOut: (message: string) => new AuditLogError(message) };
  const log = new FileAuditLog(path, lockOptions, await openLogFile(path));
  try {
    await log.checkEnd();
  } catch (err) {
    await log.close();
    throw err;
  }
  return log;
}

interface Pending {
  entry: UnchainedEntry;
  resolve(): void;
  reject(err: unknown): void;
}

interface Tail {
  /** The file's length with any half-written line removed. */
  end: number;
  seq: number;
  hash: string;
  /** A half-written last line (no newline, starting at `end`): its length and SHA-256. */
  torn?: { bytes: number; sha256: string };
}

class FileAuditLog implements Audit {
  private readonly lockPath: string;
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly lockOptions: LockFileOptions,
    private handle: FileHandle,
  ) {
    this.lockPath = `${path}.lock`;
  }

  record(event: AuditEvent): Promise<void> {
    if (this.closed) return Promise.reject(new AuditLogError(`${this.path}: the audit log is closed`));
    let entry: UnchainedEntry;
    try {
      entry = sanitizeEvent(event, new Date());
    } catch (err) {
      // An event that is not an AuditEvent at run time (a caller in plain JavaScript) fails as a promise does.
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.draining;
    await this.handle.close();
  }

  /** Takes the lock and repairs or refuses the end of the file (see openAuditLog) without recording anything. */
  async checkEnd(): Promise<void> {
    await this.append([]);
  }

  /** Appends queued events, oldest first, until none are left; each batch settles its own callers. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const written = await this.append(batch.map((pending) => pending.entry));
        for (const pending of batch.slice(0, written)) pending.resolve();
        this.queue = [...batch.slice(written), ...this.queue];
      } catch (err) {
        for (const pending of batch) pending.reject(err);
      }
    }
    this.draining = undefined;
  }

  /** Appends a prefix of `entries` (as many as fit in one batch) under the lock; returns how many. */
  private async append(entries: UnchainedEntry[]): Promise<number> {
    const lock = await acquireLockFile(this.lockPath, this.lockOptions);
    try {
      await this.reopenIfReplaced();
      const tail = await this.readTail();
      const lines: string[] = [];
      let seq = tail.seq;
      let prev = tail.hash;
      let bytes = 0;
      const push = (line: string): void => {
        lines.push(line);
        seq++;
        prev = hashLine(line);
        bytes += Buffer.byteLength(line) + 1;
      };
      if (tail.torn !== undefined) {
        // Safe to cut: a line without its newline was never fsynced whole, so no record() resolved for it.
        await this.handle.truncate(tail.end);
        const repaired = sanitizeEvent(
          { action: 'audit.repaired', actor: 'godepot', from: 'local', target: this.path, outcome: 'ok', detail: { removedBytes: tail.torn.bytes, removedSha256: tail.torn.sha256, reason: 'a line left unfinished by a crash' } },
          new Date(),
        );
        push(formatLine({ seq: seq + 1, ...repaired, prev }));
      }
      let taken = 0;
      for (const entry of entries) {
        const line = formatLine({ seq: seq + 1, ...entry, prev });
        if (lines.length > 0 && bytes + Buffer.byteLength(line) + 1 > MAX_BATCH_BYTES) break;
        push(line);
        taken++;
      }
      if (lines.length > 0) await this.write(Buffer.from(`${lines.join('\n')}\n`), tail.end);
      return taken;
    } catch (err) {
      if (isGodepotError(err)) throw err;
      throw new AuditLogError(`${this.path}: cannot append to the audit log: ${(err as Error).message}`, { cause: err });
    } finally {
      await lock.release();
    }
  }

  /** Appends `data` and fsyncs; on failure cuts the file back to `end`, so no partial line is left behind. */
  private async write(data: Buffer, end: number): Promise<void> {
    try {
      for (let done = 0; done < data.length; ) done += (await this.handle.write(data, done, data.length - done)).bytesWritten;
      await this.handle.datasync();
    } catch (err) {
      // Best effort: if this fails too, the next append finds the torn line and repairs it.
      await this.handle.truncate(end).catch(() => undefined);
      throw err;
    }
  }

  /** A log moved away (rotated) or deleted is followed by a new file at the same path: a new chain. */
  private async reopenIfReplaced(): Promise<void> {
    const current = await this.handle.stat();
    const onDisk = await stat(this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (onDisk !== undefined && onDisk.ino === current.ino && onDisk.dev === current.dev) return;
    await this.handle.close();
    this.handle = await openLogFile(this.path);
  }

  /** The last complete line's seq and hash, reading backwards from the end of the file. */
  private async readTail(): Promise<Tail> {
    const size = (await this.handle.stat()).size;
    const newline = await this.lastNewline(size, MAX_BATCH_BYTES);
    if (newline === null) {
      throw new AuditLogError(`${this.path}: its last ${MAX_BATCH_BYTES} bytes hold no line end, more than a crash can leave unfinished; run godepot audit verify ${this.path}`);
    }
    let torn: Tail['torn'];
    if (newline !== size - 1) {
      const rest = await this.read(newline + 1, size);
      torn = { bytes: rest.length, sha256: hashLine(rest) };
    }
    const end = newline + 1;
    if (newline === -1) return { end, seq: 0, hash: GENESIS_PREV, torn };
    const before = await this.lastNewline(newline, MAX_LINE_BYTES + 1);
    if (before === null) throw new AuditLogError(`${this.path}: its last line is longer than any line godepot writes; run godepot audit verify ${this.path}`);
    const line = await this.read(before + 1, newline);
    const parsed = parseLine(line);
    if (parsed.problem !== undefined) {
      // A complete line godepot did not write is tampering or damage, not a crash: chaining onto it would vouch for it.
      throw new AuditLogError(`${this.path}: its last line (bytes ${before + 1}-${newline}) is ${parsed.problem}; run godepot audit verify ${this.path}`);
    }
    return { end, seq: parsed.entry.seq, hash: hashLine(line), torn };
  }

  /** Where the last newline before `end` is: -1 when there is none, null when none is within `limit` bytes. */
  private async lastNewline(end: number, limit: number): Promise<number | null> {
    const chunk = Buffer.alloc(8192);
    let start = end;
    while (start > 0 && end - start < limit) {
      const length = Math.min(chunk.length, start, limit - (end - start));
      start -= length;
      const found = (await this.readInto(chunk, length, start)).lastIndexOf(0x0a);
      if (found >= 0) return start + found;
    }
    return start === 0 ? -1 : null;
  }

  private async read(start: number, end: number): Promise<Buffer> {
    return this.readInto(Buffer.alloc(end - start), end - start, start);
  }

  private async readInto(buffer: Buffer, length: number, position: number): Promise<Buffer> {
    for (let done = 0; done < length; ) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) throw new AuditLogError(`${this.path}: the file shrank while the lock was held: something writes to it without the lock`);
      done += bytesRead;
    }
    return buffer.subarray(0, length);
  }
}

/** Opens the log for reading and appending, creating it (0600) and its folder; a new name is fsynced into its folder. */
async function openLogFile(path: string): Promise<FileHandle> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const handle = await open(path, 'a+', 0o600);
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
  return handle;
}
