// The module set of a folder in the module cache download layout: a godepot storage folder, a
// GOPROXY=file:// tree, or a module cache's cache/download.

import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidContentError, isGodepotError } from '../errors.js';
import { hashGoMod, hashZip } from '../module/hash.js';
import { unescapePath, unescapeVersion } from '../module/path.js';
import { InvalidVersionError } from '../module/version.js';
import { eachConcurrently } from '../module/zipparallel.js';
import { ModuleSet, type ModuleSetEntry } from './module-set.js';

/** How readModuleTree gets each zip's `h1:`. */
export interface ModuleTreeOptions {
  /**
   * Hash every zip, even one with a `.ziphash` beside it, and refuse a `.ziphash` that disagrees with its
   * zip. Without it a `.ziphash` is believed, as go believes its module cache.
   */
  rehash?: boolean;
}

/** One `<escaped path>/@v` folder found in the tree. */
interface VersionFolder {
  modulePath: string;
  dir: string;
}

// Module zips are hashed a few at a time: each hash already reads several entries at once. The small
// files of many @v folders are read many at a time, so that the thread pool always has work.
const ZIP_CONCURRENCY = 4;
const FOLDER_CONCURRENCY = 16;

const H1 = /^h1:[A-Za-z0-9+/]{43}=$/;

/**
 * Every `<escaped path>/@v` folder below `root`. The first element of a module path is a domain name
 * with a dot and no element starts with one, so the top-level names that break that rule (`sumdb`,
 * godepot's `.tmp`, go's `cache/vcs`) are never walked.
 */
async function findVersionFolders(root: string): Promise<VersionFolder[]> {
  const found: VersionFolder[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const children = await readdir(dir, { withFileTypes: true });
    const below: Array<Promise<void>> = [];
    for (const child of children) {
      if (!child.isDirectory() || child.name.startsWith('.')) continue;
      if (child.name === '@v') {
        if (rel !== '') found.push({ modulePath: moduleOfFolder(root, rel), dir: join(dir, child.name) });
      } else if (rel !== '' || child.name.includes('.')) {
        below.push(walk(join(dir, child.name), rel === '' ? child.name : `${rel}/${child.name}`));
      }
    }
    await Promise.all(below);
  };
  await walk(root, '');
  return found;
}

function moduleOfFolder(root: string, rel: string): string {
  try {
    return unescapePath(rel);
  } catch (err) {
    if (!isGodepotError(err)) throw err;
    throw new InvalidContentError(`${join(root, rel)}/@v: ${rel} is not an escaped module path (${err.message})`, { cause: err });
  }
}

/** The version a file of an `@v` folder is for, when it is a `.mod` or `.zip` as `suffix` says; null for anything else. */
function versionOfFile(name: string, suffix: '.mod' | '.zip'): string | null {
  if (!name.endsWith(suffix)) return null;
  try {
    return unescapeVersion(name.slice(0, -suffix.length));
  } catch (err) {
    if (err instanceof InvalidVersionError) return null;
    throw err;
  }
}

async function readZipHash(file: string): Promise<string> {
  const text = (await readFile(file, 'utf8')).trim();
  if (!H1.test(text)) throw new InvalidContentError(`${file}: not an h1: hash`);
  return text;
}

/** The h1 of a module zip on disk; InvalidContentError naming the file when it is not a readable zip. */
export async function hashZipFile(file: string): Promise<string> {
  try {
    return await hashZip(file);
  } catch (err) {
    if (!isGodepotError(err)) throw err;
    throw new InvalidContentError(`${file}: ${err.message}`, { cause: err });
  }
}

// The h1 of a zip computed from its files, held to the .ziphash beside it when there is one.
async function zipEntryHash(zipFile: string, hasZipHash: boolean): Promise<string> {
  const actual = await hashZipFile(zipFile);
  if (!hasZipHash) return actual;
  const recorded = await readZipHash(`${zipFile}hash`);
  if (actual !== recorded) {
    throw new InvalidContentError(`${zipFile}: the zip hashes to ${actual} but ${zipFile}hash says ${recorded}`);
  }
  return actual;
}

/**
 * The module set of a tree in the module cache download layout: for each `<escaped path>/@v/<version>.mod`
 * the h1 of that go.mod, and for each `.zip` the h1 of its files (from the `.ziphash` beside it when there
 * is one). `.info`, `list`, lock and temporary files do not count. Null when `root` holds no `@v` folder
 * at all. Throws InvalidContentError for a folder or file that cannot be what its name says.
 */
export async function readModuleTree(root: string, options: ModuleTreeOptions = {}): Promise<ModuleSet | null> {
  const folders = await findVersionFolders(root);
  if (folders.length === 0) return null;
  const rehash = options.rehash === true;
  const entries: ModuleSetEntry[] = [];
  const toHash: Array<{ path: string; version: string; file: string; hasZipHash: boolean }> = [];
  await eachConcurrently(folders, FOLDER_CONCURRENCY, async (folder) => {
    const files: Dirent[] = await readdir(folder.dir, { withFileTypes: true });
    const names = new Set(files.filter((f) => f.isFile()).map((f) => f.name));
    for (const name of names) {
      const modVersion = versionOfFile(name, '.mod');
      if (modVersion !== null) {
        const hash = hashGoMod(await readFile(join(folder.dir, name)));
        entries.push({ path: folder.modulePath, version: modVersion, file: 'go.mod', hash });
      }
      const zipVersion = versionOfFile(name, '.zip');
      if (zipVersion === null) continue;
      const zip = { path: folder.modulePath, version: zipVersion, file: join(folder.dir, name), hasZipHash: names.has(`${name}hash`) };
      if (zip.hasZipHash && !rehash) entries.push({ path: zip.path, version: zip.version, file: 'zip', hash: await readZipHash(`${zip.file}hash`) });
      else toHash.push(zip);
    }
  });
  await eachConcurrently(toHash, ZIP_CONCURRENCY, async (zip) => {
    entries.push({ path: zip.path, version: zip.version, file: 'zip', hash: await zipEntryHash(zip.file, zip.hasZipHash) });
  });
  return new ModuleSet(entries);
}
