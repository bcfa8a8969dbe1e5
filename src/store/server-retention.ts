// Retention as the server runs it: every `gc-schedule` interval, and when a quota needs room
// (`gc-on-full`). One run at a time, with the pins read afresh each time, and the last run's time kept
// in the storage, so that a server restarted more often than its interval still runs on time.
import type { Logger } from 'pino';
import type { Audit, AuditActor } from '../audit/audit.js';
import { readStored } from '../storage/read-stored.js';
import type { Storage } from '../storage/storage.js';
import { readPins } from './pins.js';
import { recordsPrefix } from './records.js';
import type { Pins, RetentionPolicy } from './retention.js';
import { describePolicy, runRetention, type RetentionReport } from './run-retention.js';

/** The record of the last scheduled run's end: its time, as RFC 3339 text. */
export const lastRunKey = `${recordsPrefix}/retention/last-run`;

/** Why the server runs retention, as its log and the audit log name it. */
export type RetentionReason = 'gc-schedule' | 'gc-on-full';

export interface ServerRetentionOptions {
  storage: Storage;
  policy: RetentionPolicy;
  /** gc.keep: go.sum files, project folders and bundles, read before each run. */
  keep: readonly string[];
  audit: Audit;
  logger: Logger;
  /** Called before each run: what the run should see is written (the last-download times noted in memory). */
  beforeRun?: () => Promise<void>;
  /** Told of each version removed, so that the server forgets what it remembers of it. */
  removed?: (modulePath: string, version: string) => void;
  now?: () => Date;
}

// setTimeout holds at most this many milliseconds; a longer wait is taken in parts.
const maxTimer = 2 ** 31 - 1;

/** The server's retention runs. */
export class ServerRetention {
  /** The last run asked for: runs go one after the other, never two at once over the same versions. */
  private queue: Promise<unknown> = Promise.resolve();
  private running: Promise<RetentionReport | null> | null = null;
  /** The scheduled run under way, its record included. */
  private tick: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => Date;

  constructor(private readonly options: ServerRetentionOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Runs retention once, or joins the run under way. Never rejects: a run that fails (its pins cannot
   * be read, a removal fails) is logged and resolves null; without its pins, nothing is removed.
   */
  run(reason: RetentionReason): Promise<RetentionReport | null> {
    this.running ??= this.serially(() => this.runOnce(reason)).finally(() => (this.running = null));
    return this.running;
  }

  /**
   * Runs retention as an admin asks (POST /admin/gc): with the conditions asked, the pins sent beside
   * the server's own (gc.keep), as the admin `by`, after any run under way. Rejects with what failed.
   */
  runAsked(asked: { policy: RetentionPolicy; pins: Pins; dryRun: boolean }, by: { actor: AuditActor; from: string }): Promise<RetentionReport> {
    return this.serially(async () => {
      await this.options.beforeRun?.();
      const pins = new Set([...asked.pins, ...(await readPins(this.options.keep, 'gc.keep'))]);
      const { storage, audit } = this.options;
      const now = this.now();
      if (asked.dryRun) return runRetention({ storage, policy: asked.policy, pins, now, dryRun: true });
      return runRetention({ storage, policy: asked.policy, pins, now, dryRun: false, audit, by, removed: this.options.removed });
    });
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs every `intervalMs`, counted from the last scheduled run's end as the storage records it (from
   * now when none is recorded). A run overdue is run at once.
   */
  async start(intervalMs: number): Promise<void> {
    const last = await readStored(this.options.storage, lastRunKey).catch(() => null);
    const lastTime = last === null ? NaN : new Date(last.toString('utf8')).getTime();
    const from = Number.isNaN(lastTime) ? this.now().getTime() : lastTime;
    if (Number.isNaN(lastTime)) await this.recordRun();
    this.scheduleAt(from + intervalMs, intervalMs);
  }

  /** Stops the schedule and waits for a run under way. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.all([this.queue, this.tick]);
  }

  private scheduleAt(due: number, intervalMs: number): void {
    if (this.closed) return;
    const wait = due - this.now().getTime();
    this.timer = setTimeout(
      () => {
        if (this.now().getTime() < due) return this.scheduleAt(due, intervalMs);
        this.tick = this.run('gc-schedule')
          .then(() => this.recordRun())
          .finally(() => {
            this.tick = null;
            this.scheduleAt(this.now().getTime() + intervalMs, intervalMs);
          });
      },
      Math.min(Math.max(wait, 0), maxTimer),
    );
    this.timer.unref();
  }

  private async recordRun(): Promise<void> {
    await this.options.storage.put(lastRunKey, Buffer.from(this.now().toISOString())).catch((err: unknown) => {
      this.options.logger.warn({ err }, 'could not record the time of the retention run: the next one counts from this start');
    });
  }

  private async runOnce(reason: RetentionReason): Promise<RetentionReport | null> {
    const { storage, policy, keep, audit, logger } = this.options;
    const started = Date.now();
    try {
      await this.options.beforeRun?.();
      const pins = await readPins(keep, 'gc.keep');
      const report = await runRetention({ storage, policy, pins, now: this.now(), dryRun: false, audit, by: { actor: `serve:${reason}`, from: 'serve' }, removed: this.options.removed });
      logger.info({ reason, policy: describePolicy(policy), pinned: pins.size, removed: report.removals.length, bytes: report.bytes, ms: Date.now() - started }, 'retention ran');
      return report;
    } catch (err) {
      logger.error({ err, reason }, 'retention failed; what it removed before is recorded in the audit log');
      return null;
    }
  }
}
