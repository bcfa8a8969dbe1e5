import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { storageKey } from '../protocol/keys.js';
import { DiskStorage } from '../storage/disk.js';
import type { Storage } from '../storage/storage.js';
import { watchedStorage } from '../storage/watched-storage.js';
import { Catalog, readCatalog, readVersionRecord, type CatalogEntry } from './catalog.js';
import { readRemovedHashes } from './removed-versions.js';
import { removeVersion } from './remove-version.js';

const logger = pino({ level: 'silent' });

async function withStorage(run: (storage: DiskStorage, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'godepot-catalog-'));
  try {
    await run(new DiskStorage({ root }), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** A clock the test sets. */
function clock(start: string): { now: () => Date; set(iso: string): void } {
  let t = new Date(start);
  return { now: () => t, set: (iso) => (t = new Date(iso)) };
}

const all = (_modulePath: string): boolean => true;
const ids = (entries: CatalogEntry[]): string[] => entries.map((e) => `${e.Path}@${e.Version}`);

/** Counts the gets of catalog entries that reach `storage`. */
function countingGets(storage: Storage): { storage: Storage; gets: () => number } {
  let gets = 0;
  return {
    gets: () => gets,
    storage: {
      get: (key, options) => {
        if (key.startsWith('godepot/catalog/')) gets++;
        return storage.get(key, options);
      },
      stat: (key) => storage.stat(key),
      list: (prefix) => storage.list(prefix),
      delete: (key) => storage.delete(key),
      put: (key, body, options) => storage.put(key, body, options),
    },
  };
}

test('each version stored is catalogued once, in the order stored, with its origin; since is inclusive, limit counts visible entries only', async () => {
  await withStorage(async (disk) => {
    const time = clock('2026-12-01T10:00:00.000Z');
    const catalog = new Catalog({ storage: disk, originOf: (p) => (p.startsWith('corp.') ? 'hosted' : 'https://proxy.example'), logger, now: time.now });
    const storage = watchedStorage(disk, catalog);
    const store = (path: string, file: 'info' | 'mod' | 'zip', version: string): Promise<unknown> => storage.put(storageKey(path, file, version), Buffer.from('x'));
    await store('example.com/a', 'mod', 'v1.0.0');
    await store('example.com/a', 'info', 'v1.0.0');
    await store('example.com/a', 'zip', 'v1.0.0');
    await storage.put(storageKey('example.com/a', 'list'), Buffer.from('v1.0.0\n'));
    time.set('2026-12-02T08:00:00.000Z');
    await store('corp.example.com/secret', 'info', 'v0.1.0');
    // A clock set back does not file an entry before the last one.
    time.set('2026-12-01T09:00:00.000Z');
    await store('example.com/B', 'mod', 'v2.0.0+incompatible');
    await catalog.settled();

    const now = new Date('2026-12-03T00:00:00Z');
    const entries = await readCatalog(disk, { since: null, limit: 2000, visible: all, now });
    assert.deepEqual(entries, [
      { Path: 'example.com/a', Version: 'v1.0.0', Timestamp: '2026-12-01T10:00:00.000Z' },
      { Path: 'corp.example.com/secret', Version: 'v0.1.0', Timestamp: '2026-12-02T08:00:00.000Z' },
      { Path: 'example.com/B', Version: 'v2.0.0+incompatible', Timestamp: '2026-12-02T08:00:00.001Z' },
    ]);
    assert.deepEqual(await readVersionRecord(disk, 'corp.example.com/secret', 'v0.1.0'), { time: '2026-12-02T08:00:00.000Z', origin: 'hosted', entry: (await readVersionRecord(disk, 'corp.example.com/secret', 'v0.1.0'))!.entry });
    assert.equal((await readVersionRecord(disk, 'example.com/a', 'v1.0.0'))?.origin, 'https://proxy.example');

    const since = (iso: string, limit = 2000, visible = all) => readCatalog(disk, { since: new Date(iso), limit, visible, now });
    assert.deepEqual(ids(await since('2026-12-02T08:00:00.000Z')), ['corp.example.com/secret@v0.1.0', 'example.com/B@v2.0.0+incompatible'], 'since is inclusive');
    assert.deepEqual(ids(await since('2026-12-02T08:00:00.001Z')), ['example.com/B@v2.0.0+incompatible']);
    assert.deepEqual(ids(await since('2026-12-01T00:00:00Z', 1)), ['example.com/a@v1.0.0']);
    const publicOnly = (p: string): boolean => !p.startsWith('corp.');
    assert.deepEqual(ids(await since('2026-12-01T11:00:00Z', 1, publicOnly)), ['example.com/B@v2.0.0+incompatible'], 'a hidden entry is skipped, not counted');
    assert.deepEqual(await since('2026-12-04T00:00:00Z'), []);
  });
});

test('a reading costs the entries it answers: the entries before since and past the limit are not read', async () => {
  await withStorage(async (disk) => {
    const time = clock('2026-06-01T00:00:00.000Z');
    const catalog = new Catalog({ storage: disk, originOf: () => 'direct', logger, now: time.now });
    const storage = watchedStorage(disk, catalog);
    for (let i = 0; i < 60; i++) {
      time.set(new Date(Date.parse('2026-06-01T00:00:00Z') + i * 60_000).toISOString());
      await storage.put(storageKey(`example.com/m${i}`, 'mod', 'v1.0.0'), Buffer.from('x'));
    }
    await catalog.settled();
    const counted = countingGets(disk);
    const entries = await readCatalog(counted.storage, { since: new Date('2026-06-01T00:20:00Z'), limit: 3, visible: all, now: new Date('2026-06-02T00:00:00Z') });
    assert.deepEqual(ids(entries), ['example.com/m20@v1.0.0', 'example.com/m21@v1.0.0', 'example.com/m22@v1.0.0']);
    assert.ok(counted.gets() <= 32, `read ${counted.gets()} entries for 3 lines (one batch at most), not the 60`);
    const late = countingGets(disk);
    assert.deepEqual(ids(await readCatalog(late.storage, { since: new Date('2026-06-01T00:58:00Z'), limit: 2000, visible: all, now: new Date('2026-06-02T00:00:00Z') })), ['example.com/m58@v1.0.0', 'example.com/m59@v1.0.0']);
    assert.equal(late.gets(), 2, 'the entries before since are skipped by name, unread');
  });
});

test('catchUp catalogues a store that predates the catalog at its stored times, oldest first; later, what it finds at the time it finds it', async () => {
  await withStorage(async (disk, root) => {
    const put = async (path: string, version: string, iso: string): Promise<void> => {
      const key = storageKey(path, 'mod', version);
      await disk.put(key, Buffer.from('x'));
      await utimes(join(root, key), new Date(iso), new Date(iso));
    };
    await put('example.com/late', 'v1.0.0', '2025-03-01T00:00:00Z');
    await put('example.com/early', 'v1.0.0', '2024-01-01T00:00:00Z');
    const time = clock('2026-12-01T00:00:00.000Z');
    const first = new Catalog({ storage: disk, originOf: () => 'direct', logger, now: time.now });
    await first.catchUp();
    const now = new Date('2026-12-02T00:00:00Z');
    assert.deepEqual(await readCatalog(disk, { since: null, limit: 10, visible: all, now }), [
      { Path: 'example.com/early', Version: 'v1.0.0', Timestamp: '2024-01-01T00:00:00.000Z' },
      { Path: 'example.com/late', Version: 'v1.0.0', Timestamp: '2025-03-01T00:00:00.000Z' },
    ]);

    // Stored by another command while no catalog was told: found at the next start, at that time.
    await put('example.com/copied', 'v1.0.0', '2023-01-01T00:00:00Z');
    const second = new Catalog({ storage: disk, originOf: () => 'direct', logger, now: time.now });
    await second.catchUp();
    const entries = await readCatalog(disk, { since: new Date('2026-01-01T00:00:00Z'), limit: 10, visible: all, now });
    assert.deepEqual(entries, [{ Path: 'example.com/copied', Version: 'v1.0.0', Timestamp: '2026-12-01T00:00:00.000Z' }]);
    await second.catchUp();
    assert.equal((await readCatalog(disk, { since: null, limit: 10, visible: all, now })).length, 3, 'nothing is catalogued twice');
  });
});

test('a removed version leaves the catalog and keeps its hashes; stored again, it is catalogued again', async () => {
  await withStorage(async (disk) => {
    const time = clock('2026-12-01T00:00:00.000Z');
    const catalog = new Catalog({ storage: disk, originOf: () => 'direct', logger, now: time.now });
    const storage = watchedStorage(disk, catalog);
    await storage.put(storageKey('example.com/a', 'mod', 'v1.0.0'), Buffer.from('module example.com/a\n'));
    await storage.put(storageKey('example.com/a', 'zip', 'v1.0.0'), Buffer.from('zip'));
    await storage.put(storageKey('example.com/a', 'ziphash', 'v1.0.0'), Buffer.from('h1:abc='));
    await catalog.settled();
    const now = new Date('2026-12-02T00:00:00Z');
    assert.equal((await readCatalog(disk, { since: null, limit: 10, visible: all, now })).length, 1);

    await removeVersion(storage, 'example.com/a', 'v1.0.0', new Date('2026-12-01T12:00:00Z'));
    assert.deepEqual(await readCatalog(disk, { since: null, limit: 10, visible: all, now }), []);
    assert.equal(await readVersionRecord(disk, 'example.com/a', 'v1.0.0'), null);
    const removed = await readRemovedHashes(disk, 'example.com/a', 'v1.0.0');
    assert.equal(removed?.h1, 'h1:abc=');
    assert.match(removed?.goModH1 ?? '', /^h1:/);
    assert.equal(removed?.removed, '2026-12-01T12:00:00.000Z');

    time.set('2026-12-01T13:00:00.000Z');
    await storage.put(storageKey('example.com/a', 'mod', 'v1.0.0'), Buffer.from('module example.com/a\n'));
    await catalog.settled();
    assert.deepEqual(await readCatalog(disk, { since: null, limit: 10, visible: all, now }), [{ Path: 'example.com/a', Version: 'v1.0.0', Timestamp: '2026-12-01T13:00:00.000Z' }]);
  });
});
