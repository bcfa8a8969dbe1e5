import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Verifier } from '../checksum/verifier.js';
import { GodepotError, GoneError, InvalidContentError, InvalidRequestError, NotFoundError } from '../errors.js';
import { hashGoMod } from '../module/hash.js';
import { checkPath, escapeVersion } from '../module/path.js';
import { prerelease, sortVersions } from '../module/semver.js';
import { isPseudoVersion } from '../module/version.js';
import { MAX_ZIP_FILE } from '../module/zip.js';
import type { Origin } from '../origin/origin.js';
import { storageKey, versionOfKey, versionsPrefix } from '../protocol/keys.js';
import { ByteMeter } from '../storage/byte-meter.js';
import { stagingFor, type FileStaging, type StagedObject } from '../storage/staging.js';
import type { PutOptions, Storage } from '../storage/storage.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Artifact } from '../protocol/artifact.js';
import type { Depot } from './depot.js';
import { Flight, type RunLease } from './flight.js';
import { KeyedLock } from './keyed-lock.js';
import { MemoryCache } from './memory-cache.js';
import { goModMismatch, infoVersion, inspectZip, isStorableVersion, listedVersions, verifyInfo, verifyMod, zipGoMod } from './verify.js';

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
   * Held around every fetch of a key, when other processes serve the same storage (cluster workers: a
   * LeaseClient), so that one process fetches a key while the others wait and then find it stored.
   */
  lease?: RunLease;
}

type Route = 'list' | 'latest' | 'info' | 'mod' | 'zip';
type CacheResult = Artifact['cache'];

/** A memory entry: an answer ready to send as a hit, and until when it may be sent (Infinity: immutable). */
interface Remembered {
  artifact: Artifact;
  expires: number;
}

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=UTF-8';
const ZIP_TYPE = 'application/zip';
// What one memory entry costs besides its body: the key, the artifact object, the map slot.
const ENTRY_OVERHEAD = 256;

/**
 * The depot in front of an origin (STYLE's depot): storage first, with small immutable files answered
 * from memory; on a miss the origin, then the checks of verify.ts, then an all-or-nothing commit to
 * storage (for a zip: zip, `.ziphash`, `.mod`, and the `.info` last as the marker that the version is
 * whole), then the answer. A missed `.info` or `.mod` is answered from memory once checked and stored
 * behind its answer: go asks for them one after the other, and a disk commit before each answer would
 * be most of the time a cold fill takes (close() waits for those stores). One fetch per file at a time
 * (Flight). `list` and `@latest` are the origin's answers at most listTtlMs old, merged with what
 * storage holds; when the origin fails they come from storage (cache `stale`, logged).
 *
 * The zip is the module's content, so its go.mod is the truth for the `.mod`: a `.mod` is answered as
 * immutable only once a zip beside it has shown the same go.mod. A `.mod` fetched alone is stored and
 * served, but when its zip arrives and disagrees, the origin is asked for the `.mod` again: if it now
 * agrees with the zip it replaces the stored one (logged), else the zip is refused and the stored
 * `.mod` removed. A `.mod` missing beside a stored zip is the zip's go.mod. Commits of one version's
 * files never overlap (KeyedLock), so no `.mod` that contradicts the zip beside it is ever stored.
 */
export class CachingDepot implements Depot {
  private readonly storage: Storage;
  private readonly origin: Origin;
  private readonly verifier: Verifier | undefined;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly listTtlMs: number;
  private readonly staging: FileStaging;
  private readonly memory: MemoryCache<Remembered>;
  private readonly flight: Flight<Artifact>;
  /** Other processes serve the same storage (a lease is held around every fetch). */
  private readonly shared: boolean;
  /** Held, per module version, while its `.mod` or zip is committed. */
  private readonly versionLock = new KeyedLock();
  /** What the depot began on its own and close() waits for: stores behind answers, `.mod` fetches along with a `.info`. */
  private readonly background = new Set<Promise<void>>();
  /** Counts `.info` commits, so that a list made while one happened is not remembered without it. */
  private infoCommits = 0;
  private readonly counters: Record<Route, Record<CacheResult, Counter.Internal>>;

