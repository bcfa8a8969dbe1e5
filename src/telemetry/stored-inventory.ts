// The figures of what the storage holds (modules, versions, bytes) for /metrics, kept as storage is
// written, so that a scrape reads three numbers instead of walking a store of a million files.
import { Gauge, type Registry } from 'prom-client';
import type { Storage } from '../storage/storage.js';
import type { StorageWatcher } from '../storage/watched-storage.js';
import { countedFileOf, type CountedFile } from '../store/records.js';
import type { StoredBytes } from '../store/storage-quota.js';

/** Sizes of one version's counted files; -1 while a file is absent. */
type VersionSizes = Record<CountedFile, number>;

// Walked with this many stats at a time: quick on a local disk, without a burst of thousands of handles.
const walkConcurrency = 16;

/**
 * The storage's module versions and their bytes. A version counts once any of its `.info`, `.mod` or
 * `.zip` is stored (go stores only the `.mod` of the modules of a build it does not compile); its bytes
 * are the sizes of those three files (not the `.ziphash`, nor `list`, `@latest` or checksum database
 * records). A module counts while it has a version. Fed by the storage's writes (stored, removed) and
 * once at start by walk(); a key told of twice is counted once, with its last size.
 */
export class StoredInventory implements StorageWatcher, StoredBytes {
  /** Escaped module path → escaped version → sizes. */
  private readonly moduleVersions = new Map<string, Map<string, VersionSizes>>();
  private versionCount = 0;
  private byteCount = 0;
  private readonly listeners: Array<() => void> = [];
  private walked!: () => void;
  /** Resolves once a walk has ended, counted or failed: from then on the figures are the storage's, not the part walked so far. */
  readonly counted = new Promise<void>((resolve) => (this.walked = resolve));

  /** Calls `listener` after every change of the figures (a quota's workers are told of each). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Modules with at least one stored version. */
  get modules(): number {
    return this.moduleVersions.size;
  }

  get versions(): number {
    return this.versionCount;
  }

  /** Bytes of the versions' `.info`, `.mod` and `.zip` files. */
  get bytes(): number {
    return this.byteCount;
  }

  stored(key: string, size: number): void {
    const file = countedFileOf(key);
    if (file === null) return;
    let versions = this.moduleVersions.get(file.module);
    if (versions === undefined) this.moduleVersions.set(file.module, (versions = new Map()));
    let sizes = versions.get(file.version);
    if (sizes === undefined) {
      versions.set(file.version, (sizes = { info: -1, mod: -1, zip: -1 }));
      this.versionCount++;
    }
    this.byteCount += size - Math.max(sizes[file.file], 0);
    sizes[file.file] = size;
    this.changed();
  }

  removed(key: string): void {
    const file = countedFileOf(key);
    if (file === null) return;
    const versions = this.moduleVersions.get(file.module);
    const sizes = versions?.get(file.version);
    if (versions === undefined || sizes === undefined || sizes[file.file] < 0) return;
    this.byteCount -= sizes[file.file];
    sizes[file.file] = -1;
    if (sizes.info < 0 && sizes.mod < 0 && sizes.zip < 0) {
      versions.delete(file.version);
      this.versionCount--;
      if (versions.size === 0) this.moduleVersions.delete(file.module);
    }
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /**
   * Counts every version file `storage` holds (a stat each), from `listing` when given (every key of
   * the storage, listed by the caller for others too). Writes told meanwhile are kept: a key stored
   * since the walk listed it is stat'ed as it is now, one removed since is absent.
   */
  async walk(storage: Storage, listing: Promise<readonly string[]> = storage.list('')): Promise<void> {
    try {
      const keys = (await listing).filter((key) => countedFileOf(key) !== null);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < keys.length) {
          const key = keys[next++]!;
          const object = await storage.stat(key);
          if (object !== null) this.stored(key, object.size);
        }
      };
      await Promise.all(Array.from({ length: walkConcurrency }, worker));
    } finally {
      this.walked();
      this.changed();
    }
  }
}

/**
 * Registers `godepot_stored_modules`, `godepot_stored_versions` and `godepot_stored_bytes` on
 * `registry`, read from `inventory` at each scrape. Under --workers only the primary registers them
 * (the workers tell it their writes), so each figure comes from one process and adds up to itself.
 */
export function registerStoredGauges(registry: Registry, inventory: StoredInventory): void {
  const registers = [registry];
  new Gauge({
    name: 'godepot_stored_modules',
    help: 'Modules with at least one version in storage',
    registers,
    collect() {
      this.set(inventory.modules);
    },
  });
  new Gauge({
    name: 'godepot_stored_versions',
    help: 'Module versions with a .info, .mod or .zip in storage',
    registers,
    collect() {
      this.set(inventory.versions);
    },
  });
  new Gauge({
    name: 'godepot_stored_bytes',
    help: 'Bytes of the .info, .mod and .zip files of the stored versions',
    registers,
    collect() {
      this.set(inventory.bytes);
    },
  });
}
