// `list` and `@latest`: the origin's answers while fresh, merged with what storage holds, and what
// storage holds alone while the origin fails.
import type { Logger } from 'pino';
import { GoneError, NotFoundError } from '../errors.js';
import { prerelease, sortVersions } from '../module/semver.js';
import { isPseudoVersion } from '../module/version.js';
import type { Origin } from '../origin/origin.js';
import type { Artifact } from '../protocol/artifact.js';
import { storageKey, versionOfKey, versionsPrefix } from '../protocol/keys.js';
import { readStored } from '../storage/read-stored.js';
import type { Storage } from '../storage/storage.js';
import { ThrottledWarnings } from '../telemetry/throttled-warnings.js';
import { Flight } from './flight.js';
import { isOriginFailure } from './origin-failure.js';
import type { RememberedAnswers } from './remembered-answers.js';
import { infoVersion, isStorableVersion, listedVersions } from './verify.js';

/** What a ModuleListing is built from. */
export interface ModuleListingOptions {
  storage: Storage;
  origin: Origin;
  answers: RememberedAnswers;
  /** Runs each refresh once across the processes sharing the storage, when there are several. */
  flight: Flight<Artifact>;
  /** How long an origin's `@v/list` and `@latest` answers are used before the origin is asked again. */
  listTtlMs: number;
  logger: Logger;
}

type CacheResult = Artifact['cache'];

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=UTF-8';

/**
 * A module's `list` and `@latest`: the origin's answers at most listTtlMs old (kept in storage, so that
 * a restart within the TTL asks nothing), the list merged with the tagged versions storage holds; when
 * the origin fails (isOriginFailure), its last stored answers or, for `@latest`, the newest stored
 * version, answered as `stale` and logged. One refresh per module at a time (the flight).
 */
export class ModuleListing {
  /** Counts changes of the stored versions, so that a list made while one changed is not remembered. */
  private generation = 0;
  /** Versions whose `.info` was answered and is being stored behind the answer, by module: listed already. */
  private readonly storing = new Map<string, Set<string>>();
  /** One line per module a minute while its origin is down, not one per request answered stale. */
  private readonly staleWarnings: ThrottledWarnings;

  constructor(private readonly options: ModuleListingOptions) {
    this.staleWarnings = new ThrottledWarnings(options.logger);
  }

  list(modulePath: string, signal?: AbortSignal, onJoin?: () => void): Promise<Artifact> {
    return this.options.flight.run(`list ${modulePath}`, () => this.refreshList(modulePath), { signal, onJoin });
  }

  latest(modulePath: string, signal?: AbortSignal, onJoin?: () => void): Promise<Artifact> {
    return this.options.flight.run(`latest ${modulePath}`, () => this.refreshLatest(modulePath), { signal, onJoin });
  }

  /** A version's `.info` was answered and is being stored: it is listed from now on. */
  infoStoring(modulePath: string, version: string): void {
    let versions = this.storing.get(modulePath);
    if (versions === undefined) this.storing.set(modulePath, (versions = new Set()));
    versions.add(version);
    this.forget(modulePath);
  }

  /** A version's `.info` was stored, or failed to be: storage tells from now on whether it is listed. */
  infoStored(modulePath: string, version: string): void {
    const versions = this.storing.get(modulePath);
    if (versions?.delete(version) === true && versions.size === 0) this.storing.delete(modulePath);
    this.forget(modulePath);
  }

  // The remembered list goes, and one being made is not kept.
  private forget(modulePath: string): void {
    this.generation++;
    this.options.answers.delete('list', modulePath, '');
  }

  private async refreshList(modulePath: string): Promise<Artifact> {
    const generation = this.generation;
    const { versions: originVersions, cache, expires, err } = await this.originList(modulePath);
    const stored = await this.storedVersions(modulePath);
    if (originVersions === null && stored.length === 0) throw err;
    if (cache === 'stale') this.warnStale(modulePath, 'list', err);
    const versions = sortVersions([...new Set([...(originVersions ?? []), ...stored])]);
    const body = Buffer.from(versions.map((v) => `${v}\n`).join(''));
    const artifact: Artifact = { contentType: TEXT_TYPE, size: body.length, immutable: false, etag: null, cache, body };
    if (generation === this.generation) this.options.answers.set('list', modulePath, '', { ...artifact, cache: cache === 'miss' ? 'hit' : cache }, expires);
    return artifact;
  }

