// `storage ls`, `storage du` and `storage rm` over a storage godepot serves from: what the `storage`
// commands do to a folder, and what the admin API (/admin/storage/…) does for a running server.
import type { Audit, AuditActor } from '../audit/audit.js';
import { NotFoundError } from '../errors.js';
import { checkCanonical } from '../protocol/request.js';
import { storageKey } from '../protocol/keys.js';
import type { Storage } from '../storage/storage.js';
import type { CountedFile } from './records.js';
import { removeVersion } from './remove-version.js';
import { listStoredVersions } from './stored-versions.js';

/** A stored version as `storage ls --json` and `GET /admin/storage/versions` show it. */
export interface StoredVersionSummary {
  path: string;
  version: string;
  /** Which of `.info`, `.mod` and `.zip` are held. */
  files: CountedFile[];
  /** Bytes of those files. */
  bytes: number;
  /** Where it came from: recorded when it was stored, else the route it has under the current settings. */
  origin: string;
  /** False when `origin` is the current route rather than a record made when it was stored. */
  originRecorded: boolean;
  /** When its first file was stored, RFC 3339. */
  stored: string;
  /** When it was last downloaded, RFC 3339, or null: never since godepot began recording it. */
  lastDownloaded: string | null;
}

/** How `storage du` groups: by module path, or by origin. */
export type UsageBy = 'module' | 'origin';
export const usageGroupings: readonly UsageBy[] = ['module', 'origin'];

/** One group of `storage du`. */
export interface UsageRow {
  /** The module path or the origin. */
  name: string;
  versions: number;
  bytes: number;
}

/** What `storage du --json` and `GET /admin/storage/usage` show: the groups, largest first, and the totals. */
export interface StoreUsage {
  by: UsageBy;
  rows: UsageRow[];
  total: { modules: number; versions: number; bytes: number };
}

/** A version `storage rm` removed. */
export interface Removal {
  path: string;
  version: string;
  /** The files it had. */
  files: CountedFile[];
  /** Bytes freed (of its `.info`, `.mod` and `.zip`). */
  bytes: number;
}

/** Who removes: as the audit log records it. */
export interface Remover {
  actor: AuditActor;
  from: string;
}

export interface StoreAdministrationOptions {
  storage: Storage;
  /** The route of a module path under the current settings: the origin shown where none was recorded. */
  originOf: (modulePath: string) => string;
  /**
   * Called before the store is read or changed: a server writes the last-download times it noted so
   * far (shown by a listing; and a removed version's must not be written back after it).
   */
  beforeUse?: () => Promise<void>;
}

/** ls, du and rm over one storage. */
export class StoreAdministration {
  constructor(private readonly options: StoreAdministrationOptions) {}

  /** The stored versions of the module paths `include` accepts, sorted by path, then version. */
  async versions(include: (modulePath: string) => boolean): Promise<StoredVersionSummary[]> {
    await this.options.beforeUse?.();
    const versions = await listStoredVersions(this.options.storage, include);
    return versions.map((v) => ({
      path: v.path,
      version: v.version,
      files: v.files,
      bytes: v.bytes,
      origin: v.origin ?? this.options.originOf(v.path),
      originRecorded: v.origin !== null,
      stored: v.stored.toISOString(),
      lastDownloaded: v.lastDownloaded?.toISOString() ?? null,
    }));
  }

  /** The bytes and versions of the module paths `include` accepts, grouped `by`. */
  async usage(by: UsageBy, include: (modulePath: string) => boolean): Promise<StoreUsage> {
    return storeUsage(await this.versions(include), by);
  }

  /**
   * Removes `modulePath@version` (removeVersion) and the module's remembered `list` and `@latest`
   * answers (asked afresh next time, so a version that cannot be fetched again is not listed), then
   * records the removal as `storage.delete` in `audit` before it resolves. InvalidPathError or
   * InvalidVersionError for what cannot be a stored version, NotFoundError when it is not stored.
   */
  async remove(modulePath: string, version: string, by: Remover, audit: Audit): Promise<Removal> {
    checkCanonical(modulePath, version);
    await this.options.beforeUse?.();
    const { storage } = this.options;
    const stats = await Promise.all((['info', 'mod', 'zip'] as const).map(async (file) => ((await storage.stat(storageKey(modulePath, file, version))) === null ? null : file)));
    const files = stats.filter((file): file is CountedFile => file !== null);
    if (files.length === 0) throw new NotFoundError(`${modulePath}@${version} is not stored`);
    const bytes = await removeVersion(storage, modulePath, version);
    await Promise.all([storage.delete(storageKey(modulePath, 'list')), storage.delete(storageKey(modulePath, 'latest'))]);
    await audit.record({ action: 'storage.delete', ...by, target: `${modulePath}@${version}`, outcome: 'ok', detail: { files: files.join(' '), bytes } });
    return { path: modulePath, version, files, bytes };
  }
}

/** The versions grouped `by` module or origin, largest first (then by name), with the totals. */
export function storeUsage(versions: readonly StoredVersionSummary[], by: UsageBy): StoreUsage {
  const groups = new Map<string, UsageRow>();
  const modules = new Set<string>();
  let bytes = 0;
  for (const v of versions) {
    const name = by === 'module' ? v.path : v.origin;
    let row = groups.get(name);
    if (row === undefined) groups.set(name, (row = { name, versions: 0, bytes: 0 }));
    row.versions++;
    row.bytes += v.bytes;
    modules.add(v.path);
    bytes += v.bytes;
  }
  const rows = [...groups.values()].sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { by, rows, total: { modules: modules.size, versions: versions.length, bytes } };
}
