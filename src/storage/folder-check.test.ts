import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mountTmpfs, tmpfsUnavailable } from '../../test/support/tmpfs.js';
import { StorageUnusableError } from '../errors.js';
import { checkStorageFolder } from './folder-check.js';

async function folder(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-folder-check-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a writable folder passes, and the probe leaves no file behind', async (t) => {
  const root = await folder(t);
  await checkStorageFolder(root);
  assert.deepEqual(await readdir(root), ['.tmp']);
  assert.deepEqual(await readdir(join(root, '.tmp')), []);
});

test('a missing folder, or a file in its place, is named as such', async (t) => {
  const dir = await folder(t);
  const root = join(dir, 'store');
  await assert.rejects(checkStorageFolder(root), (err) => err instanceof StorageUnusableError && err.message === `storage ${root} is missing`);
  await writeFile(root, '');
  await assert.rejects(checkStorageFolder(root), (err) => err instanceof StorageUnusableError && err.message === `storage ${root} is not a folder`);
});

// As root, a folder's mode never stops a write (and access(W_OK) says yes): a read-only file system does.
test('a folder on a read-only file system is not writable', { skip: tmpfsUnavailable() ?? false }, async (t) => {
  const tmpfs = await mountTmpfs(1 << 20);
  t.after(() => tmpfs.dispose());
  await mkdir(join(tmpfs.dir, 'store'));
  const root = join(tmpfs.dir, 'store');
  await tmpfs.remountReadOnly();
  await assert.rejects(checkStorageFolder(root), (err) => {
    assert.ok(err instanceof StorageUnusableError);
    assert.match(err.message, /^storage .* is not writable \(EROFS: /);
    assert.ok(err.message.endsWith(`): ${root} is on a read-only file system: mount it read-write, or choose a folder on a writable one (under systemd, a folder listed in ReadWritePaths=)`), err.message);
    return true;
  });
});

test('a folder of mode 0500 is not writable (but to root, which may write there)', { skip: process.getuid?.() === 0 ? 'root writes whatever the mode' : false }, async (t) => {
  const root = await folder(t);
  await chmod(root, 0o500);
  t.after(() => chmod(root, 0o700));
  await assert.rejects(checkStorageFolder(root), (err) => err instanceof StorageUnusableError && /^storage .* is not writable \(EACCES: /.test(err.message));
});
