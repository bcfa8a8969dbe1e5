import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runGodepot } from '../../test/support/cli.js';
import { writeTree } from '../../test/support/git.js';
import { writeRawZip } from '../../test/support/rawzip.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-cli-mod-'));
});
after(() => rm(work, { recursive: true, force: true }));

test('godepot --version and --help', async () => {
  const version = await runGodepot(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const help = await runGodepot(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /mod\s+make, hash and check module zips/);
});

test('mod zip refuses a tree that breaks the rules, names each broken rule, and writes nothing', async () => {
  const dir = join(work, 'bad');
  await writeTree(dir, { 'go.mod': 'module example.com/m\n', "bad.go'": 'package m\n', 'm.go': '', 'M.GO': '' });
  const output = join(work, 'out', 'bad.zip');
  await mkdir(join(work, 'out'));
  const result = await runGodepot(['mod', 'zip', dir, '--module', 'example.com/m', '--version', 'v1.0.0', '--output', output]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /malformed file path "bad\.go'": invalid char '\\''/);
  assert.match(result.stderr, /case-insensitive file name collision: "M\.GO" and "m\.go"|case-insensitive file name collision: "m\.go" and "M\.GO"/);
  assert.deepEqual(await readdir(join(work, 'out')), [], 'no zip and no temporary file left behind');
});

test('mod zip refuses a non-canonical version and a version that does not fit the path', async () => {
  const dir = join(work, 'good');
  await writeTree(dir, { 'go.mod': 'module example.com/m\n' });
  const notCanonical = await runGodepot(['mod', 'zip', dir, '--module', 'example.com/m', '--version', 'v1.0.0+bad', '--output', join(work, 'x.zip')]);
  assert.equal(notCanonical.code, 1);
  assert.match(notCanonical.stderr, /version "v1\.0\.0\+bad" is not canonical \(should be "v1\.0\.0"\)/);
  const wrongMajor = await runGodepot(['mod', 'zip', dir, '--module', 'example.com/m', '--version', 'v2.0.0', '--output', join(work, 'x.zip')]);
  assert.equal(wrongMajor.code, 1);
  assert.match(wrongMajor.stderr, /invalid version: should be v0 or v1, not v2/);
});

test('mod check accepts a good zip, reading module and version from its entries', async () => {
  const dir = join(work, 'ok');
  await writeTree(dir, { 'go.mod': 'module example.com/ok\n', 'ok.go': 'package ok\n' });
  const zip = join(work, 'ok.zip');
  assert.equal((await runGodepot(['mod', 'zip', dir, '--module', 'example.com/ok', '--version', 'v1.2.3', '--output', zip])).code, 0);
  const checked = await runGodepot(['mod', 'check', zip]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.equal(checked.stdout, 'ok: example.com/ok@v1.2.3, 2 files\n');
});

test('mod check lists every problem of a malicious zip', async () => {
  const zip = join(work, 'evil.zip');
  const p = 'example.com/m@v1.0.0/';
  await writeRawZip(zip, [
    { name: `${p}go.mod`, data: 'module example.com/m\n' },
    { name: `${p}../../etc/passwd`, data: 'root' },
    { name: `${p}x/../y.go`, data: 'package m' },
    { name: `${p}a.go`, data: 'package m' },
    { name: `${p}a.go`, data: 'package m // again' },
    { name: `${p}sub/go.mod`, data: 'module example.com/m/sub\n' },
  ]);
  const checked = await runGodepot(['mod', 'check', zip]);
  assert.equal(checked.code, 1);
  assert.equal(
    checked.stdout,
    [
      `invalid: ${p}../../etc/passwd: malformed file path "../../etc/passwd": invalid path element ".."`,
      `invalid: ${p}x/../y.go: file path is not clean`,
      `invalid: ${p}a.go: multiple entries for file "a.go"`,
      `invalid: ${p}sub/go.mod: go.mod file not in module root directory`,
      '',
    ].join('\n'),
  );
  assert.match(checked.stderr, /is not a valid module zip for example\.com\/m@v1\.0\.0/);
});

test('mod check and mod hash give a clear error for a file that is not a zip', async () => {
  const junk = join(work, 'junk.zip');
  await writeFile(junk, Buffer.from('PK\x03\x04 this is not really a zip at all', 'latin1'));
  const checked = await runGodepot(['mod', 'check', junk, '--module', 'example.com/m', '--version', 'v1.0.0']);
  assert.equal(checked.code, 1);
  assert.match(checked.stderr, /^godepot: .*not a valid zip file/m);
  const hashed = await runGodepot(['mod', 'hash', junk]);
  assert.equal(hashed.code, 1);
  assert.match(hashed.stderr, /^godepot: .*not a valid zip file/m);
  const missing = await runGodepot(['mod', 'hash', join(work, 'nope.zip')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^godepot: ENOENT/m);
});

test('mod hash prints go.sum lines for a go.mod when the version is given', async () => {
  const goMod = join(work, 'go.mod');
  await writeFile(goMod, 'module example.com/hashme\n\ngo 1.17\n');
  const bare = await runGodepot(['mod', 'hash', goMod]);
  assert.equal(bare.code, 0);
  assert.match(bare.stdout, /^h1:[A-Za-z0-9+/]{43}=\n$/);
  const line = await runGodepot(['mod', 'hash', goMod, '--version', 'v1.0.0']);
  assert.equal(line.stdout, `example.com/hashme v1.0.0/go.mod ${bare.stdout}`);
});
