// `godepot storage verify` refusing what it cannot work on, as a user at a shell sees it: a clear
// message naming the folder or setting, exit 1, and nothing created or changed.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runGodepot } from '../../test/support/cli.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-cli-storage-verify-'));
});
after(() => rm(work, { recursive: true, force: true }));

const verify = (...args: string[]) => runGodepot(['storage', 'verify', '--sumdb', 'off', '--state-dir', join(work, 'state'), ...args], { cwd: work });

test('a storage folder that is missing or not a folder is named; verify and --repair create nothing', async () => {
  const missing = join(work, 'missing');
  for (const repair of [[], ['--repair']]) {
    const result = await verify('--storage', missing, ...repair);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `godepot: storage ${missing} is missing\n`);
  }
  const file = join(work, 'file');
  await writeFile(file, 'not a folder');
  const result = await verify('--storage', file);
  assert.equal(result.stderr, `godepot: storage ${file} is not a folder\n`);
  assert.deepEqual((await readdir(work)).sort(), ['file']);
});

test("a bad value of one of serve's settings is named as serve names it", async () => {
  const storage = join(work, 'empty');
  await mkdir(storage);
  const result = await verify('--storage', storage, '--upstream-timeout', 'soon');
  assert.equal(result.code, 1);
  assert.equal(result.stderr, 'godepot: --upstream-timeout: must be a number of seconds\n');
  const empty = await verify('--storage', storage, '--json');
  assert.equal(empty.code, 0, empty.stderr);
  assert.deepEqual(JSON.parse(empty.stdout), { storage, checked: { versions: 0, objects: 0, bytes: 0 }, problems: [], remaining: 0 });
  assert.deepEqual(await readdir(storage), [], 'a check of an empty folder writes nothing into it');
});
