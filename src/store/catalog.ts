// The catalog of what the store holds, in the order it was stored: what `/index` answers, as
// index.golang.org and Athens do, so that another godepot (`mirror --from`) follows this one. Each
// version stored gets one entry, a small record under `godepot/catalog/<day>/` named after its time, and
// a version record (`godepot/stored/…`) naming that entry and the origin it came from. Reading the
// catalog from a time lists the folders of that day and the days after, and reads only the entries it
// answers: it costs the lines asked for (and the names of one day's entries), never a walk of the store.
// One process writes entries at a time (the catalog is told of every worker's writes by the primary), so
// their times follow the order of storing.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { readStored } from '../storage/read-stored.js';
import type { Storage } from '../storage/storage.js';
import type { StorageWatcher } from '../storage/watched-storage.js';
import { readJsonRecord, recordsPrefix, storedVersionOf, stringFields, versionRecordKey } from './records.js';

/** The prefix of the catalog's entries: `godepot/catalog/<YYYY-MM-DD>/<HHMMSSmmm>-<sequence>-<writer>`. */
export const catalogPrefix = `${recordsPrefix}/catalog`;
/** The prefix of the version records: `godepot/stored/<escaped path>/@v/<escaped version>`. */
export const versionRecordsPrefix = `${recordsPrefix}/stored`;
// The first day holding entries: where a reading from the beginning starts.
const firstDayKey = `${recordsPrefix}/catalog-first-day`;

/** Lines one answer holds at most, and by default, as index.golang.org answers. */
export const MAX_CATALOG_LIMIT = 2000;

/** One line of `/index`, under index.golang.org's names. */
export interface CatalogEntry {
  Path: string;
  Version: string;
  /** When the version was stored here, RFC 3339 in UTC with milliseconds. */
  Timestamp: string;
}

/** What godepot records of a stored version beside its files. */
export interface VersionRecord {
  /** When it was catalogued (its catalog entry's Timestamp). */
  time: string;
  /** Where it came from: `hosted`, `direct`, the upstream GOPROXY list, or the URL `mirror --from` followed. */
  origin: string;
  /** The key of its catalog entry. */
  entry: string;
}

/** The key of the record of `modulePath@version`. */
function storedRecordKey(modulePath: string, version: string): string {
  return versionRecordKey(versionRecordsPrefix, modulePath, version);
}

/** The record of `modulePath@version`, or null when there is none (or it is unreadable: counted as none). */
export async function readVersionRecord(storage: Storage, modulePath: string, version: string): Promise<VersionRecord | null> {
  return stringFields(await readJsonRecord(storage, storedRecordKey(modulePath, version)), ['time', 'origin', 'entry']);
}

/**
 * Removes the catalog entry and record of `modulePath@version` (removeVersion calls it): a removed
 * version is no longer listed, and gets a new entry when it is stored again.
 */
export async function forgetCatalogued(storage: Storage, modulePath: string, version: string): Promise<void> {
  const record = await readVersionRecord(storage, modulePath, version);
  if (record !== null && record.entry.startsWith(`${catalogPrefix}/`)) await storage.delete(record.entry);
  await storage.delete(storedRecordKey(modulePath, version));
}

// Versions this process catalogued, remembered so that a version's second and third file cost nothing;
// forgotten all at once past this many (a stat each then tells again).
const NOTED_LIMIT = 100_000;
// Catalog entries read at once while answering.
const readConcurrency = 32;

export interface CatalogOptions {
  /** The storage whose versions are catalogued; written directly (not through the watched storage). */
  storage: Storage;
  /** The origin recorded for a version of `modulePath` stored now. */
  originOf: (modulePath: string) => string;
  logger: Logger;
  now?: () => Date;
}

/**
 * Catalogues the versions of a storage as they are stored: told of each stored file (a StorageWatcher),
 * it writes an entry and a version record for each version not catalogued yet, one at a time, in
 * order, behind the writes (a write never waits for it). catchUp() catalogues what was stored without
 * it (a store older than the catalog, or filled by another command).
 */
