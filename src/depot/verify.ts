// The checks an origin's answer passes before the depot stores or serves it. They keep out of storage
// anything the go command would refuse or that would break a module for good once cached.
import { GodepotError, InvalidContentError } from '../errors.js';
import { autoQuote, parseGoModLax } from '../module/gomod.js';
import { matchPathMajor, splitPathVersion } from '../module/path.js';
import { isValid, sortVersions } from '../module/semver.js';
import { canonicalVersion, checkModule, isPseudoVersion } from '../module/version.js';
import { MAX_GO_MOD, ZipError } from '../module/zip.js';
import { checkModuleVersion, classifyZip, zipFileSizeError } from '../module/zipcheck.js';
import { hashOpenZip } from '../module/hash.js';
import { ZipReader } from '../module/zipreader.js';

// RFC 3339, which is what go's time.Time accepts from JSON.
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** True for a version the depot stores: canonical, and valid for the module path (a v2.x.x for a `/v2` path). */
export function isStorableVersion(modulePath: string, version: string): boolean {
  if (!isValid(version) || canonicalVersion(version) !== version) return false;
  try {
    checkModule(modulePath, version);
    return true;
  } catch (err) {
    if (err instanceof GodepotError) return false;
    throw err;
  }
}

/**
 * The `Version` of an `.info` (or `@latest`) body, or why it is not one the depot could store for
 * `modulePath`: it must be a JSON object whose `Version` is a version the depot could store and whose
 * `Time`, when present, is RFC 3339. The reason reads after the body's name: `.info is not JSON`.
 */
export function readInfo(modulePath: string, body: Buffer): { version: string } | { problem: string; version?: string } {
  let info: unknown;
  try {
    info = JSON.parse(body.toString('utf8'));
  } catch {
    return { problem: 'is not JSON' };
  }
  if (typeof info !== 'object' || info === null || Array.isArray(info)) return { problem: 'is not a JSON object' };
  const { Version: version, Time: time } = info as { Version?: unknown; Time?: unknown };
  if (typeof version !== 'string' || !isStorableVersion(modulePath, version)) return { problem: `names invalid version ${JSON.stringify(version)}` };
  if (time !== undefined && time !== null && (typeof time !== 'string' || !rfc3339.test(time))) return { problem: `has invalid Time ${JSON.stringify(time)}`, version };
  return { version };
}

/**
 * The `Version` of an `.info` (or `@latest`) body an origin sent (see readInfo), named `what` in the
 * InvalidContentError thrown when it is not one the depot could store.
 */
export function infoVersion(modulePath: string, body: Buffer, what: string): string {
  const read = readInfo(modulePath, body);
  if ('problem' in read) {
    throw new InvalidContentError(`${read.version === undefined ? modulePath : `${modulePath}@${read.version}`}: ${what} from origin ${read.problem}`);
  }
  return read.version;
}

/** Checks an `.info` body fetched for canonical `version`: it must describe exactly that version, as go requires. */
export function verifyInfo(modulePath: string, version: string, body: Buffer): void {
  const named = infoVersion(modulePath, body, '.info');
  if (named !== version) {
    throw new InvalidContentError(`${modulePath}@${version}: origin returned info for version ${named} instead of the requested version`);
  }
}

/** Why a `.mod` body is not one go could use (over go's size limit, or a go.mod go cannot parse), or null; read after the body's name: `.mod does not parse: …`. */
export function modProblem(body: Buffer): string | null {
  if (body.length > MAX_GO_MOD) return `is too large (${body.length} bytes; limit is ${MAX_GO_MOD})`;
  try {
    parseGoModLax('go.mod', body);
  } catch (err) {
    if (!(err instanceof GodepotError)) throw err;
    return `does not parse: ${err.message}`;
  }
  return null;
}

/** Checks a `.mod` body an origin sent (see modProblem); throws InvalidContentError. */
export function verifyMod(modulePath: string, version: string, body: Buffer): void {
  const problem = modProblem(body);
  if (problem !== null) throw new InvalidContentError(`${modulePath}@${version}: .mod from origin ${problem}`);
}

