// The check of one stored module version: its files read again and held to what godepot checked before
// storing them. The zip to go's zip rules and to its `h1:` (the `.ziphash` beside it and the checksum
// records godepot holds), the `.mod` to the zip's go.mod and to the records, the `.info` to the version
// it is stored for, and the files an interrupted commit leaves out (version-files.ts commits the zip,
// its `.ziphash`, the `.mod`, then the `.info`).
import { InvalidContentError } from '../errors.js';
import { hashGoMod } from '../module/hash.js';
import { ZipError } from '../module/zip.js';
import { storageKey, type VersionFile } from '../protocol/keys.js';
import { inspectZip, modProblem, readInfo, type InspectedZip } from '../depot/verify.js';
import { readStored } from '../storage/read-stored.js';
import type { Storage } from '../storage/storage.js';
import type { ChecksumRecords, RecordedHashes } from './checksum-records.js';

/** A storage whose objects are files, read in place where a check needs a whole file at random (DiskStorage). */
export interface CheckedStorage extends Storage {
  fileOf(key: string): string;
}

/** What a problem is about: a version's zip (with its `.ziphash`), `.mod` or `.info`, a module's `list` or `@latest`, or a leftover of an unfinished write. */
export type CheckedFile = 'zip' | 'mod' | 'info' | 'list' | 'latest' | 'leftover';

/** One problem found in storage. */
export interface Problem {
  /** The module the objects belong to; null for a leftover. */
  module: string | null;
  /** The version, for a version's files; null for a module's `list` and `@latest`, and for leftovers. */
  version: string | null;
  file: CheckedFile;
  /** The objects carrying the problem, which a repair takes out: storage keys (a leftover: its file). None for a missing file. */
  objects: string[];
  /** What is wrong, naming the file first: `zip: checksum error in file …`, `.mod: missing beside its zip`. */
  problem: string;
}

/** The `h1:` hashes a copy of a version fetched again must have: those of the copy this store served, where known. */
export interface ExpectedHashes {
  zip?: string;
  mod?: string;
}

/** What the check of one version found. */
export interface VersionCheck {
  problems: Problem[];
  expected: ExpectedHashes;
  /** Objects read, and their bytes. */
  objects: number;
  bytes: number;
}

const H1 = /^h1:[A-Za-z0-9+/]{43}=$/;

/**
 * Reads every stored file of `modulePath@version` (a version the depot stores) again and reports what
 * is wrong with it. The expected hashes are the checksum records', else the zip's when it is whole and
 * agrees with its `.ziphash` (its go.mod's for the `.mod`), else the `.ziphash` of a zip that is not
 * whole. Errors reading storage (other than a file that cannot be read, which is a problem) are thrown.
 */
export async function checkVersion(storage: CheckedStorage, records: ChecksumRecords, modulePath: string, version: string): Promise<VersionCheck> {
  const key = (file: VersionFile): string => storageKey(modulePath, file, version);
  const problems: Problem[] = [];
  const add = (file: CheckedFile, objects: Array<string | null>, problem: string): void => {
    problems.push({ module: modulePath, version, file, objects: objects.filter((o): o is string => o !== null), problem });
  };
  const [zipObject, ziphash, mod, info, recorded] = await Promise.all([
    storage.stat(key('zip')),
    readStored(storage, key('ziphash')),
    readStored(storage, key('mod')),
    readStored(storage, key('info')),
    records.of(modulePath, version),
  ]);
  const zipKeys = [zipObject === null ? null : key('zip'), ziphash === null ? null : key('ziphash')];
  const storedH1 = ziphash === null ? null : ziphash.toString('utf8').trim();

  let zip: InspectedZip | null = null;
  if (zipObject !== null) {
    try {
      zip = await inspectZip(modulePath, version, storage.fileOf(key('zip')));
    } catch (err) {
      const reason = zipFailure(err);
      if (reason === null) throw err;
      add('zip', zipKeys, `zip: ${reason}`);
    }
    if (storedH1 === null) add('zip', zipKeys, 'zip: stored without its .ziphash, by a write that never finished');
    else if (!H1.test(storedH1)) add('zip', zipKeys, `.ziphash: holds ${JSON.stringify(storedH1.slice(0, 60))}, not an h1: hash`);
    else if (zip !== null && zip.h1 !== storedH1) add('zip', zipKeys, `zip: hashes to ${zip.h1}, but its .ziphash says ${storedH1}`);
    for (const record of recorded) {
      if (zip !== null && record.zip !== undefined && record.zip !== zip.h1) add('zip', zipKeys, `zip: hashes to ${zip.h1}, but checksum database ${record.database} records ${record.zip}`);
    }
  } else if (ziphash !== null) {
    add('zip', zipKeys, '.ziphash: stored without its zip');
  }

  if (mod !== null) {
    const unusable = modProblem(mod);
    const h1 = hashGoMod(mod);
    if (unusable !== null) add('mod', [key('mod')], `.mod ${unusable}`);
    else if (zip !== null && !mod.equals(zip.goMod)) add('mod', [key('mod')], `.mod: differs from the go.mod in its zip (${h1}; the zip's is ${hashGoMod(zip.goMod)})`);
    for (const record of recorded) {
      if (record.mod !== undefined && record.mod !== h1) add('mod', [key('mod')], `.mod: hashes to ${h1}, but checksum database ${record.database} records ${record.mod}`);
    }
  } else if (zipObject !== null) {
    add('mod', [], '.mod: missing beside its zip');
  }

  if (info !== null) {
    const read = readInfo(modulePath, info);
    if ('problem' in read) add('info', [key('info')], `.info ${read.problem}`);
    else if (read.version !== version) add('info', [key('info')], `.info: names version ${read.version}`);
  } else if (zipObject !== null) {
    add('info', [], '.info: missing beside its zip, left out by a write that never finished');
  }

  const held = (file: keyof RecordedHashes & ('zip' | 'mod')): string | undefined => recorded.find((record) => record[file] !== undefined)?.[file];
  const zipTrusted = zip !== null && (storedH1 === null || zip.h1 === storedH1) && recorded.every((record) => record.zip === undefined || record.zip === zip.h1);
  const expected: ExpectedHashes = {};
  const expectedZip = held('zip') ?? (zipTrusted ? zip!.h1 : zip === null && storedH1 !== null && H1.test(storedH1) ? storedH1 : undefined);
  const expectedMod = held('mod') ?? (zipTrusted ? hashGoMod(zip!.goMod) : undefined);
  if (expectedZip !== undefined) expected.zip = expectedZip;
  if (expectedMod !== undefined) expected.mod = expectedMod;
  const small = [ziphash, mod, info].filter((body): body is Buffer => body !== null);
  return {
    problems,
    expected,
    objects: small.length + (zipObject === null ? 0 : 1),
    bytes: small.reduce((sum, body) => sum + body.length, zipObject?.size ?? 0),
  };
}

/** Why a stored zip failed inspectZip (go's zip rules, or a file that cannot be read), or null for any other failure. */
function zipFailure(err: unknown): string | null {
  // A ZipError's message starts with `zip: ` already, as go's do.
  if (err instanceof InvalidContentError && err.cause instanceof ZipError) return err.cause.message.replace(/^zip: /, '');
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `cannot be read: ${(err as Error).message}`;
  return null;
}