export class Catalog implements StorageWatcher {
  private queue: Promise<void> = Promise.resolve();
  private readonly noted = new Set<string>();
  private readonly now: () => Date;
  // Entry names: a writer's own tag, so that two processes writing in the same millisecond never
  // overwrite each other, and a sequence, so that one writer's entries keep their order.
  private readonly writer = randomBytes(4).toString('hex');
  private sequence = 0;
  private lastTime = 0;
  private firstDay: string | null = null;

  constructor(private readonly options: CatalogOptions) {
    this.now = options.now ?? (() => new Date());
  }

  stored(key: string): void {
    const version = this.versionOf(key);
    if (version === null || this.noted.has(version.id)) return;
    if (this.noted.size >= NOTED_LIMIT) this.noted.clear();
    this.noted.add(version.id);
    // Timed when told, written in turn.
    const time = this.now();
    this.enqueue(async () => {
      try {
        await this.add(version.path, version.version, this.options.originOf(version.path), time);
      } catch (err) {
        // Told again by its next stored file.
        this.noted.delete(version.id);
        throw err;
      }
    });
  }

  removed(key: string): void {
    const version = this.versionOf(key);
    if (version !== null) this.noted.delete(version.id);
  }

  /**
   * Catalogues every stored version that has no record. In a store never catalogued before, each at the
   * time its first file was stored (so the catalog starts in the order the store was filled); else now,
   * as it is found (a follower that read past its stored time would otherwise never see it). `listing`:
   * every key of the storage, when the caller listed it for others too.
   */
  catchUp(listing?: Promise<readonly string[]>): Promise<void> {
    return this.enqueue(() => this.backfill(listing ?? this.options.storage.list('')));
  }

  /** Resolves once everything told so far is catalogued (or failed to be, logged). */
  settled(): Promise<void> {
    return this.queue;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    // An operational failure (storage unwritable or full): its message says what, a stack would not.
    this.queue = this.queue.then(task).catch((err: unknown) => this.options.logger.warn({ reason: (err as Error).message }, 'catalog not written; the version is catalogued at the next start'));
    return this.queue;
  }

  private versionOf(key: string): { id: string; path: string; version: string } | null {
    const names = storedVersionOf(key);
    return names === null ? null : { id: `${names.path}@${names.version}`, ...names };
  }

  /** Writes the entry and record of a version that has no record. */
  private async add(modulePath: string, version: string, origin: string, time: Date | null): Promise<void> {
    const { storage } = this.options;
    const recordKey = storedRecordKey(modulePath, version);
    if ((await storage.stat(recordKey)) !== null) return;
    const at = this.clock(time ?? this.now());
    const timestamp = at.toISOString();
    const day = timestamp.slice(0, 10);
    const name = `${timestamp.slice(11, 23).replace(/[:.]/g, '')}-${String(++this.sequence).padStart(9, '0')}-${this.writer}`;
    const entry = `${catalogPrefix}/${day}/${name}`;
    const line: CatalogEntry = { Path: modulePath, Version: version, Timestamp: timestamp };
    await this.lowerFirstDay(day);
    await storage.put(entry, Buffer.from(`${JSON.stringify(line)}\n`));
    const record: VersionRecord = { time: timestamp, origin, entry };
    await storage.put(recordKey, Buffer.from(JSON.stringify(record)));
  }

  // Later than the last entry, by a millisecond at least: a clock set back must not file a new entry
  // before what a follower has already read, and no two entries of one writer share a Timestamp, so
  // that a follower reading `since` the last one it saw always moves on.
  private clock(at: Date): Date {
    this.lastTime = Math.max(at.getTime(), this.lastTime + 1);
    return new Date(this.lastTime);
  }

  // The first day only ever moves back, so a day after one known is not read again; before a change it
  // is read again, as another process (mirror --from) may have moved it meanwhile.
  private async lowerFirstDay(day: string): Promise<void> {
    if (this.firstDay !== null && day >= this.firstDay) return;
    const first = await readFirstDay(this.options.storage);
    if (first === null || day < first) await this.options.storage.put(firstDayKey, Buffer.from(day));
    this.firstDay = first === null || day < first ? day : first;
  }

