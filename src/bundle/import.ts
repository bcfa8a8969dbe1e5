// Adding a verified bundle to a storage (`bundle import`, and `bundle export`, whose folders are storages
// in the same layout). Storage only ever gains: a module version the storage holds with other content
// is a conflict, reported and left as it is; so is a checksum-database tile that differs (a fork).
import { recordsPrefix } from '../store/records.js';
import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { parseRecord, parseTree } from '../checksum/tlog.js';
import { GodepotError } from '../errors.js';
import { storageKey } from '../protocol/keys.js';
import { readStored } from '../storage/read-stored.js';
import type { Storage } from '../storage/storage.js';
import type { Bundle } from './format.js';
import { manifestId, type ManifestFile, type ManifestModule } from './manifest.js';

/** A module version or checksum-database file the storage holds with other content than the bundle. */
export interface ImportConflict {
  /** `module@version`, or the bundle path of a checksum-database file. */
  subject: string;
  reason: string;
}

export interface ImportReport {
  /** Module versions added (wholly or the files storage lacked). */
  added: string[];
  /** Module versions storage already held with the same content. */
  unchanged: number;
  conflicts: ImportConflict[];
  /** Checksum-database files written (new, or a lookup/head for a larger tree than the stored one). */
  sumdbWritten: number;
  /** What else the import decided, for the user to read. */
  notes: string[];
}

/**
 * An incremental bundle whose base (the bundle it adds to) was never taken into the storage: taken in
 * alone, the storage would lack what the base holds and nobody would know. Nothing was imported.
 */
export class BundleBaseMissingError extends GodepotError {
  readonly code = 'BUNDLE_BASE_MISSING';

  constructor(
    message: string,
    /** The base's manifest id. */
    readonly base: string,
  ) {
    super(message);
  }
}

/** Options of importVerifiedBundle. */
export interface ImportOptions {
  /** Take in an incremental bundle whose base the storage never took in. */
  allowPartial?: boolean;
  signal?: AbortSignal;
}

/**
 * The key under which a storage records that it took in the bundle of manifest id `id`:
 * `godepot/bundles/<id>.json`, holding that bundle's manifest.json, among godepot's other records
 * (store/records.ts), where it never stands in a module's way, nor in a GOPROXY file tree's.
 */
export function bundleRecordKey(id: string): string {
  return `${recordsPrefix}/bundles/${id}.json`;
}

/**
 * Copies an already verified bundle's modules and proofs into `storage`. An incremental bundle is
 * refused (BundleBaseMissingError) unless the storage took in its base before, or `allowPartial`; each
 * bundle taken in is recorded (bundleRecordKey), so that the next increment finds its base. Per module version the files go
 * in the order the depot commits them (zip, `.ziphash`, `.mod`, `.info` last as the marker that the
 * version is whole); a version whose stored files differ from the bundle's is not touched at all.
 * Idempotent: a second import adds nothing.
 */