  constructor(options: CachingDepotOptions) {
    this.storage = options.storage;
    this.origin = options.origin;
    this.verifier = options.verifier;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.listTtlMs = options.listTtlMs;
    this.staging = stagingFor(options.storage, options.tempDir ?? tmpdir(), options.logger);
    this.memory = new MemoryCache(options.memoryBytes ?? 64 << 20);
    this.flight = new Flight(options.lease);
    this.shared = options.lease !== undefined;
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
    return this.answer('list', this.flight.run(`list ${modulePath}`, () => this.refreshList(modulePath), this.waitOptions('list', signal)));
  }

  async latest(modulePath: string, signal?: AbortSignal): Promise<Artifact> {
    const remembered = this.remembered('latest', modulePath, '');
    if (remembered !== undefined) return remembered;
    checkModulePath(modulePath);
    return this.answer('latest', this.flight.run(`latest ${modulePath}`, () => this.refreshLatest(modulePath), this.waitOptions('latest', signal)));
  }

  async info(modulePath: string, query: string, signal?: AbortSignal): Promise<Artifact> {
    const remembered = this.remembered('info', modulePath, query);
    if (remembered !== undefined) return remembered;
    checkModulePath(modulePath);
    checkQuery(modulePath, query);
    // Go asks `@v/v2.0.0.info` of a path without /v2 and expects `v2.0.0+incompatible`: a canonical
    // version that does not fit the path is a query too.
    if (!isStorableVersion(modulePath, query)) {
      const key = `query ${modulePath}@${query}`;
      return this.answer('info', this.flight.run(key, () => this.resolveQuery(modulePath, query), this.waitOptions('info', signal)));
    }
    return this.small('info', modulePath, query, signal);
  }

  async mod(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    const remembered = this.remembered('mod', modulePath, version);
    if (remembered !== undefined) return remembered;
    checkModuleVersion(modulePath, version);
    return this.small('mod', modulePath, version, signal);
  }

  async zip(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    const remembered = this.remembered('zip', modulePath, version);
    if (remembered !== undefined) return remembered;
    checkModuleVersion(modulePath, version);
    const stored = await this.storedZip(modulePath, version);
    if (stored !== null) return this.answer('zip', Promise.resolve(stored));
    const key = storageKey(modulePath, 'zip', version);
    return this.answer('zip', this.flight.run(key, () => this.fetchZip(modulePath, version), this.waitOptions('zip', signal)));
  }

  /** Resolves once the stores behind answers and the `.mod` fetches along with a `.info` have ended; fetches ahead are the caller's. */
  async close(): Promise<void> {
    while (this.background.size > 0) await Promise.all(this.background);
  }

  // The hit path: a map lookup, a clock read for mutable answers, a counter. Keys are only ever stored
  // for validated inputs, so an entry found here needs no validation.
  private remembered(route: Route, modulePath: string, version: string): Artifact | undefined {
    const entry = this.memory.get(memoryKey(route, modulePath, version));
    if (entry === undefined || (entry.expires !== Infinity && entry.expires <= Date.now())) return undefined;
    this.counters[route][entry.artifact.cache].inc();
    return entry.artifact;
  }

  private remember(route: Route, modulePath: string, version: string, artifact: Artifact, expires: number): void {
    const size = artifact.body?.length ?? 0;
    this.memory.set(memoryKey(route, modulePath, version), { artifact, expires }, size + ENTRY_OVERHEAD);
  }

  private async answer(route: Route, pending: Promise<Artifact>): Promise<Artifact> {
    const artifact = await pending;
    this.counters[route][artifact.cache].inc();
    return artifact;
  }

