// The server's side of `godepot publish`: a module zip uploaded for a version is received into a staged
// file, checked as the depot checks a fetched zip, and committed in the same module-cache layout
// (`.zip`, `.ziphash`, `.mod`, `.info`), so that from then on the depot serves it like any stored
// module. Published versions never change: the same bytes again change nothing, other bytes are refused.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { ChecksumDatabase } from '../checksum/database.js';
import type { RunLease } from '../depot/flight.js';
import { KeyedLock } from '../depot/keyed-lock.js';
import { ForbiddenError } from '../errors.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import { hashGoMod } from '../module/hash.js';
import { streamToNewFile } from '../stream-to-new-file.js';
import { MAX_ZIP_FILE } from '../module/zip.js';
import { storageKey, type VersionFile } from '../protocol/keys.js';
import { ByteMeter } from '../storage/byte-meter.js';
import { readStored } from '../storage/read-stored.js';
import { asStorageFull } from '../storage/space.js';
import type { FileStaging, StagedObject } from '../storage/staging.js';
import type { Storage } from '../storage/storage.js';
import { readRemovedHashes } from '../store/removed-versions.js';
import { PublishConflictError, PublishTooLargeError } from './errors.js';
import { checkPublishable, inspectPublishedZip } from './rules.js';

/** What a ModulePublisher is built from. */
export interface ModulePublisherOptions {
  /** The storage the depot serves from. */
  storage: Storage;
  /** How an upload reaches that storage: staged as a local file, checked, then committed with its siblings. */
  staging: FileStaging;
  /**
   * Whether `modulePath` may be published here. Only module paths that are never fetched from elsewhere
   * may be (routed `hosted`): a published module must never be shadowed by, or mistaken for, one of the
   * same name from an origin (dependency confusion).
   */
  accepts: (modulePath: string) => boolean;
  /** godepot's own checksum database, when it hosts one: every published version is recorded in it before it is stored. */
  database?: Pick<ChecksumDatabase, 'add'>;
  /** Held around a version's check and commit, when other processes serve the same storage (cluster workers). */
  lease?: RunLease;
  /** Told when a version's files were stored: the module's `list` and `@latest` have changed. */
  onStored?: (modulePath: string, version: string) => void;
  /** The largest zip taken, in bytes; at most (and by default) go's own limit for a module zip. */
  maxSize?: number;
  logger?: Logger;
}

/** A module zip being uploaded for `modulePath@version`. */
export interface PublishUpload {
  modulePath: string;
  version: string;
  /** The zip's bytes, read once. */
  body: Readable;
  /** The length the request declared, when it did: a longer one than a module zip may be is refused unread. */
  size?: number;
  /** The `.info` Time: the time of the commit the zip was built from; the time of storing when absent. */
  time?: Date;
}

/** What was published; the server answers it as JSON. */
export interface PublishResult {
  module: string;
  version: string;
  /** The zip's `h1:`, as go.sum records it. */
  h1: string;
  /** The go.mod's `h1:` (go.sum's `/go.mod` line). */
  goModH1: string;
  /** The `.info` Time served for the version. */
  time: string;
  /** True when this upload stored the version; false when the same content was published before. */
  created: boolean;
}

/**
 * Publishes module versions into a storage. An upload is refused before its body is read when its module
 * path is not accepted (ForbiddenError), its version cannot be published (PublishRefusedError) or it
 * declares more than 500 MiB (PublishTooLargeError, also thrown as soon as more arrives). The body is
 * staged, then must pass inspectPublishedZip (PublishRefusedError). Under a per-version lock (and the
 * lease, across processes), what storage holds decides: nothing, and the files are recorded in the
 * checksum database and committed all or nothing, zip first and `.info` last; the same zip `h1:` and
 * go.mod, and nothing changes (files an interrupted commit left out are added); anything else is a
 * PublishConflictError naming both hashes, as is a checksum database record with other hashes, or the
 * hashes of the version as it was when removed (`storage rm`). Nothing of a refused upload is kept.
 */
export class ModulePublisher {
  private readonly versionLock = new KeyedLock();

  constructor(private readonly options: ModulePublisherOptions) {}

