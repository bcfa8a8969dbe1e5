import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import type { Audit, AuditEvent } from '../audit/audit.js';
import { NotFoundError } from '../errors.js';
import { InvalidVersionError } from '../module/version.js';
import { storageKey } from '../protocol/keys.js';
import { DiskStorage } from '../storage/disk.js';
import { watchedStorage } from '../storage/watched-storage.js';
import { Catalog } from './catalog.js';
import { StoreAdministration } from './store-admin.js';

/** An audit that keeps the events in memory. */
function memoryAudit(): Audit & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, record: async (event) => void events.push(event), close: async () => undefined };
}

async function withStore(run: (admin: StoreAdministration, storage: DiskStorage) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'godepot-store-admin-'));
  try {
    const disk = new DiskStorage({ root });
    const catalog = new Catalog({ storage: disk, originOf: () => 'https://proxy.example', logger: pino({ level: 'silent' }) });
    const storage = watchedStorage(disk, catalog);
    const put = (path: string, file: 'info' | 'mod' | 'zip', version: string, bytes: number): Promise<unknown> => storage.put(storageKey(path, file, version), Buffer.alloc(bytes, 'x'));
    await put('example.com/a', 'info', 'v1.0.0', 10);
    await put('example.com/a', 'mod', 'v1.0.0', 20);
    await put('example.com/a', 'zip', 'v1.0.0', 1000);
    await put('example.com/a', 'mod', 'v1.1.0', 20);
    await catalog.settled();
    // Stored without the catalog being told: no recorded origin.
    await disk.put(storageKey('corp.example.com/lib', 'mod', 'v0.1.0'), Buffer.alloc(30, 'x'));
    await run(new StoreAdministration({ storage: disk, originOf: (p) => (p.startsWith('corp.') ? 'hosted' : 'https://now.example') }), disk);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('versions: every field, the recorded origin or else the current route; filtered by the include function', async () => {
  await withStore(async (admin) => {
    const versions = await admin.versions(() => true);
    assert.deepEqual(
      versions.map(({ path, version, files, bytes, origin, originRecorded, lastDownloaded }) => ({ path, version, files, bytes, origin, originRecorded, lastDownloaded })),
      [
        { path: 'corp.example.com/lib', version: 'v0.1.0', files: ['mod'], bytes: 30, origin: 'hosted', originRecorded: false, lastDownloaded: null },
        { path: 'example.com/a', version: 'v1.0.0', files: ['info', 'mod', 'zip'], bytes: 1030, origin: 'https://proxy.example', originRecorded: true, lastDownloaded: null },
        { path: 'example.com/a', version: 'v1.1.0', files: ['mod'], bytes: 20, origin: 'https://proxy.example', originRecorded: true, lastDownloaded: null },
      ],
    );
    for (const v of versions) assert.ok(!Number.isNaN(Date.parse(v.stored)), v.stored);
    assert.deepEqual((await admin.versions((p) => p.startsWith('corp.'))).map((v) => v.path), ['corp.example.com/lib']);
  });
});

test('usage: per module and per origin, largest first, with totals', async () => {
  await withStore(async (admin) => {
    assert.deepEqual(await admin.usage('module', () => true), {
      by: 'module',
      rows: [
        { name: 'example.com/a', versions: 2, bytes: 1050 },
        { name: 'corp.example.com/lib', versions: 1, bytes: 30 },
      ],
      total: { modules: 2, versions: 3, bytes: 1080 },
    });
    assert.deepEqual((await admin.usage('origin', () => true)).rows, [
      { name: 'https://proxy.example', versions: 2, bytes: 1050 },
      { name: 'hosted', versions: 1, bytes: 30 },
    ]);
  });
});

test('remove: takes the version and its cached list out, records the removal; an absent or invalid version is refused and nothing is recorded', async () => {
  await withStore(async (admin, storage) => {
    await storage.put(storageKey('example.com/a', 'list'), Buffer.from('v1.0.0\nv1.1.0\n'));
    const audit = memoryAudit();
    const by = { actor: 'cli:ops', from: 'cli' };
    assert.deepEqual(await admin.remove('example.com/a', 'v1.0.0', by, audit), { path: 'example.com/a', version: 'v1.0.0', files: ['info', 'mod', 'zip'], bytes: 1030 });
    assert.deepEqual(audit.events, [{ action: 'storage.delete', actor: 'cli:ops', from: 'cli', target: 'example.com/a@v1.0.0', outcome: 'ok', detail: { files: 'info mod zip', bytes: 1030 } }]);
    assert.deepEqual(await storage.list('example.com/a'), [storageKey('example.com/a', 'mod', 'v1.1.0')], 'the version and the stored list are gone; the other version stays');
    await assert.rejects(admin.remove('example.com/a', 'v1.0.0', by, audit), (err: Error) => err instanceof NotFoundError && err.message === 'example.com/a@v1.0.0 is not stored');
    await assert.rejects(admin.remove('example.com/a', 'v1.0', by, audit), InvalidVersionError);
    assert.equal(audit.events.length, 1);
  });
});
