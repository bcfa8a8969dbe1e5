import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ConfigError } from '../errors.js';
import { CredentialsRefusedError } from './errors.js';
import { parseRoleGrant } from './roles.js';
import { TokenFile } from './token-file.js';
import { scryptHash, type HashFunction } from './token-secret.js';
import { TokenStore, type TokenStoreOptions } from './token-store.js';

const exec = promisify(execFile);
const now = new Date('2026-03-01T12:00:00.000Z');

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-token-store-'));
});
after(() => rm(work, { recursive: true, force: true }));

let n = 0;
const fresh = (): string => join(work, `state-${n++}`, 'tokens.json');

/** A hash function that counts its calls. */
function counting(): { hash: HashFunction; calls: () => number } {
  let calls = 0;
  return {
    hash: (secret, salt, params) => {
      calls++;
      return scryptHash(secret, salt, params);
    },
    calls: () => calls,
  };
}

async function open(options: TokenStoreOptions): Promise<TokenStore> {
  const store = await TokenStore.open(options);
  after(() => store.close());
  return store;
}

const refusedAs = (pattern: RegExp) => (err: unknown) => err instanceof CredentialsRefusedError && pattern.test(err.message);

test('a stored token verifies to its name and roles; others are refused', async () => {
  const file = fresh();
  const { token } = await new TokenFile(file).create({ name: 'ci', roles: [parseRoleGrant('publish:example.com/x')], expires: null }, now);
  const store = await open({ file });
  const principal = store.verify(token);
  assert.equal(principal.name, 'ci');
  assert.equal(principal.anonymous, false);
  assert.deepEqual(principal.roles, [{ role: 'publish', pattern: 'example.com/x' }]);

  const unknownId = token.replace(/^gdp_.{16}/, 'gdp_0000000000000000');
  const wrongSecret = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  for (const bad of ['', 'x', unknownId, wrongSecret, `${token}x`, token.slice(0, -1)]) {
    assert.throws(() => store.verify(bad), refusedAs(/not valid/), bad);
  }
});

test('a verified token is remembered: the secret is hashed once, failures every time (an unknown id against a decoy)', async () => {
  const file = fresh();
  const { token } = await new TokenFile(file).create({ name: 'ci', roles: [parseRoleGrant('read')], expires: null }, now);
  const counter = counting();
  const store = await open({ file, hash: counter.hash });
  const base = counter.calls();
  store.verify(token);
  assert.equal(counter.calls(), base + 1);
  for (let i = 0; i < 100; i++) store.verify(token);
  assert.equal(counter.calls(), base + 1);

  const unknownId = token.replace(/^gdp_.{16}/, 'gdp_0000000000000000');
  const wrongSecret = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  assert.throws(() => store.verify(unknownId), CredentialsRefusedError);
  assert.throws(() => store.verify(unknownId), CredentialsRefusedError);
  assert.throws(() => store.verify(wrongSecret), CredentialsRefusedError);
  assert.equal(counter.calls(), base + 4);
});

test('the cache is bounded: past its size the oldest token is hashed again', async () => {
  const file = fresh();
  const tokens = new TokenFile(file);
  const made = [];
  for (const name of ['a', 'b', 'c']) made.push((await tokens.create({ name, roles: [parseRoleGrant('read')], expires: null }, now)).token);
  const counter = counting();
  const store = await open({ file, hash: counter.hash, cacheSize: 2 });
  const base = counter.calls();
  for (const token of made) store.verify(token);
  store.verify(made[2]!);
  store.verify(made[1]!);
  assert.equal(counter.calls(), base + 3);
  store.verify(made[0]!);
  assert.equal(counter.calls(), base + 4);
});

test('expiry is checked at every use, cached or not', async () => {
  const file = fresh();
  const expires = new Date(now.getTime() + 60_000);
  const { token } = await new TokenFile(file).create({ name: 'short', roles: [parseRoleGrant('read')], expires }, now);
  let clock = now.getTime();
  const store = await open({ file, now: () => clock });
  assert.equal(store.verify(token).name, 'short');
  clock = expires.getTime();
  assert.throws(() => store.verify(token), refusedAs(/expired/));
  clock = expires.getTime() - 1;
  assert.equal(store.verify(token).name, 'short');
});

