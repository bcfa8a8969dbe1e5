import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { ANONYMOUS_RATE_LIMIT, RateLimiter, TOKEN_RATE_LIMIT } from './rate-limiter.js';

/** How many of `count` requests at time `now` the limiter lets through. */
function takeMany(limiter: RateLimiter, key: string, count: number, now: number): number {
  let ok = 0;
  for (let i = 0; i < count; i++) if (limiter.take(key, now).ok) ok++;
  return ok;
}

describe('RateLimiter', () => {
  it('lets a burst through at once, then refuses with the seconds until the next token', () => {
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 5 });
    assert.equal(takeMany(limiter, 'a', 5, 0), 5);
    assert.deepEqual(limiter.take('a', 0), { ok: false, retryAfterSeconds: 1 });
    const slow = new RateLimiter({ ratePerSecond: 0.1, burst: 1 });
    assert.ok(slow.take('a', 0).ok);
    assert.deepEqual(slow.take('a', 0), { ok: false, retryAfterSeconds: 10 });
    assert.deepEqual(slow.take('a', 4000), { ok: false, retryAfterSeconds: 6 });
  });

  it('refills at its rate and never above its burst', () => {
    const limiter = new RateLimiter({ ratePerSecond: 10, burst: 20 });
    assert.equal(takeMany(limiter, 'a', 100, 0), 20);
    // Half a second: five tokens.
    assert.equal(takeMany(limiter, 'a', 100, 500), 5);
    // An hour of quiet fills the bucket to its burst, not beyond.
    assert.equal(takeMany(limiter, 'a', 100, 3_600_500), 20);
  });

  it('holds a steady client to its rate', () => {
    const limiter = new RateLimiter({ ratePerSecond: 50, burst: 10 });
    let ok = 0;
    // 100 requests a second for 10 s.
    for (let ms = 0; ms < 10_000; ms += 10) if (limiter.take('a', ms).ok) ok++;
    assert.ok(ok >= 500 && ok <= 510, `${ok} let through`);
  });

  it('keeps keys apart', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 3 });
    assert.equal(takeMany(limiter, '192.0.2.1', 10, 0), 3);
    assert.equal(takeMany(limiter, '192.0.2.2', 10, 0), 3);
    assert.equal(takeMany(limiter, 'token:ci', 10, 0), 3);
  });

  it('a clock going back takes nothing away and gives nothing', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2 });
    assert.equal(takeMany(limiter, 'a', 2, 10_000), 2);
    assert.equal(limiter.take('a', 0).ok, false);
    assert.equal(takeMany(limiter, 'a', 5, 11_000), 1);
  });

  it('a flood of distinct keys keeps at most maxKeys buckets', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1 }, { maxKeys: 1000 });
    for (let i = 0; i < 200_000; i++) limiter.take(`10.${i >>> 16}.${(i >>> 8) & 255}.${i & 255}`, i);
    assert.equal(limiter.size, 1000);
  });

  it('evicts the least recently used bucket, so an active key keeps its debt through a flood', () => {
    const limiter = new RateLimiter({ ratePerSecond: 0.001, burst: 1 }, { maxKeys: 100 });
    assert.ok(limiter.take('busy', 0).ok);
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`flood-${i}`, 0);
      // The busy client keeps asking, and stays refused: its bucket is never the oldest.
      if (i % 50 === 0) assert.equal(limiter.take('busy', 0).ok, false, `after ${i} flood keys`);
    }
    assert.equal(limiter.size, 100);
  });

  it('refuses settings that would refuse everything or nothing', () => {
    for (const limit of [
      { ratePerSecond: 0, burst: 10 },
      { ratePerSecond: -1, burst: 10 },
      { ratePerSecond: Number.NaN, burst: 10 },
      { ratePerSecond: Infinity, burst: 10 },
      { ratePerSecond: 10, burst: 0.5 },
      { ratePerSecond: 10, burst: Infinity },
    ]) {
      assert.throws(() => new RateLimiter(limit), ConfigError, JSON.stringify(limit));
    }
    assert.throws(() => new RateLimiter({ ratePerSecond: 1, burst: 1 }, { maxKeys: 0 }), ConfigError);
  });

  it('the defaults let a CI farm of ten cold builds of a 300-module project through one address', () => {
    // About 2,000 requests per build, all within a second.
    const perBuild = 2000;
    for (const limit of [ANONYMOUS_RATE_LIMIT, TOKEN_RATE_LIMIT]) {
      const limiter = new RateLimiter(limit);
      assert.equal(takeMany(limiter, 'nat', 10 * perBuild, 0), 10 * perBuild);
      // And then a build every four seconds, indefinitely.
      for (let s = 4; s <= 60; s += 4) assert.equal(takeMany(limiter, 'nat', perBuild, s * 1000), perBuild, `build at ${s} s`);
    }
  });
});
