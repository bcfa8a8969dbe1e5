// A release archive: one folder packed as a .tar.gz that is the same bytes for the same files (names
// sorted, owned by 0:0, every date the given epoch, gzipped by zlib, which writes no name or time).
// scripts/release.mjs packs the staged release with it, and an installed release packs its own folder
// again with it (`bundle create --self`), which gives back the archive it was unpacked from.
import { spawn } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { GodepotError } from '../errors.js';
import { writeFileAtomically } from '../storage/atomic-file.js';

/** godepot's release archive could not be found, made or packed; the message says what failed and why. */
export class ReleaseArchiveError extends GodepotError {
  readonly code = 'RELEASE_ARCHIVE';
}

/**
 * Writes the contents of `folder` to `file` as a .tar.gz whose one top folder is `top` (whatever
 * `folder` is called), every entry dated `epoch` (seconds). Needs GNU tar on PATH. The file appears
 * whole or not at all; throws ReleaseArchiveError when tar fails.
 */
export async function writeReleaseArchive(folder: string, top: string, file: string, epoch: number, signal?: AbortSignal): Promise<void> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(top)) throw new ReleaseArchiveError(`${JSON.stringify(top)} cannot name a release folder`);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new ReleaseArchiveError(`${epoch} is not a time in seconds since 1970`);
  // `-C folder .` names every entry ./..., which the transform turns into top/...: the same names, in
  // the same order, as packing a folder called `top` from its parent.
  const args = ['--create', '--file=-', '--sort=name', `--mtime=@${epoch}`, '--owner=0', '--group=0', '--numeric-owner', `--transform=s,^\\.,${top},`, '-C', folder, '.'];
  await writeFileAtomically(file, async (out) => {
    const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal === undefined ? {} : { signal }) });
    let stderr = '';
    tar.stderr.setEncoding('utf8').on('data', (text: string) => void (stderr += text));
    const exited = new Promise<void>((resolve, reject) => {
      tar.once('error', (err: NodeJS.ErrnoException) =>
        reject(new ReleaseArchiveError(err.code === 'ENOENT' ? 'tar is not on PATH: packing a release archive needs GNU tar' : `tar: ${err.message}`, { cause: err })),
      );
      tar.once('close', (code) => (code === 0 ? resolve() : reject(new ReleaseArchiveError(`tar could not pack ${folder} (exit ${code}): ${stderr.trim()}`))));
    });
    await Promise.all([pipeline(tar.stdout, createGzip({ level: 9 }), out), exited]);
  });
}