  private waitOptions(kind: Route, signal: AbortSignal | undefined): { signal?: AbortSignal; onJoin: () => void } {
    return { signal, onJoin: () => this.metrics.flightWaits.inc({ kind }) };
  }

  // ---- .info and .mod of canonical versions: immutable, small, kept in memory

  private async small(file: 'info' | 'mod', modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    const key = storageKey(modulePath, file, version);
    if (file === 'mod') return this.answer(file, this.flight.run(key, () => this.fetchMod(modulePath, version, key), this.waitOptions(file, signal)));
    const stored = await this.readStored(key);
    if (stored !== null) return this.answer(file, Promise.resolve(this.rememberSmall(file, modulePath, version, stored, true)));
    return this.answer(file, this.flight.run(key, () => this.fetchInfo(modulePath, version, key), this.waitOptions(file, signal)));
  }

  /**
   * go asks for the `.mod` right after the `.info` (go mod download, go get), so the `.mod` is fetched
   * alongside, by a fetch the `.mod` request joins; it is kept only if the `.info` is good. The `.info`
   * is answered as soon as it is checked and stored behind the answer (storeBehind).
   */
  private async fetchInfo(modulePath: string, version: string, key: string): Promise<Artifact> {
    // Looked at again under the flight when other processes share the storage: one holding the lease
    // before us may have stored it. Alone, the look small() just took is the last word.
    if (this.shared) {
      const again = await this.readStored(key);
      if (again !== null) return this.rememberSmall('info', modulePath, version, again, true);
    }
    const modKey = storageKey(modulePath, 'mod', version);
    const known = this.memory.get(memoryKey('mod', modulePath, version)) !== undefined || this.flight.has(modKey);
    const mod = known ? null : this.modToFetch(modulePath, version, modKey);
    // Settled here when the .info fails: nobody else awaits it then.
    mod?.catch(() => undefined);
    const body = await this.origin.info(modulePath, version);
    verifyInfo(modulePath, version, body);
    if (mod !== null && !this.flight.has(modKey)) {
      this.inBackground(
        this.flight.run(modKey, () => this.fetchMod(modulePath, version, modKey, mod)).then(
          () => undefined,
          (err: unknown) => this.logger.debug({ err, module: modulePath, version }, 'fetching the .mod along with the .info failed'),
        ),
      );
    }
    const artifact = { ...this.rememberSmall('info', modulePath, version, body, true), cache: 'miss' as const };
    await this.storeBehind('info', modulePath, version, async () => {
      await this.versionLock.run(versionLockKey(modulePath, version), () => this.put(key, body));
      this.forgetList(modulePath);
    });
    return artifact;
  }

  /** The origin's `.mod`, or null without asking when storage has settled the `.mod` already. */
  private async modToFetch(modulePath: string, version: string, modKey: string): Promise<Buffer | null> {
    return (await this.modSettled(modulePath, version, modKey)) ? null : this.originMod(modulePath, version);
  }

  /** True when storage holds the version's `.mod`, or a zip whose go.mod it must be. */
  private async modSettled(modulePath: string, version: string, modKey: string): Promise<boolean> {
    const [stored, zipBeside] = await Promise.all([this.statStored(modKey), this.hasStoredZip(modulePath, version)]);
    return stored !== null || zipBeside;
  }