  private async backfill(listing: Promise<readonly string[]>): Promise<void> {
    const { storage, originOf } = this.options;
    const fresh = (await readFirstDay(storage)) === null;
    const keys = await listing;
    const recorded = new Set(keys.filter((key) => key.startsWith(`${versionRecordsPrefix}/`)));
    const missing = new Map<string, { path: string; version: string; keys: string[] }>();
    for (const key of keys) {
      const version = this.versionOf(key);
      if (version === null || recorded.has(storedRecordKey(version.path, version.version))) continue;
      let entry = missing.get(version.id);
      if (entry === undefined) missing.set(version.id, (entry = { path: version.path, version: version.version, keys: [] }));
      entry.keys.push(key);
    }
    const found: Array<{ path: string; version: string; time: Date | null }> = [];
    for (const entry of missing.values()) {
      let time: Date | null = null;
      if (fresh) {
        for (const key of entry.keys) {
          const object = await storage.stat(key);
          if (object !== null && (time === null || object.modified < time)) time = object.modified;
        }
        if (time === null) continue;
      }
      found.push({ path: entry.path, version: entry.version, time });
    }
    found.sort((a, b) => (a.time?.getTime() ?? 0) - (b.time?.getTime() ?? 0));
    for (const version of found) {
      await this.add(version.path, version.version, originOf(version.path), version.time);
      this.noted.add(`${version.path}@${version.version}`);
    }
    if (found.length > 0) this.options.logger.info({ versions: found.length, atStoredTimes: fresh }, 'catalogued stored versions');
  }
}

async function readFirstDay(storage: Storage): Promise<string | null> {
  const body = await readStored(storage, firstDayKey);
  const day = body?.toString('utf8').trim() ?? '';
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? day : null;
}

/** What a reading of the catalog asks for. */
export interface CatalogQuery {
  /** The oldest Timestamp answered (inclusive, as index.golang.org's `since`); null: from the start. */
  since: Date | null;
  /** Most entries answered. */
  limit: number;
  /** Whether the reader may see `modulePath`'s entries; the others are skipped and not counted. */
  visible: (modulePath: string) => boolean;
  /** The present, past which no day is looked at (an hour of slack for clocks a little apart). */
  now?: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The catalog's entries from `since` on, oldest first, at most `limit` of the visible ones. */
export async function readCatalog(storage: Storage, query: CatalogQuery): Promise<CatalogEntry[]> {
  const first = await readFirstDay(storage);
  if (first === null) return [];
  const sinceTime = query.since?.getTime() ?? -Infinity;
  const sinceStamp = query.since?.toISOString() ?? '';
  const end = (query.now ?? new Date()).getTime() + 60 * 60 * 1000;
  let day = Math.max(Date.parse(`${first}T00:00:00Z`), Math.floor(Math.max(sinceTime, 0) / DAY_MS) * DAY_MS);
  const entries: CatalogEntry[] = [];
  for (; day <= end && entries.length < query.limit; day += DAY_MS) {
    const dayName = new Date(day).toISOString().slice(0, 10);
    let keys = await storage.list(`${catalogPrefix}/${dayName}`);
    // Names start with the time: the day's entries before `since` are skipped unread.
    if (sinceStamp.startsWith(dayName)) {
      const from = sinceStamp.slice(11, 23).replace(/[:.]/g, '');
      keys = keys.filter((key) => key.slice(key.lastIndexOf('/') + 1, key.lastIndexOf('/') + 10) >= from);
    }
    for (let i = 0; i < keys.length && entries.length < query.limit; i += readConcurrency) {
      const read = await Promise.all(keys.slice(i, i + readConcurrency).map((key) => readEntry(storage, key)));
      for (const entry of read) {
        if (entry === null || Date.parse(entry.Timestamp) < sinceTime || !query.visible(entry.Path)) continue;
        entries.push(entry);
        if (entries.length === query.limit) break;
      }
    }
  }
  return entries;
}

async function readEntry(storage: Storage, key: string): Promise<CatalogEntry | null> {
  return stringFields(await readJsonRecord(storage, key), ['Path', 'Version', 'Timestamp']);
}
