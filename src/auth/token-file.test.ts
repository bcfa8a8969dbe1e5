import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ConfigError, NotFoundError } from '../errors.js';
import { TokenNameTakenError } from './errors.js';
import { parseRoleGrant } from './roles.js';
import { readTokenFile, TokenFile } from './token-file.js';
import { parseToken, secretMatches } from './token-secret.js';

const exec = promisify(execFile);
const now = new Date('2026-03-01T12:00:00.000Z');

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-token-file-'));
});
after(() => rm(work, { recursive: true, force: true }));

let n = 0;
const fresh = (): string => join(work, `state-${n++}`, 'tokens.json');

test('a missing file holds no tokens', async () => {
  assert.deepEqual(await new TokenFile(fresh()).list(), []);
});

test('create stores name, roles, dates and a hash (never the secret) in a 0600 file; the token verifies against it', async () => {
  const file = fresh();
  const tokens = new TokenFile(file);
  const expires = new Date('2026-06-01T00:00:00.000Z');
  const { token, record } = await tokens.create({ name: 'ci', roles: [parseRoleGrant('publish:example.com/x'), parseRoleGrant('read')], expires }, now);
  const parts = parseToken(token)!;
  assert.equal(record.id, parts.id);
  assert.ok(secretMatches(parts.secret, record.hash));

  const text = await readFile(file, 'utf8');
  assert.ok(!text.includes(parts.secret) && !text.includes(token));
  const json = JSON.parse(text);
  assert.equal(json.format, 'godepot-tokens/1');
  assert.deepEqual(json.tokens[0].roles, ['publish:example.com/x', 'read']);
  assert.equal(json.tokens[0].created, '2026-03-01T12:00:00.000Z');
  assert.equal(json.tokens[0].expires, '2026-06-01T00:00:00.000Z');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  // No temporary or lock file is left beside it.
  assert.deepEqual(await readdir(join(file, '..')), ['tokens.json']);

  const [listed] = await tokens.list();
  assert.deepEqual(listed, record);
});

test('names are unique and well formed', async () => {
  const tokens = new TokenFile(fresh());
  await tokens.create({ name: 'ci', roles: [parseRoleGrant('read')], expires: null }, now);
  await assert.rejects(tokens.create({ name: 'ci', roles: [parseRoleGrant('admin')], expires: null }, now), TokenNameTakenError);
  for (const name of ['', 'a b', 'x/y', 'é', 'a'.repeat(65)]) {
    await assert.rejects(tokens.create({ name, roles: [parseRoleGrant('read')], expires: null }, now), ConfigError, name);
  }
  await tokens.create({ name: `A.b_c-${'9'.repeat(58)}`, roles: [parseRoleGrant('read')], expires: null }, now);
  assert.equal((await tokens.list()).length, 2);
});

test('revoke removes the token by name; an unknown name is NotFoundError', async () => {
  const tokens = new TokenFile(fresh());
  await tokens.create({ name: 'a', roles: [parseRoleGrant('read')], expires: null }, now);
  await tokens.create({ name: 'b', roles: [parseRoleGrant('read')], expires: null }, now);
  const revoked = await tokens.revoke('a');
  assert.equal(revoked.name, 'a');
  assert.deepEqual((await tokens.list()).map((r) => r.name), ['b']);
  await assert.rejects(tokens.revoke('a'), (err) => err instanceof NotFoundError && /no token named "a"/.test(err.message));
});

test('a token whose change could not be recorded is removed again; a revoke stays even then', async () => {
  const tokens = new TokenFile(fresh());
  const failing = async (): Promise<void> => {
    throw new Error('audit log unavailable');
  };
  await assert.rejects(tokens.create({ name: 'a', roles: [parseRoleGrant('read')], expires: null }, now, failing), /audit log unavailable/);
  assert.deepEqual(await tokens.list(), []);

  const seen: string[] = [];
  await tokens.create({ name: 'b', roles: [parseRoleGrant('read')], expires: null }, now, async (record) => void seen.push(record.name));
  assert.deepEqual(seen, ['b']);
  await assert.rejects(tokens.revoke('b', failing), /audit log unavailable/);
  assert.deepEqual(await tokens.list(), []);
});

