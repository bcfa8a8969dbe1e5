// A lock shared by every process on the host (and by hosts sharing the folder): a file created with O_EXCL,
// naming who holds it. Node has no flock(2), and an advisory lock would not cover a second host anyway.
import { randomBytes } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { hostname, uptime } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { GodepotError } from '../errors.js';

/** The lock stayed held by a live process for longer than the caller would wait. */
export class LockTimeoutError extends GodepotError {
  readonly code = 'LOCK_TIMEOUT';
}

/** How a lock is waited for and when one is taken over. */
export interface LockFileOptions {
  /** Give up after waiting this long for another holder. */
  timeoutMs: number;
  /** The error given up with, from its message (which names the lock and its holder); LockTimeoutError by default. */
  timedOut?: (message: string) => Error;
  /**
   * A lock at least this old is taken over unless its holder is a process alive on this host. Holders
   * keep the lock for one append and fsync, milliseconds; the wait guards against a pid read in another
   * pid namespace (a container) that looks dead from here.
   */
  staleMs: number;
}

/** A lock this process holds. */
export interface HeldLock {
  /** Removes the lock file, unless it was taken over meanwhile (then it is someone else's to remove). */
  release(): Promise<void>;
}

interface Holder {
  content: string;
  ino: number;
  mtimeMs: number;
}

/** Takes the lock `path` (creating the file), waiting while a live process holds it and taking over stale ones. */
export async function acquireLockFile(path: string, options: LockFileOptions): Promise<HeldLock> {
  const content = `${JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString(), token: randomBytes(8).toString('hex') })}\n`;
  const deadline = Date.now() + options.timeoutMs;
  let pause = 1;
  for (;;) {
    if (await createExclusive(path, content)) return { release: () => releaseLock(path, content) };
    const holder = await readHolder(path);
    if (holder === undefined) continue; // released in between: try again at once
    if (isStale(holder, options.staleMs) && (await takeOver(path, holder, content, options.staleMs))) continue;
    if (Date.now() >= deadline) {
      const message = `timed out after ${options.timeoutMs} ms waiting for the lock ${path}, held by ${describe(holder)}; if that process is gone, remove the file`;
      throw options.timedOut?.(message) ?? new LockTimeoutError(message);
    }
    // Jitter keeps processes that found the lock taken at the same moment from retrying in lockstep.
    await sleep(pause + Math.random() * pause);
    pause = Math.min(pause * 2, 25);
  }
}

/** True when the file was created here; false when it already exists. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(content);
  } catch (err) {
    await handle.close();
    await unlink(path);
    throw err;
  }
  await handle.close();
  return true;
}

async function readHolder(path: string): Promise<Holder | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { ino, mtimeMs } = await handle.stat();
    return { content: await handle.readFile('utf8'), ino, mtimeMs };
  } finally {
    await handle.close();
  }
}

function isStale(holder: Holder, staleMs: number): boolean {
  // A lock written before this machine last started has no holder (a second of slack: uptime is coarse).
  if (holder.mtimeMs < Date.now() - uptime() * 1000 - 1000) return true;
  if (Date.now() - holder.mtimeMs < staleMs) return false;
  const named = parseHolder(holder.content);
  // Unreadable content is a holder that died between creating the file and writing it.
  return named === undefined || named.host !== hostname() || !isAlive(named.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the stale lock `seen`, unless it changed since it was judged stale. The check and the removal
 * run under a second O_EXCL file, so that two processes judging the same lock stale cannot both remove
 * it, the second removing the lock the first has just taken. True when this call removed it.
 */
async function takeOver(path: string, seen: Holder, content: string, staleMs: number): Promise<boolean> {
  const marker = `${path}.takeover`;
  if (!(await createExclusive(marker, content))) {
    // Another process is taking it over; a marker left by one that died in those few microseconds goes once stale.
    const other = await readHolder(marker);
    if (other !== undefined && isStale(other, staleMs)) await unlinkIfPresent(marker);
    return false;
  }
  try {
    const now = await readHolder(path);
    if (now === undefined || now.ino !== seen.ino || now.content !== seen.content) return false;
    await unlinkIfPresent(path);
    return true;
  } finally {
    await unlinkIfPresent(marker);
  }
}

async function releaseLock(path: string, content: string): Promise<void> {
  const holder = await readHolder(path);
  if (holder?.content === content) await unlinkIfPresent(path);
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function parseHolder(content: string): { pid: number; host: string; time: string } | undefined {
  try {
    const value = JSON.parse(content) as { pid?: unknown; host?: unknown; time?: unknown };
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.time === 'string') return { pid: value.pid, host: value.host, time: value.time };
  } catch {
    // fall through: not a lock this code wrote, or one whose writer died before writing it
  }
  return undefined;
}

function describe(holder: Holder): string {
  const named = parseHolder(holder.content);
  return named === undefined ? `an unknown process (the file names none)` : `pid ${named.pid} on ${named.host} since ${named.time}`;
}
