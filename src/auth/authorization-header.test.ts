import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenOfAuthorization } from './authorization-header.js';
import { CredentialsRefusedError } from './errors.js';

const token = `gdp_0123456789abcdef_${'A'.repeat(42)}w`;
const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;

test('Bearer carries the token; the scheme is case-insensitive', () => {
  assert.equal(tokenOfAuthorization(`Bearer ${token}`), token);
  assert.equal(tokenOfAuthorization(`bearer ${token}`), token);
});

test('Basic carries the token as the password, with any user name, even an empty one or one with no colon of its own', () => {
  assert.equal(tokenOfAuthorization(basic(`ci:${token}`)), token);
  assert.equal(tokenOfAuthorization(basic(`:${token}`)), token);
  assert.equal(tokenOfAuthorization(`BASIC ${Buffer.from(`x:${token}`).toString('base64')}`), token);
  // The first colon ends the user name; what follows is the password as given.
  assert.equal(tokenOfAuthorization(basic('user:pa:ss')), 'pa:ss');
});

test('other schemes, bad base64, a missing colon, extra spaces and huge headers are refused without quoting the header', () => {
  const secret = 'SECRETSECRET';
  const bad = [
    secret,
    `Bearer`,
    `Bearer `,
    `Bearer  ${secret}`,
    `Bearer ${secret} x`,
    ` Bearer ${secret}`,
    `Token ${secret}`,
    `Digest username="${secret}"`,
    'Basic !!!!',
    'Basic abc',
    // Padding in the middle, and base64 with whitespace inside, that Buffer would decode regardless.
    `Basic ${Buffer.from(`user:${secret}`).toString('base64').replace(/^..../, '$&=')}`,
    `Basic ${Buffer.from(`user:${secret}`).toString('base64').replace(/^..../, '$&\t')}`,
    basic(secret),
    `Bearer ${secret}${'x'.repeat(400)}`,
    `Basic ${'A'.repeat(1_000_000)}`,
  ];
  for (const header of bad) {
    assert.throws(
      () => tokenOfAuthorization(header),
      (err) => err instanceof CredentialsRefusedError && !err.message.includes(secret) && !err.message.includes('AAAA'),
      header.slice(0, 40),
    );
  }
});
