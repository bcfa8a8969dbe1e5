import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, test } from 'node:test';
import { mountTmpfs, tmpfsUnavailable } from '../../test/support/tmpfs.js';
import { InvalidRequestError, StorageFullError } from '../errors.js';
import { DiskStorage } from './disk.js';
import { stagesFiles } from './staging.js';
import { invalidKeys, storageContract } from './storage.contract.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'godepot-disk-'));
  dirs.push(d);
  return d;
}

storageContract('DiskStorage', async () => {
  const root = await mkdtemp(join(tmpdir(), 'godepot-disk-contract-'));
  return { storage: new DiskStorage({ root }), dispose: () => rm(root, { recursive: true, force: true }) };
});

test('keys are files under the root: the module cache download layout, servable as GOPROXY=file://', async () => {
  const root = await tempDir();
  const s = new DiskStorage({ root });
  await s.put('github.com/!azure/m/@v/v1.0.0.info', Buffer.from('{"Version":"v1.0.0"}'));
  await s.put('github.com/!azure/m/@v/list', Buffer.from('v1.0.0\n'));
  assert.equal(await readFile(join(root, 'github.com', '!azure', 'm', '@v', 'v1.0.0.info'), 'utf8'), '{"Version":"v1.0.0"}');
  assert.equal(await readFile(join(root, 'github.com', '!azure', 'm', '@v', 'list'), 'utf8'), 'v1.0.0\n');
  assert.equal(s.fileOf('github.com/!azure/m/@v/v1.0.0.info'), join(root, 'github.com', '!azure', 'm', '@v', 'v1.0.0.info'));
  // A file put there by anyone else (a copied module cache) is an object like the others.
  await writeFile(join(root, 'github.com', '!azure', 'm', '@v', 'v1.0.0.mod'), 'module github.com/Azure/m\n');
  assert.equal(await text(await s.get('github.com/!azure/m/@v/v1.0.0.mod')), 'module github.com/Azure/m\n');
  assert.deepEqual(await s.list('github.com/!azure/m'), [
    'github.com/!azure/m/@v/list',
    'github.com/!azure/m/@v/v1.0.0.info',
    'github.com/!azure/m/@v/v1.0.0.mod',
  ]);
});

test('nothing outside the root is touched, whatever the key', async () => {
  const parent = await tempDir();
  const root = join(parent, 'store');
  await mkdir(root);
  await writeFile(join(parent, 'outside'), 'precious');
  const s = new DiskStorage({ root });
  for (const key of [...invalidKeys, '../outside', 'a/../../outside', '.tmp/x', '.hidden']) {
    await assert.rejects(s.put(key, Buffer.from('overwritten')), InvalidRequestError, key);
    await assert.rejects(s.delete(key), InvalidRequestError, key);
    await assert.rejects(s.get(key), InvalidRequestError, key);
    assert.throws(() => s.fileOf(key), InvalidRequestError, key);
  }
  assert.equal(await readFile(join(parent, 'outside'), 'utf8'), 'precious');
  assert.deepEqual((await readdir(parent)).sort(), ['outside', 'store']);
  assert.deepEqual(await readdir(root), []);
});

test('a root that does not exist yet is an empty store, created by the first put', async () => {
  const root = join(await tempDir(), 'not', 'yet');
  const s = new DiskStorage({ root });
  assert.deepEqual(await s.list(''), []);
  assert.equal(await s.stat('a/b'), null);
  await s.put('a/b', Buffer.from('x'));
  assert.deepEqual(await s.list(''), ['a/b']);
});

// The child puts a 200 MiB body and stops half way; the test kills it with SIGKILL at that moment.
const childScript = `
import { Readable } from 'node:stream';
import { DiskStorage } from ${JSON.stringify(new URL('./disk.js', import.meta.url).href)};
const storage = new DiskStorage({ root: process.env.ROOT });
const chunk = Buffer.alloc(1 << 20, 0x5a);
let sent = 0;
const body = new Readable({
  read() {
    if (sent === 64) return;
    this.push(chunk);
    if (++sent === 64) setTimeout(() => process.stdout.write('halfway\\n'), 100);
  },
});
// A stalled body holds no handle of its own: without this the process could end on its own before the kill.
setInterval(() => {}, 1000);
await storage.put(process.env.KEY, body, { size: 200 << 20 });
process.stdout.write('finished\\n');
`;