  /**
   * The stored `.mod`, else the origin's (`fetching`, when a fetch is under way already), answered once
   * checked and stored behind the answer; beside a stored zip, the zip's go.mod.
   */
  private async fetchMod(modulePath: string, version: string, key: string, fetching?: Promise<Buffer | null>): Promise<Artifact> {
    let fromOrigin: Buffer | null;
    if (fetching !== undefined) {
      fromOrigin = await fetching;
    } else {
      const [stored, zipBeside] = await Promise.all([this.readStored(key), this.hasStoredZip(modulePath, version)]);
      if (stored !== null) return this.rememberSmall('mod', modulePath, version, stored, zipBeside);
      // Beside a stored zip the .mod is the zip's go.mod, whatever the origin says: it is not asked.
      fromOrigin = zipBeside ? null : await this.originMod(modulePath, version);
    }
    if (fromOrigin === null) return this.settledMod(modulePath, version, key);
    // A zip fetch may have committed the version meanwhile: the zip's go.mod is the answer then.
    const confirmed = this.memory.get(memoryKey('mod', modulePath, version))?.artifact;
    if (confirmed?.immutable === true) return confirmed;
    const artifact = { ...this.rememberSmall('mod', modulePath, version, fromOrigin, false), cache: 'miss' as const };
    await this.storeBehind('mod', modulePath, version, () =>
      this.versionLock.run(versionLockKey(modulePath, version), async () => {
        // A zip fetch may have stored the .mod since our look: that one stands.
        if ((await this.statStored(key)) === null) await this.put(key, fromOrigin);
      }),
    );
    return artifact;
  }

  /** The stored `.mod`, else the stored zip's go.mod (stored as the `.mod`), else the origin's. */
  private settledMod(modulePath: string, version: string, key: string): Promise<Artifact> {
    return this.versionLock.run(versionLockKey(modulePath, version), async () => {
      const [stored, zipBeside] = await Promise.all([this.readStored(key), this.hasStoredZip(modulePath, version)]);
      if (stored !== null) return this.rememberSmall('mod', modulePath, version, stored, zipBeside);
      const body = zipBeside ? await this.storedZipGoMod(modulePath, version) : await this.originMod(modulePath, version);
      await this.put(key, body);
      return { ...this.rememberSmall('mod', modulePath, version, body, zipBeside), cache: 'miss' };
    });
  }

  /**
   * Stores a small file just remembered (checked, and answered from memory from now on): the answer
   * waits for no disk. Should the store fail, the file is forgotten, so that the next request fetches
   * and stores it again. With other processes sharing the storage the store is awaited, since they look
   * only at storage once the lease this fetch holds is released.
   */
  private async storeBehind(file: 'info' | 'mod', modulePath: string, version: string, store: () => Promise<void>): Promise<void> {
    if (this.shared) return store();
    this.inBackground(
      store().catch((err: unknown) => {
        this.memory.delete(memoryKey(file, modulePath, version));
        this.logger.error({ err, module: modulePath, version, file }, 'could not store an answered file; it is fetched again when asked for');
      }),
    );
  }

  /** Tracks `task`, which never rejects, until it ends: close() waits for it. */
  private inBackground(task: Promise<void>): void {
    this.background.add(task);
    void task.then(() => this.background.delete(task));
  }

  private async originMod(modulePath: string, version: string, signal?: AbortSignal): Promise<Buffer> {
    const body = await this.origin.mod(modulePath, version, signal);
    verifyMod(modulePath, version, body);
    await this.verifier?.verify(modulePath, version, { mod: hashGoMod(body) }, signal);
    return body;
  }

  /**
   * Hashes the body once, when it enters memory; every later hit reuses the artifact as it is. A `.mod`
   * no zip has confirmed yet is answered as mutable: no strong validator, no long-lived caching.
   */
  private rememberSmall(file: 'info' | 'mod', modulePath: string, version: string, body: Buffer, immutable: boolean): Artifact {
    const artifact: Artifact = {
      contentType: file === 'info' ? JSON_TYPE : TEXT_TYPE,
      size: body.length,
      immutable,
      etag: immutable ? `"sha256-${createHash('sha256').update(body).digest('hex')}"` : null,
      cache: 'hit',
      body,
    };
    this.remember(file, modulePath, version, artifact, Infinity);
    return artifact;
  }

  // ---- .zip: streamed from the origin to a temporary file, checked, then stored and served from storage

  /** True when a whole zip (with its `.ziphash`) of the version is stored. */
  private async hasStoredZip(modulePath: string, version: string): Promise<boolean> {
    const [zip, ziphash] = await Promise.all([
      this.statStored(storageKey(modulePath, 'zip', version)),
      this.statStored(storageKey(modulePath, 'ziphash', version)),
    ]);
    return zip !== null && ziphash !== null;
  }

