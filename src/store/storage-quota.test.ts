import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import pino from 'pino';
import type { Audit, AuditEvent } from '../audit/audit.js';
import { StorageQuotaError } from '../errors.js';
import { storageKey } from '../protocol/keys.js';
import { DiskStorage } from '../storage/disk.js';
import { readStored } from '../storage/read-stored.js';
import { watchedStorage } from '../storage/watched-storage.js';
import { StoredInventory } from '../telemetry/stored-inventory.js';
import { DownloadTimes } from './download-times.js';
import { quotaStorage } from './quota-storage.js';
import { lastRunKey, ServerRetention } from './server-retention.js';
import { registerQuotaGauges, StorageQuota, type StoredBytes } from './storage-quota.js';

const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });

/** A figure the test sets, counted from the start. */
function figure(bytes: number): StoredBytes & { bytes: number } {
  return { bytes, counted: Promise.resolve() };
}

const refused = (err: unknown): boolean => err instanceof StorageQuotaError && /max-storage 1000 B \(1000 bytes\)/.test(err.message) && /godepot storage gc/.test(err.message);

test('a write fits while the stored and reserved bytes with it stay within the limit; at the limit nothing fits', async () => {
  const usage = figure(600);
  const quota = new StorageQuota({ limit: 1000, warningPercent: 90, usage });
  const release = await quota.reserve(300);
  await assert.rejects(quota.reserve(101), refused, 'the reservation under way counts');
  release();
  release();
  const second = await quota.reserve(400);
  second();
  usage.bytes = 1000;
  await assert.rejects(quota.reserve(0), refused, 'a write of unknown size is refused at the limit');
  assert.deepEqual(quota.state(), { limit: 1000, used: 1000, percent: 100, warning: true, full: true });
  usage.bytes = 900;
  assert.equal(quota.state().warning, false, 'at the warning percentage exactly, not above it');
  usage.bytes = 901;
  assert.equal(quota.state().warning, true);
  const registry = new Registry();
  registerQuotaGauges(registry, quota);
  const text = await registry.metrics();
  assert.match(text, /^godepot_storage_limit_bytes 1000$/m);
  assert.match(text, /^godepot_storage_warning 1$/m);
});

test('writes wait until the storage is counted', async () => {
  let counted!: () => void;
  const usage = { bytes: 0, counted: new Promise<void>((resolve) => (counted = resolve)) };
  const quota = new StorageQuota({ limit: 1000, warningPercent: 90, usage });
  let settled = false;
  const reserving = quota.reserve(10).then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false);
  usage.bytes = 995;
  counted();
  await reserving;
  await assert.rejects(quota.reserve(10), refused);
});

test('gc-on-full: room is made before a refusal, at most once a minute, and the write goes ahead when it freed enough', async () => {
  const usage = figure(1000);
  let runs = 0;
  let now = 0;
  const quota = new StorageQuota({
    limit: 1000,
    warningPercent: 90,
    usage,
    now: () => now,
    makeRoom: async () => {
      runs++;
      usage.bytes -= 500;
    },
  });
  (await quota.reserve(200))();
  assert.deepEqual([runs, usage.bytes], [1, 500]);
  usage.bytes = 1000;
  now += 30_000;
  await assert.rejects(quota.reserve(200), (err: unknown) => refused(err) && /gc-on-full: retention freed too little/.test((err as Error).message));
  assert.equal(runs, 1, 'not run again within the minute');
  now += 30_000;
  (await quota.reserve(200))();
  assert.equal(runs, 2);
});

