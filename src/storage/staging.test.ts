import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, test } from 'node:test';
import { DiskStorage } from './disk.js';
import { SpoolStaging, stagesFiles, stagingFor } from './staging.js';
import type { Storage } from './storage.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'godepot-staging-'));
  dirs.push(d);
  return d;
}

/** A storage with the Storage methods only, over a DiskStorage, recording its puts. */
function plainStorage(disk: DiskStorage, puts: string[]): Storage {
  return {
    get: (key, options) => disk.get(key, options),
    stat: (key) => disk.stat(key),
    put: (key, body, options) => {
      puts.push(key);
      return disk.put(key, body, options);
    },
    list: (prefix) => disk.list(prefix),
    delete: (key) => disk.delete(key),
  };
}

test('stagingFor: the storage itself when it stages files, else a SpoolStaging', async () => {
  const dir = await tempDir();
  const disk = new DiskStorage({ root: join(dir, 'store') });
  assert.equal(stagingFor(disk, join(dir, 'spool')), disk);
  const plain = plainStorage(disk, []);
  assert.ok(!stagesFiles(plain));
  assert.ok(stagingFor(plain, join(dir, 'spool')) instanceof SpoolStaging);
});

test('SpoolStaging: files staged in the spool folder are put in order and removed; the folder is made if missing', async () => {
  const dir = await tempDir();
  const puts: string[] = [];
  const storage = plainStorage(new DiskStorage({ root: join(dir, 'store') }), puts);
  const spool = join(dir, 'spool', 'deeper');
  const staging = new SpoolStaging(storage, spool);
  const staged = await staging.stage();
  await writeFile(staged, 'zip bytes', { flag: 'wx' });
  await staging.commit([
    { key: 'm/@v/v1.0.0.zip', file: staged },
    { key: 'm/@v/v1.0.0.ziphash', body: Buffer.from('h1:x') },
    { key: 'm/@v/v1.0.0.info', body: Buffer.from('{}') },
  ]);
  assert.deepEqual(puts, ['m/@v/v1.0.0.zip', 'm/@v/v1.0.0.ziphash', 'm/@v/v1.0.0.info']);
  assert.equal(await text(await storage.get('m/@v/v1.0.0.zip')), 'zip bytes');
  assert.deepEqual(await readdir(spool), []);
  const discarded = await staging.stage();
  await writeFile(discarded, 'x');
  await staging.discard(discarded);
  assert.deepEqual(await readdir(spool), []);
});

test("SpoolStaging: its own staged files a crash left are removed once an hour old, nobody else's files ever", async () => {
  const dir = await tempDir();
  const spool = join(dir, 'spool');
  await mkdir(spool);
  const names = ['.godepot-staged.0123456789ab.tmp', '.godepot-staged.ba9876543210.tmp', '.other.0123456789ab.tmp', 'someone-elses'];
  for (const name of names) await writeFile(join(spool, name), 'partial');
  const longAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  for (const name of [names[0]!, names[2]!, names[3]!]) await utimes(join(spool, name), longAgo, longAgo);
  const staging = new SpoolStaging(plainStorage(new DiskStorage({ root: join(dir, 'store') }), []), spool);
  await staging.stage();
  assert.deepEqual((await readdir(spool)).sort(), [names[1], names[2], names[3]].sort());
});