/**
 * The versions of an origin's list that belong in a `@v/list`: those that are canonical, tagged (not
 * pseudo) versions whose major matches the module path; sorted, unique.
 */
export function listedVersions(modulePath: string, listed: readonly string[]): string[] {
  const pathMajor = splitPathVersion(modulePath)?.pathMajor ?? '';
  const versions = new Set<string>();
  for (const version of listed) {
    if (!isValid(version) || canonicalVersion(version) !== version || isPseudoVersion(version)) continue;
    if (matchPathMajor(version, pathMajor)) versions.add(version);
  }
  return sortVersions([...versions]);
}

/** The `.mod` go serves for a module whose zip has no go.mod (go's modfetch.LegacyGoMod). */
export function legacyGoMod(modulePath: string): Buffer {
  return Buffer.from(`module ${autoQuote(modulePath)}\n`);
}

/** What inspectZip learns of a module zip that passed go's checks. */
export interface InspectedZip {
  /** The zip's `h1:` hash, as go.sum records it. */
  h1: string;
  /** Its root go.mod, or the one go makes up when it has none: the `.mod` that must be served beside it. */
  goMod: Buffer;
}

// A zip can hold millions of invalid entries; the reason given for refusing it names go's first ones.
const MAX_REPORTED_PROBLEMS = 100;

/**
 * Checks a module zip on disk before it is stored: go's module zip rules (checkZip: paths, sizes, no
 * `../`, one root go.mod) and every entry's data (sizes, CRC-32). Returns its `h1:` (go's HashZip) and
 * its go.mod. One opening of the zip and one read of each entry does all of it, within the process's
 * zip budget (checks wait for their turn; see ZipBudget). Throws InvalidContentError saying why (with
 * the ZipError as cause), listing at most the first 100 invalid files.
 */
export async function inspectZip(modulePath: string, version: string, zipFile: string): Promise<InspectedZip> {
  try {
    const checkedPath = checkModuleVersion(modulePath, version);
    const tooLarge = await zipFileSizeError(zipFile);
    if (tooLarge !== null) throw tooLarge;
    const reader = await ZipReader.open(zipFile);
    try {
      const { checked, goMod } = await classifyZip(reader, checkedPath, version, { listValid: false, maxProblems: MAX_REPORTED_PROBLEMS });
      if (checked.error !== null) throw checked.error;
      // Every name passed checkZip's rules, so none is stored twice.
      const { h1, kept } = await hashOpenZip(reader, goMod);
      return { h1, goMod: kept ?? legacyGoMod(modulePath) };
    } finally {
      await reader.close();
    }
  } catch (err) {
    if (err instanceof ZipError) throw zipRejected(modulePath, version, err.message, err);
    throw err;
  }
}

/** The refusal of a zip whose go.mod is not the `.mod` the origin serves for it. */
export function goModMismatch(modulePath: string, version: string): InvalidContentError {
  return zipRejected(modulePath, version, 'its go.mod differs from the .mod the origin serves');
}

function zipRejected(modulePath: string, version: string, reason: string, cause?: unknown): InvalidContentError {
  return new InvalidContentError(`${modulePath}@${version}: zip from origin rejected: ${reason}`, cause === undefined ? undefined : { cause });
}

/**
 * The go.mod of a module zip already checked (by inspectZip before it was stored): its root go.mod, or
 * the one go makes up when it has none.
 */
export async function zipGoMod(modulePath: string, version: string, zipFile: string): Promise<Buffer> {
  const reader = await ZipReader.open(zipFile);
  try {
    const wanted = Buffer.from(`${modulePath}@${version}/go.mod`);
    const dir = reader.directory;
    let entry = 0;
    while (entry < dir.count && !(dir.nameLength(entry) === wanted.length && dir.nameStartsWith(entry, wanted))) entry++;
    if (entry === dir.count) return legacyGoMod(modulePath);
    const chunks: Buffer[] = [];
    for await (const chunk of reader.read(entry)) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    await reader.close();
  }
}