  /** The go.mod of the stored zip of the version, read from a staged copy (zips are read at random, storage streams). */
  private async storedZipGoMod(modulePath: string, version: string): Promise<Buffer> {
    const copy = await this.staging.stage();
    try {
      const stored = await this.counted('get', this.storage.get(storageKey(modulePath, 'zip', version)));
      await pipeline(stored, createWriteStream(copy, { flags: 'wx' }));
      return await zipGoMod(modulePath, version, copy);
    } finally {
      await this.staging.discard(copy);
    }
  }

  private async storedZip(modulePath: string, version: string): Promise<Artifact | null> {
    const key = storageKey(modulePath, 'zip', version);
    // A zip without its .ziphash is an interrupted commit: it is fetched again.
    const [stat, h1] = await Promise.all([this.statStored(key), this.readStored(storageKey(modulePath, 'ziphash', version))]);
    if (stat === null || h1 === null) return null;
    return this.zipArtifact(modulePath, version, stat.size, h1.toString('utf8').trim(), 'hit');
  }

  private zipArtifact(modulePath: string, version: string, size: number, h1: string, cache: CacheResult): Artifact {
    const key = storageKey(modulePath, 'zip', version);
    const artifact: Artifact = {
      contentType: ZIP_TYPE,
      size,
      immutable: true,
      // The h1 is kept beside the zip, so the validator costs nothing to find after a restart. The bytes
      // under a key never change once stored, which is what a strong validator promises.
      etag: `"${h1}"`,
      cache,
      open: async (range) => {
        try {
          return await this.counted('get', this.storage.get(key, range === undefined ? {} : { start: range.start, end: range.end }));
        } catch (err) {
          // Removed from storage behind our back: the next request fetches it again.
          if (err instanceof NotFoundError) this.memory.delete(memoryKey('zip', modulePath, version));
          throw err;
        }
      },
    };
    this.remember('zip', modulePath, version, cache === 'hit' ? artifact : { ...artifact, cache: 'hit' }, Infinity);
    return artifact;
  }

  private async fetchZip(modulePath: string, version: string): Promise<Artifact> {
    // A fetch that ended between zip()'s look and this one has left the zip in memory; only another
    // process sharing the storage can have stored it unseen.
    const again = this.shared ? await this.storedZip(modulePath, version) : (this.memory.get(memoryKey('zip', modulePath, version))?.artifact ?? null);
    if (again !== null) return again;
    const infoKey = storageKey(modulePath, 'info', version);
    const modKey = storageKey(modulePath, 'mod', version);
    const zipFile = await this.staging.stage();
    let committed = false;
    try {
      // The .info and .mod come with the zip, unless stored already (as go's order of requests has it).
      const [info, mod, size] = await settleAll([
        (signal) => this.storedOr('info', modulePath, version, () => this.origin.info(modulePath, version, signal)),
        (signal) => this.storedOr('mod', modulePath, version, () => this.origin.mod(modulePath, version, signal)),
        (signal) => this.spoolZip(modulePath, version, zipFile, signal),
      ]);
      if (!info.stored) verifyInfo(modulePath, version, info.body);
      if (!mod.stored) verifyMod(modulePath, version, mod.body);
      const { h1, goMod } = await inspectZip(modulePath, version, zipFile);
      if (!mod.stored && !goMod.equals(mod.body)) throw goModMismatch(modulePath, version);
      await this.verifier?.verify(modulePath, version, { mod: hashGoMod(goMod), zip: h1 });

      return await this.versionLock.run(versionLockKey(modulePath, version), async () => {
        // A .mod request may have stored a .mod since our look (only a zip fetch replaces a stored one).
        const storedMod = mod.stored ? mod.body : await this.readStored(modKey);
        if (storedMod !== null && !storedMod.equals(goMod)) await this.replaceMod(modulePath, version, storedMod, goMod);
        // The zip first, the .info last: a version whose .info is listed has the rest stored beside it,
        // and a zip without its .ziphash is taken for an interrupted commit and fetched again.
        const objects: StagedObject[] = [
          { key: storageKey(modulePath, 'zip', version), file: zipFile },
          { key: storageKey(modulePath, 'ziphash', version), body: Buffer.from(h1) },
        ];
        if (storedMod === null) objects.push({ key: modKey, body: goMod });
        if (!info.stored) objects.push({ key: infoKey, body: info.body });
        await this.counted('put', this.staging.commit(objects));
        committed = true;
        this.rememberSmall('mod', modulePath, version, goMod, true);
        if (!info.stored) {
          this.rememberSmall('info', modulePath, version, info.body, true);
          this.forgetList(modulePath);
        }
        this.logger.info({ module: modulePath, version, bytes: size, h1 }, 'stored module zip');
        return this.zipArtifact(modulePath, version, size, h1, 'miss');
      });
    } finally {
      if (!committed) await this.staging.discard(zipFile);
    }
  }

