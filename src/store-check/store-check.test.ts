// storage verify's check and repair over a storage folder a depot filled from a test upstream: every
// kind of damage found and named, and repaired by fetching again, or quarantined when it cannot be.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { filesUnder } from '../../test/support/godepot-server.js';
import { addModule, type ProxyEntry } from '../../test/support/modgraph.js';
import { flipZipDataByte } from '../../test/support/rawzip.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { StorageClientStore, SumdbClient } from '../checksum/client.js';
import { ChecksumDatabase } from '../checksum/database.js';
import { generateKey } from '../checksum/note.js';
import { CachingDepot } from '../depot/caching-depot.js';
import { hashGoMod } from '../module/hash.js';
import { ProxyOrigin } from '../origin/proxy.js';
import { storageKey } from '../protocol/keys.js';
import { DiskStorage } from '../storage/disk.js';
import { createMetrics } from '../telemetry/metrics.js';
import { allRecords, hostedRecords, keptLookups, type ChecksumRecords } from './checksum-records.js';
import { KeptHashesVerifier } from './kept-hashes-verifier.js';
import { quarantineKey } from './quarantine.js';
import { repairStore } from './repair.js';
import { checkModuleAnswer, checkStore, type StoreReport } from './store-check.js';
import type { Problem } from './version-check.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const noRecords: ChecksumRecords = { of: async () => [] };
const logger = pino({ level: 'silent' });

interface Store {
  root: string;
  tree: string;
  work: string;
  storage: DiskStorage;
  upstream: Upstream;
  entries: Record<'a' | 'b' | 'c' | 'd', ProxyEntry>;
  /** A depot over the storage, fetching from the test upstream, checking with `expected` when given. */
  depot(expected?: StoreReport['expected']): CachingDepot;
  /** The file of a version's stored file. */
  file(entry: ProxyEntry, kind: 'zip' | 'ziphash' | 'mod' | 'info'): string;
}

async function makeStore(): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-store-check-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const tree = join(dir, 'tree');
  const work = join(dir, 'work');
  const root = join(dir, 'storage');
  await mkdir(tree);
  const add = (modulePath: string, files: Record<string, string>): Promise<ProxyEntry> => addModule(tree, work, modulePath, 'v1.0.0', files);
  const entries = {
    a: await add('example.com/a', { 'go.mod': 'module example.com/a\n\ngo 1.17\n', 'a.go': `package a\n\n// Text is long enough to be compressed.\nconst Text = "${'a'.repeat(400)}"\n` }),
    b: await add('example.com/b', { 'go.mod': 'module example.com/b\n', 'b.go': 'package b\n' }),
    c: await add('example.com/Upper/c', { 'c.go': 'package c\n' }),
    d: await add('example.com/d', { 'go.mod': 'module example.com/d\n', 'd.go': 'package d\n' }),
  };
  const upstream = await startUpstream({ root: tree });
  cleanups.push(() => upstream.stop());
  const storage = new DiskStorage({ root });
  const depot = (expected?: StoreReport['expected']): CachingDepot => {
    const metrics = createMetrics();
    const origin = new ProxyOrigin({ url: upstream.url, timeoutMs: 2000, retries: 0, logger, metrics });
    cleanups.push(() => origin.close());
    const verifier = expected === undefined ? undefined : new KeptHashesVerifier({ verify: async () => false }, expected);
    return new CachingDepot({ storage, origin, logger, metrics, listTtlMs: 0, verifier });
  };
  const filling = depot();
  for (const entry of Object.values(entries)) {
    await filling.info(entry.modulePath, entry.version);
    await filling.zip(entry.modulePath, entry.version);
  }
  await filling.list(entries.a.modulePath);
  await filling.close();
  const file = (entry: ProxyEntry, kind: 'zip' | 'ziphash' | 'mod' | 'info'): string => storage.fileOf(storageKey(entry.modulePath, kind, entry.version));
  return { root, tree, work, storage, upstream, entries, depot, file };
}

