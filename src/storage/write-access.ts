// A folder godepot cannot write is an operator's fix, and an obvious one: which user needs write access
// to which folder, or that the file system is read-only. The messages say so instead of leaving the
// operator with a bare EACCES.
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { StorageUnusableError } from '../errors.js';

const PERMISSION = new Set(['EACCES', 'EPERM']);

/** The user this process runs as, for a message: `user godepot (uid 61234)`, or `uid 61234` without a name. */
function currentUser(): { name: string | null; text: string } {
  const uid = process.getuid?.() ?? -1;
  try {
    const { username } = userInfo();
    return { name: username, text: `user ${username} (uid ${uid})` };
  } catch {
    // A uid without a passwd entry (a container's, a DynamicUser's without nss-systemd): no name to give.
    return { name: null, text: `uid ${uid}` };
  }
}

/**
 * What would let godepot write `folder` after `err`: who needs write access to it (or, for a folder not
 * made yet, to its nearest existing parent), or that its file system is read-only; null when `err` is
 * neither a refused permission nor a read-only file system.
 */
export async function writeAccessFix(folder: string, err: unknown): Promise<string | null> {
  const code = (err as NodeJS.ErrnoException | null | undefined)?.code;
  if (code === 'EROFS') return `${folder} is on a read-only file system: mount it read-write, or choose a folder on a writable one (under systemd, a folder listed in ReadWritePaths=)`;
  if (code === undefined || !PERMISSION.has(code)) return null;
  let target = folder;
  while (dirname(target) !== target && (await stat(target).catch(() => null)) === null) target = dirname(target);
  const user = currentUser();
  const made = target === folder ? '' : ` (to make ${folder} there)`;
  const chown = user.name === null ? `chown -R ${process.getuid?.() ?? 'UID'}` : `chown -R ${user.name}`;
  return `godepot runs as ${user.text}, which needs write access to ${target}${made}: e.g. ${chown} ${target}, or run godepot as the user that owns it`;
}

/**
 * `err` as a StorageUnusableError naming the fix when it is a write into the storage folder `root`
 * refused by permissions or a read-only file system; else `err` itself. The message names server
 * paths: it is for the log and the command line, never an HTTP body.
 */
export async function asUnwritable(err: unknown, root: string): Promise<unknown> {
  const fix = await writeAccessFix(root, err);
  if (fix === null) return err;
  return new StorageUnusableError(`storage ${root} cannot be written (${(err as Error).message}): ${fix}`, { cause: err });
}
