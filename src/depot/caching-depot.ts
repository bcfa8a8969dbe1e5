import { tmpdir } from 'node:os';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Verifier } from '../checksum/verifier.js';
import { GodepotError, InvalidRequestError } from '../errors.js';
import { checkPath, escapeVersion } from '../module/path.js';
import type { Origin } from '../origin/origin.js';
import type { Artifact } from '../protocol/artifact.js';
import { stagingFor } from '../storage/staging.js';
import type { Storage } from '../storage/storage.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Depot } from './depot.js';
import { Flight, type RunLease } from './flight.js';
import { meteredStorage } from './metered-storage.js';
import { ModuleListing } from './module-listing.js';
import { RememberedAnswers, type Route } from './remembered-answers.js';
import { VersionFiles } from './version-files.js';
import { infoVersion, isStorableVersion } from './verify.js';

/** What a CachingDepot is built from. */
export interface CachingDepotOptions {
  storage: Storage;
  origin: Origin;
  logger: Logger;
  metrics: Metrics;
  /** How long an origin's `@v/list` and `@latest` answers are used before the origin is asked again. */
  listTtlMs: number;
  /**
   * Where a fetched zip (up to 500 MiB) is kept while it is checked, when the storage cannot stage files
   * itself (DiskStorage stages them inside its root, so that storing the zip is a rename): a disk
   * folder, not a RAM file system. Created if missing. Default: the OS temp folder.
   */
  tempDir?: string;
  /** Bytes of `.info`/`.mod` bodies (and list answers) kept in memory. Default 64 MiB. */
  memoryBytes?: number;
  /** Checks the hashes of what the origin sent before anything of it is stored (the checksum database). */
  verifier?: Verifier;
  /**
   * Held around every fetch, when other processes serve the same storage (cluster workers: a
   * LeaseClient), so that one process fetches while the others wait and then find the result stored:
   * per module for `list`, `@latest` and queries, per version for its files.
   */
  lease?: RunLease;
}

type CacheResult = Artifact['cache'];

const JSON_TYPE = 'application/json';

/**
 * The depot in front of an origin (STYLE's depot), assembled from its parts: answers remembered in
 * memory (RememberedAnswers) make the hit path a map lookup; `list` and `@latest` are the origin's
 * answers while fresh, else storage's (ModuleListing); the files of canonical versions are fetched,
 * checked and committed by VersionFiles; a query other than a canonical version is resolved by the
 * origin every time and never stored under its name. Storage operations are counted (meteredStorage).
 * This class validates the request, routes it and counts its answer.
 */
export class CachingDepot implements Depot {
  private readonly answers: RememberedAnswers;
  private readonly listing: ModuleListing;
  private readonly versions: VersionFiles;
  private readonly origin: Origin;
  private readonly queries: Flight<Artifact>;
  private readonly metrics: Metrics;
  private readonly counters: Record<Route, Record<CacheResult, Counter.Internal>>;

  constructor(options: CachingDepotOptions) {
    const storage = meteredStorage(options.storage, options.metrics.storageErrors);
    this.answers = new RememberedAnswers(options.memoryBytes ?? 64 << 20);
    this.origin = options.origin;
    this.metrics = options.metrics;
    this.queries = new Flight(options.lease);
    this.listing = new ModuleListing({ storage, origin: options.origin, answers: this.answers, flight: this.queries, listTtlMs: options.listTtlMs, logger: options.logger });
    this.versions = new VersionFiles({
      storage,
      staging: stagingFor(storage, options.tempDir ?? tmpdir(), options.logger),
      origin: options.origin,
      answers: this.answers,
      flight: new Flight(options.lease === undefined ? undefined : perVersion(options.lease)),
      shared: options.lease !== undefined,
      verifier: options.verifier,
      logger: options.logger,
      listing: this.listing,
    });
    // Children made once: labels() costs a lookup by label values on every call.
    const results = (route: Route): Record<CacheResult, Counter.Internal> => ({
      hit: options.metrics.cache.labels({ route, result: 'hit' }),
      miss: options.metrics.cache.labels({ route, result: 'miss' }),
      stale: options.metrics.cache.labels({ route, result: 'stale' }),
    });
    this.counters = { list: results('list'), latest: results('latest'), info: results('info'), mod: results('mod'), zip: results('zip') };
  }

  async list(modulePath: string, signal?: AbortSignal): Promise<Artifact> {
    const remembered = this.remembered('list', modulePath, '');
    if (remembered !== undefined) return remembered;
    checkModulePath(modulePath);
    return this.answer('list', this.listing.list(modulePath, signal, this.onJoin('list')));
  }

  async latest(modulePath: string, signal?: AbortSignal): Promise<Artifact> {
    const remembered = this.remembered('latest', modulePath, '');
    if (remembered !== undefined) return remembered;
    checkModulePath(modulePath);
    return this.answer('latest', this.listing.latest(modulePath, signal, this.onJoin('latest')));
  }

