import { abortable } from '../abortable.js';

/**
 * Single-flight: at most one run of a fetch per key at a time. Callers that arrive while a run is under
 * way wait for it and share its outcome instead of fetching again (Athens' with_singleflight). A
 * caller's signal ends only that caller's wait: the shared run goes on for the others and for the
 * cache, so a client that goes away never cancels a download another client needs.
 */
export class Flight<T> {
  /**
   * What every new run of this process goes through before it starts: by default nothing. Several
   * processes serving one storage set it (once, at start) to a lease shared between them, so that a run
   * for a key waits while another process runs one and then finds its result stored.
   */
  static beyondProcess: <R>(key: string, fetch: () => Promise<R>) => Promise<R> = (_key, fetch) => fetch();

  private readonly running = new Map<string, Promise<T>>();

  /**
   * The outcome of `fetch` for `key`: a new run, or the one under way (then `onJoin` is called first).
   * Rejects with the signal's reason when `signal` aborts before the outcome is known.
   */
  run(key: string, fetch: () => Promise<T>, options: { signal?: AbortSignal | undefined; onJoin?: () => void } = {}): Promise<T> {
    const { signal } = options;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    let shared = this.running.get(key);
    if (shared === undefined) {
      const started = Flight.beyondProcess(key, async () => fetch());
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
}
