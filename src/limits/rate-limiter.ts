// Request rates per principal (a token's name, or a client address for anonymous requests): a token
// bucket per key, refilled lazily from the time of its last use, so a call costs a map lookup and a
// little arithmetic, and no key ever owns a timer.
import { performance } from 'node:perf_hooks';
import { ConfigError, GodepotError } from '../errors.js';

/**
 * The principal asked faster than its rate allows, past its burst; asking again after
 * `retryAfterSeconds` succeeds (if it waited that long without asking).
 */
export class RateLimitedError extends GodepotError {
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number) {
    super(`rate limit exceeded: retry after ${retryAfterSeconds} s`);
  }
}

/** How fast one key may ask. */
export interface RateLimit {
  /** Requests per second a key may make for ever. */
  ratePerSecond: number;
  /** Requests a key that has been quiet may make at once (the bucket's size). */
  burst: number;
}

/*
 * The go command does not retry a 429: the module fails, and with it the build. So these limits are a
 * flood guard that no honest client meets, not a fair share. What an honest client does: a cold
 * `go mod download` of a 300-module project asks for list/.info/.mod/.zip, the go.mod of a graph about
 * twice as large, and the checksum database's lookups and tiles through the proxy: 1,500 to 2,000
 * requests, as fast as godepot answers (a cached answer takes a millisecond, and go asks GOMAXPROCS at
 * a time), so a burst of 2,000 in a second or two. A CI farm behind one NAT address is ten or twenty
 * such builds starting together.
 */

/**
 * One address, no token: a CI farm's ten builds starting at once (burst), then a build's worth every
 * four seconds for as long as it likes; a single script looping on the proxy meets the limit in seconds.
 */
export const ANONYMOUS_RATE_LIMIT: Readonly<RateLimit> = Object.freeze({ ratePerSecond: 500, burst: 20_000 });

/**
 * One token: tokens name a team's CI or a person, and may be shared by a farm bigger than one NAT
 * address shows; twice the anonymous allowance.
 */
export const TOKEN_RATE_LIMIT: Readonly<RateLimit> = Object.freeze({ ratePerSecond: 1_000, burst: 40_000 });

/**
 * Buckets kept at most. A bucket is a few dozen bytes besides its key, so this bounds the limiter to a
 * few MiB whatever the number of addresses asking.
 */
export const MAX_RATE_LIMITED_KEYS = 50_000;

/** The answer of RateLimiter.take. */
export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** performance.now() when `tokens` was last brought up to date. */
  at: number;
}

const allowed: RateDecision = Object.freeze({ ok: true });

/** Token buckets keyed by string, with at most `maxKeys` of them. Each call is O(1). */
export class RateLimiter {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  /** In order of last use, least recent first (a Map keeps insertion order; a used key is re-inserted). */
  private readonly buckets = new Map<string, Bucket>();

  /** Throws ConfigError for a rate or burst that is not positive, or a burst below one request. */
  constructor(limit: Readonly<RateLimit>, options: { maxKeys?: number } = {}) {
    if (!(limit.ratePerSecond > 0) || !Number.isFinite(limit.ratePerSecond)) throw new ConfigError(`rate limit: rate must be a positive number, not ${limit.ratePerSecond}`);
    if (!(limit.burst >= 1) || !Number.isFinite(limit.burst)) throw new ConfigError(`rate limit: burst must be at least 1, not ${limit.burst}`);
    this.perMs = limit.ratePerSecond / 1000;
    this.burst = limit.burst;
    this.maxKeys = options.maxKeys ?? MAX_RATE_LIMITED_KEYS;
    if (!(this.maxKeys >= 1)) throw new ConfigError(`rate limit: maxKeys must be at least 1, not ${this.maxKeys}`);
  }

  /** How many keys have a bucket now (at most maxKeys). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes one request from `key`'s bucket; `now` is a monotonic time in milliseconds (performance.now()
   * by default). A refused request takes nothing.
   */
  take(key: string, now: number = performance.now()): RateDecision {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.burst, at: now };
      // The least recently used bucket goes. When it has had time to fill up again (maxKeys new keys
      // took longer than burst/rate to come), it is the same as a new bucket and nothing is lost;
      // otherwise its key is forgiven what it owed, which a flood of fresh keys buys anyway.
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    } else {
      this.buckets.delete(key);
      // A clock that went back (a caller's `now`) never takes tokens away.
      if (now > bucket.at) {
        bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
        bucket.at = now;
      }
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return allowed;
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000)) };
  }
}
