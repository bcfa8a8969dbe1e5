import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageUnusableError } from '../errors.js';
import { temporaryPath } from './atomic-file.js';

/**
 * Checks that the storage folder `root` (a DiskStorage's) can be used now: it exists, is a folder, and
 * (unless only `read` is asked, which writes nothing) a file can be created in it. Throws
 * StorageUnusableError saying which of these fails (`storage /srv/x is missing`, `… is not a folder`,
 * `… is not writable (EROFS: …)`).
 *
 * Writability is tried, not asked: a file is created and removed in the folder's `.tmp`, where the
 * storage stages its own files (never a module's key). access(W_OK) would answer yes to root on a
 * folder of mode 0500, and says nothing of a file system that refuses writes for other reasons.
 */
export async function checkStorageFolder(root: string, use: 'read' | 'write' = 'write'): Promise<void> {
  try {
    if (!(await stat(root)).isDirectory()) throw new StorageUnusableError(`storage ${root} is not a folder`);
  } catch (err) {
    if (err instanceof StorageUnusableError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StorageUnusableError(`storage ${root} is missing`, { cause: err });
    if (code === 'ENOTDIR') throw new StorageUnusableError(`storage ${root} is missing (a part of its path is not a folder)`, { cause: err });
    throw new StorageUnusableError(`storage ${root} cannot be read (${(err as Error).message})`, { cause: err });
  }
  if (use === 'read') return;
  const tempDir = join(root, '.tmp');
  const probe = temporaryPath(tempDir, 'readyz');
  try {
    // Not recursive: the root exists, and a recursive mkdir reports a read-only file system as ENOENT.
    await mkdir(tempDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await (await open(probe, 'wx')).close();
    await unlink(probe);
  } catch (err) {
    throw new StorageUnusableError(`storage ${root} is not writable (${(err as Error).message})`, { cause: err });
  }
}
