import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashSecret, newToken, parseToken, secretMatches, TOKEN_PREFIX } from './token-secret.js';

test('a new token is gdp_<16 hex>_<43 base64url> and parses back into its id and secret', () => {
  const made = newToken();
  assert.match(made.token, /^gdp_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  assert.ok(made.token.startsWith(TOKEN_PREFIX));
  assert.deepEqual(parseToken(made.token), { id: made.id, secret: made.secret });
  assert.notEqual(newToken().token, made.token);
});

test('anything else is not a token', () => {
  const { token } = newToken();
  for (const text of ['', token.slice(1), `${token}x`, token.replace('gdp_', 'gdq_'), token.toUpperCase(), `${token.slice(0, 63)}=`, ` ${token.slice(1)}`]) {
    assert.equal(parseToken(text), undefined, text);
  }
});

test('a secret matches its own salted hash only; the hash keeps its parameters and never the secret', () => {
  const { secret } = newToken();
  const stored = hashSecret(secret);
  assert.deepEqual(stored.params, { N: 1024, r: 8, p: 1, keylen: 32 });
  assert.ok(!JSON.stringify(stored).includes(secret));
  assert.ok(secretMatches(secret, stored));
  assert.ok(!secretMatches(newToken().secret, stored));
  // A salt per hash: the same secret hashes differently each time.
  assert.notEqual(hashSecret(secret).key, stored.key);
});