async function killMidPut(root: string, key: string): Promise<void> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', childScript], {
    env: { ...process.env, ROOT: root, KEY: key },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
      if (out.includes('halfway')) resolve();
    });
    child.once('exit', () => reject(new Error(`child exited before half way: ${out}`)));
  });
  // The partial body really is on disk at this moment, under a temporary name.
  const temps = await readdir(join(root, '.tmp'));
  assert.equal(temps.length, 1);
  assert.ok((await stat(join(root, '.tmp', temps[0]!))).size >= 32 << 20);
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
}

test('kill -9 in the middle of a big put leaves no object and no partial under the key', async () => {
  const root = await tempDir();
  const key = 'example.com/big/@v/v1.0.0.zip';
  await killMidPut(root, key);

  const s = new DiskStorage({ root });
  assert.equal(await s.stat(key), null);
  await assert.rejects(s.get(key));
  assert.deepEqual(await s.list(''), []);
  await assert.rejects(stat(join(root, ...key.split('/'))), { code: 'ENOENT' });

  // The orphan is young: another process sharing the root might still own it, so it stays...
  const [orphan] = await readdir(join(root, '.tmp'));
  assert.ok(orphan !== undefined);
  await s.put('example.com/other/@v/list', Buffer.from(''));
  assert.deepEqual(await readdir(join(root, '.tmp')), [orphan]);
  assert.deepEqual(await s.leftovers(), [], 'a young temporary is no leftover: its write may be under way');
  // ...and an old one is a leftover, listed (for storage verify) and removed by the first put of the next process.
  const longAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  await utimes(join(root, '.tmp', orphan), longAgo, longAgo);
  const [leftover, ...more] = await s.leftovers();
  assert.deepEqual(more, []);
  assert.equal(leftover?.file, join(root, '.tmp', orphan));
  assert.ok(leftover.size >= 32 << 20);
  assert.equal(leftover.modified.getTime(), longAgo.getTime());
  await new DiskStorage({ root }).put('example.com/other/@v/list', Buffer.from('v1.0.0\n'));
  assert.deepEqual(await readdir(join(root, '.tmp')), []);
  assert.deepEqual(await s.list(''), ['example.com/other/@v/list']);
});

test('kill -9 in the middle of replacing an object leaves the old object whole', async () => {
  const root = await tempDir();
  const key = 'example.com/big/@v/list';
  await new DiskStorage({ root }).put(key, Buffer.from('v1.0.0\n'));
  await killMidPut(root, key);
  const s = new DiskStorage({ root });
  assert.equal(await text(await s.get(key)), 'v1.0.0\n');
  assert.deepEqual(await s.list(''), [key]);
});

test('staging: a staged file is moved in by commit, not copied, with the other objects of the commit', async () => {
  const root = await tempDir();
  const s = new DiskStorage({ root });
  assert.ok(stagesFiles(s));
  const staged = await s.stage();
  assert.equal(dirname(staged), join(root, '.tmp'));
  await writeFile(staged, 'zip bytes', { flag: 'wx' });
  const inode = (await stat(staged)).ino;
  await s.commit([
    { key: 'example.com/new/m/@v/v1.0.0.zip', file: staged },
    { key: 'example.com/new/m/@v/v1.0.0.ziphash', body: Buffer.from('h1:x') },
    { key: 'example.com/new/m/@v/v1.0.0.info', body: Buffer.from('{}') },
  ]);
  assert.equal((await stat(join(root, 'example.com', 'new', 'm', '@v', 'v1.0.0.zip'))).ino, inode, 'renamed, not copied');
  assert.equal(await text(await s.get('example.com/new/m/@v/v1.0.0.zip')), 'zip bytes');
  assert.equal(await text(await s.get('example.com/new/m/@v/v1.0.0.ziphash')), 'h1:x');
  assert.deepEqual(await s.list('example.com'), [
    'example.com/new/m/@v/v1.0.0.info',
    'example.com/new/m/@v/v1.0.0.zip',
    'example.com/new/m/@v/v1.0.0.ziphash',
  ]);
  assert.deepEqual(await readdir(join(root, '.tmp')), []);
  // Discarding a committed file is nothing; discarding a staged one removes it.
  await s.discard(staged);
  const other = await s.stage();
  await writeFile(other, 'x');
  await s.discard(other);
  assert.deepEqual(await readdir(join(root, '.tmp')), []);
});