  /**
   * A stored `.mod` differs from the go.mod of the zip about to be stored beside it. It was answered
   * before any zip could contradict it (with no checksum database, nothing else could), and the zip is
   * the module's content: the origin is asked again. When it now serves the zip's go.mod, that replaces
   * the stored `.mod`; when it still disagrees, the zip is refused and the stored `.mod` removed, so a
   * later request fetches both afresh.
   */
  private async replaceMod(modulePath: string, version: string, storedMod: Buffer, goMod: Buffer): Promise<void> {
    const modKey = storageKey(modulePath, 'mod', version);
    const fresh = await this.originMod(modulePath, version);
    const hashes = { storedModH1: hashGoMod(storedMod), zipModH1: hashGoMod(goMod) };
    if (!fresh.equals(goMod)) {
      this.memory.delete(memoryKey('mod', modulePath, version));
      await this.counted('delete', this.storage.delete(modKey));
      this.logger.warn({ module: modulePath, version, ...hashes, originModH1: hashGoMod(fresh) }, "removed a stored .mod that disagrees with its zip, as the origin's .mod still does");
      throw goModMismatch(modulePath, version);
    }
    await this.put(modKey, fresh);
    this.logger.warn({ module: modulePath, version, storedModH1: hashes.storedModH1, modH1: hashes.zipModH1 }, 'replaced a stored .mod that disagreed with its zip');
  }

  /** Streams the origin's zip into `file`, refusing it as soon as it passes go's size limit; resolves with its size. */
  private async spoolZip(modulePath: string, version: string, file: string, signal: AbortSignal): Promise<number> {
    const body = await this.origin.zip(modulePath, version, signal);
    const meter = new ByteMeter(
      MAX_ZIP_FILE,
      () => new InvalidContentError(`${modulePath}@${version}: zip from origin is larger than ${MAX_ZIP_FILE} bytes`),
      // Nothing needs the zip's SHA-256: it is checked and hashed (h1) from the file.
      { hash: false },
    );
    await pipeline(body, meter, createWriteStream(file, { flags: 'wx' }), { signal });
    return meter.size;
  }

  /** The stored `.info` or `.mod` (from memory when it is there: remembered bodies are stored, or being stored behind their answer), else `fetch()`'s. */
  private async storedOr(file: 'info' | 'mod', modulePath: string, version: string, fetch: () => Promise<Buffer>): Promise<{ body: Buffer; stored: boolean }> {
    const remembered = this.memory.get(memoryKey(file, modulePath, version))?.artifact.body;
    if (remembered !== undefined) return { body: remembered, stored: true };
    const stored = await this.readStored(storageKey(modulePath, file, version));
    return stored !== null ? { body: stored, stored: true } : { body: await fetch(), stored: false };
  }

  // ---- queries: resolved by the origin every time, never stored under their name