test('a missing file holds no tokens; a corrupt one is a ConfigError at open', async () => {
  const store = await open({ file: fresh() });
  assert.throws(() => store.verify(`gdp_0000000000000000_${'A'.repeat(43)}`), CredentialsRefusedError);
  const file = fresh();
  await new TokenFile(file).create({ name: 'a', roles: [parseRoleGrant('read')], expires: null }, now);
  await writeFile(file, '{"format":');
  await assert.rejects(TokenStore.open({ file }), (err) => err instanceof ConfigError && err.message.includes(file));
});

test('a revoke by another process takes effect within two seconds, by watch or by poll', async () => {
  for (const pollMs of [1000, 60_000]) {
    const file = fresh();
    const tokens = new TokenFile(file);
    const { token } = await tokens.create({ name: 'gone', roles: [parseRoleGrant('read')], expires: null }, now);
    const { token: kept } = await tokens.create({ name: 'kept', roles: [parseRoleGrant('read')], expires: null }, now);
    const store = await open({ file, pollMs });
    store.verify(token);
    const module = new URL('./token-file.js', import.meta.url).href;
    await exec(process.execPath, ['--input-type=module', '-e', `const { TokenFile } = await import(${JSON.stringify(module)}); await new TokenFile(${JSON.stringify(file)}).revoke('gone');`]);
    const revokedAt = Date.now();
    while (Date.now() - revokedAt < 2000) {
      try {
        store.verify(token);
      } catch {
        break;
      }
      await sleep(20);
    }
    assert.throws(() => store.verify(token), CredentialsRefusedError, `pollMs ${pollMs}`);
    assert.equal(store.verify(kept).name, 'kept');
  }
});

test('a change fs.watch misses is found by the poll', async () => {
  const file = fresh();
  const tokens = new TokenFile(file);
  await tokens.create({ name: 'a', roles: [parseRoleGrant('read')], expires: null }, now);
  const store = await open({ file, pollMs: 100 });
  // Stop the watch as a file system that sends no events would.
  (store as unknown as { stopWatching(): void }).stopWatching();
  const { token } = await tokens.create({ name: 'b', roles: [parseRoleGrant('read')], expires: null }, now);
  await sleep(400);
  assert.equal(store.verify(token).name, 'b');
});

test('a reload that fails keeps the tokens loaded before and says so once; a good file is loaded again', async () => {
  const file = fresh();
  const tokens = new TokenFile(file);
  const { token } = await tokens.create({ name: 'a', roles: [parseRoleGrant('read')], expires: null }, now);
  const warnings: Array<{ obj: object; msg: string }> = [];
  const store = await open({ file, pollMs: 60_000, logger: { warn: (obj, msg) => warnings.push({ obj, msg }) } });
  await writeFile(file, 'not json');
  await store.reload();
  // The watch may have seen the file empty, then written: one warning per state of the file, not per look.
  const seen = warnings.length;
  assert.ok(seen >= 1);
  await store.reload();
  await store.reload();
  assert.equal(warnings.length, seen);
  assert.equal(store.verify(token).name, 'a');
  assert.match(warnings[0]!.msg, /token file not reloaded/);
  assert.ok((warnings[0]!.obj as { err: Error }).err instanceof ConfigError);

  await writeFile(file, JSON.stringify({ format: 'godepot-tokens/1', tokens: [] }));
  await store.reload();
  assert.throws(() => store.verify(token), CredentialsRefusedError);
});

test('a reload empties the cache: the tokens still there are hashed again', async () => {
  const file = fresh();
  const tokens = new TokenFile(file);
  const { token } = await tokens.create({ name: 'a', roles: [parseRoleGrant('read')], expires: null }, now);
  const counter = counting();
  const store = await open({ file, hash: counter.hash, pollMs: 60_000 });
  store.verify(token);
  const base = counter.calls();
  await tokens.create({ name: 'b', roles: [parseRoleGrant('read')], expires: null }, now);
  await store.reload();
  store.verify(token);
  assert.equal(counter.calls(), base + 1);
});