  async info(modulePath: string, query: string, signal?: AbortSignal): Promise<Artifact> {
    const remembered = this.remembered('info', modulePath, query);
    if (remembered !== undefined) return remembered;
    checkModulePath(modulePath);
    checkQuery(modulePath, query);
    // Go asks `@v/v2.0.0.info` of a path without /v2 and expects `v2.0.0+incompatible`: a canonical
    // version that does not fit the path is a query too.
    if (!isStorableVersion(modulePath, query)) {
      return this.answer('info', this.queries.run(`query ${modulePath}@${query}`, () => this.resolveQuery(modulePath, query), { signal, onJoin: this.onJoin('info') }));
    }
    return this.answer('info', this.versions.info(modulePath, query, signal, this.onJoin('info')));
  }

  async mod(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    const remembered = this.remembered('mod', modulePath, version);
    if (remembered !== undefined) return remembered;
    checkModuleVersion(modulePath, version);
    return this.answer('mod', this.versions.mod(modulePath, version, signal, this.onJoin('mod')));
  }

  async zip(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    const remembered = this.remembered('zip', modulePath, version);
    if (remembered !== undefined) return remembered;
    checkModuleVersion(modulePath, version);
    return this.answer('zip', this.versions.zip(modulePath, version, signal, this.onJoin('zip')));
  }

  /**
   * A version was stored beside the depot (published into its storage): the module's `list` and
   * `@latest` are made afresh from the next request on, where remembered answers would leave the
   * version out until they expire.
   */
  versionStored(modulePath: string, version: string): void {
    this.listing.infoStored(modulePath, version);
    this.answers.delete('latest', modulePath, '');
  }

  /**
   * A version was removed from the storage beside the depot (retention): what is remembered of its
   * files goes, so that the next request finds it missing and fetches it again, and the module's `list`
   * and `@latest` are made afresh.
   */
  versionRemoved(modulePath: string, version: string): void {
    for (const route of ['info', 'mod', 'zip'] as const) this.answers.delete(route, modulePath, version);
    // Storage tells from now on whether it is listed.
    this.listing.infoStored(modulePath, version);
    this.answers.delete('latest', modulePath, '');
  }

  /**
   * Resolves once nothing the depot began is under way: every fetch, those whose callers stopped
   * waiting included, and the stores behind answers. Fetches ahead are the caller's.
   */
  async close(): Promise<void> {
    await Promise.all([this.queries.settled(), this.versions.close()]);
  }

  // The hit path: a map lookup, a clock read for mutable answers, a counter. Answers are only ever
  // remembered for validated inputs, so one found here needs no validation.
  private remembered(route: Route, modulePath: string, version: string): Artifact | undefined {
    const artifact = this.answers.get(route, modulePath, version);
    if (artifact !== undefined) this.counters[route][artifact.cache].inc();
    return artifact;
  }

  private async answer(route: Route, pending: Promise<Artifact>): Promise<Artifact> {
    const artifact = await pending;
    this.counters[route][artifact.cache].inc();
    return artifact;
  }

  private onJoin(kind: Route): () => void {
    return () => this.metrics.flightWaits.inc({ kind });
  }

  private async resolveQuery(modulePath: string, query: string): Promise<Artifact> {
    const body = await this.origin.query(modulePath, query);
    infoVersion(modulePath, body, `.info for query ${JSON.stringify(query)}`);
    return { contentType: JSON_TYPE, size: body.length, immutable: false, etag: null, cache: 'miss', body };
  }
}

/**
 * The lease of a version's file held on the version (a storage key less its extension): one process
 * fetches a version at a time, so that no other fetches a `.info` or `.mod` that a zip fetch elsewhere
 * is about to store.
 */
function perVersion(lease: RunLease): RunLease {
  return { hold: (key, fetch) => lease.hold(key.slice(0, key.lastIndexOf('.')), fetch) };
}

function checkModulePath(modulePath: string): void {
  try {
    checkPath(modulePath);
  } catch (err) {
    throw asInvalidRequest(err);
  }
}

// A query must at least be usable as a file name in the origin's URL, as go's proxy client requires.
function checkQuery(modulePath: string, query: string): void {
  try {
    escapeVersion(query);
  } catch (err) {
    throw asInvalidRequest(err, `${modulePath}@${query}: `);
  }
}

function checkModuleVersion(modulePath: string, version: string): void {
  checkModulePath(modulePath);
  if (!isStorableVersion(modulePath, version)) {
    throw new InvalidRequestError(`${modulePath}@${version}: not a canonical version of this module`);
  }
}

function asInvalidRequest(err: unknown, prefix = ''): unknown {
  if (!(err instanceof GodepotError)) return err;
  return new InvalidRequestError(prefix + err.message, { cause: err });
}