  private async resolveQuery(modulePath: string, query: string): Promise<Artifact> {
    const body = await this.origin.info(modulePath, query);
    infoVersion(modulePath, body, `.info for query ${JSON.stringify(query)}`);
    return { contentType: JSON_TYPE, size: body.length, immutable: false, etag: null, cache: 'miss', body };
  }

  // ---- list and @latest: the origin's answer when fresh enough, else storage

  private async refreshList(modulePath: string): Promise<Artifact> {
    const generation = this.infoCommits;
    const { versions: originVersions, cache, expires, err } = await this.originList(modulePath);
    const stored = await this.storedVersions(modulePath);
    if (originVersions === null && stored.length === 0) throw err;
    if (cache === 'stale') this.logger.warn({ err, module: modulePath }, 'origin failed; answering list from storage');
    const versions = sortVersions([...new Set([...(originVersions ?? []), ...stored])]);
    const body = Buffer.from(versions.map((v) => `${v}\n`).join(''));
    const artifact: Artifact = { contentType: TEXT_TYPE, size: body.length, immutable: false, etag: null, cache, body };
    // A version stored while this answer was made may be missing from it: answer, but do not keep it.
    if (generation === this.infoCommits) this.remember('list', modulePath, '', { ...artifact, cache: cache === 'miss' ? 'hit' : cache }, expires);
    return artifact;
  }

  /**
   * The origin's versions: its stored answer while fresh, else its answer now (stored for next time),
   * else, when it fails, its last stored answer. `versions` is null when none of these exists (or the
   * origin says the module does not exist) and `err` is why.
   */
  private async originList(modulePath: string): Promise<{ versions: string[] | null; cache: CacheResult; expires: number; err?: unknown }> {
    const listKey = storageKey(modulePath, 'list');
    const parse = (body: Buffer): string[] => body.toString('utf8').split('\n').filter(Boolean);
    const fresh = await this.freshStored(listKey);
    if (fresh !== null) return { versions: parse(fresh.body), cache: 'hit', expires: fresh.expires };
    const expires = Date.now() + this.listTtlMs;
    let versions: string[];
    try {
      versions = listedVersions(modulePath, await this.origin.list(modulePath));
    } catch (err) {
      // Not found is an answer: only what storage holds is listed, so what was stored keeps building.
      if (err instanceof NotFoundError || err instanceof GoneError) return { versions: null, cache: 'miss', expires, err };
      if (!isOriginFailure(err)) throw err;
      const stale = await this.readStored(listKey);
      return { versions: stale === null ? null : parse(stale), cache: 'stale', expires, err };
    }
    await this.put(listKey, Buffer.from(versions.map((v) => `${v}\n`).join(''))).catch((err: unknown) => {
      this.logger.warn({ err, module: modulePath }, 'could not keep the list in storage');
    });
    return { versions, cache: 'miss', expires };
  }

  private async refreshLatest(modulePath: string): Promise<Artifact> {
    const { body: originBody, cache, expires, err } = await this.originLatest(modulePath);
    const body = originBody ?? (await this.newestStoredInfo(modulePath));
    if (body === null) throw err;
    if (cache === 'stale') this.logger.warn({ err, module: modulePath }, 'origin failed; answering @latest from storage');
    const artifact: Artifact = { contentType: JSON_TYPE, size: body.length, immutable: false, etag: null, cache, body };
    this.remember('latest', modulePath, '', { ...artifact, cache: cache === 'miss' ? 'hit' : cache }, expires);
    return artifact;
  }

