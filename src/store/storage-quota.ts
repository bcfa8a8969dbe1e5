// `--max-storage`: a limit on the bytes of the stored module versions, counted as the stored figures of
// /metrics count them (StoredInventory), so that the limit, the gauge and `storage du` agree.
import { Gauge, type Registry } from 'prom-client';
import { formatSize } from '../bundle/list.js';
import { StorageQuotaError } from '../errors.js';

/** The bytes of the stored versions (their `.info`, `.mod` and `.zip`), as StoredInventory counts them. */
export interface StoredBytes {
  readonly bytes: number;
  /** Resolves once the storage has been counted whole; until then `bytes` is a part. */
  readonly counted: Promise<void>;
}

/** Where a quota stands. */
export interface QuotaState {
  limit: number;
  /** Bytes stored. */
  used: number;
  /** `used` as a percentage of `limit`. */
  percent: number;
  /** Above the warning percentage. */
  warning: boolean;
  /** At the limit: new versions are refused. */
  full: boolean;
}

export interface StorageQuotaOptions {
  /** `max-storage`, in bytes. */
  limit: number;
  /** `storage-warning`: the percentage of the limit above which the quota warns. */
  warningPercent: number;
  usage: StoredBytes;
  /**
   * Makes room before a write is refused (`gc-on-full`: retention); the figure is read again after it.
   * Runs at most once per `makeRoomEveryMs`: at the limit every new module would otherwise run it again.
   */
  makeRoom?: () => Promise<void>;
  /** Default one minute. */
  makeRoomEveryMs?: number;
  now?: () => number;
}

/**
 * The limit, and the writes under way against it: a write reserves its bytes until the storage has
 * counted them, so that writes at once cannot pass the limit together.
 */
export class StorageQuota {
  private reserved = 0;
  private roomMade: { at: number; run: Promise<void> } | null = null;
  private readonly now: () => number;

  constructor(private readonly options: StorageQuotaOptions) {
    this.now = options.now ?? Date.now;
  }

  get limit(): number {
    return this.options.limit;
  }

  state(): QuotaState {
    const { limit, warningPercent, usage } = this.options;
    const used = usage.bytes;
    const percent = (used / limit) * 100;
    return { limit, used, percent, warning: percent > warningPercent, full: used >= limit };
  }

  /**
   * Reserves `bytes` for a write of new version files, once the storage has been counted; the returned
   * function releases them once the write has ended (stored or not). Throws StorageQuotaError when they
   * do not fit under the limit, even after makeRoom.
   */
  async reserve(bytes: number): Promise<() => void> {
    await this.options.usage.counted;
    if (!this.fits(bytes) && this.options.makeRoom !== undefined) {
      await this.makeRoom();
      if (!this.fits(bytes)) throw this.refusal(bytes, ' (gc-on-full: retention freed too little)');
    }
    if (!this.fits(bytes)) throw this.refusal(bytes, '');
    this.reserved += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved -= bytes;
    };
  }

  // At the limit nothing more fits, not even a write of unknown size (counted as 0).
  private fits(bytes: number): boolean {
    const taken = this.options.usage.bytes + this.reserved;
    return taken < this.options.limit && taken + bytes <= this.options.limit;
  }

  private makeRoom(): Promise<void> {
    const every = this.options.makeRoomEveryMs ?? 60_000;
    if (this.roomMade === null || this.now() - this.roomMade.at >= every) {
      this.roomMade = { at: this.now(), run: this.options.makeRoom!() };
    }
    return this.roomMade.run;
  }

  private refusal(bytes: number, why: string): StorageQuotaError {
    const { limit } = this.options;
    const used = this.options.usage.bytes;
    const size = bytes > 0 ? ` of ${formatSize(bytes)}` : '';
    return new StorageQuotaError(
      `storage quota reached: ${formatSize(used)} stored of max-storage ${formatSize(limit)} (${limit} bytes); a new module${size} cannot be stored${why}. ` +
        'Stored modules are still served; raise max-storage, or remove versions with godepot storage gc',
    );
  }
}

/**
 * Registers `godepot_storage_limit_bytes` (max-storage) and `godepot_storage_warning` (1 above
 * storage-warning, else 0) on `registry`, read at each scrape; beside godepot_stored_bytes, where the
 * figures are kept (under --workers, the primary).
 */
export function registerQuotaGauges(registry: Registry, quota: StorageQuota): void {
  const registers = [registry];
  new Gauge({
    name: 'godepot_storage_limit_bytes',
    help: 'The most bytes the stored versions may take (max-storage)',
    registers,
    collect() {
      this.set(quota.limit);
    },
  });
  new Gauge({
    name: 'godepot_storage_warning',
    help: 'Whether the stored versions take more of max-storage than storage-warning allows (1) or not (0)',
    registers,
    collect() {
      this.set(quota.state().warning ? 1 : 0);
    },
  });
}