export async function importVerifiedBundle(bundle: Bundle, storage: Storage, options: ImportOptions = {}): Promise<ImportReport> {
  const { signal } = options;
  const report: ImportReport = { added: [], unchanged: 0, conflicts: [], sumdbWritten: 0, notes: [] };
  const { since } = bundle.manifest;
  if (since !== undefined && (await storage.stat(bundleRecordKey(since.sha256))) === null) {
    if (options.allowPartial !== true) {
      throw new BundleBaseMissingError(
        `this bundle adds to the bundle whose manifest id is ${since.sha256} (${since.modules} module versions; bundle list shows a bundle's id), ` +
          'which was never imported or exported here: take that one in first, or give --allow-partial to take in this one without it',
        since.sha256,
      );
    }
    report.notes.push(`taken in without its base, the bundle whose manifest id is ${since.sha256} (--allow-partial): what only that bundle holds is missing here`);
  }
  for (const module of bundle.manifest.modules) {
    signal?.throwIfAborted();
    const subject = `${module.path}@${module.version}`;
    const missing: ManifestFile[] = [];
    let conflict: string | null = null;
    for (const file of module.files) {
      const differs = await storedDifference(bundle, storage, module, file);
      if (differs === 'absent') missing.push(file);
      else if (differs !== null) conflict ??= differs;
    }
    if (conflict !== null) {
      report.conflicts.push({ subject, reason: conflict });
      continue;
    }
    if (missing.length === 0) {
      report.unchanged++;
      continue;
    }
    for (const suffix of ['.zip', '.mod', '.info']) {
      const file = missing.find((f) => f.name.endsWith(suffix));
      if (file === undefined) continue;
      await storage.put(file.name, bundle.open(file.name), { size: file.size, sha256: file.sha256, signal });
      if (suffix === '.zip' && module.zipHash !== undefined) {
        await storage.put(storageKey(module.path, 'ziphash', module.version), Buffer.from(`${module.zipHash}\n`), { signal });
      }
    }
    report.added.push(subject);
  }
  for (const db of bundle.manifest.sumdb) {
    // A database godepot hosts in this storage is the one source of its own heads and tiles.
    if ((await storage.list(`sumdb/${db.name}/tile/8/data`)).length > 0) {
      report.notes.push(`checksum database ${db.name}: this storage hosts it; the bundle's proofs of it were not imported`);
      continue;
    }
    for (const file of db.files) {
      signal?.throwIfAborted();
      const outcome = await importSumdbFile(bundle, storage, file, signal);
      if (outcome === 'written') report.sumdbWritten++;
      else if (outcome !== 'kept') report.conflicts.push({ subject: file.name, reason: outcome });
    }
  }
  const record = bundleRecordKey(manifestId(bundle.manifestBytes));
  if ((await storage.stat(record)) === null) await storage.put(record, bundle.manifestBytes, { size: bundle.manifestBytes.length, signal });
  return report;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** 'absent', null when storage holds the same content, or why it differs. */
async function storedDifference(bundle: Bundle, storage: Storage, module: ManifestModule, file: ManifestFile): Promise<'absent' | string | null> {
  if (file.name.endsWith('.zip')) {
    if ((await storage.stat(file.name)) === null) return 'absent';
    // A module's identity is its h1: two zips of the same files may differ in bytes (compression), not in h1.
    const stored = (await readStored(storage, storageKey(module.path, 'ziphash', module.version)))?.toString('utf8').trim();
    if (stored === undefined) return 'absent';
    return stored === module.zipHash ? null : `storage holds a zip with ${stored}, the bundle one with ${module.zipHash}`;
  }
  const stored = await readStored(storage, file.name);
  if (stored === null) return 'absent';
  if (sha256(stored) === file.sha256) return null;
  if (file.name.endsWith('.info')) {
    // .info files of the same version may differ in fields go ignores; Version and Time are what go reads.
    const bundled = JSON.parse((await buffer(bundle.open(file.name))).toString('utf8')) as Record<string, unknown>;
    const held = JSON.parse(stored.toString('utf8')) as Record<string, unknown>;
    if (held.Version === bundled.Version && held.Time === bundled.Time) return null;
    return `storage's .info says ${String(held.Version)} at ${String(held.Time)}, the bundle's ${String(bundled.Version)} at ${String(bundled.Time)}`;
  }
  return `storage holds another ${file.name.slice(file.name.lastIndexOf('.'))} (sha256 ${sha256(stored)}, the bundle's ${file.sha256})`;
}

/** The tree size a lookup answer's or a `latest` file's signed note is for. */
function noteTreeSize(data: Buffer, isLookup: boolean): number {
  const note = isLookup ? parseRecord(data).rest : data;
  const text = note.toString('utf8');
  const end = text.indexOf('\n\n');
  return parseTree(text.slice(0, end < 0 ? text.length : end + 1)).n;
}

/** 'written', 'kept' (storage holds the same or a newer one), or why it conflicts. */
async function importSumdbFile(bundle: Bundle, storage: Storage, file: ManifestFile, signal?: AbortSignal): Promise<'written' | 'kept' | string> {
  const data = await buffer(bundle.open(file.name));
  const stored = await readStored(storage, file.name);
  const rel = file.name.split('/').slice(2).join('/');
  if (stored !== null) {
    if (stored.equals(data)) return 'kept';
    if (rel.startsWith('tile/')) return `storage holds another ${rel} of this checksum database: the database forked, or one copy was altered`;
    const isLookup = rel.startsWith('lookup/');
    // Lookups and heads carry a signed tree head: the newer tree proves everything the older one does.
    if (noteTreeSize(stored, isLookup) >= noteTreeSize(data, isLookup)) return 'kept';
  }
  await storage.put(file.name, data, { size: data.length, signal });
  return 'written';
}