  async publish(upload: PublishUpload, signal?: AbortSignal): Promise<PublishResult> {
    const { modulePath, version } = upload;
    if (!this.options.accepts(modulePath)) {
      throw new ForbiddenError(`${modulePath}: this server takes no publishes for this module path; only module paths it never fetches from elsewhere accept them`);
    }
    checkPublishable(modulePath, version);
    const maxSize = Math.min(this.options.maxSize ?? MAX_ZIP_FILE, MAX_ZIP_FILE);
    const tooLarge = (): PublishTooLargeError =>
      new PublishTooLargeError(
        maxSize < MAX_ZIP_FILE
          ? `${modulePath}@${version}: the zip is larger than this server takes (${maxSize} bytes, --max-publish-size)`
          : `${modulePath}@${version}: the zip is larger than a module zip may be (${MAX_ZIP_FILE} bytes)`,
      );
    if (upload.size !== undefined && upload.size > maxSize) throw tooLarge();
    const { staging } = this.options;
    const zipFile = await staging.stage();
    try {
      try {
        await streamToNewFile(zipFile, (out) => pipeline(upload.body, new ByteMeter(maxSize, tooLarge, { hash: false }), out, signal === undefined ? {} : { signal }));
      } catch (err) {
        // The staged file is in the storage's folder, whose disk may be full.
        throw asStorageFull(err);
      }
      const { h1, goMod } = await inspectPublishedZip(modulePath, version, zipFile);
      const time = infoTime(upload.time ?? new Date());
      const key = `${modulePath}@${version}`;
      const { lease } = this.options;
      const store = (): Promise<PublishResult> => this.store(modulePath, version, zipFile, { h1, goMod, time });
      return await this.versionLock.run(key, () => (lease === undefined ? store() : lease.hold(`publish ${key}`, store)));
    } finally {
      // A committed file was moved into place: discarding it then does nothing.
      await staging.discard(zipFile);
    }
  }

  private async store(modulePath: string, version: string, zipFile: string, zip: { h1: string; goMod: Buffer; time: string }): Promise<PublishResult> {
    const { storage, staging, logger } = this.options;
    const key = (file: VersionFile): string => storageKey(modulePath, file, version);
    const [zipStat, storedH1, storedMod, storedInfo, removed] = await Promise.all([
      storage.stat(key('zip')),
      readStored(storage, key('ziphash')),
      readStored(storage, key('mod')),
      readStored(storage, key('info')),
      readRemovedHashes(storage, modulePath, version),
    ]);
    // A zip without its .ziphash is an interrupted commit, as the depot takes it: not published.
    const publishedH1 = zipStat !== null && storedH1 !== null ? storedH1.toString('utf8').trim() : null;
    const goModH1 = hashGoMod(zip.goMod);
    if ((publishedH1 !== null && publishedH1 !== zip.h1) || (storedMod !== null && !storedMod.equals(zip.goMod))) {
      throw conflict(modulePath, version, { h1: publishedH1, goModH1: storedMod === null ? null : hashGoMod(storedMod) }, { h1: zip.h1, goModH1 });
    }
    // Removed since it was published: it may come back only as it was.
    if (removed !== null && ((removed.h1 !== null && removed.h1 !== zip.h1) || (removed.goModH1 !== null && removed.goModH1 !== goModH1))) {
      throw conflict(modulePath, version, removed, { h1: zip.h1, goModH1 }, `was published with other content and removed on ${removed.removed}`);
    }
    await this.record(modulePath, version, zip.h1, goModH1);
    const info = storedInfo ?? Buffer.from(JSON.stringify({ Version: version, Time: zip.time }));
    const objects: StagedObject[] = [];
    if (publishedH1 === null) objects.push({ key: key('zip'), file: zipFile }, { key: key('ziphash'), body: Buffer.from(zip.h1) });
    if (storedMod === null) objects.push({ key: key('mod'), body: zip.goMod });
    // The .info last: a version whose .info is stored is listed, and has the rest stored beside it.
    if (storedInfo === null) objects.push({ key: key('info'), body: info });
    if (objects.length > 0) {
      await staging.commit(objects);
      this.options.onStored?.(modulePath, version);
    }
    const created = publishedH1 === null;
    logger?.info({ module: modulePath, version, h1: zip.h1 }, created ? 'published module' : 'module already published with the same content');
    // A stored .info passed the depot's checks (JSON, Time RFC 3339 when present) or is one of ours.
    const { Time: time = '' } = JSON.parse(info.toString('utf8')) as { Time?: string };
    return { module: modulePath, version, h1: zip.h1, goModH1, time, created };
  }

  /** Records the hashes in the checksum database (if any): a record with other hashes is a conflict, since records never change. */
  private async record(modulePath: string, version: string, h1: string, goModH1: string): Promise<void> {
    try {
      await this.options.database?.add(modulePath, version, { zip: h1, mod: goModH1 });
    } catch (err) {
      if (err instanceof ChecksumMismatchError) throw new PublishConflictError(err.message, { cause: err });
      throw err;
    }
  }
}

/** A time as `.info` files have it: RFC 3339 in UTC, in whole seconds, as go's proxies write it. */
function infoTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface Hashes {
  h1: string | null;
  goModH1: string | null;
}

function conflict(modulePath: string, version: string, published: Hashes, uploaded: Hashes, what = 'is already published with other content'): PublishConflictError {
  const show = (hashes: Hashes): string => [hashes.h1, hashes.goModH1 === null ? null : `go.mod ${hashes.goModH1}`].filter((part) => part !== null).join(', ');
  return new PublishConflictError(
    `${modulePath}@${version} ${what}, and a published version never changes\n` +
      `\tpublished: ${show(published)}\n\tuploaded:  ${show(uploaded)}`,
  );
}
