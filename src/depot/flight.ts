import { abortable } from '../abortable.js';

/**
 * What every new run of a Flight goes through before it starts, such as a lease shared by several
 * processes serving one storage (LeaseClient in cross-process-flight.ts): a run for a key then waits
 * while another process runs one, and finds its result stored.
 */
export interface RunLease {
  /** The outcome of `fetch`, run once the lease on `key` is held. */
  hold<R>(key: string, fetch: () => Promise<R>): Promise<R>;
}

/**
 * Single-flight: at most one run of a fetch per key at a time. Callers that arrive while a run is under
 * way wait for it and share its outcome instead of fetching again (Athens' with_singleflight). A
 * caller's signal ends only that caller's wait: the shared run goes on for the others and for the
 * cache, so a client that goes away never cancels a download another client needs.
 */
export class Flight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** `lease`, when given, is held around every new run (beyond this process); by default runs start at once. */
  constructor(private readonly lease?: RunLease) {}

  /**
   * The outcome of `fetch` for `key`: a new run, or the one under way (then `onJoin` is called first).
   * Rejects with the signal's reason when `signal` aborts before the outcome is known.
   */
  run(key: string, fetch: () => Promise<T>, options: { signal?: AbortSignal | undefined; onJoin?: () => void } = {}): Promise<T> {
    const { signal } = options;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    let shared = this.running.get(key);
    if (shared === undefined) {
      // A fetch that throws at once is a failed run like any other.
      const started = this.lease === undefined ? (async () => fetch())() : this.lease.hold(key, async () => fetch());
      shared = started.finally(() => this.running.delete(key));
      this.running.set(key, shared);
    } else {
      options.onJoin?.();
    }
    return abortable(shared, signal);
  }

  /** True while a run for `key` is under way. */
  has(key: string): boolean {
    return this.running.has(key);
  }

  /** How many runs are under way. */
  get size(): number {
    return this.running.size;
  }

  /** Resolves once no run is under way, those started meanwhile included; it never rejects. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled(this.running.values());
  }
}
