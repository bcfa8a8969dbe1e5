// Fetching and committing the files of one module version: `.info`, `.mod` and the zip of a canonical
// version, which never change once stored.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { Verifier } from '../checksum/verifier.js';
import { InvalidContentError, NotFoundError, StorageFullError, StorageUnusableError } from '../errors.js';
import { hashGoMod } from '../module/hash.js';
import { MAX_ZIP_FILE } from '../module/zip.js';
import { downloadPart, type Origin } from '../origin/origin.js';
import type { Artifact } from '../protocol/artifact.js';
import { storageKey } from '../protocol/keys.js';
import { readStored } from '../storage/read-stored.js';
import { asStorageFull } from '../storage/space.js';
import type { FileStaging, StagedObject } from '../storage/staging.js';
import type { Storage } from '../storage/storage.js';
import type { Flight } from './flight.js';
import type { ModuleListing } from './module-listing.js';
import { KeyedLock } from './keyed-lock.js';
import type { RememberedAnswers } from './remembered-answers.js';
import { VersionDownloads, type VersionHold } from './version-downloads.js';
import { goModMismatch, inspectZip, verifyMod, zipGoMod } from './verify.js';

/** What VersionFiles is built from. */
export interface VersionFilesOptions {
  storage: Storage;
  /** How a zip reaches storage: staged as a local file, checked, then committed with its siblings. */
  staging: FileStaging;
  origin: Origin;
  answers: RememberedAnswers;
  /** One fetch per file at a time; with other processes on the storage, one per version across them. */
  flight: Flight<Artifact>;
  /** Other processes serve the same storage: they see only what is stored, so stores are awaited. */
  shared: boolean;
  /** Checks the hashes of what the origin sent before anything of it is stored (the checksum database). */
  verifier?: Verifier;
  logger: Logger;
  /** Told when a version's `.info` is being stored behind its answer, and when it was stored (or failed to be): the module's list changes. */
  listing: Pick<ModuleListing, 'infoStoring' | 'infoStored'>;
}

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=UTF-8';
const ZIP_TYPE = 'application/zip';

/**
 * The files of canonical versions: storage first, small files answered from memory; on a miss the
 * origin, the checks of verify.ts, an all-or-nothing commit (for a zip: zip, `.ziphash`, `.mod`, and
 * the `.info` last), then the answer. A missed `.info` or `.mod` is answered from memory once checked
 * and stored behind its answer: go asks for them one after the other, and a disk commit before each
 * answer would be most of a cold fill's time (close() waits for those stores). Each file is fetched
 * from the origin once, whoever asks for it: a `.info` request, the `.mod` fetched along with it and a
 * zip fetch share their downloads (VersionDownloads).
 *
 * The zip is the module's content, so its go.mod is the truth for the `.mod`: a `.mod` is answered as
 * immutable only once a zip beside it has shown the same go.mod. A `.mod` fetched alone is stored and
 * served, but when its zip arrives and disagrees, the origin is asked for the `.mod` again: if it now
 * agrees with the zip it replaces the stored one (logged), else the zip is refused and the stored
 * `.mod` removed. A `.mod` missing beside a stored zip is the zip's go.mod. Commits of one version's
 * files never overlap (KeyedLock), so no `.mod` that contradicts the zip beside it is ever stored.
 */
