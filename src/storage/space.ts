// Running out of disk is an operating condition, not a bug: writes say so with a typed error, and the
// server reports the storage as degraded (still serving what it holds) until there is room again.
import { statfs } from 'node:fs/promises';
import { StorageFullError } from '../errors.js';

const OUT_OF_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/** `err` as a StorageFullError when it is a write failing for lack of space or quota, else `err` itself. */
export function asStorageFull(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | null | undefined)?.code;
  if (typeof code !== 'string' || !OUT_OF_SPACE.has(code)) return err;
  // The system message names the file: a path of this server's, which the client has no business seeing.
  return new StorageFullError(`storage is full (${code === 'EDQUOT' ? 'disk quota exceeded' : 'no space left on device'}): new modules cannot be stored`, { cause: err });
}

// Room is made again once this much more is free than when the storage filled up: a few bytes freed by
// a removed temporary file do not count.
const ROOM = 64 << 20;

/**
 * Whether a storage folder is full, as the writes into it found out: full from the first write that
 * failed for lack of space, until a write succeeds or the folder's file system has ROOM more free bytes
 * than it had then.
 */
export class StorageSpace {
  private full: { since: Date; freeBytes: number } | null = null;

  constructor(readonly root: string) {}

  /** A write found the storage full. */
  async filled(): Promise<void> {
    if (this.full !== null) return;
    const since = new Date();
    const free = await this.freeBytes().catch(() => 0);
    this.full ??= { since, freeBytes: free };
  }

  /** A write succeeded: there is room. */
  emptied(): void {
    this.full = null;
  }

  /** Since when the storage has been full, or null when it has room. */
  async fullSince(): Promise<Date | null> {
    if (this.full === null) return null;
    const { since, freeBytes } = this.full;
    if ((await this.freeBytes()) >= freeBytes + ROOM) {
      this.full = null;
      return null;
    }
    return since;
  }

  private async freeBytes(): Promise<number> {
    const stats = await statfs(this.root);
    return stats.bavail * stats.bsize;
  }
}
