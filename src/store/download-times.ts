// When each stored version was last downloaded, for retention (`--unused-for`) and `storage ls`. A
// request only notes the time in memory; the notes are written to storage in one batch per interval
// (and at close), one small record per version used in it, so a busy proxy does not write per request.
import type { Logger } from 'pino';
import { isStorableVersion } from '../depot/verify.js';
import type { Storage } from '../storage/storage.js';
import { recordsPrefix, versionRecordKey } from './records.js';
import { readStored } from '../storage/read-stored.js';

/** The prefix of the last-download records: `godepot/downloaded/<escaped path>/@v/<escaped version>`. */
export const downloadedPrefix = `${recordsPrefix}/downloaded`;

/** The key of a version's last-download record. */
export function downloadedKey(modulePath: string, version: string): string {
  return versionRecordKey(downloadedPrefix, modulePath, version);
}

// Records written at once by a flush: enough to keep a disk busy, not a burst of thousands of handles.
const flushConcurrency = 8;

export interface DownloadTimesOptions {
  storage: Storage;
  logger: Logger;
  /** How often noted times are written. Default one minute: the precision retention needs is days. */
  flushIntervalMs?: number;
  now?: () => Date;
}

/** Notes downloads of stored versions and writes them in batches. */
export class DownloadTimes {
  private pending = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly now: () => Date;

  constructor(private readonly options: DownloadTimesOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Notes that a file of `modulePath@version` was served now. Never waits. */
  downloaded(modulePath: string, version: string): void {
    // A query (`master`, `v1`) names no stored version: what it resolved to is not known here.
    if (!isStorableVersion(modulePath, version)) return;
    this.pending.set(downloadedKey(modulePath, version), this.now());
  }

  /** Starts writing the noted times every interval. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs ?? 60_000);
    this.timer.unref();
  }

  /** Writes every time noted so far; a record that cannot be written is noted again for the next flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  /** Stops the interval and writes what is noted. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async writePending(): Promise<void> {
    const batch = [...this.pending];
    this.pending = new Map();
    let next = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length) {
        const [key, time] = batch[next++]!;
        try {
          await this.options.storage.put(key, Buffer.from(time.toISOString()));
        } catch {
          failed++;
          // A newer note made meanwhile wins over the one that failed.
          if (!this.pending.has(key)) this.pending.set(key, time);
        }
      }
    };
    await Promise.all(Array.from({ length: flushConcurrency }, worker));
    if (failed > 0) this.options.logger.warn({ failed, of: batch.length }, 'last-download times not written; tried again at the next flush');
  }
}

/** The last download of `modulePath@version` as recorded, or null when none is (never downloaded since recording began). */
export async function readDownloadTime(storage: Storage, modulePath: string, version: string): Promise<Date | null> {
  return readDownloadRecord(storage, downloadedKey(modulePath, version));
}

/** The time a last-download record holds, or null when it is absent or unreadable (a torn record counts as none). */
export async function readDownloadRecord(storage: Storage, key: string): Promise<Date | null> {
  const body = await readStored(storage, key);
  if (body === null || body.length > 64) return null;
  const time = new Date(body.toString('utf8'));
  return Number.isNaN(time.getTime()) ? null : time;
}
