import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { COLD_FETCHES_PER_PRINCIPAL, ConcurrencyCap, TooManyFetchesError } from './concurrency-cap.js';

describe('ConcurrencyCap', () => {
  it('lets a key have `limit` in flight, refuses the next, and takes one again once one is released', () => {
    const cap = new ConcurrencyCap(3);
    const releases = [cap.acquire('a'), cap.acquire('a'), cap.acquire('a')];
    assert.throws(() => cap.acquire('a'), (err: unknown) => err instanceof TooManyFetchesError && err.limit === 3 && err.retryAfterSeconds === 1);
    // Other keys are not affected.
    const other = cap.acquire('b');
    releases[1]!();
    const again = cap.acquire('a');
    assert.throws(() => cap.acquire('a'), TooManyFetchesError);
    again();
    other();
  });

  it('a release called twice gives back one place, not two', () => {
    const cap = new ConcurrencyCap(2);
    const first = cap.acquire('a');
    cap.acquire('a');
    first();
    first();
    cap.acquire('a');
    assert.throws(() => cap.acquire('a'), TooManyFetchesError);
  });

  it('holds only keys with something in flight', () => {
    const cap = new ConcurrencyCap(1);
    for (let i = 0; i < 10_000; i++) cap.acquire(`10.0.${i >> 8}.${i & 255}`)();
    assert.equal(cap.size, 0);
    const release = cap.acquire('a');
    assert.equal(cap.size, 1);
    release();
    assert.equal(cap.size, 0);
  });

  it('refuses a limit that is not a positive integer', () => {
    for (const limit of [0, -1, 1.5, Number.NaN, Infinity]) assert.throws(() => new ConcurrencyCap(limit), ConfigError, String(limit));
    assert.equal(new ConcurrencyCap().limit, COLD_FETCHES_PER_PRINCIPAL);
  });
});
