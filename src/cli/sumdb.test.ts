import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Command } from 'commander';
import { parseGosumdb } from '../checksum/gosumdb.js';
import { newSigner, newVerifier } from '../checksum/note.js';
import { ConfigError } from '../errors.js';
import { runGodepot } from '../../test/support/cli.js';
import { sumdbCommand } from './sumdb.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-cli-sumdb-'));
});
after(() => rm(work, { recursive: true, force: true }));

/** Runs `godepot sumdb <args>` in this process; returns what it printed on stdout. */
async function run(args: string[]): Promise<string> {
  const command = sumdbCommand();
  const quiet = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeErr: () => undefined });
    c.commands.forEach(quiet);
  };
  quiet(command);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await command.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return out;
}

test('sumdb key generate writes a 0600 signer key and prints only the verifier key GOSUMDB takes', async () => {
  const keyfile = join(work, 'sumdb.key');
  const out = await run(['key', 'generate', 'sumdb.example.com/private', '--output', keyfile]);
  assert.match(out, /^sumdb\.example\.com\/private\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n$/);
  const verifierKey = out.trimEnd();
  const content = await readFile(keyfile, 'utf8');
  assert.match(content, /^PRIVATE\+KEY\+sumdb\.example\.com\/private\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n$/);
  assert.equal((await stat(keyfile)).mode & 0o777, 0o600);
  const signer = newSigner(content.trimEnd());
  const verifier = newVerifier(verifierKey);
  assert.equal(signer.keyHash, verifier.keyHash);
  assert.ok(verifier.verify(Buffer.from('x'), signer.sign(Buffer.from('x'))));
  assert.equal(parseGosumdb(`${verifierKey} http://127.0.0.1:1234`)?.name, 'sumdb.example.com/private');
  assert.deepEqual((await readdir(work)).sort(), ['sumdb.key']);
});

test('sumdb key generate never overwrites a key file', async () => {
  const keyfile = join(work, 'existing.key');
  await writeFile(keyfile, 'precious\n');
  await assert.rejects(run(['key', 'generate', 'sumdb.example.com', '--output', keyfile]), (err: Error) => err instanceof ConfigError && /already exists/.test(err.message));
  assert.equal(await readFile(keyfile, 'utf8'), 'precious\n');
  assert.ok(!(await readdir(work)).some((name) => name.endsWith('.tmp')));
});

test('sumdb key generate refuses a name go cannot use in GOSUMDB, and writes nothing', async () => {
  for (const name of ['has space', 'a+b', 'https://sumdb.example.com', 'sumdb.example.com/', '']) {
    const keyfile = join(work, 'never.key');
    await assert.rejects(run(['key', 'generate', name, '--output', keyfile]), ConfigError, name);
    await assert.rejects(stat(keyfile), { code: 'ENOENT' });
  }
});

test('godepot sumdb key generate, as a user runs it', async () => {
  const keyfile = join(work, 'cli.key');
  const made = await runGodepot(['sumdb', 'key', 'generate', 'sumdb.example.net', '--output', keyfile]);
  assert.equal(made.code, 0, made.stderr);
  assert.equal(made.stderr, '');
  assert.match(made.stdout, /^sumdb\.example\.net\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n$/);
  assert.equal(newVerifier(made.stdout.trimEnd()).keyHash, newSigner((await readFile(keyfile, 'utf8')).trimEnd()).keyHash);
  const again = await runGodepot(['sumdb', 'key', 'generate', 'sumdb.example.net', '--output', keyfile]);
  assert.equal(again.code, 1);
  assert.equal(again.stdout, '');
  assert.match(again.stderr, /^godepot: .*cli\.key already exists; godepot never overwrites a key file\n$/);
});
