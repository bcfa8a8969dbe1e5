import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DiskStorage } from './disk.js';
import { storageContract } from './storage.contract.js';
import { watchedStorage, type StorageWatcher } from './watched-storage.js';

const ignoring: StorageWatcher = { stored: () => undefined, removed: () => undefined };

storageContract('watchedStorage', async () => {
  const root = await mkdtemp(join(tmpdir(), 'godepot-watched-contract-'));
  return { storage: watchedStorage(new DiskStorage({ root }), ignoring), dispose: () => rm(root, { recursive: true, force: true }) };
});

test('puts, commits and deletes that took effect are told, with the sizes stored', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'godepot-watched-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const told: string[] = [];
  const storage = watchedStorage(new DiskStorage({ root }), {
    stored: (key, size) => told.push(`stored ${key} ${size}`),
    removed: (key) => told.push(`removed ${key}`),
  });
  await storage.put('m/@v/v1.0.0.info', Buffer.from('{"Version":"v1.0.0"}'));
  const staged = await storage.stage();
  await writeFile(staged, Buffer.alloc(1000));
  await storage.commit([
    { key: 'm/@v/v1.0.0.zip', file: staged },
    { key: 'm/@v/v1.0.0.mod', body: Buffer.from('module m\n') },
  ]);
  await storage.delete('m/@v/v1.0.0.info');
  assert.deepEqual(told, ['stored m/@v/v1.0.0.info 20', 'stored m/@v/v1.0.0.zip 1000', 'stored m/@v/v1.0.0.mod 9', 'removed m/@v/v1.0.0.info']);

  told.length = 0;
  await assert.rejects(storage.put('m/@v/v1.0.1.info', Buffer.from('x'), { size: 2 }));
  assert.deepEqual(told, [], 'a put that failed stored nothing and is not told');
});
