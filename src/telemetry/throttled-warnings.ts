import type { Logger } from 'pino';

/**
 * Warnings about a lasting condition (an upstream that is down, answered from storage meanwhile),
 * logged at most once per key per interval: while the condition lasts every request meets it, and a
 * line per request buries everything else. The line after a quiet spell says how many it stood for.
 */
export class ThrottledWarnings {
  private readonly seen = new Map<string, { at: number; repeats: number }>();
  private lastSweep: number;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now();
  }

  /** Logs `msg` with `fields` unless `key` was logged less than the interval ago; then only counts it. */
  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.now();
    this.sweep(now);
    const last = this.seen.get(key);
    if (last !== undefined && now - last.at < this.intervalMs) {
      last.repeats++;
      return;
    }
    this.seen.set(key, { at: now, repeats: 0 });
    this.logger.warn(last !== undefined && last.repeats > 0 ? { ...fields, repeats: last.repeats } : fields, msg);
  }

  // Keys last logged two intervals ago are forgotten, their uncounted repeats with them (the condition
  // is most likely over): a long outage over many modules holds an entry per module met lately, not
  // per module ever met.
  private sweep(now: number): void {
    if (now - this.lastSweep < this.intervalMs) return;
    this.lastSweep = now;
    for (const [key, entry] of this.seen) if (now - entry.at >= 2 * this.intervalMs) this.seen.delete(key);
  }
}
