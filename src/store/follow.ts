// Following another server's catalog (`mirror --from`): read its `/index` from where the last run
// stopped, fetch each version listed since, and remember where this run stopped, in a record of the
// storage being filled, so that the next run fetches only what is new.
import { createHash } from 'node:crypto';
import { GoneError, InvalidContentError, InvalidRequestError, NotFoundError, UpstreamError } from '../errors.js';
import { InvalidPathError } from '../module/path.js';
import { InvalidVersionError } from '../module/version.js';
import type { UpstreamClient } from '../http/upstream-client.js';
import type { Storage } from '../storage/storage.js';
import type { Progress } from '../telemetry/progress.js';
import { MAX_CATALOG_LIMIT, type CatalogEntry } from './catalog.js';
import { readJsonRecord, recordsPrefix } from './records.js';

/** Where a follower stopped: the Timestamp of the last entry it took, and the entries it took at that Timestamp. */
export interface FollowCursor {
  since: string | null;
  seen: string[];
}

/** Pages of a catalog, as `/index?since=&limit=` answers them. */
export type CatalogPages = (since: string | null, limit: number) => Promise<CatalogEntry[]>;

/** The `/index` of the server `client` reaches: index.golang.org's lines, or Athens's (`Module` for `Path`). */
export function catalogPages(client: UpstreamClient): CatalogPages {
  return async (since, limit) => {
    const query = new URLSearchParams({ limit: String(limit), ...(since === null ? {} : { since }) });
    const body = await client.getBytes(`index?${query}`, 'list');
    return body
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        // Athens names the module path `Module`.
        let entry: Partial<CatalogEntry> & { Module?: unknown };
        try {
          entry = JSON.parse(line) as Partial<CatalogEntry> & { Module?: unknown };
        } catch (err) {
          throw new InvalidContentError(`${client.name}/index: a line that is not JSON: ${JSON.stringify(line.slice(0, 200))}`, { cause: err });
        }
        const path = entry.Path ?? entry.Module;
        if (typeof path !== 'string' || typeof entry.Version !== 'string' || typeof entry.Timestamp !== 'string' || Number.isNaN(Date.parse(entry.Timestamp))) {
          throw new InvalidContentError(`${client.name}/index: want {"Path","Version","Timestamp"} on every line, not ${JSON.stringify(line.slice(0, 200))}`);
        }
        return { Path: path, Version: entry.Version, Timestamp: entry.Timestamp };
      });
  };
}

/** What fetching one listed version did: fetched something, or found it all stored already. */
export type FetchOutcome = 'fetched' | 'present';

export interface FollowOptions {
  /** The storage being filled, which keeps the cursor. */
  storage: Storage;
  /** The followed server's URL, without credentials: what the cursor is kept under. */
  from: string;
  pages: CatalogPages;
  /**
   * Fetches the version's files into the storage. NotFoundError or GoneError (the server no longer has
   * it) and the errors of a path or version that names no module version skip the entry for good.
   */
  fetch: (entry: CatalogEntry) => Promise<FetchOutcome>;
  concurrency: number;
  progress: Progress;
  /** Entries asked per page; default (and at most) MAX_CATALOG_LIMIT. */
  pageSize?: number;
}

/** What a run did. */
export interface FollowReport {
  /** Entries new to this follower. */
  listed: number;
  fetched: number;
  /** Listed, but not taken: no longer on the server, or not a module version at all; with why. */
  skipped: Array<{ module: string; reason: string }>;
  /** Those that failed; the cursor stays before the first of them, so the next run tries them again. */
  failures: Array<{ module: string; error: unknown }>;
}

/**
 * Reads the catalog from the stored cursor on, page by page, fetching each new entry (`concurrency` at
 * a time) and storing the cursor after each page, past what was taken. A failure does not stop the
 * page's other fetches; the run stops after that page, with the cursor before the failed entry.
 */
export async function followCatalog(options: FollowOptions): Promise<FollowReport> {
  const { storage, from, pages, progress } = options;
  const pageSize = Math.min(options.pageSize ?? MAX_CATALOG_LIMIT, MAX_CATALOG_LIMIT);
  const key = cursorKey(from);
  let cursor = await readCursor(storage, key);
  const report: FollowReport = { listed: 0, fetched: 0, skipped: [], failures: [] };
  for (;;) {
    const page = await pages(cursor.since, pageSize);
    const seen = new Set(cursor.seen);
    const fresh = page.filter((entry) => !(entry.Timestamp === cursor.since && seen.has(idOf(entry))));
    if (fresh.length === 0) {
      // A full page of entries already taken: more than a page share one Timestamp, and asking again
      // from it would answer the same page for ever.
      if (page.length === pageSize) throw new UpstreamError(`${from}/index: more than ${pageSize} entries at ${cursor.since}; cannot read past them`);
      break;
    }
    report.listed += fresh.length;
    progress.setTotal(report.listed);
    const outcomes = await fetchAll(fresh, options);
    const failed = outcomes.findIndex((outcome) => outcome instanceof Failure);
    outcomes.forEach((outcome, i) => {
      const id = idOf(fresh[i]!);
      if (outcome === 'fetched') report.fetched++;
      else if (outcome instanceof Skipped) report.skipped.push({ module: id, reason: outcome.reason });
      else if (outcome instanceof Failure) report.failures.push({ module: id, error: outcome.error });
    });
    const taken = failed < 0 ? fresh : fresh.slice(0, failed);
    if (taken.length > 0) {
      const since = taken.at(-1)!.Timestamp;
      const atSince = taken.filter((entry) => entry.Timestamp === since).map(idOf);
      cursor = { since, seen: [...new Set([...(since === cursor.since ? cursor.seen : []), ...atSince])] };
      await storage.put(key, Buffer.from(JSON.stringify({ from, ...cursor })));
    }
    if (failed >= 0 || page.length < pageSize) break;
  }
  return report;
}

class Failure {
  constructor(readonly error: unknown) {}
}

class Skipped {
  constructor(readonly reason: string) {}
}

// What asking again would only answer again: the server no longer has the version, or it names none.
function isFinal(err: unknown): boolean {
  return err instanceof NotFoundError || err instanceof GoneError || err instanceof InvalidRequestError || err instanceof InvalidPathError || err instanceof InvalidVersionError;
}

/** Each entry's outcome, in the page's order; failures caught, so every entry is tried. */
async function fetchAll(entries: readonly CatalogEntry[], options: FollowOptions): Promise<Array<FetchOutcome | Skipped | Failure>> {
  const outcomes: Array<FetchOutcome | Skipped | Failure> = new Array(entries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const i = next++;
      try {
        outcomes[i] = await options.fetch(entries[i]!);
      } catch (err) {
        outcomes[i] = isFinal(err) ? new Skipped((err as Error).message) : new Failure(err);
      }
      options.progress.moduleDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, entries.length) }, worker));
  return outcomes;
}

function idOf(entry: CatalogEntry): string {
  return `${entry.Path}@${entry.Version}`;
}

/** The record of the cursor of a follower of `from`: `godepot/following/<SHA-256 of the URL>`. */
function cursorKey(from: string): string {
  return `${recordsPrefix}/following/${createHash('sha256').update(from).digest('hex')}`;
}

async function readCursor(storage: Storage, key: string): Promise<FollowCursor> {
  const cursor = await readJsonRecord(storage, key);
  if (typeof cursor?.since === 'string' && Array.isArray(cursor.seen)) return { since: cursor.since, seen: cursor.seen.filter((id): id is string => typeof id === 'string') };
  // None, or a torn record: started again from the beginning, which fetches nothing already stored.
  return { since: null, seen: [] };
}