test('a corrupt file is a ConfigError naming it', async () => {
  const file = fresh();
  const tokens = new TokenFile(file);
  await tokens.create({ name: 'a', roles: [parseRoleGrant('read')], expires: null }, now);
  const good = JSON.parse(await readFile(file, 'utf8'));
  const corrupt = [
    '{"format": "godepot-tokens/1", "tokens": [',
    '[]',
    JSON.stringify({ ...good, format: 'other' }),
    JSON.stringify({ ...good, tokens: [{ ...good.tokens[0], roles: ['write'] }] }),
    JSON.stringify({ ...good, tokens: [{ ...good.tokens[0], secret: 'x' }] }),
    JSON.stringify({ ...good, tokens: [good.tokens[0], { ...good.tokens[0], id: '0000000000000000' }] }),
    JSON.stringify({ ...good, tokens: [{ ...good.tokens[0], hash: { ...good.tokens[0].hash, params: { N: 1000, r: 8, p: 1, keylen: 32 } } }] }),
  ];
  for (const text of corrupt) {
    await writeFile(file, text);
    await assert.rejects(readTokenFile(file), (err) => err instanceof ConfigError && err.message.startsWith(`${file}: not a token file`), text);
    // A change never goes ahead over a file it cannot read.
    await assert.rejects(tokens.create({ name: 'b', roles: [parseRoleGrant('read')], expires: null }, now), ConfigError);
    assert.equal(await readFile(file, 'utf8'), text);
  }
});

test('a lock left by a process that is gone is taken over', async () => {
  const file = fresh();
  const tokens = new TokenFile(file, { lockTimeoutMs: 2000, staleLockMs: 200 });
  await tokens.create({ name: 'a', roles: [parseRoleGrant('read')], expires: null }, now);
  const { stdout } = await exec(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  const holder = { pid: Number(stdout), host: (await import('node:os')).hostname(), time: new Date().toISOString(), token: 'dead' };
  await writeFile(`${file}.lock`, `${JSON.stringify(holder)}\n`);
  await tokens.create({ name: 'b', roles: [parseRoleGrant('read')], expires: null }, now);
  assert.equal((await tokens.list()).length, 2);
});

test('a live lock is waited for, and given up on with a ConfigError naming it', async () => {
  const file = fresh();
  const tokens = new TokenFile(file, { lockTimeoutMs: 300, staleLockMs: 100 });
  await tokens.create({ name: 'a', roles: [parseRoleGrant('read')], expires: null }, now);
  const holder = { pid: process.pid, host: (await import('node:os')).hostname(), time: new Date().toISOString(), token: 'live' };
  await writeFile(`${file}.lock`, `${JSON.stringify(holder)}\n`);
  await assert.rejects(tokens.create({ name: 'b', roles: [parseRoleGrant('read')], expires: null }, now), (err) => err instanceof ConfigError && err.message.includes(`${file}.lock`));
  await rm(`${file}.lock`);
});

test('two processes creating 20 tokens each at once keep all 40', async () => {
  const file = fresh();
  const module = new URL('./token-file.js', import.meta.url).href;
  const roles = new URL('./roles.js', import.meta.url).href;
  const script = (who: string): string => `
    const { TokenFile } = await import(${JSON.stringify(module)});
    const { parseRoleGrant } = await import(${JSON.stringify(roles)});
    const tokens = new TokenFile(${JSON.stringify(file)});
    for (let i = 0; i < 20; i++) await tokens.create({ name: '${who}-' + i, roles: [parseRoleGrant('read')], expires: null }, new Date());
  `;
  await Promise.all(['p', 'q'].map((who) => exec(process.execPath, ['--input-type=module', '-e', script(who)])));
  const names = (await new TokenFile(file).list()).map((r) => r.name).sort();
  assert.equal(names.length, 40);
  assert.deepEqual(names, [...Array(20).keys()].flatMap((i) => [`p-${i}`, `q-${i}`]).sort());
});
