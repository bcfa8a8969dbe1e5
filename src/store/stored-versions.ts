// The store seen as module versions: what `storage ls`, `storage du`, retention and quotas work on.
import { compare } from '../module/semver.js';
import type { Storage } from '../storage/storage.js';
import { readVersionRecord } from './catalog.js';
import { downloadedKey, readDownloadRecord } from './download-times.js';
import { countedFileOf, unescapedVersion, type CountedFile } from './records.js';

/** One module version held in storage. */
export interface StoredVersion {
  /** Unescaped module path. */
  path: string;
  /** Unescaped canonical version. */
  version: string;
  /** Which of `.info`, `.mod` and `.zip` are held (go stores only the `.mod` of a module it does not build). */
  files: CountedFile[];
  /** Bytes of those files. */
  bytes: number;
  /** When its first file was stored. */
  stored: Date;
  /** When any of its files was last served, as recorded; null when never since recording began. */
  lastDownloaded: Date | null;
  /** Where it came from, as recorded when it was catalogued (see catalog.ts); null when it was not. */
  origin: string | null;
}

// Stats and record reads in flight at once while walking.
const walkConcurrency = 16;

/**
 * Every module version `storage` holds whose module path `include` accepts, sorted by path then by
 * semantic version. Costs a listing, a stat per file and two record reads per version.
 */
export async function listStoredVersions(storage: Storage, include: (modulePath: string) => boolean = () => true): Promise<StoredVersion[]> {
  const byVersion = new Map<string, { path: string; version: string; keys: Map<CountedFile, string> }>();
  for (const key of await storage.list('')) {
    const counted = countedFileOf(key);
    if (counted === null) continue;
    const id = `${counted.module}@${counted.version}`;
    let entry = byVersion.get(id);
    if (entry === undefined) {
      const names = unescapedVersion(counted.module, counted.version);
      if (names === null || !include(names.path)) continue;
      byVersion.set(id, (entry = { ...names, keys: new Map() }));
    }
    entry.keys.set(counted.file, key);
  }
  const entries = [...byVersion.values()];
  const versions: (StoredVersion | null)[] = new Array(entries.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const i = next++;
      versions[i] = await describe(storage, entries[i]!);
    }
  };
  await Promise.all(Array.from({ length: walkConcurrency }, worker));
  return versions.filter((v): v is StoredVersion => v !== null).sort(byPathThenVersion);
}

/** Orders versions by module path, then by semantic version within a module. */
export function byPathThenVersion(a: { path: string; version: string }, b: { path: string; version: string }): number {
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return compare(a.version, b.version);
}

async function describe(storage: Storage, entry: { path: string; version: string; keys: Map<CountedFile, string> }): Promise<StoredVersion | null> {
  const files: CountedFile[] = [];
  let bytes = 0;
  let stored: Date | null = null;
  for (const file of ['info', 'mod', 'zip'] as const) {
    const key = entry.keys.get(file);
    if (key === undefined) continue;
    const object = await storage.stat(key);
    if (object === null) continue; // Removed since the listing.
    files.push(file);
    bytes += object.size;
    if (stored === null || object.modified < stored) stored = object.modified;
  }
  if (stored === null) return null;
  const [lastDownloaded, record] = await Promise.all([readDownloadRecord(storage, downloadedKey(entry.path, entry.version)), readVersionRecord(storage, entry.path, entry.version)]);
  return { path: entry.path, version: entry.version, files, bytes, stored, lastDownloaded, origin: record?.origin ?? null };
}