export class VersionFiles {
  private readonly storage: Storage;
  private readonly answers: RememberedAnswers;
  private readonly flight: Flight<Artifact>;
  private readonly downloads: VersionDownloads;
  /** Held, per module version, while its `.mod` or zip is committed. */
  private readonly versionLock = new KeyedLock();
  /** What began on its own and close() waits for: stores behind answers, `.mod` fetches along with a `.info`. */
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly options: VersionFilesOptions) {
    this.storage = options.storage;
    this.answers = options.answers;
    this.flight = options.flight;
    this.downloads = new VersionDownloads(options.origin);
  }

  /** The `.info` of a canonical version. */
  async info(modulePath: string, version: string, signal?: AbortSignal, onJoin?: () => void): Promise<Artifact> {
    const key = storageKey(modulePath, 'info', version);
    const stored = await readStored(this.storage, key);
    if (stored !== null) return this.rememberSmall('info', modulePath, version, stored, true);
    return this.flight.run(key, () => this.fetchInfo(modulePath, version, key), { signal, onJoin });
  }

  /** The `.mod` of a canonical version; storage is read under the flight, where a miss goes on to the origin. */
  mod(modulePath: string, version: string, signal?: AbortSignal, onJoin?: () => void): Promise<Artifact> {
    const key = storageKey(modulePath, 'mod', version);
    return this.flight.run(key, () => this.fetchMod(modulePath, version, key), { signal, onJoin });
  }

  /** The zip of a canonical version, streamed from storage; a missed one is stored before it is answered. */
  async zip(modulePath: string, version: string, signal?: AbortSignal, onJoin?: () => void): Promise<Artifact> {
    const stored = await this.storedZip(modulePath, version);
    if (stored !== null) return stored;
    return this.flight.run(storageKey(modulePath, 'zip', version), () => this.fetchZip(modulePath, version), { signal, onJoin });
  }

  /**
   * Resolves once nothing is under way: fetches (those whose callers stopped waiting included), the
   * downloads they began, the stores behind answers. Whoever removes the storage, or the origin's
   * connections, after it finds nothing still writing or reading.
   */
  async close(): Promise<void> {
    while (this.background.size > 0 || this.flight.size > 0) {
      await Promise.all([...this.background, this.flight.settled()]);
    }
    await this.downloads.settled();
  }

  // ---- .info and .mod: small, kept in memory

  /**
   * go asks for the `.mod` right after the `.info` (go mod download, go get), so the `.mod` is fetched
   * along, unless known; it is kept only if the `.info` is good, by a fetch the `.mod` request joins.
   * The `.info` is answered as soon as it is checked and stored behind the answer (storeBehind).
   */
  private async fetchInfo(modulePath: string, version: string, key: string): Promise<Artifact> {
    // A fetch that ended since info()'s look left it in memory; with other processes on the storage,
    // one that held the lease before us may have stored it.
    const again = this.answers.get('info', modulePath, version) ?? (this.options.shared ? await this.storedSmall('info', modulePath, version, key) : undefined);
    if (again !== undefined) return again;
    const modKey = storageKey(modulePath, 'mod', version);
    const modKnown = this.answers.get('mod', modulePath, version) !== undefined || this.flight.has(modKey);
    // Alone, the .mod download starts now, beside the .info's. With other processes on the storage it
    // waits for a flight of its own, whose lease it must hold to know that none of them has it.
    const along = modKnown || this.options.shared ? null : this.downloads.hold(modulePath, version);
    const modBody = along === null ? undefined : this.modSettled(modulePath, version, modKey).then((settled) => (settled ? null : along.fetch({ mod: true }).mod!));
    // Settled here when the .info fails: nobody else awaits it then.
    modBody?.catch(() => undefined);
    const hold = this.downloads.hold(modulePath, version);
    let body: Buffer;
    try {
      body = await hold.fetch({ info: true }).info!;
    } catch (err) {
      along?.release();
      throw err;
    } finally {
      hold.release();
    }
    if (modKnown || this.flight.has(modKey)) along?.release();
    else {
      const fetching = this.flight.run(modKey, () => this.fetchMod(modulePath, version, modKey, modBody)).finally(() => along?.release());
      this.inBackground(
        fetching.then(
          () => undefined,
          (err: unknown) => this.options.logger.debug({ err, module: modulePath, version }, 'fetching the .mod along with the .info failed'),
        ),
      );
    }
    const artifact = { ...this.rememberSmall('info', modulePath, version, body, true), cache: 'miss' as const };
    this.options.listing.infoStoring(modulePath, version);
    await this.storeBehind('info', modulePath, version, async () => {
      try {
        await this.versionLock.run(lockKey(modulePath, version), () => this.storage.put(key, body));
      } finally {
        this.options.listing.infoStored(modulePath, version);
      }
    });
    return artifact;
  }

  /** True when storage holds the version's `.mod`, or a zip whose go.mod it must be. */
  private async modSettled(modulePath: string, version: string, modKey: string): Promise<boolean> {
    const [stored, zipBeside] = await Promise.all([this.storage.stat(modKey), this.hasStoredZip(modulePath, version)]);
    return stored !== null || zipBeside;
  }

  /**
   * The stored `.mod` (immutable when a zip is stored beside it), else beside a stored zip the zip's
   * go.mod, else the origin's (`fetching`, when the `.info` fetch began it: null when storage has
   * settled it meanwhile), answered once checked and stored behind the answer.
   */
  private async fetchMod(modulePath: string, version: string, key: string, fetching?: Promise<Buffer | null>): Promise<Artifact> {
    // Held until the .mod is remembered, so that a zip fetch meanwhile joins this download.
    const hold = fetching === undefined ? this.downloads.hold(modulePath, version) : null;
    try {
      let body: Buffer | null;
      if (hold === null) {
        body = await fetching!;
      } else {
        // A fetch that ended since mod()'s flight began (the zip's, the one along with a .info) left it in memory.
        const again = this.answers.get('mod', modulePath, version);
        if (again !== undefined) return again;
        const [stored, zipBeside] = await Promise.all([readStored(this.storage, key), this.hasStoredZip(modulePath, version)]);
        if (stored !== null) return this.rememberSmall('mod', modulePath, version, stored, zipBeside);
        // Beside a stored zip the .mod is the zip's go.mod, whatever the origin says: it is not asked.
        body = zipBeside ? null : await hold.fetch({ mod: true }).mod!;
      }
      if (body === null) return await this.settledMod(modulePath, version, key);
      await this.options.verifier?.verify(modulePath, version, { mod: hashGoMod(body) });
      // A zip fetch may have committed the version meanwhile: the zip's go.mod is the answer then.
      const confirmed = this.answers.get('mod', modulePath, version);
      if (confirmed?.immutable === true) return confirmed;
      const checked = body;
      const artifact = { ...this.rememberSmall('mod', modulePath, version, checked, false), cache: 'miss' as const };
      await this.storeBehind('mod', modulePath, version, () =>
        this.versionLock.run(lockKey(modulePath, version), async () => {
          // A zip fetch may have stored the .mod since our look: that one stands.
          if ((await this.storage.stat(key)) === null) await this.storage.put(key, checked);
        }),
      );
      return artifact;
    } finally {
      hold?.release();
    }
  }

  /** The stored `.mod`, else the stored zip's go.mod (stored as the `.mod`), else the origin's. */
  private settledMod(modulePath: string, version: string, key: string): Promise<Artifact> {
    return this.versionLock.run(lockKey(modulePath, version), async () => {
      const [stored, zipBeside] = await Promise.all([readStored(this.storage, key), this.hasStoredZip(modulePath, version)]);
      if (stored !== null) return this.rememberSmall('mod', modulePath, version, stored, zipBeside);
      const body = zipBeside ? await this.storedZipGoMod(modulePath, version) : await this.originMod(modulePath, version);
      await this.storage.put(key, body);
      return { ...this.rememberSmall('mod', modulePath, version, body, zipBeside), cache: 'miss' };
    });
  }

  /** The origin's `.mod` asked for afresh (never joined: it is asked again because an earlier answer is in doubt), checked. */
  private async originMod(modulePath: string, version: string): Promise<Buffer> {
    const body = await this.options.origin.download(modulePath, version, { mod: true }).mod!;
    verifyMod(modulePath, version, body);
    await this.options.verifier?.verify(modulePath, version, { mod: hashGoMod(body) });
    return body;
  }

  /** The stored `.info` or `.mod`, remembered, or undefined when storage has none. */
  private async storedSmall(file: 'info' | 'mod', modulePath: string, version: string, key: string): Promise<Artifact | undefined> {
    const stored = await readStored(this.storage, key);
    return stored === null ? undefined : this.rememberSmall(file, modulePath, version, stored, true);
  }

  /**
   * Stores a small file just remembered (checked, and answered from memory from now on): the answer
   * waits for no disk. Should the store fail, the file is forgotten, so that the next request fetches
   * and stores it again. With other processes sharing the storage the store is awaited, since they look
   * only at storage once the lease this fetch holds is released.
   */
  private async storeBehind(file: 'info' | 'mod', modulePath: string, version: string, store: () => Promise<void>): Promise<void> {
    if (this.options.shared) return store();
    this.inBackground(
      store().catch((err: unknown) => {
        this.answers.delete(file, modulePath, version);
        // A full or unwritable storage is a known condition whose message says what to do: its stack says nothing more.
        const reason = err instanceof StorageFullError || err instanceof StorageUnusableError ? { reason: err.message } : { err };
        this.options.logger.error({ ...reason, module: modulePath, version, file }, 'could not store an answered file; it is fetched again when asked for');
      }),
    );
  }

  /** Tracks `task`, which never rejects, until it ends: close() waits for it. */
  private inBackground(task: Promise<void>): void {
    this.background.add(task);
    void task.then(() => this.background.delete(task));
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
    this.answers.set(file, modulePath, version, artifact);
    return artifact;
  }

  // ---- .zip: written by the origin to a staged file, checked, then stored and served from storage

  /** True when a whole zip (with its `.ziphash`) of the version is stored. */
  private async hasStoredZip(modulePath: string, version: string): Promise<boolean> {
    const [zip, ziphash] = await Promise.all([this.storage.stat(storageKey(modulePath, 'zip', version)), this.storage.stat(storageKey(modulePath, 'ziphash', version))]);
    return zip !== null && ziphash !== null;
  }

  /** The go.mod of the stored zip of the version, read from a staged copy (zips are read at random, storage streams). */
  private async storedZipGoMod(modulePath: string, version: string): Promise<Buffer> {
    const copy = await this.options.staging.stage();
    try {
      const stored = await this.storage.get(storageKey(modulePath, 'zip', version));
      await pipeline(stored, createWriteStream(copy, { flags: 'wx' }));
      return await zipGoMod(modulePath, version, copy);
    } finally {
      await this.options.staging.discard(copy);
    }
  }

  private async storedZip(modulePath: string, version: string): Promise<Artifact | null> {
    const key = storageKey(modulePath, 'zip', version);
    // A zip without its .ziphash is an interrupted commit: it is fetched again.
    const [stat, h1] = await Promise.all([this.storage.stat(key), readStored(this.storage, storageKey(modulePath, 'ziphash', version))]);
    if (stat === null || h1 === null) return null;
    return this.zipArtifact(modulePath, version, stat.size, h1.toString('utf8').trim(), 'hit');
  }

  private zipArtifact(modulePath: string, version: string, size: number, h1: string, cache: Artifact['cache']): Artifact {
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
          return await this.storage.get(key, range === undefined ? {} : { start: range.start, end: range.end });
        } catch (err) {
          // Removed from storage behind our back: the next request fetches it again.
          if (err instanceof NotFoundError) this.answers.delete('zip', modulePath, version);
          throw err;
        }
      },
    };
    this.answers.set('zip', modulePath, version, cache === 'hit' ? artifact : { ...artifact, cache: 'hit' });
    return artifact;
  }

  private async fetchZip(modulePath: string, version: string): Promise<Artifact> {
    // A fetch that ended between zip()'s look and this one has left the zip in memory; only another
    // process sharing the storage can have stored it unseen.
    const again = this.options.shared ? await this.storedZip(modulePath, version) : (this.answers.get('zip', modulePath, version) ?? null);
    if (again !== null) return again;
    const infoKey = storageKey(modulePath, 'info', version);
    const modKey = storageKey(modulePath, 'mod', version);
    const zipFile = await this.options.staging.stage();
    const hold = this.downloads.hold(modulePath, version);
    let committed = false;
    try {
      // The .info and .mod come with the zip unless known already (go asks for them first), downloaded
      // once with whoever else asks for them.
      const { info, mod, size } = await this.download(modulePath, version, zipFile, hold);
      if (size > MAX_ZIP_FILE) throw new InvalidContentError(`${modulePath}@${version}: zip from origin is larger than ${MAX_ZIP_FILE} bytes`);
      const { h1, goMod } = await inspectZip(modulePath, version, zipFile);
      if (!mod.known && !goMod.equals(mod.body)) throw goModMismatch(modulePath, version);
      await this.options.verifier?.verify(modulePath, version, { mod: hashGoMod(goMod), zip: h1 });

      return await this.versionLock.run(lockKey(modulePath, version), async () => {
        // A .mod request may have stored a .mod since our look (only a zip fetch replaces a stored one).
        const storedMod = mod.known ? mod.body : await readStored(this.storage, modKey);
        if (storedMod !== null && !storedMod.equals(goMod)) await this.replaceMod(modulePath, version, storedMod, goMod);
        // The zip first, the .info last: a version whose .info is listed has the rest stored beside it,
        // and a zip without its .ziphash is taken for an interrupted commit and fetched again.
        const objects: StagedObject[] = [
          { key: storageKey(modulePath, 'zip', version), file: zipFile },
          { key: storageKey(modulePath, 'ziphash', version), body: Buffer.from(h1) },
        ];
        if (storedMod === null) objects.push({ key: modKey, body: goMod });
        if (!info.known) objects.push({ key: infoKey, body: info.body });
        await this.options.staging.commit(objects);
        committed = true;
        this.rememberSmall('mod', modulePath, version, goMod, true);
        if (!info.known) {
          this.rememberSmall('info', modulePath, version, info.body, true);
          this.options.listing.infoStored(modulePath, version);
        }
        this.options.logger.info({ module: modulePath, version, bytes: size, h1 }, 'stored module zip');
        return this.zipArtifact(modulePath, version, size, h1, 'miss');
      });
    } finally {
      hold.release();
      if (!committed) await this.options.staging.discard(zipFile);
    }
  }

  /**
   * The zip written to `zipFile` by the origin, with the version's `.info` and `.mod`: from memory or
   * storage when known there (`known`: stored, or being stored behind its answer), else from the
   * origin. A failure stops the zip download, and is thrown once it has ended, so that nothing is still
   * writing the file when the caller removes it.
   */
  private async download(
    modulePath: string,
    version: string,
    zipFile: string,
    hold: VersionHold,
  ): Promise<{ info: { body: Buffer; known: boolean }; mod: { body: Buffer; known: boolean }; size: number }> {
    const controller = new AbortController();
    // The zip is written into the storage's staging folder, whose disk may be full.
    const zip = downloadPart(
      this.options.origin.download(modulePath, version, { zipTo: zipFile }, controller.signal).zip!.catch((err: unknown) => {
        throw asStorageFull(err);
      }),
    );
    try {
      const [knownInfo, knownMod] = await Promise.all([this.known('info', modulePath, version), this.known('mod', modulePath, version)]);
      const parts = hold.fetch({ info: knownInfo === null, mod: knownMod === null });
      const [info, mod] = await Promise.all([knownInfo ?? parts.info!, knownMod ?? parts.mod!]);
      return { info: { body: info, known: knownInfo !== null }, mod: { body: mod, known: knownMod !== null }, size: await zip };
    } catch (err) {
      controller.abort();
      await zip.catch(() => undefined);
      throw err;
    }
  }

  /** The `.info` or `.mod` body in memory (stored, or being stored behind its answer) or in storage, else null. */
  private async known(file: 'info' | 'mod', modulePath: string, version: string): Promise<Buffer | null> {
    return this.answers.get(file, modulePath, version)?.body ?? readStored(this.storage, storageKey(modulePath, file, version));
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
      this.answers.delete('mod', modulePath, version);
      await this.storage.delete(modKey);
      this.options.logger.warn({ module: modulePath, version, ...hashes, originModH1: hashGoMod(fresh) }, "removed a stored .mod that disagrees with its zip, as the origin's .mod still does");
      throw goModMismatch(modulePath, version);
    }
    await this.storage.put(modKey, fresh);
    this.options.logger.warn({ module: modulePath, version, storedModH1: hashes.storedModH1, modH1: hashes.zipModH1 }, 'replaced a stored .mod that disagreed with its zip');
  }
}

function lockKey(modulePath: string, version: string): string {
  return `${modulePath}@${version}`;
}
