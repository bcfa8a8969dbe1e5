import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { Command } from 'commander';
import { makeFixture, opener } from '../../test/support/bundle-fixtures.js';
import { openBundle, writeBundle } from '../bundle/format.js';
import { keyFingerprint, readPublicKey, readSigningKey } from '../bundle/signing.js';
import { verifyBundle } from '../bundle/verify.js';
import { ConfigError } from '../errors.js';
import { keyCommand } from './key.js';

const exec = promisify(execFile);

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-cli-key-'));
});
after(() => rm(work, { recursive: true, force: true }));

/** Runs `godepot key <args>` in this process; returns what it printed on stdout. */
async function run(args: string[]): Promise<string> {
  let out = '';
  const command = keyCommand({ write: (text: string) => (out += text) });
  const quiet = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeErr: () => undefined });
    c.commands.forEach(quiet);
  };
  quiet(command);
  await command.parseAsync(args, { from: 'user' });
  return out;
}

async function hasOpenssl(): Promise<boolean> {
  try {
    await exec('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
}

test('key generate writes a PEM pair (private 0600, public beside it) that signs and verifies bundles', async () => {
  const file = join(work, 'bundle.key');
  const out = await run(['generate', '--output', file]);
  const privateKey = await readSigningKey(file);
  const publicKey = await readPublicKey(`${file}.pub`);
  assert.equal(out, `private key: ${file} (keep it secret: bundle create --sign ${file})\npublic key:  ${file}.pub (bundle verify --pubkey ${file}.pub)\nfingerprint: ${keyFingerprint(publicKey)}\n`);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.match(await readFile(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
  assert.match(await readFile(`${file}.pub`, 'utf8'), /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
  assert.equal(keyFingerprint(privateKey), keyFingerprint(publicKey));

  const { manifest, contents } = makeFixture([{ path: 'example.com/a', version: 'v1.0.0', mod: 'module example.com/a\n' }]);
  const bundleFile = join(work, 'signed.bundle');
  await writeBundle(bundleFile, manifest, opener(contents), { signingKey: privateKey });
  const bundle = await openBundle(bundleFile);
  try {
    assert.equal((await verifyBundle(bundle, { publicKey })).signature, 'valid');
  } finally {
    await bundle.close();
  }
});

test('key generate never overwrites either file, and leaves nothing behind when it refuses', async () => {
  const taken = join(work, 'taken.key');
  await writeFile(`${taken}.pub`, 'precious\n');
  await assert.rejects(run(['generate', '--output', taken]), (err) => err instanceof ConfigError && /taken.key.pub already exists/.test(err.message));
  assert.equal(await readFile(`${taken}.pub`, 'utf8'), 'precious\n');
  assert.deepEqual((await readdir(work)).filter((n) => n.includes('taken')), ['taken.key.pub']);
  await writeFile(join(work, 'mine.key'), 'precious\n');
  await assert.rejects(run(['generate', '--output', join(work, 'mine.key')]), /mine.key already exists/);
  assert.deepEqual((await readdir(work)).filter((n) => n.includes('mine')), ['mine.key']);
});

test('a public key file holding a private key, or another key type, is refused', async () => {
  const file = join(work, 'confused.key');
  await run(['generate', '--output', file]);
  await assert.rejects(readPublicKey(file), (err) => err instanceof ConfigError && /not a PEM public key/.test(err.message));
  const { stdout: rsa } = await exec('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']).catch(() => ({ stdout: '' }));
  if (rsa !== '') {
    await writeFile(join(work, 'rsa.key'), rsa);
    await assert.rejects(readSigningKey(join(work, 'rsa.key')), (err) => err instanceof ConfigError && /an rsa private key; bundles are signed with Ed25519 keys/.test(err.message));
  }
});

test('openssl checks manifest.sig against manifest.json with the public key, as docs/bundle-format.md says', async (t) => {
  if (!(await hasOpenssl())) {
    process.stderr.write('SKIPPED: openssl is not installed; the documented openssl check of a bundle signature was not tested\n');
    t.skip('openssl is not installed');
    return;
  }
  const file = join(work, 'openssl.key');
  await run(['generate', '--output', file]);
  const other = join(work, 'other.key');
  await run(['generate', '--output', other]);
  const { manifest, contents } = makeFixture([{ path: 'example.com/a', version: 'v1.0.0', mod: 'module example.com/a\n' }]);
  const bundleFile = join(work, 'openssl.bundle');
  await writeBundle(bundleFile, manifest, opener(contents), { signingKey: await readSigningKey(file) });
  const out = await mkdtemp(join(work, 'extract-'));
  await exec('tar', ['-xzf', bundleFile, '-C', out, 'manifest.json', 'manifest.sig']);
  const check = (pub: string): Promise<{ stdout: string }> =>
    exec('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', join(out, 'manifest.json'), '-sigfile', join(out, 'manifest.sig')]);
  assert.match((await check(`${file}.pub`)).stdout, /Signature Verified Successfully/);
  await assert.rejects(check(`${other}.pub`), (err: { stdout?: string }) => /Signature Verification Failure/.test(err.stdout ?? ''));
});
