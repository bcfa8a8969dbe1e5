// A small file system of a chosen size for tests that fill a disk: a tmpfs mounted on a fresh folder.
// Mounting needs root (CI runs as root); elsewhere the caller is told why it cannot have one.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A mounted tmpfs. */
export interface Tmpfs {
  dir: string;
  /** Changes its size (remount), as an operator growing a volume does. */
  resize(bytes: number): Promise<void>;
  /** Makes it read-only (remount), as a volume gone bad is. */
  remountReadOnly(): Promise<void>;
  /** Unmounts it and removes the folder. */
  dispose(): Promise<void>;
}

/** Why a tmpfs cannot be mounted here (not root), or null when it can. */
export function tmpfsUnavailable(): string | null {
  return process.getuid?.() === 0 ? null : 'mounting a tmpfs needs root (CI runs as root)';
}

/** Mounts a tmpfs of `bytes` on a new folder. */
export async function mountTmpfs(bytes: number): Promise<Tmpfs> {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    resize: async (size) => void (await run('mount', ['-o', `remount,size=${size}`, dir])),
    remountReadOnly: async () => void (await run('mount', ['-o', 'remount,ro', dir])),
    dispose: async () => {
      await run('umount', ['-l', dir]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
