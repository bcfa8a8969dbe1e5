// The module zip of a version served straight from git, made as go 1.19 makes it (codeRepo.Zip): `git
// archive --format=zip` of the revision (only the module's folder for a module in a subdirectory),
// spooled to a file of at most 500 MiB, its files taken under their path in the module, the
// repository's root LICENSE added to a subdirectory module that has none, and the zip written from
// those with go's module zip rules (createZip). So the zip holds exactly what go's direct mode puts in
// its own:
// - what `git archive` writes: `.gitattributes` conversions (eol, ident, filters such as Git LFS's
//   smudge when the git configuration installs it) apply; export-ignore and export-subst do not (go
//   turns them off in info/attributes); a submodule is an empty folder, so none of its files;
// - then go's zip rules: no symbolic links, no vendor/ packages, no nested modules, no .hg_archival.txt,
//   and the size limits; a Git LFS pointer file is an ordinary small file and goes in as it is.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { InvalidContentError } from '../errors.js';
import { streamToNewFile } from '../stream-to-new-file.js';
import { createZip, MAX_LICENSE, MAX_ZIP_FILE } from '../module/zip.js';
import { ZipReader } from '../module/zipreader.js';
import { archiveModuleFiles } from '../vcs/archive-files.js';
import type { GitModuleRepo } from './git-module-repo.js';

// git's archive is stored uncompressed, so it holds the files' 500 MiB (the limit createZip keeps)
// and a header per file: bounded well above that, on disk, never in memory.
const MAX_ARCHIVE = 2 * MAX_ZIP_FILE;

/**
 * Writes the zip of a canonical `version` of `repo`'s module to `zipTo` (a new file) and returns its
 * size, spooling git's archive in `spoolDir`. Throws NotFoundError for a version the module does not
 * have, ZipError when the files break go's rules, and git's typed errors; on failure `zipTo` is removed.
 */
export async function writeModuleZip(repo: GitModuleRepo, version: string, zipTo: string, spoolDir: string): Promise<number> {
  const info = await repo.checkVersion(version);
  const { dir: subdir } = await repo.moduleDir(version);
  await mkdir(spoolDir, { recursive: true });
  const archive = join(spoolDir, `archive-${process.pid}-${randomBytes(6).toString('hex')}.zip`);
  let reader: ZipReader | undefined;
  try {
    const size = await repo.code.readZip(info.name, subdir, archive, MAX_ARCHIVE);
    if (size === undefined) throw new InvalidContentError(`${repo.modulePath}@${version}: git archive found no files in ${subdir}`);
    const links = await repo.code.symlinks(info.name, subdir);
    reader = await ZipReader.open(archive);
    const files = archiveModuleFiles(reader, subdir, links);
    if (subdir !== '' && !files.some((f) => f.path === 'LICENSE')) {
      const license = await repo.code.readFile(info.name, 'LICENSE', MAX_LICENSE + 1, 'LICENSE');
      if (license !== undefined) files.push({ path: 'LICENSE', size: license.length, open: () => Readable.from([license]) });
    }
    const out = await streamToNewFile(zipTo, async (out) => (await createZip(out, repo.modulePath, version, files), out));
    return out.bytesWritten;
  } finally {
    await reader?.close();
    await rm(archive, { force: true });
  }
}
