import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { storageKey } from '../protocol/keys.js';
import { DiskStorage } from '../storage/disk.js';
import type { Storage } from '../storage/storage.js';
import { DownloadTimes, downloadedKey, readDownloadTime } from './download-times.js';
import { countedFileOf, isRecordKey, readJsonRecord, stringFields, versionRecordKey } from './records.js';
import { removeVersion } from './remove-version.js';
import { listStoredVersions } from './stored-versions.js';

const logger = pino({ level: 'silent' });

async function withStorage(run: (storage: DiskStorage, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'godepot-store-'));
  try {
    await run(new DiskStorage({ root }), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Counts the puts that reach `storage`. */
function countingPuts(storage: Storage): { storage: Storage; puts: string[] } {
  const puts: string[] = [];
  return {
    puts,
    storage: {
      get: (key, options) => storage.get(key, options),
      stat: (key) => storage.stat(key),
      list: (prefix) => storage.list(prefix),
      delete: (key) => storage.delete(key),
      put: (key, body, options) => {
        puts.push(key);
        return storage.put(key, body, options);
      },
    },
  };
}

test('records live under a top-level godepot/ that no module path can take, and are never counted as versions', () => {
  assert.equal(isRecordKey('godepot/downloaded/example.com/a/@v/v1.0.0'), true);
  assert.equal(isRecordKey('godepotx.com/a/@v/v1.0.0.info'), false);
  assert.equal(countedFileOf('godepot/quarantine/example.com/a/@v/v1.0.0.zip'), null);
  assert.deepEqual(countedFileOf('example.com/!a/@v/v1.0.0.zip'), { module: 'example.com/!a', version: 'v1.0.0', file: 'zip' });
  assert.equal(countedFileOf('example.com/a/@v/v1.0.0.ziphash'), null);
});

test('a record that cannot be read (absent, torn by a crash, not an object, a field missing) counts as none', async () => {
  await withStorage(async (storage) => {
    const key = versionRecordKey('godepot/stored', 'example.com/Upper', 'v1.0.0-RC');
    assert.equal(key, 'godepot/stored/example.com/!upper/@v/v1.0.0-!r!c');
    assert.equal(await readJsonRecord(storage, key), null, 'absent');
    const cases: Array<[string, Record<string, string> | null]> = [
      ['{"time":"2026-01-01T00:00:00.000Z","origin":"direct"}', { time: '2026-01-01T00:00:00.000Z', origin: 'direct' }],
      ['{"time":"2026-01-01T00:00:00.000Z","ori', null],
      ['["time","origin"]', null],
      ['null', null],
      ['{"time":"2026-01-01T00:00:00.000Z"}', null],
      ['{"time":"2026-01-01T00:00:00.000Z","origin":7}', null],
    ];
    for (const [body, expected] of cases) {
      await storage.put(key, Buffer.from(body));
      assert.deepEqual(stringFields(await readJsonRecord(storage, key), ['time', 'origin']), expected, body);
    }
  });
});

test('downloads are noted in memory and written once per version per flush, not per request', async () => {
  await withStorage(async (disk) => {
    const { storage, puts } = countingPuts(disk);
    let now = new Date('2026-12-01T10:00:00Z');
    const times = new DownloadTimes({ storage, logger, now: () => now });
    for (let i = 0; i < 100; i++) times.downloaded('example.com/a', 'v1.0.0');
    times.downloaded('example.com/B', 'v0.1.0');
    now = new Date('2026-12-01T10:00:30Z');
    times.downloaded('example.com/a', 'v1.0.0');
    assert.equal(puts.length, 0, 'nothing is written before a flush');
    await times.flush();
    assert.deepEqual(puts.sort(), [downloadedKey('example.com/B', 'v0.1.0'), downloadedKey('example.com/a', 'v1.0.0')].sort());
    assert.equal((await readDownloadTime(disk, 'example.com/a', 'v1.0.0'))?.toISOString(), '2026-12-01T10:00:30.000Z', 'the last time noted wins');
    await times.flush();
    assert.equal(puts.length, 2, 'a flush with nothing noted writes nothing');
  });
});

test('queries and invalid versions are not noted; close() writes what is pending', async () => {
  await withStorage(async (disk) => {
    const { storage, puts } = countingPuts(disk);
    const times = new DownloadTimes({ storage, logger });
    times.downloaded('example.com/a', 'master');
    times.downloaded('example.com/a', 'v1.0');
    times.downloaded('example.com/a/v2', 'v1.0.0');
    times.downloaded('example.com/a', 'v1.2.3');
    times.start();
    await times.close();
    assert.deepEqual(puts, [downloadedKey('example.com/a', 'v1.2.3')]);
  });
});

test('a note that could not be written is written at the next flush', async () => {
  await withStorage(async (disk) => {
    let failing = true;
    const storage: Storage = {
      ...disk,
      get: (key, options) => disk.get(key, options),
      stat: (key) => disk.stat(key),
      list: (prefix) => disk.list(prefix),
      delete: (key) => disk.delete(key),
      put: async (key, body, options) => {
        if (failing) throw new Error('disk gone');
        return disk.put(key, body, options);
      },
    };
    const times = new DownloadTimes({ storage, logger });
    times.downloaded('example.com/a', 'v1.0.0');
    await times.flush();
    assert.equal(await readDownloadTime(disk, 'example.com/a', 'v1.0.0'), null);
    failing = false;
    await times.flush();
    assert.notEqual(await readDownloadTime(disk, 'example.com/a', 'v1.0.0'), null);
  });
});

test('the store as versions: files, bytes, first stored time, last download; removal takes all of a version', async () => {
  await withStorage(async (disk, root) => {
    const put = (path: string, file: 'info' | 'mod' | 'zip' | 'ziphash', version: string, body: string) => disk.put(storageKey(path, file, version), Buffer.from(body));
    await put('example.com/a', 'info', 'v1.0.0', '{"Version":"v1.0.0"}');
    await put('example.com/a', 'mod', 'v1.0.0', 'module example.com/a\n');
    await put('example.com/a', 'zip', 'v1.0.0', 'zipbytes');
    await put('example.com/a', 'ziphash', 'v1.0.0', 'h1:x');
    await put('example.com/a', 'mod', 'v1.10.0', 'module example.com/a\n');
    await put('example.com/a', 'mod', 'v1.9.0', 'module example.com/a\n');
    await put('example.com/Big', 'mod', 'v0.1.0', 'module example.com/Big\n');
    await disk.put('example.com/a/@v/list', Buffer.from('v1.0.0\n'));
    await disk.put('sumdb/sum.golang.org/lookup/example.com/a@v1.0.0', Buffer.from('x'));
    const old = new Date('2026-01-01T00:00:00Z');
    await utimes(join(root, storageKey('example.com/a', 'mod', 'v1.0.0')), old, old);
    const times = new DownloadTimes({ storage: disk, logger, now: () => new Date('2026-12-01T00:00:00Z') });
    times.downloaded('example.com/a', 'v1.0.0');
    await times.close();

    const versions = await listStoredVersions(disk);
    assert.deepEqual(
      versions.map((v) => `${v.path}@${v.version}`),
      ['example.com/Big@v0.1.0', 'example.com/a@v1.0.0', 'example.com/a@v1.9.0', 'example.com/a@v1.10.0'],
      'sorted by path, then by semantic version; records, lists and checksum files are not versions',
    );
    const a = versions[1]!;
    assert.deepEqual(a.files, ['info', 'mod', 'zip']);
    assert.equal(a.bytes, 20 + 21 + 8, 'the .ziphash is not counted');
    assert.equal(a.stored.toISOString(), old.toISOString(), 'stored when its first file was');
    assert.equal(a.lastDownloaded?.toISOString(), '2026-12-01T00:00:00.000Z');
    assert.equal(versions[2]!.lastDownloaded, null);
    assert.deepEqual((await listStoredVersions(disk, (path) => path === 'example.com/Big')).map((v) => v.version), ['v0.1.0']);

    assert.equal(await removeVersion(disk, 'example.com/a', 'v1.0.0'), 49);
    assert.deepEqual(
      (await disk.list('example.com/a')).sort(),
      ['example.com/a/@v/list', 'example.com/a/@v/v1.10.0.mod', 'example.com/a/@v/v1.9.0.mod'],
      'every file of the version went, .ziphash too; others stay',
    );
    assert.equal(await readDownloadTime(disk, 'example.com/a', 'v1.0.0'), null, 'its last-download record went with it');
    assert.equal(await removeVersion(disk, 'example.com/a', 'v1.0.0'), 0, 'removing an absent version is no error');
  });
});
