// Where godepot keeps its own records about stored modules, beside them in the same storage. A module
// path's first element always holds a dot, so no module's files can live under a top-level `godepot/`
// (as none can under `sumdb/`): the records travel with the storage (a copied folder, a future bucket)
// and are shared by every process serving it, with no second database to keep in step.
import { escapePath, escapeVersion, InvalidPathError, unescapePath, unescapeVersion } from '../module/path.js';
import { InvalidVersionError } from '../module/version.js';
import { readStored } from '../storage/read-stored.js';
import type { Storage } from '../storage/storage.js';

/** The top-level storage prefix of godepot's records. */
export const recordsPrefix = 'godepot';

/** The key of the record of `modulePath@version` among the records under `prefix`: `<prefix>/<escaped path>/@v/<escaped version>`. */
export function versionRecordKey(prefix: string, modulePath: string, version: string): string {
  return `${prefix}/${escapePath(modulePath)}/@v/${escapeVersion(version)}`;
}

/**
 * The JSON object a small record at `key` holds, or null when there is none, or when it is not a JSON
 * object (a write torn by a crash): a record that cannot be read counts as no record.
 */
export async function readJsonRecord(storage: Storage, key: string): Promise<Record<string, unknown> | null> {
  const body = await readStored(storage, key);
  if (body === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The string fields `names` of `record`, or null when one of them is missing or not a string. */
export function stringFields<N extends string>(record: Record<string, unknown> | null, names: readonly N[]): Record<N, string> | null {
  if (record === null) return null;
  const fields = {} as Record<N, string>;
  for (const name of names) {
    const value = record[name];
    if (typeof value !== 'string') return null;
    fields[name] = value;
  }
  return fields;
}

/** Whether `key` is one of godepot's records rather than a module's or the checksum database's file. */
export function isRecordKey(key: string): boolean {
  return key === recordsPrefix || key.startsWith(`${recordsPrefix}/`);
}

/** The three files that make a stored module version, as counted by the store's figures and retention. */
export type CountedFile = 'info' | 'mod' | 'zip';

/**
 * The escaped module path, escaped version and file of a key `<escaped path>/@v/<escaped version>.<info|mod|zip>`,
 * or null for any other key (a `.ziphash`, `list`, `@latest`, checksum-database files, godepot's records).
 * Nothing is unescaped: a caller that needs the module path unescapes it (and skips what does not decode).
 */
export function countedFileOf(key: string): { module: string; version: string; file: CountedFile } | null {
  if (isRecordKey(key)) return null;
  const at = key.lastIndexOf('/@v/');
  const dot = key.lastIndexOf('.');
  if (at <= 0 || dot <= at + 4) return null;
  const file = key.slice(dot + 1);
  if (file !== 'info' && file !== 'mod' && file !== 'zip') return null;
  const version = key.slice(at + 4, dot);
  if (version.includes('/')) return null;
  return { module: key.slice(0, at), version, file };
}

/** The module path and version of escaped names, or null when they do not decode (not a file godepot stored). */
export function unescapedVersion(escapedPath: string, escapedVersion: string): { path: string; version: string } | null {
  try {
    return { path: unescapePath(escapedPath), version: unescapeVersion(escapedVersion) };
  } catch (err) {
    if (err instanceof InvalidPathError || err instanceof InvalidVersionError) return null;
    throw err;
  }
}

/** The module version a key of its `.info`, `.mod` or `.zip` belongs to, or null for any other key. */
export function storedVersionOf(key: string): { path: string; version: string } | null {
  const counted = countedFileOf(key);
  return counted === null ? null : unescapedVersion(counted.module, counted.version);
}