  /** The origin's `@latest`, as originList() has its list: fresh stored answer, else the origin, else the last stored answer. */
  private async originLatest(modulePath: string): Promise<{ body: Buffer | null; cache: CacheResult; expires: number; err?: unknown }> {
    const latestKey = storageKey(modulePath, 'latest');
    const fresh = await this.freshStored(latestKey);
    if (fresh !== null) return { body: fresh.body, cache: 'hit', expires: fresh.expires };
    const expires = Date.now() + this.listTtlMs;
    let body: Buffer;
    try {
      body = await this.origin.latest(modulePath);
      infoVersion(modulePath, body, '@latest');
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof GoneError) return { body: null, cache: 'miss', expires, err };
      if (!isOriginFailure(err)) throw err;
      return { body: await this.readStored(latestKey), cache: 'stale', expires, err };
    }
    await this.put(latestKey, body).catch((err: unknown) => {
      this.logger.warn({ err, module: modulePath }, 'could not keep @latest in storage');
    });
    return { body, cache: 'miss', expires };
  }

  /** A stored list or @latest still within its time to live, with the moment it expires. */
  private async freshStored(key: string): Promise<{ body: Buffer; expires: number } | null> {
    const stat = await this.statStored(key);
    if (stat === null) return null;
    const expires = stat.modified.getTime() + this.listTtlMs;
    if (expires <= Date.now()) return null;
    const body = await this.readStored(key);
    return body === null ? null : { body, expires };
  }

  /** Tagged versions whose `.info` is stored, sorted. */
  private async storedVersions(modulePath: string): Promise<string[]> {
    const versions = await this.storedInfoVersions(modulePath);
    return versions.filter((v) => !isPseudoVersion(v));
  }

  private async storedInfoVersions(modulePath: string): Promise<string[]> {
    const keys = await this.counted('list', this.storage.list(versionsPrefix(modulePath)));
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
    return newest === undefined ? null : this.readStored(storageKey(modulePath, 'info', newest));
  }

  // A new .info changes the module's list: the remembered one goes, and one being made is not kept.
  private forgetList(modulePath: string): void {
    this.infoCommits++;
    this.memory.delete(memoryKey('list', modulePath, ''));
  }

  // ---- storage, with failures counted

  private async readStored(key: string): Promise<Buffer | null> {
    let stream: Readable;
    try {
      stream = await this.counted('get', this.storage.get(key));
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    } catch (err) {
      this.metrics.storageErrors.inc({ operation: 'get' });
      throw err;
    }
    return Buffer.concat(chunks);
  }

  private statStored(key: string): ReturnType<Storage['stat']> {
    return this.counted('stat', this.storage.stat(key));
  }

  private async put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<void> {
    await this.counted('put', this.storage.put(key, body, options));
  }

  private async counted<T>(operation: string, pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (err) {
      if (!(err instanceof NotFoundError)) this.metrics.storageErrors.inc({ operation });
      throw err;
    }
  }
}

function versionLockKey(modulePath: string, version: string): string {
  return `${modulePath}@${version}`;
}

function memoryKey(route: Route, modulePath: string, version: string): string {
  return `${route} ${modulePath}@${version}`;
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

// Failures that say nothing about the module: the depot answers from storage instead. NotFound and
// Gone are answers; a bad request or an abort is ours; anything else (5xx, timeouts, resets, bad
// bodies, `off`/`direct` unavailable) is the origin failing.
function isOriginFailure(err: unknown): boolean {
  if (err instanceof NotFoundError || err instanceof GoneError || err instanceof InvalidRequestError) return false;
  return !(err instanceof Error && err.name === 'AbortError');
}

/**
 * Runs the tasks together; the first failure aborts the others' signal and, once all have settled, is
 * thrown (so no task is still writing when the caller cleans up).
 */
async function settleAll<T extends unknown[]>(tasks: { [K in keyof T]: (signal: AbortSignal) => Promise<T[K]> }): Promise<T> {
  const controller = new AbortController();
  let failure: { err: unknown } | undefined;
  const running = (tasks as Array<(signal: AbortSignal) => Promise<unknown>>).map((task) =>
    (async () => task(controller.signal))().catch((err: unknown) => {
      failure ??= { err };
      controller.abort();
      throw err;
    }),
  );
  const results = await Promise.allSettled(running);
  if (failure !== undefined) throw failure.err;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as T;
}
