// Cold fetches in flight per principal. A cold fetch holds an upstream connection, a temp file and
// minutes of an origin's time; a principal that starts hundreds at once would take every upstream slot
// from everyone else, so each principal gets a few at a time and is told to come back for more.
import { ConfigError, GodepotError } from '../errors.js';

/** The principal already has its limit of cold fetches in flight; one may start once any ends. */
export class TooManyFetchesError extends GodepotError {
  readonly code = 'TOO_MANY_FETCHES';
  /** Fetches end in seconds; one second is soon enough to ask again. */
  readonly retryAfterSeconds = 1;
  constructor(readonly limit: number) {
    super(`too many modules being fetched for this client at once (at most ${limit}): retry when some are done`);
  }
}

/**
 * Cold fetches one principal may have in flight. The go command asks for at most GOMAXPROCS modules at
 * a time (its module loader's and `go mod download`'s queues), 2 to 64 on the machines it runs on, and
 * does not retry a 429, so a single build must never meet the cap; 64 lets the largest build through
 * and leaves a CI farm behind one address (many builds, one key) a share, not the whole upstream.
 */
export const COLD_FETCHES_PER_PRINCIPAL = 64;

/** Counts what each key has in flight; only keys with something in flight are held, so memory follows the work. */
export class ConcurrencyCap {
  private readonly inFlight = new Map<string, number>();

  /** Throws ConfigError for a limit that is not a positive integer. */
  constructor(readonly limit: number = COLD_FETCHES_PER_PRINCIPAL) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new ConfigError(`concurrency cap: limit must be a positive integer, not ${limit}`);
  }

  /** How many keys have something in flight. */
  get size(): number {
    return this.inFlight.size;
  }

  /**
   * Takes one of `key`'s places; returns the function that gives it back (once: calling it again does
   * nothing). Throws TooManyFetchesError when `key` has `limit` in flight.
   */
  acquire(key: string): () => void {
    const n = this.inFlight.get(key) ?? 0;
    if (n >= this.limit) throw new TooManyFetchesError(this.limit);
    this.inFlight.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.inFlight.get(key)! - 1;
      if (left === 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
    };
  }
}