  /**
   * The origin's versions: its stored answer while fresh, else its answer now (stored for next time),
   * else, when it fails, its last stored answer. `versions` is null when none of these exists (or the
   * origin says the module does not exist) and `err` is why.
   */
  private async originList(modulePath: string): Promise<{ versions: string[] | null; cache: CacheResult; expires: number; err?: unknown }> {
    const { storage, origin, listTtlMs, logger } = this.options;
    const listKey = storageKey(modulePath, 'list');
    const parse = (body: Buffer): string[] => body.toString('utf8').split('\n').filter(Boolean);
    const fresh = await this.freshStored(listKey);
    if (fresh !== null) return { versions: parse(fresh.body), cache: 'hit', expires: fresh.expires };
    const expires = Date.now() + listTtlMs;
    let versions: string[];
    try {
      versions = listedVersions(modulePath, await origin.list(modulePath));
    } catch (err) {
      // Not found is an answer: only what storage holds is listed, so what was stored keeps building.
      if (err instanceof NotFoundError || err instanceof GoneError) return { versions: null, cache: 'miss', expires, err };
      if (!isOriginFailure(err)) throw err;
      const stale = await readStored(storage, listKey);
      return { versions: stale === null ? null : parse(stale), cache: 'stale', expires, err };
    }
    await storage.put(listKey, Buffer.from(versions.map((v) => `${v}\n`).join(''))).catch((err: unknown) => {
      logger.warn({ err, module: modulePath }, 'could not keep the list in storage');
    });
    return { versions, cache: 'miss', expires };
  }

  private async refreshLatest(modulePath: string): Promise<Artifact> {
    const { body: originBody, cache, expires, err } = await this.originLatest(modulePath);
    const body = originBody ?? (await this.newestStoredInfo(modulePath));
    if (body === null) throw err;
    if (cache === 'stale') this.warnStale(modulePath, '@latest', err);
    const artifact: Artifact = { contentType: JSON_TYPE, size: body.length, immutable: false, etag: null, cache, body };
    this.options.answers.set('latest', modulePath, '', { ...artifact, cache: cache === 'miss' ? 'hit' : cache }, expires);
    return artifact;
  }

  /** The origin's `@latest`, as originList() has its list: fresh stored answer, else the origin, else the last stored answer. */
  private async originLatest(modulePath: string): Promise<{ body: Buffer | null; cache: CacheResult; expires: number; err?: unknown }> {
    const { storage, origin, listTtlMs, logger } = this.options;
    const latestKey = storageKey(modulePath, 'latest');
    const fresh = await this.freshStored(latestKey);
    if (fresh !== null) return { body: fresh.body, cache: 'hit', expires: fresh.expires };
    const expires = Date.now() + listTtlMs;
    let body: Buffer;
    try {
      body = await origin.query(modulePath, 'latest');
      infoVersion(modulePath, body, '@latest');
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof GoneError) return { body: null, cache: 'miss', expires, err };
      if (!isOriginFailure(err)) throw err;
      return { body: await readStored(storage, latestKey), cache: 'stale', expires, err };
    }
    await storage.put(latestKey, body).catch((err: unknown) => {
      logger.warn({ err, module: modulePath }, 'could not keep @latest in storage');
    });
    return { body, cache: 'miss', expires };
  }

  // The origin's failure is known and says nothing new on each request: its first line is enough
  // (the request log and the breaker's own line say more), never a stack.
  private warnStale(modulePath: string, answer: 'list' | '@latest', err: unknown): void {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0];
    this.staleWarnings.warn(modulePath, { module: modulePath, answer, reason }, 'origin failing: answering from storage');
  }

  /** A stored list or @latest still within its time to live, with the moment it expires. */
  private async freshStored(key: string): Promise<{ body: Buffer; expires: number } | null> {
    const stat = await this.options.storage.stat(key);
    if (stat === null) return null;
    const expires = stat.modified.getTime() + this.options.listTtlMs;
    if (expires <= Date.now()) return null;
    const body = await readStored(this.options.storage, key);
    return body === null ? null : { body, expires };
  }

  /** Tagged versions whose `.info` is stored or being stored. */
  private async storedVersions(modulePath: string): Promise<string[]> {
    const versions = [...(await this.storedInfoVersions(modulePath)), ...(this.storing.get(modulePath) ?? [])];
    return versions.filter((v) => !isPseudoVersion(v));
  }

  private async storedInfoVersions(modulePath: string): Promise<string[]> {
    const keys = await this.options.storage.list(versionsPrefix(modulePath));
    const versions: string[] = [];
    for (const key of keys) {
      const version = versionOfKey(key, 'info');
      if (version !== null && isStorableVersion(modulePath, version)) versions.push(version);
    }
    return sortVersions(versions);
  }

  // Go's idea of latest when the origin cannot say: the newest stored release, else prerelease, else
  // pseudo-version.
  private async newestStoredInfo(modulePath: string): Promise<Buffer | null> {
    const versions = await this.storedInfoVersions(modulePath);
    const tagged = versions.filter((v) => !isPseudoVersion(v));
    const releases = tagged.filter((v) => prerelease(v) === '');
    const newest = releases.at(-1) ?? tagged.at(-1) ?? versions.at(-1);
    return newest === undefined ? null : readStored(this.options.storage, storageKey(modulePath, 'info', newest));
  }
}