test('the quota storage refuses new version files whole and stores nothing of them; other keys and reads pass', async () => {
  const root = await mkdtemp(join(tmpdir(), 'godepot-quota-'));
  try {
    const inventory = new StoredInventory();
    void inventory.walk(new DiskStorage({ root }));
    const disk = new DiskStorage({ root });
    const quota = new StorageQuota({ limit: 100, warningPercent: 90, usage: inventory });
    const storage = quotaStorage(watchedStorage(disk, inventory), quota);
    await storage.put(storageKey('example.com/a', 'info', 'v1.0.0'), Buffer.alloc(60));
    await assert.rejects(storage.put(storageKey('example.com/a', 'mod', 'v1.0.0'), Buffer.alloc(41)), StorageQuotaError);
    assert.equal(await storage.stat(storageKey('example.com/a', 'mod', 'v1.0.0')), null);
    await storage.put('example.com/a/@v/list', Buffer.alloc(500));
    await storage.put('godepot/downloaded/example.com/a/@v/v1.0.0', Buffer.alloc(50));

    const staged = await storage.stage();
    await writeFile(staged, Buffer.alloc(30));
    const objects = [
      { key: storageKey('example.com/b', 'zip', 'v1.0.0'), file: staged },
      { key: storageKey('example.com/b', 'ziphash', 'v1.0.0'), body: Buffer.from('h1:x') },
      { key: storageKey('example.com/b', 'info', 'v1.0.0'), body: Buffer.alloc(20) },
    ];
    await assert.rejects(storage.commit(objects), StorageQuotaError, '30 + 20 bytes do not fit in the 40 left');
    assert.deepEqual(await storage.list('example.com/b'), [], 'nothing of the version, not even its .ziphash');
    await storage.discard(staged);
    assert.equal(inventory.bytes, 60);
    assert.equal((await storage.get(storageKey('example.com/a', 'info', 'v1.0.0'))).readable, true, 'stored files are still read');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

/** An audit that keeps events in memory. */
function memoryAudit(): Audit & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, record: async (event) => void events.push(event), close: async () => undefined };
}

test("the server's retention: runs on schedule from the last run the storage records, flushes download notes first, forgets what it removed", async () => {
  const root = await mkdtemp(join(tmpdir(), 'godepot-retention-'));
  try {
    const storage = new DiskStorage({ root });
    for (const version of ['v1.0.0', 'v1.1.0', 'v1.2.0']) await storage.put(storageKey('example.com/a', 'mod', version), Buffer.from('module example.com/a\n'));
    const audit = memoryAudit();
    const removed: string[] = [];
    let now = new Date();
    const downloads = new DownloadTimes({ storage, logger, now: () => now });
    // The last run was a whole interval ago: the next is due now.
    await storage.put(lastRunKey, Buffer.from(now.toISOString()));
    const keep = join(root, '..', `${root.split('/').pop()}-keep.sum`);
    await writeFile(keep, 'example.com/a v1.0.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n');
    const retention = new ServerRetention({
      storage,
      policy: { unusedFor: 1, olderThan: null, keepLatest: null },
      keep: [keep],
      audit,
      logger,
      now: () => now,
      beforeRun: () => downloads.flush(),
      removed: (path, version) => removed.push(`${path}@${version}`),
    });
    // Every stored version is a day old; v1.2.0 was downloaded now, noted in memory only.
    now = new Date(now.getTime() + 86_400_000);
    downloads.downloaded('example.com/a', 'v1.2.0');
    await retention.start(86_400_000);
    const ranAt = now.toISOString();
    for (let i = 0; i < 100 && removed.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await retention.close();
    assert.deepEqual(removed, ['example.com/a@v1.1.0'], 'the pinned version and the one just downloaded stay');
    assert.deepEqual(audit.events.map((e) => [e.action, e.actor, e.target]), [['storage.gc', 'serve:gc-schedule', 'example.com/a@v1.1.0']]);
    assert.deepEqual((await readdir(join(root, 'example.com/a/@v'))).sort(), ['v1.0.0.mod', 'v1.2.0.mod']);
    assert.equal((await readStored(storage, lastRunKey))?.toString(), ranAt, 'the run is recorded for the next start');
    await rm(keep);
    assert.equal(await retention.run('gc-on-full'), null, 'a pin that cannot be read stops the run: nothing is removed without its pins');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