test('staging: a bad key stores nothing, a failing commit leaves no temporary, foreign files are refused', async () => {
  const parent = await tempDir();
  const root = join(parent, 'store');
  const s = new DiskStorage({ root });
  const staged = await s.stage();
  await writeFile(staged, 'zip bytes');
  for (const key of invalidKeys) {
    await assert.rejects(s.commit([{ key: 'a/ok', body: Buffer.from('x') }, { key, file: staged }]), InvalidRequestError, key);
  }
  assert.deepEqual(await s.list(''), []);
  // Only files stage() named can be committed or discarded: nothing else can be moved in or removed.
  await writeFile(join(parent, 'precious'), 'keep');
  await assert.rejects(s.commit([{ key: 'a/b', file: join(parent, 'precious') }]), InvalidRequestError);
  await assert.rejects(s.discard(join(parent, 'precious')), InvalidRequestError);
  await assert.rejects(s.discard(join(root, '.tmp', '..', '..', 'precious')), InvalidRequestError);
  assert.equal(await readFile(join(parent, 'precious'), 'utf8'), 'keep');
  // A regular file where a folder should be: the commit fails, nothing of it is left but the staged file.
  await s.put('a/file', Buffer.from('in the way'));
  await assert.rejects(s.commit([{ key: 'a/file/x.ziphash', body: Buffer.from('h1:x') }, { key: 'a/file/x.zip', file: staged }]));
  assert.deepEqual(await readdir(join(root, '.tmp')), [basename(staged)]);
  assert.deepEqual(await s.list(''), ['a/file']);
});

test('put of bytes makes missing folders and needs no temporary folder made beforehand', async () => {
  const root = await tempDir();
  const s = new DiskStorage({ root });
  await s.put('a/b/c', Buffer.from('1'));
  await rm(join(root, '.tmp'), { recursive: true });
  await rm(join(root, 'a'), { recursive: true });
  await s.put('a/b/c', Buffer.from('2'));
  assert.equal(await text(await s.get('a/b/c')), '2');
  await assert.rejects(s.put('a/b/c', Buffer.from('3'), { size: 2 }), /body of 1 bytes, declared 2/);
  await assert.rejects(s.put('a/b/c', Buffer.from('3'), { sha256: '0'.repeat(64) }), /SHA-256/);
  assert.equal(await text(await s.get('a/b/c')), '2');
  assert.deepEqual(await readdir(join(root, '.tmp')), []);
});

test('a put or commit that runs out of space fails with StorageFullError, naming no path, and leaves nothing behind', { skip: tmpfsUnavailable() ?? false }, async () => {
  const disk = await mountTmpfs(1 << 20);
  try {
    const s = new DiskStorage({ root: disk.dir });
    await s.put('example.com/m/@v/v1.0.0.info', Buffer.from('{"Version":"v1.0.0"}'));
    const tooBig = Buffer.alloc(2 << 20, 7);
    const isFull = (err: unknown): boolean => err instanceof StorageFullError && /no space left on device/.test(err.message) && !err.message.includes(disk.dir);
    await assert.rejects(s.put('example.com/m/@v/v1.0.0.zip', tooBig), isFull);
    await assert.rejects(s.commit([{ key: 'example.com/m/@v/v1.0.0.zip', body: tooBig }]), isFull);
    assert.equal(await s.stat('example.com/m/@v/v1.0.0.zip'), null);
    assert.deepEqual(await readdir(join(disk.dir, '.tmp')), []);
    // What was stored before is still there, and the space the failures took is free again.
    assert.equal(await readFile(join(disk.dir, 'example.com/m/@v/v1.0.0.info'), 'utf8'), '{"Version":"v1.0.0"}');
    await s.put('example.com/m/@v/v1.0.0.mod', Buffer.from('module example.com/m\n'));
  } finally {
    await disk.dispose();
  }
});