/** Every file below `root` with its bytes. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const files = await filesUnder(root);
  return new Map(await Promise.all(files.map(async (f): Promise<[string, string]> => [f, (await readFile(join(root, f))).toString('base64')])));
}

const lines = (problems: readonly Problem[]): string[] => problems.map((p) => `${p.module}@${p.version}: ${p.problem}`);

test('a store a depot filled is whole: every version read, nothing to report; godepot/ and sumdb/ are not modules', async () => {
  const store = await makeStore();
  await store.storage.put(quarantineKey('20240102T030405Z', storageKey('example.com/q', 'zip', 'v1.0.0')), Buffer.from('not a zip'));
  await store.storage.put('sumdb/sum.golang.org/lookup/example.com/a@v1.0.0', Buffer.from('junk'));
  const report = await checkStore(store.storage, noRecords);
  assert.deepEqual(report.problems, []);
  assert.equal(report.versions, 4);
  // Four files a version, and the list of example.com/a (the static upstream has no @latest to keep).
  assert.equal(report.objects, 17);
  assert.ok(report.bytes > 400);
});

test('every kind of damage is reported, one line a problem, naming the file and what is wrong', async () => {
  const store = await makeStore();
  const { a, b, c, d } = store.entries;
  await flipZipDataByte(store.file(a, 'zip'));
  await truncate(store.file(b, 'zip'), 100);
  await rm(store.file(b, 'mod'));
  await writeFile(store.file(c, 'info'), '{"Version":"v1.0.0",');
  await writeFile(store.file(c, 'ziphash'), 'sha256:0123');
  await writeFile(store.file(d, 'info'), '{"Version":"v1.0.1"}');
  await writeFile(store.file(d, 'mod'), 'module example.com/d\n\nrequire example.com/evil v1.0.0\n');
  await rm(store.file(d, 'ziphash'));
  await writeFile(store.storage.fileOf(storageKey(a.modulePath, 'list')), 'v1.0.0\nnot-a-version\n');
  // A zip stored alone (its .ziphash lost) and a .ziphash alone, of versions nothing else is stored of.
  await store.storage.put(storageKey('example.com/e', 'ziphash', 'v1.0.0'), Buffer.from(a.zipH1));
  const leftover = join(store.root, '.tmp', '.v1.0.0.zip.0123456789ab.tmp');
  await writeFile(leftover, 'PK partial');
  const young = join(store.root, '.tmp', '.v1.0.0.mod.ba9876543210.tmp');
  await writeFile(young, 'module example.com/young\n');
  const longAgo = new Date('2024-01-02T03:04:05Z');
  await utimes(leftover, longAgo, longAgo);

  const before = await snapshot(store.root);
  const report = await checkStore(store.storage, noRecords);
  assert.deepEqual(await snapshot(store.root), before, 'a check changes nothing, leftovers included');
  assert.deepEqual(lines(report.problems), [
    'null@null: .tmp/.v1.0.0.zip.0123456789ab.tmp: left by a write that never finished (10 bytes, last written 2024-01-02T03:04:05.000Z)',
    'example.com/Upper/c@v1.0.0: .ziphash: holds "sha256:0123", not an h1: hash',
    'example.com/Upper/c@v1.0.0: .info is not JSON',
    'example.com/a@null: @v/list: line 2 is not a version: "not-a-version"',
    'example.com/a@v1.0.0: zip: not a valid zip file: invalid distance too far back',
    'example.com/b@v1.0.0: zip: not a valid zip file: end of central directory record not found',
    'example.com/b@v1.0.0: .mod: missing beside its zip',
    'example.com/d@v1.0.0: zip: stored without its .ziphash, by a write that never finished',
    `example.com/d@v1.0.0: .mod: differs from the go.mod in its zip (${hashGoMod(Buffer.from('module example.com/d\n\nrequire example.com/evil v1.0.0\n'))}; the zip's is ${d.modH1})`,
    'example.com/d@v1.0.0: .info: names version v1.0.1',
    'example.com/e@v1.0.0: .ziphash: stored without its zip',
  ]);
  const zipOfA = report.problems.find((p) => p.module === a.modulePath && p.file === 'zip')!;
  assert.deepEqual(zipOfA.objects, [storageKey(a.modulePath, 'zip', a.version), storageKey(a.modulePath, 'ziphash', a.version)]);
  // What a fetch again must match: the .ziphash of a zip no longer whole, the zip's own hashes where it is
  // whole and nothing contradicts it.
  assert.deepEqual(report.expected.get('example.com/a@v1.0.0'), { zip: a.zipH1 });
  assert.deepEqual(report.expected.get('example.com/d@v1.0.0'), { zip: d.zipH1, mod: d.modH1 });
});

test('the hashes checksum databases godepot holds are the reference: a record that disagrees is a problem', async () => {
  const store = await makeStore();
  const { a, b } = store.entries;
  const name = 'sum.store-check.test';
  const key = generateKey(name);
  const db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(store.root, '..', 'db') }), signerKey: key.signerKey });
  const other = 'h1:' + 'A'.repeat(43) + '=';
  await db.add(a.modulePath, a.version, { zip: other, mod: a.modH1 });
  await db.add(b.modulePath, b.version, { zip: b.zipH1, mod: other });
  // godepot's client looks them up and keeps what it proved in the storage, as serve's does.
  const client = new SumdbClient({ verifierKey: key.verifierKey, fetch: async (path) => (await db.get(path)).body!, store: new StorageClientStore(store.storage) });
  await client.lookup(a.modulePath, a.version);
  await client.lookup(b.modulePath, b.version);

  const kept = keptLookups(store.storage, key.verifierKey);
  assert.deepEqual(await kept.of(a.modulePath, a.version), [{ database: name, zip: other, mod: a.modH1 }]);
  assert.deepEqual(await kept.of(store.entries.c.modulePath, 'v1.0.0'), [], 'no lookup kept, none fetched');
  // godepot's own database (--sumdb-host) is read from its records, in the same terms.
  assert.deepEqual(await hostedRecords(db).of(b.modulePath, b.version), [{ database: name, zip: b.zipH1, mod: other }]);
  const report = await checkStore(store.storage, allRecords([kept, noRecords]));
  assert.deepEqual(lines(report.problems), [
    `example.com/a@v1.0.0: zip: hashes to ${a.zipH1}, but checksum database ${name} records ${other}`,
    `example.com/b@v1.0.0: .mod: hashes to ${b.modH1}, but checksum database ${name} records ${other}`,
  ]);
  assert.deepEqual(report.expected.get('example.com/a@v1.0.0'), { zip: other, mod: a.modH1 });
});

test('repair quarantines what is damaged, fetches it again and checks it again; what cannot be fetched stays quarantined', async () => {
  const store = await makeStore();
  const { a, b, c, d } = store.entries;
  const damagedZip = await flipZipDataByte(store.file(a, 'zip'));
  await truncate(store.file(b, 'zip'), 100);
  await rm(store.file(b, 'mod'));
  await writeFile(store.file(c, 'info'), '[]');
  // d's zip is damaged, and its origin no longer has it.
  await flipZipDataByte(store.file(d, 'zip'));
  await rm(join(store.tree, 'example.com', 'd'), { recursive: true });
  const leftover = join(store.root, '.tmp', '.v1.0.0.zip.0123456789ab.tmp');
  await writeFile(leftover, 'PK partial');
  await utimes(leftover, new Date(0), new Date(0));

  const report = await checkStore(store.storage, noRecords);
  assert.equal(report.problems.length, 6);
  const stamp = '20240102T030405Z';
  const depot = store.depot(report.expected);
  const { repairs, found } = await repairStore(report, { storage: store.storage, depot, records: noRecords, stamp });
  const outcomes = report.problems.map((p, i) => `${p.module}@${p.version} ${p.file}: ${repairs[i]!.outcome}`);
  assert.deepEqual(outcomes, [
    'null@null leftover: removed',
    'example.com/Upper/c@v1.0.0 info: refetched',
    'example.com/a@v1.0.0 zip: refetched',
    'example.com/b@v1.0.0 zip: refetched',
    'example.com/b@v1.0.0 mod: refetched',
    'example.com/d@v1.0.0 zip: quarantined',
  ]);
  assert.deepEqual(found, []);
  const dZip = repairs[5]!;
  assert.deepEqual(dZip.quarantined, [quarantineKey(stamp, storageKey(d.modulePath, 'zip', d.version)), quarantineKey(stamp, storageKey(d.modulePath, 'ziphash', d.version))]);
  assert.match(dZip.reason!, /example\.com\/d\/@v\/v1\.0\.0\.zip answered 404/);
  // The damaged bytes are kept, byte for byte, where the report says.
  assert.deepEqual(await readFile(store.storage.fileOf(repairs[2]!.quarantined[0]!)), damagedZip);
  assert.deepEqual(await readFile(store.file(a, 'zip')), await readFile(a.zipFile));
  assert.equal((await readFile(store.file(b, 'mod'), 'utf8')), b.goMod);

  const again = await checkStore(store.storage, noRecords);
  assert.deepEqual(again.problems, [], 'the store is whole: d lost its zip (quarantined), the rest was fetched again');
});

test('repair refuses a copy fetched again whose hash is not the one the store served: go.sum files hold that one', async () => {
  const store = await makeStore();
  const { a } = store.entries;
  await truncate(store.file(a, 'zip'), 100);
  // The origin now has other content under the same version.
  await rm(join(store.tree, 'example.com', 'a'), { recursive: true });
  await addModule(store.tree, store.work + '-2', a.modulePath, a.version, { 'go.mod': 'module example.com/a\n\ngo 1.17\n', 'a.go': 'package a\n\nconst Text = "moved tag"\n' });
  const report = await checkStore(store.storage, noRecords);
  const { repairs } = await repairStore(report, { storage: store.storage, depot: store.depot(report.expected), records: noRecords, stamp: '20240102T030405Z' });
  assert.equal(repairs[0]!.outcome, 'quarantined');
  assert.match(repairs[0]!.reason!, new RegExp(`the origin now serves a zip that hashes to h1:\\S+, not ${a.zipH1.replace(/[+/]/g, '\\$&')} as the copy this store served`));
  assert.equal(await store.storage.stat(storageKey(a.modulePath, 'zip', a.version)), null, 'nothing of the other content is stored');
});

test("a module's stored list and @latest, kept for when its origin is down, are checked too", () => {
  assert.equal(checkModuleAnswer('example.com/m', 'list', Buffer.from('v1.0.0\nv1.1.0\n')), null);
  assert.equal(checkModuleAnswer('example.com/m', 'list', Buffer.from('')), null);
  assert.equal(checkModuleAnswer('example.com/m', 'latest', Buffer.from('{"Version":"v1.1.0","Time":"2023-01-02T03:04:05Z"}')), null);
  assert.deepEqual(checkModuleAnswer('example.com/m', 'latest', Buffer.from('{"Version":"v1.1.0","Time":"yesterday"}')), {
    module: 'example.com/m',
    version: null,
    file: 'latest',
    objects: ['example.com/m/@latest'],
    problem: '@latest has invalid Time "yesterday"',
  });
  assert.equal(checkModuleAnswer('example.com/m', 'list', Buffer.from('v1.0.0\n\u0000\u0000\n'))?.problem, '@v/list: line 2 is not a version: "\\u0000\\u0000"');
});
