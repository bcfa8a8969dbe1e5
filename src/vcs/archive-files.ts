import { InvalidContentError } from '../errors.js';
import type { ModuleFile } from '../module/zip.js';
import type { ZipReader } from '../module/zipreader.js';

/**
 * The files of a module in a `git archive --format=zip --prefix=prefix/` of its revision, as go's
 * codeRepo.Zip takes them: below the archive's one top-level folder and the module's folder `subdir`
 * (`''` at the top), folders left out, and the paths in `links` (from the repository's top) marked as
 * links, which the zip rules then omit. Read from `reader`, which must stay open while they are.
 */
export function archiveModuleFiles(reader: ZipReader, subdir: string, links: ReadonlySet<string>): ModuleFile[] {
  const files: ModuleFile[] = [];
  const dirPrefix = subdir === '' ? '' : `${subdir}/`;
  let topPrefix = '';
  for (let i = 0; i < reader.count; i++) {
    const name = reader.directory.nameText(i);
    if (topPrefix === '') {
      const slash = name.indexOf('/');
      if (slash < 0) throw new InvalidContentError('git archive: missing top-level directory prefix');
      topPrefix = name.slice(0, slash + 1);
    }
    if (!name.startsWith(topPrefix)) throw new InvalidContentError('git archive: zip file contains more than one top-level directory');
    const inRepo = name.slice(topPrefix.length);
    if (!inRepo.startsWith(dirPrefix)) continue;
    const path = inRepo.slice(dirPrefix.length);
    if (path === '' || path.endsWith('/')) continue;
    files.push({
      path,
      size: reader.directory.sizes[i]!,
      type: links.has(inRepo) ? 'symlink' : 'file',
      open: () => reader.read(i),
    });
  }
  return files;
}
