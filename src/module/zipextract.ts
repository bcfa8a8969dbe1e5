// Extracting module zips, after golang.org/x/mod/zip's Unzip: the whole zip is checked before anything is
// written, then each file is streamed out under its declared size.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { streamToNewFile } from '../stream-to-new-file.js';
import { checkModuleVersion, classifyZip, zipFileSizeError, type ModulePathInput } from './zipcheck.js';
import { withOperation, ZipError } from './ziperror.js';
import { eachConcurrently } from './zipparallel.js';
import { ZipReader } from './zipreader.js';

const SLASH = 0x2f;
const CONCURRENCY = 4;

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch {
    // Go treats a directory it cannot list as empty and lets creating it report the real problem.
    return true;
  }
}

// A file is written under a temporary name and renamed once complete, so that a crash never leaves a
// truncated file under a real name. The "'" makes the name one that no module file can have.
function temporaryName(dst: string): string {
  return join(dirname(dst), `.unzip'${randomBytes(6).toString('hex')}`);
}

async function extract(dir: string, modulePath: ModulePathInput, version: string, zipFile: string): Promise<void> {
  if (!(await isEmptyOrMissing(dir))) {
    throw new ZipError('UNZIP_TARGET_NOT_EMPTY', `target directory ${dir} exists and is not empty`);
  }
  const path = checkModuleVersion(modulePath, version);
  const tooLarge = await zipFileSizeError(zipFile);
  if (tooLarge !== null) throw tooLarge;
  const reader = await ZipReader.open(zipFile);
  try {
    const { checked, prefix } = await classifyZip(reader, path, version, { listValid: false });
    if (checked.error !== null) throw checked.error;
    const prefixLength = Buffer.byteLength(prefix);
    const listing = reader.directory;

    const createdDir = (await mkdir(dir, { recursive: true })) !== undefined;
    // What we put in `dir`, to take out again if extraction fails halfway.
    const created = new Set<string>();
    const files: number[] = [];
    for (let i = 0; i < listing.count; i++) {
      const length = listing.nameLength(i);
      if (length > prefixLength && listing.name(i)[length - 1] !== SLASH) files.push(i);
    }
    const extractOne = async (i: number): Promise<void> => {
      // Every name has passed the file path check: no "..", no leading "/", no backslash, valid UTF-8.
      const name = listing.nameText(i, prefixLength);
      created.add(name.split('/')[0]!);
      const dst = join(dir, name);
      await mkdir(dirname(dst), { recursive: true });
      const tmp = temporaryName(dst);
      // Read-only, as go leaves the module cache; never a symbolic link, whatever the entry's mode says.
      await streamToNewFile(tmp, (out) => pipeline(reader.read(i), out), { mode: 0o444 });
      try {
        await rename(tmp, dst);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    };
    try {
      await eachConcurrently(files, CONCURRENCY, extractOne);
    } catch (err) {
      if (createdDir) await rm(dir, { recursive: true, force: true });
      else for (const name of created) await rm(join(dir, name), { recursive: true, force: true });
      throw err;
    }
  } finally {
    await reader.close();
  }
}

/**
 * Extracts module zip `zipFile` for modulePath@version into `dir`, as go's zip.Unzip does: the zip is
 * checked first (see checkZip) and nothing is written unless every entry is acceptable; `dir` may be
 * missing but must not hold anything. Files are written read-only (0444), never as links, and each must
 * decompress to exactly its declared size. If extraction fails halfway, what was written is removed.
 * Throws ZipError with go's text (`unzip <zipFile>: ...`); I/O errors propagate unchanged.
 */
export async function unzip(dir: string, modulePath: ModulePathInput, version: string, zipFile: string): Promise<void> {
  try {
    await extract(dir, modulePath, version, zipFile);
  } catch (err) {
    throw withOperation('unzip', zipFile, err);
  }
}
