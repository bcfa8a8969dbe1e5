import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors.js';
import { parseExpiry } from './expiry.js';

const now = new Date('2026-03-01T12:00:00Z');

test('durations count from now in minutes, hours and days', () => {
  assert.equal(parseExpiry('30m', now).toISOString(), '2026-03-01T12:30:00.000Z');
  assert.equal(parseExpiry('12h', now).toISOString(), '2026-03-02T00:00:00.000Z');
  assert.equal(parseExpiry('90d', now).toISOString(), '2026-05-30T12:00:00.000Z');
});

test('RFC 3339 times with an offset name their instant', () => {
  assert.equal(parseExpiry('2027-01-31T18:00:00Z', now).toISOString(), '2027-01-31T18:00:00.000Z');
  assert.equal(parseExpiry('2027-01-31T18:00:00.5+02:00', now).toISOString(), '2027-01-31T16:00:00.500Z');
  assert.equal(parseExpiry('2027-01-31t18:00:00z', now).toISOString(), '2027-01-31T18:00:00.000Z');
});

test('junk, times without an offset, impossible dates and past times are ConfigErrors', () => {
  for (const text of ['', '90', 'd', '0d', '-1d', '1.5h', '90D', '2w', '1234567d', 'tomorrow', '2027-01-31', '2027-01-31T18:00:00', '2027-01-31 18:00:00Z', '2027-02-30T00:00:00Z', '2027-13-01T00:00:00Z', '2027-01-31T24:00:00Z']) {
    assert.throws(() => parseExpiry(text, now), (err) => err instanceof ConfigError && /--expires/.test(err.message), text);
  }
  assert.throws(() => parseExpiry('2026-03-01T12:00:00Z', now), /that time has passed/);
  assert.throws(() => parseExpiry('2020-01-01T00:00:00Z', now), /that time has passed/);
});
