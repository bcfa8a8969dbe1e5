// What a removed version's content was: its zip's and go.mod's hashes, kept after its files are gone,
// so that a removed version can never come back with other content (`godepot publish` refuses it, as
// it refuses changing a version still stored). Versions stay immutable even across a removal.
import { hashGoMod } from '../module/hash.js';
import { storageKey } from '../protocol/keys.js';
import { readStored } from '../storage/read-stored.js';
import type { Storage } from '../storage/storage.js';
import { readJsonRecord, recordsPrefix, versionRecordKey } from './records.js';

/** The prefix of the records of removed versions: `godepot/removed/<escaped path>/@v/<escaped version>`. */
export const removedPrefix = `${recordsPrefix}/removed`;

/** The hashes a removed version had; either may be unknown (go stores only the `.mod` of some versions). */
export interface RemovedHashes {
  /** The zip's `h1:`, or null when no zip was stored. */
  h1: string | null;
  /** The go.mod's `h1:`, or null when no `.mod` was stored. */
  goModH1: string | null;
  /** When it was (last) removed, RFC 3339. */
  removed: string;
}

function removedKey(modulePath: string, version: string): string {
  return versionRecordKey(removedPrefix, modulePath, version);
}

/** The hashes of `modulePath@version` as it was when removed, or null when it never was (or the record is unreadable). */
export async function readRemovedHashes(storage: Storage, modulePath: string, version: string): Promise<RemovedHashes | null> {
  const record = await readJsonRecord(storage, removedKey(modulePath, version));
  if (record === null) return null;
  const hash = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return { h1: hash(record.h1), goModH1: hash(record.goModH1), removed: typeof record.removed === 'string' ? record.removed : '' };
}

/**
 * Records the hashes of the stored zip (its `.ziphash`) and `.mod` of `modulePath@version`, before they
 * are removed; a hash recorded by an earlier removal is kept where the files no longer tell one.
 * `goMod: false` leaves the `.mod` out (one that is damaged does not tell the version's hash).
 */
export async function keepRemovedHashes(storage: Storage, modulePath: string, version: string, now: Date, options: { goMod?: boolean } = {}): Promise<void> {
  const [ziphash, mod, earlier] = await Promise.all([
    readStored(storage, storageKey(modulePath, 'ziphash', version)),
    options.goMod === false ? null : readStored(storage, storageKey(modulePath, 'mod', version)),
    readRemovedHashes(storage, modulePath, version),
  ]);
  const h1 = ziphash?.toString('utf8').trim() || earlier?.h1 || null;
  const goModH1 = (mod === null ? null : hashGoMod(mod)) ?? earlier?.goModH1 ?? null;
  if (h1 === null && goModH1 === null) return;
  const record: RemovedHashes = { h1, goModH1, removed: now.toISOString() };
  await storage.put(removedKey(modulePath, version), Buffer.from(JSON.stringify(record)));
}
