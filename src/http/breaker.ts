// A circuit breaker per upstream host. An upstream that accepts connections and never answers costs
// every request the whole timeout, and the requests behind them in the pool even more; once such a
// failure is seen, godepot stops asking and fails at once (the depot then answers from storage), and a
// probe in the background finds out when the host is back. Artifactory's "assumed offline" period and
// the checksum passthrough's memory of an unreachable database do the same.
import type { Logger } from 'pino';
import { UpstreamError } from '../errors.js';

/**
 * A request to an upstream considered down, failed without being sent. An UpstreamError (a 502, and
 * an origin failure to the depot, which then serves what storage holds).
 */
export class UpstreamDownError extends UpstreamError {
  constructor(
    /** The upstream, as its breaker names it. */
    readonly upstream: string,
    /** When it was found down. */
    readonly since: Date,
    reason: string,
  ) {
    super(`upstream ${upstream} considered down since ${since.toISOString()} (${reason}); it is probed in the background`);
  }
}

/** How a Breaker names its upstream, checks on it, and tells about it. */
export interface BreakerOptions {
  /** The upstream in logs and error messages (`https://proxy.golang.org`). */
  name: string;
  /** One cheap request to the upstream: resolves when it answered (below 500), rejects otherwise. */
  probe: (signal: AbortSignal) => Promise<void>;
  /** Delay before the first probe after a failure. Default 2 s. */
  firstProbeMs?: number;
  /** Each later probe waits twice as long as the one before, up to this. Default 30 s. */
  maxProbeMs?: number;
  logger?: Logger;
  /** Called on each change of state: false when the upstream is found down, true when it is back. */
  onChange?: (up: boolean) => void;
}

/**
 * Whether one upstream is up. failed() (a failure that says the host is down) opens it: check() then
 * throws UpstreamDownError, the requests waiting for an answer are failed too, and the upstream is
 * probed after firstProbeMs, then with doubling delays up to maxProbeMs, until a probe or any request
 * still under way gets an answer (answered()). Each change is logged once. close() stops the probes.
 */
export class Breaker {
  private readonly options: BreakerOptions;
  private down: { since: Date; reason: string } | null = null;
  private readonly waiting = new Set<(err: UpstreamDownError) => void>();
  private timer: NodeJS.Timeout | undefined;
  private probing: AbortController | undefined;
  private closed = false;
  /** When the upstream last showed it was there (an answer, body bytes), as performance.now(). */
  private lastHeard = -Infinity;

  constructor(options: BreakerOptions) {
    this.options = options;
  }

  /** True unless the upstream is considered down. */
  get up(): boolean {
    return this.down === null;
  }

  /** Throws UpstreamDownError while the upstream is considered down. */
  check(): void {
    if (this.down !== null) throw this.error();
  }

  /**
   * Registers a request waiting for the upstream's answer: `fail` is called with UpstreamDownError
   * should the upstream be found down meanwhile. Returns the function that unregisters it.
   */
  watch(fail: (err: UpstreamDownError) => void): () => void {
    this.waiting.add(fail);
    return () => void this.waiting.delete(fail);
  }

  /**
   * A failure that says the upstream is down (no connection, no answer in time): opens the breaker,
   * unless the upstream was heard from after `waitingSince` (performance.now()): a request that had no
   * answer in time while others had theirs, or were receiving bodies, waited in line for a connection
   * to a busy host, not for a dead one.
   */
  failed(err: Error, waitingSince = Infinity): void {
    if (this.closed || this.down !== null || this.lastHeard > waitingSince) return;
    this.down = { since: new Date(), reason: err.message };
    this.options.logger?.warn({ origin: this.options.name, err: err.message }, 'upstream considered down');
    this.options.onChange?.(false);
    const down = this.error();
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const fail of waiting) fail(down);
    this.schedule(this.options.firstProbeMs ?? 2000);
  }

  /** Bytes of a body arrived: the upstream is there, however busy. */
  alive(): void {
    this.lastHeard = performance.now();
  }

  /** The upstream answered: closes the breaker if it was open. */
  answered(): void {
    this.lastHeard = performance.now();
    if (this.down === null) return;
    const downMs = Date.now() - this.down.since.getTime();
    this.down = null;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.probing?.abort();
    this.probing = undefined;
    this.options.logger?.info({ origin: this.options.name, downSeconds: Math.round(downMs / 100) / 10 }, 'upstream recovered');
    this.options.onChange?.(true);
  }

  /** Stops probing; the state no longer changes. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.probing?.abort();
    this.probing = undefined;
  }

  private error(): UpstreamDownError {
    return new UpstreamDownError(this.options.name, this.down!.since, this.down!.reason);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const probing = new AbortController();
      this.probing = probing;
      this.options.probe(probing.signal).then(
        () => {
          if (this.probing === probing) this.answered();
        },
        () => {
          if (this.probing !== probing) return;
          this.probing = undefined;
          this.schedule(Math.min(delayMs * 2, this.options.maxProbeMs ?? 30_000));
        },
      );
    }, delayMs);
    this.timer.unref();
  }
}
