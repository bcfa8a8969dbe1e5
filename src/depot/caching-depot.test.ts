import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { addModule, buildModuleGraph, proxyUrls, type ProxyEntry } from '../../test/support/modgraph.js';
import { writeRawZip } from '../../test/support/rawzip.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { GodepotError, InvalidContentError, InvalidRequestError, NotFoundError, UpstreamError } from '../errors.js';
import { hashGoMod } from '../module/hash.js';
import { MAX_ZIP_FILE } from '../module/zip.js';
import type { Origin } from '../origin/origin.js';
import { ProxyOrigin } from '../origin/proxy.js';
import { DiskStorage } from '../storage/disk.js';
import type { Storage } from '../storage/storage.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import { CachingDepot } from './caching-depot.js';
import type { Artifact } from '../protocol/artifact.js';
import type { RunLease } from './flight.js';
import { KeyedLock } from './keyed-lock.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface World {
  dir: string;
  tree: string;
  work: string;
  storeRoot: string;
  upstream: Upstream;
  storage: DiskStorage;
  metrics: Metrics;
  depot: CachingDepot;
  /** JSON log lines of every depot made in this world. */
  logs: Array<Record<string, unknown>>;
  /** Another depot on the same storage and upstream, as after a restart. */
  restart(options?: { listTtlMs?: number; lease?: RunLease }): CachingDepot;
  add(modulePath: string, version: string, files: Record<string, string | Buffer>): Promise<ProxyEntry>;
}

async function makeWorld(options: { listTtlMs?: number; zipLimit?: number; lease?: RunLease; storage?: (root: string) => DiskStorage } = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-depot-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const tree = join(dir, 'tree');
  const work = join(dir, 'work');
  const storeRoot = join(dir, 'store');
  const spool = join(dir, 'spool');
  await mkdir(tree);
  await mkdir(spool);
  const upstream = await startUpstream({ root: tree });
  cleanups.push(() => upstream.stop());
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const storage = options.storage?.(storeRoot) ?? new DiskStorage({ root: storeRoot });
  let metrics = createMetrics();
  const make = (listTtlMs = options.listTtlMs ?? 60_000, lease = options.lease): CachingDepot => {
    metrics = createMetrics();
    const origin = new ProxyOrigin({
      url: upstream.url,
      timeoutMs: 2000,
      retries: 0,
      logger,
      metrics,
      ...(options.zipLimit === undefined ? {} : { limits: { zip: options.zipLimit } }),
    });
    cleanups.push(() => origin.close());
    return new CachingDepot({ storage, origin, logger, metrics, listTtlMs, tempDir: spool, lease });
  };
  const world: World = {
    dir,
    tree,
    work,
    storeRoot,
    upstream,
    storage,
    metrics,
    depot: make(),
    logs,
    restart(o = {}) {
      const depot = make(o.listTtlMs, o.lease);
      world.metrics = metrics;
      return depot;
    },
    add: (modulePath, version, files) => addModule(tree, work, modulePath, version, files),
  };
  world.metrics = metrics;
  return world;
}

async function bytesOf(artifact: Artifact, range?: { start: number; end: number }): Promise<Buffer> {
  if (artifact.body !== undefined) return artifact.body;
  assert.ok(artifact.open !== undefined);
  const chunks: Buffer[] = [];
  for await (const chunk of await artifact.open(range)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function counted(metrics: Metrics, name: 'cache' | 'flightWaits' | 'storageErrors', labels: Record<string, string>): Promise<number> {
  const { values } = await metrics[name].get();
  const found = values.find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l));
  return found?.value ?? 0;
}

function goMod(modulePath: string): string {
  return `module ${modulePath}\n\ngo 1.17\n`;
}

function source(pkg: string): Record<string, string> {
  return { [`${pkg}.go`]: `package ${pkg}\n\n// Name says who this is.\nconst Name = "${pkg}"\n` };
}

/** Files left in the storage's temporary folder (staged zips, put temporaries). */
async function stagedFiles(world: World): Promise<string[]> {
  return readdir(join(world.storeRoot, '.tmp')).catch(() => []);
}

/** Every key the store holds for a module, its list and @latest included. */
async function storedKeys(world: World, escapedPath: string): Promise<string[]> {
  return world.storage.list(escapedPath);
}

test('a miss goes to the origin once and is stored in the module cache layout; then every file is a hit', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/Upper/m', 'v1.0.0', { 'go.mod': goMod('example.com/Upper/m'), ...source('m') });
  const { depot, upstream } = w;

  const info = await depot.info(entry.modulePath, 'v1.0.0');
  assert.equal(info.cache, 'miss');
  assert.equal(info.immutable, true);
  assert.equal(info.contentType, 'application/json');
  assert.deepEqual(await bytesOf(info), await readFile(entry.infoFile));
  assert.match(info.etag ?? '', /^"sha256-[0-9a-f]{64}"$/);

  // Fetched along with the .info, as go asks for it next: never twice.
  const provisional = await depot.mod(entry.modulePath, 'v1.0.0');
  assert.equal(upstream.countOf(entry.urls.mod), 1);
  assert.equal(provisional.contentType, 'text/plain; charset=UTF-8');
  assert.equal((await bytesOf(provisional)).toString(), entry.goMod);
  // No zip has confirmed it yet: not announced as immutable.
  assert.equal(provisional.immutable, false);
  assert.equal(provisional.etag, null);

  const zip = await depot.zip(entry.modulePath, 'v1.0.0');
  assert.equal(zip.cache, 'miss');
  assert.equal(zip.contentType, 'application/zip');
  assert.equal(zip.etag, `"${entry.zipH1}"`);
  const zipBytes = await readFile(entry.zipFile);
  assert.equal(zip.size, zipBytes.length);
  assert.deepEqual(await bytesOf(zip), zipBytes);
  assert.deepEqual(await bytesOf(zip, { start: 10, end: 99 }), zipBytes.subarray(10, 100));

  // The layout go's module cache has, .ziphash included: the store is a GOPROXY=file:// tree.
  const base = join(w.storeRoot, 'example.com', '!upper', 'm', '@v');
  assert.deepEqual((await readdir(base)).sort(), ['v1.0.0.info', 'v1.0.0.mod', 'v1.0.0.zip', 'v1.0.0.ziphash']);
  assert.equal(await readFile(join(base, 'v1.0.0.ziphash'), 'utf8'), entry.zipH1);
  assert.deepEqual(await readFile(join(base, 'v1.0.0.zip')), zipBytes);

  // Once the zip beside it agrees, the .mod is immutable.
  const mod = await depot.mod(entry.modulePath, 'v1.0.0');
  assert.equal(mod.cache, 'hit');
  assert.equal(mod.immutable, true);
  assert.match(mod.etag ?? '', /^"sha256-[0-9a-f]{64}"$/);
  assert.deepEqual(await bytesOf(mod), await bytesOf(provisional));

  const before = upstream.requests.length;
  for (let i = 0; i < 3; i++) {
    const again = [await depot.info(entry.modulePath, 'v1.0.0'), await depot.mod(entry.modulePath, 'v1.0.0'), await depot.zip(entry.modulePath, 'v1.0.0')];
    assert.deepEqual(again.map((a) => a.cache), ['hit', 'hit', 'hit']);
    assert.deepEqual(again.map((a) => a.etag), [info.etag, mod.etag, zip.etag]);
  }
  assert.equal(upstream.requests.length, before);
  assert.equal(upstream.countOf(entry.urls.zip), 1);
  assert.equal(await counted(w.metrics, 'cache', { route: 'info', result: 'miss' }), 1);
  assert.equal(await counted(w.metrics, 'cache', { route: 'info', result: 'hit' }), 3);
  assert.equal(await counted(w.metrics, 'cache', { route: 'zip', result: 'hit' }), 3);

  // After a restart storage answers, with the same validators, and the origin hears nothing.
  const restarted = w.restart();
  const fromDisk = [await restarted.info(entry.modulePath, 'v1.0.0'), await restarted.mod(entry.modulePath, 'v1.0.0'), await restarted.zip(entry.modulePath, 'v1.0.0')];
  assert.deepEqual(fromDisk.map((a) => a.cache), ['hit', 'hit', 'hit']);
  assert.deepEqual(fromDisk.map((a) => a.etag), [info.etag, mod.etag, zip.etag]);
  assert.deepEqual(await bytesOf(fromDisk[2]!), zipBytes);
  assert.equal(upstream.requests.length, before);
});

test('a zip miss stores the .info and .mod with it, and a hit on small files is the same object every time', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/z', 'v1.2.3', { 'go.mod': goMod('example.com/z'), ...source('z') });
  const zip = await w.depot.zip(entry.modulePath, 'v1.2.3');
  assert.equal(zip.cache, 'miss');
  assert.deepEqual(await storedKeys(w, 'example.com/z'), [
    'example.com/z/@v/v1.2.3.info',
    'example.com/z/@v/v1.2.3.mod',
    'example.com/z/@v/v1.2.3.zip',
    'example.com/z/@v/v1.2.3.ziphash',
  ]);
  const before = w.upstream.requests.length;
  const info1 = await w.depot.info(entry.modulePath, 'v1.2.3');
  const info2 = await w.depot.info(entry.modulePath, 'v1.2.3');
  assert.equal(info1.cache, 'hit');
  assert.equal(info1, info2);
  assert.equal((await w.depot.mod(entry.modulePath, 'v1.2.3')).cache, 'hit');
  assert.equal(w.upstream.requests.length, before);

  // A zip removed from storage behind the depot's back is fetched again, not served from memory forever.
  await w.storage.delete('example.com/z/@v/v1.2.3.zip');
  const remembered = await w.depot.zip(entry.modulePath, 'v1.2.3');
  await assert.rejects(bytesOf(remembered), NotFoundError);
  const refetched = await w.depot.zip(entry.modulePath, 'v1.2.3');
  assert.equal(refetched.cache, 'miss');
  assert.deepEqual(await bytesOf(refetched), await readFile(entry.zipFile));
  assert.equal(w.upstream.countOf(entry.urls.zip), 2);
});

test('the .mod comes with the .info, and both are stored behind their answers', async () => {
  const w = await makeWorld();
  const prompt = await w.add('example.com/prompt', 'v1.0.0', { 'go.mod': goMod('example.com/prompt'), ...source('p') });
  await w.depot.info(prompt.modulePath, 'v1.0.0');
  const mod = await w.depot.mod(prompt.modulePath, 'v1.0.0');
  assert.equal((await bytesOf(mod)).toString(), prompt.goMod);
  assert.equal(mod.immutable, false);
  assert.equal(w.upstream.countOf(prompt.urls.mod), 1);
  await w.depot.close();
  const base = join(w.storeRoot, 'example.com', 'prompt', '@v');
  assert.equal(await readFile(join(base, 'v1.0.0.mod'), 'utf8'), prompt.goMod);
  assert.deepEqual(await readFile(join(base, 'v1.0.0.info')), await readFile(prompt.infoFile));

  // A slow .mod does not hold the .info up; the .mod request joins its fetch.
  const late = await w.add('example.com/late', 'v1.0.0', { 'go.mod': goMod('example.com/late'), ...source('l') });
  w.upstream.fault(late.urls.mod, { delayMs: 1000, times: 1 });
  const waits = await counted(w.metrics, 'flightWaits', { kind: 'mod' });
  const started = Date.now();
  await w.depot.info(late.modulePath, 'v1.0.0');
  assert.ok(Date.now() - started < 700, 'the .info waited for the slow .mod');
  assert.equal((await bytesOf(await w.depot.mod(late.modulePath, 'v1.0.0'))).toString(), late.goMod);
  assert.equal(w.upstream.countOf(late.urls.mod), 1);
  assert.equal(await counted(w.metrics, 'flightWaits', { kind: 'mod' }), waits + 1);

  // A .mod already stored is not asked for again.
  const stored = await w.add('example.com/stored', 'v1.0.0', { 'go.mod': goMod('example.com/stored'), ...source('s') });
  await w.depot.mod(stored.modulePath, 'v1.0.0');
  await w.depot.close();
  await w.restart().info(stored.modulePath, 'v1.0.0');
  assert.equal(w.upstream.countOf(stored.urls.mod), 1);
});

test('a slow storage holds up neither the .info nor the .mod; close() waits for their stores', async () => {
  class SlowPuts extends DiskStorage {
    override async put(...args: Parameters<DiskStorage['put']>): ReturnType<DiskStorage['put']> {
      await new Promise((resolve) => setTimeout(resolve, 400));
      return super.put(...args);
    }
  }
  const w = await makeWorld({ storage: (root) => new SlowPuts({ root }) });
  const entry = await w.add('example.com/behind', 'v1.0.0', { 'go.mod': goMod('example.com/behind'), ...source('b') });
  const started = Date.now();
  const info = await w.depot.info(entry.modulePath, 'v1.0.0');
  const mod = await w.depot.mod(entry.modulePath, 'v1.0.0');
  assert.ok(Date.now() - started < 350, 'an answer waited for its store');
  assert.deepEqual(await bytesOf(info), await readFile(entry.infoFile));
  assert.equal((await bytesOf(mod)).toString(), entry.goMod);
  assert.deepEqual(await storedKeys(w, 'example.com/behind'), []);
  await w.depot.close();
  assert.deepEqual(await storedKeys(w, 'example.com/behind'), ['example.com/behind/@v/v1.0.0.info', 'example.com/behind/@v/v1.0.0.mod']);
  // What was answered is there after a restart, without a word to the origin.
  const before = w.upstream.requests.length;
  const restarted = w.restart();
  assert.equal((await restarted.info(entry.modulePath, 'v1.0.0')).cache, 'hit');
  assert.equal((await restarted.mod(entry.modulePath, 'v1.0.0')).cache, 'hit');
  assert.equal(w.upstream.requests.length, before);
});

test('every module of the test graph comes through whole: v2+, upper case, pseudo-version, no go.mod, +incompatible', async () => {
  const w = await makeWorld();
  const graph = await buildModuleGraph(join(w.dir, 'graph'));
  const upstream = await startUpstream({ root: graph.tree });
  cleanups.push(() => upstream.stop());
  const metrics = createMetrics();
  const origin = new ProxyOrigin({ url: upstream.url, timeoutMs: 2000, retries: 0, metrics });
  cleanups.push(() => origin.close());
  const storage = new DiskStorage({ root: join(w.dir, 'graph-store') });
  const depot = new CachingDepot({ storage, origin, logger: pino({ level: 'silent' }), metrics, listTtlMs: 60_000 });
  for (const e of graph.entries) {
    const zip = await depot.zip(e.modulePath, e.version);
    assert.equal(zip.etag, `"${e.zipH1}"`, `${e.modulePath}@${e.version}`);
    assert.deepEqual(await bytesOf(zip), await readFile(e.zipFile));
    assert.equal((await bytesOf(await depot.mod(e.modulePath, e.version))).toString(), e.goMod);
    assert.deepEqual(await bytesOf(await depot.info(e.modulePath, e.version)), await readFile(e.infoFile));
  }
});

test('two depots on one storage sharing a lease (two workers): a cold .info is fetched upstream once', async () => {
  // The lease table of the cluster's primary, in one process: one holder per key at a time.
  const lock = new KeyedLock();
  const lease: RunLease = { hold: (key, fetch) => lock.run(key, fetch) };
  const w = await makeWorld({ lease });
  const other = w.restart({ lease });
  const entry = await w.add('example.com/twice', 'v1.0.0', { 'go.mod': goMod('example.com/twice'), ...source('twice') });
  w.upstream.fault(entry.urls.info, { delayMs: 200 });
  const answers = await Promise.all([w.depot.info(entry.modulePath, 'v1.0.0'), other.info(entry.modulePath, 'v1.0.0')]);
  assert.equal(w.upstream.countOf(entry.urls.info), 1, 'the depot that waited for the lease found the .info stored');
  const infoBytes = await readFile(entry.infoFile);
  for (const a of answers) assert.deepEqual(await bytesOf(a), infoBytes);
  assert.deepEqual(answers.map((a) => a.cache).sort(), ['hit', 'miss']);
});

test('50 concurrent cold requests for one zip cause exactly one upstream request; the others wait', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/hot', 'v1.0.0', { 'go.mod': goMod('example.com/hot'), ...source('hot') });
  w.upstream.fault(entry.urls.zip, { delayMs: 200 });
  const answers = await Promise.all(Array.from({ length: 50 }, () => w.depot.zip(entry.modulePath, 'v1.0.0')));
  assert.equal(w.upstream.countOf(entry.urls.zip), 1);
  const zipBytes = await readFile(entry.zipFile);
  for (const a of answers) {
    assert.equal(a.etag, `"${entry.zipH1}"`);
    assert.deepEqual(await bytesOf(a), zipBytes);
  }
  assert.equal(await counted(w.metrics, 'flightWaits', { kind: 'zip' }), 49);
  assert.equal(await counted(w.metrics, 'cache', { route: 'zip', result: 'miss' }), 50);

  // The same for the small files.
  const other = await w.add('example.com/hot2', 'v1.0.0', { 'go.mod': goMod('example.com/hot2'), ...source('hot2') });
  w.upstream.fault(other.urls.mod, { delayMs: 100 });
  await Promise.all(Array.from({ length: 20 }, () => w.depot.mod(other.modulePath, 'v1.0.0')));
  assert.equal(w.upstream.countOf(other.urls.mod), 1);
});

test('.info, .mod and .zip of a cold version asked for together, 20 of each at once: one upstream fetch per file', async () => {
  const lock = new KeyedLock();
  const lease: RunLease = { hold: (key, fetch) => lock.run(key, fetch) };
  for (const shared of [false, true]) {
    const w = await makeWorld(shared ? { lease } : {});
    // With a lease, three depots on one storage: the workers of `serve --workers 3`.
    const depots = shared ? [w.depot, w.restart({ lease }), w.restart({ lease })] : [w.depot];
    for (let round = 0; round < 8; round++) {
      const entry = await w.add(`example.com/together${round}`, 'v1.0.0', { 'go.mod': goMod(`example.com/together${round}`), ...source('t') });
      // Uneven delays, so that every order of arrival at the upstream comes up over the rounds.
      for (const url of [entry.urls.info, entry.urls.mod, entry.urls.zip]) w.upstream.fault(url, { delayMs: Math.floor(Math.random() * 40) });
      const asks: Array<Promise<Artifact>> = [];
      for (let i = 0; i < 20; i++) {
        for (const [n, depot] of depots.entries()) {
          if (i % depots.length !== n) continue;
          asks.push(depot.zip(entry.modulePath, 'v1.0.0'), depot.info(entry.modulePath, 'v1.0.0'), depot.mod(entry.modulePath, 'v1.0.0'));
        }
      }
      const answers = await Promise.all(asks);
      const label = `${shared ? 'three depots' : 'one depot'}, round ${round}`;
      assert.deepEqual([w.upstream.countOf(entry.urls.info), w.upstream.countOf(entry.urls.mod), w.upstream.countOf(entry.urls.zip)], [1, 1, 1], label);
      assert.deepEqual(await bytesOf(answers[0]!), await readFile(entry.zipFile), label);
      assert.deepEqual(await bytesOf(answers[1]!), await readFile(entry.infoFile), label);
      assert.equal((await bytesOf(answers[2]!)).toString(), entry.goMod, label);
    }
    for (const depot of depots) await depot.close();
  }
});

test('zips are staged inside the storage; those a crash left there are removed by the first zip fetch once they are old', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/sweep', 'v1.0.0', { 'go.mod': goMod('example.com/sweep'), ...source('s') });
  const temp = join(w.storeRoot, '.tmp');
  await mkdir(temp, { recursive: true });
  for (const name of ['.staged.0123456789ab.tmp', '.staged.ba9876543210.tmp', 'someone-elses']) await writeFile(join(temp, name), 'partial');
  const longAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  await utimes(join(temp, '.staged.0123456789ab.tmp'), longAgo, longAgo);
  await utimes(join(temp, 'someone-elses'), longAgo, longAgo);
  await w.depot.zip(entry.modulePath, 'v1.0.0');
  assert.deepEqual((await readdir(temp)).sort(), ['.staged.ba9876543210.tmp', 'someone-elses']);
  // The depot's own spool folder is for storages that cannot stage files; DiskStorage can.
  assert.deepEqual(await readdir(join(w.dir, 'spool')), []);
});

test('with a storage that cannot stage files, zips are spooled in tempDir and stored with put()', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/plain', 'v1.0.0', { 'go.mod': goMod('example.com/plain'), ...source('p') });
  const bad = await w.add('example.com/plainbad', 'v1.0.0', { 'go.mod': goMod('example.com/plainbad'), ...source('p') });
  await writeFile(bad.zipFile, 'not a zip');
  // Only the Storage interface: no stage/commit/discard.
  const { storage } = w;
  const plain: Storage = {
    get: (key, options) => storage.get(key, options),
    stat: (key) => storage.stat(key),
    put: (key, body, options) => storage.put(key, body, options),
    list: (prefix) => storage.list(prefix),
    delete: (key) => storage.delete(key),
  };
  const metrics = createMetrics();
  const origin = new ProxyOrigin({ url: w.upstream.url, timeoutMs: 2000, retries: 0, metrics });
  cleanups.push(() => origin.close());
  const spool = join(w.dir, 'plain-spool');
  const depot = new CachingDepot({ storage: plain, origin, logger: pino({ level: 'silent' }), metrics, listTtlMs: 60_000, tempDir: spool });
  const zip = await depot.zip(entry.modulePath, 'v1.0.0');
  assert.equal(zip.etag, `"${entry.zipH1}"`);
  assert.deepEqual(await bytesOf(zip), await readFile(entry.zipFile));
  assert.deepEqual(await storedKeys(w, 'example.com/plain'), [
    'example.com/plain/@v/v1.0.0.info',
    'example.com/plain/@v/v1.0.0.mod',
    'example.com/plain/@v/v1.0.0.zip',
    'example.com/plain/@v/v1.0.0.ziphash',
  ]);
  await assert.rejects(depot.zip(bad.modulePath, 'v1.0.0'), InvalidContentError);
  assert.deepEqual(await storedKeys(w, 'example.com/plainbad'), []);
  assert.deepEqual(await readdir(spool), []);
});

test('a zip the origin lacks fails the fetch while its .info and .mod are still on their way, and nothing is left behind', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/nozip', 'v1.0.0', { 'go.mod': goMod('example.com/nozip'), ...source('n') });
  w.upstream.fault(entry.urls.zip, { status: 404 });
  w.upstream.fault(entry.urls.info, { delayMs: 200 });
  w.upstream.fault(entry.urls.mod, { delayMs: 200 });
  await assert.rejects(w.depot.zip(entry.modulePath, 'v1.0.0'), NotFoundError);
  assert.deepEqual(await storedKeys(w, 'example.com/nozip'), []);
  assert.deepEqual(await stagedFiles(w), []);
});

test('different files are fetched at the same time: one hanging upstream file does not hold up another', async () => {
  const w = await makeWorld();
  const slow = await w.add('example.com/slow', 'v1.0.0', { 'go.mod': goMod('example.com/slow'), ...source('slow') });
  const fast = await w.add('example.com/fast', 'v1.0.0', { 'go.mod': goMod('example.com/fast'), ...source('fast') });
  w.upstream.fault(slow.urls.zip, { hang: true });
  const hanging = w.depot.zip(slow.modulePath, 'v1.0.0');
  hanging.catch(() => undefined);
  const started = Date.now();
  const answer = await w.depot.zip(fast.modulePath, 'v1.0.0');
  assert.equal(answer.cache, 'miss');
  assert.ok(Date.now() - started < 1500, 'the fast zip waited for the hanging one');
  await assert.rejects(hanging, GodepotError);
  assert.deepEqual(await storedKeys(w, 'example.com/slow'), []);
});

test('a client that goes away does not cancel the shared fetch', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/leave', 'v1.0.0', { 'go.mod': goMod('example.com/leave'), ...source('leave') });
  w.upstream.fault(entry.urls.zip, { delayMs: 300 });
  const leaving = new AbortController();
  const first = w.depot.zip(entry.modulePath, 'v1.0.0', leaving.signal);
  const staying = w.depot.zip(entry.modulePath, 'v1.0.0');
  setTimeout(() => leaving.abort(), 50);
  await assert.rejects(first, { name: 'AbortError' });
  assert.deepEqual(await bytesOf(await staying), await readFile(entry.zipFile));

  // Even when the only client leaves, the fetch finishes and is stored.
  const lonely = await w.add('example.com/lonely', 'v1.0.0', { 'go.mod': goMod('example.com/lonely'), ...source('lonely') });
  w.upstream.fault(lonely.urls.zip, { delayMs: 200 });
  const gone = new AbortController();
  const abandoned = w.depot.zip(lonely.modulePath, 'v1.0.0', gone.signal);
  gone.abort();
  await assert.rejects(abandoned, { name: 'AbortError' });
  const later = await w.depot.zip(lonely.modulePath, 'v1.0.0');
  assert.deepEqual(await bytesOf(later), await readFile(lonely.zipFile));
  assert.equal(w.upstream.countOf(lonely.urls.zip), 1);
});

/** Asserts that fetching the zip fails with InvalidContentError matching `reason`, and nothing (but `kept`) is stored. */
async function assertZipRefused(w: World, entry: ProxyEntry, reason: RegExp, kept: string[] = []): Promise<void> {
  await assert.rejects(w.depot.zip(entry.modulePath, entry.version), (err) => {
    assert.ok(err instanceof InvalidContentError, String(err));
    assert.match(err.message, reason);
    return true;
  });
  const escaped = proxyUrls(entry.modulePath, entry.version).list.slice(1, -'/@v/list'.length);
  const versionBase = proxyUrls(entry.modulePath, entry.version).zip.slice(1, -'.zip'.length);
  assert.deepEqual(await storedKeys(w, escaped), kept.map((ext) => versionBase + ext));
  assert.deepEqual(await stagedFiles(w), []);
}

test('a corrupt zip is refused and nothing is stored', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/corrupt', 'v1.0.0', { 'go.mod': goMod('example.com/corrupt'), ...source('c') });
  const zip = await readFile(entry.zipFile);
  await writeFile(entry.zipFile, zip.subarray(0, zip.length - 30));
  await assertZipRefused(w, entry, /example\.com\/corrupt@v1\.0\.0: zip from origin rejected: .*zip/);
  await writeFile(entry.zipFile, 'this is not a zip at all');
  await assertZipRefused(w, entry, /zip from origin rejected/);
});

test('a zip with a ../ entry or files outside its module prefix is refused, naming the file', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/evil', 'v1.0.0', { 'go.mod': goMod('example.com/evil'), ...source('e') });
  await writeRawZip(entry.zipFile, [
    { name: 'example.com/evil@v1.0.0/go.mod', data: goMod('example.com/evil') },
    { name: 'example.com/evil@v1.0.0/../../../../etc/cron.d/evil', data: 'boom' },
  ]);
  await assertZipRefused(w, entry, /cron\.d\/evil: malformed file path "..\/..\/..\/..\/etc\/cron.d\/evil": invalid path element "\.\."/);
  await writeRawZip(entry.zipFile, [
    { name: 'example.com/evil@v1.0.0/go.mod', data: goMod('example.com/evil') },
    { name: 'example.com/other@v1.0.0/x.go', data: 'package x\n' },
  ]);
  await assertZipRefused(w, entry, /path does not have prefix/);
});

test("a zip whose go.mod differs from the .mod is refused, and so is a .mod that is not the zip's", async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/liar', 'v1.0.0', { 'go.mod': goMod('example.com/liar'), ...source('l') });
  await writeFile(entry.modFile, goMod('example.com/liar') + '\nrequire example.com/extra v1.0.0\n');
  await assertZipRefused(w, entry, /its go\.mod differs from the \.mod the origin serves/);
  // A module without go.mod must be served with the go.mod go makes up, not another.
  const legacy = await w.add('example.com/legacy', 'v1.0.0', source('legacy'));
  await writeFile(legacy.modFile, 'module example.com/legacy\n\ngo 1.20\n');
  await assertZipRefused(w, legacy, /go\.mod differs/);
});

test(".mod first, then a zip that disagrees: the origin is asked again; still lying, the zip is refused and the stored .mod removed", async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/order', 'v1.0.0', { 'go.mod': goMod('example.com/order'), ...source('o') });
  const lie = goMod('example.com/order') + '\nrequire example.com/extra v1.0.0\n';
  w.upstream.fault(entry.urls.mod, { status: 200, body: lie });
  // go's order: .info, .mod, .zip.
  await w.depot.info(entry.modulePath, 'v1.0.0');
  assert.equal((await bytesOf(await w.depot.mod(entry.modulePath, 'v1.0.0'))).toString(), lie);
  await assertZipRefused(w, entry, /its go\.mod differs from the \.mod the origin serves/, ['.info']);
  assert.equal(w.upstream.countOf(entry.urls.mod), 2, 'the .mod was asked again once the zip disagreed');
  const removed = w.logs.find((l) => l.level === 40 && l.module === entry.modulePath);
  assert.equal(removed?.storedModH1, hashGoMod(Buffer.from(lie)));
  assert.equal(removed?.zipModH1, entry.modH1);

  // Fixed upstream: the .mod is no longer the lie, from memory or storage, and the version comes through.
  w.upstream.clearFaults();
  assert.equal((await bytesOf(await w.depot.mod(entry.modulePath, 'v1.0.0'))).toString(), entry.goMod);
  const zip = await w.depot.zip(entry.modulePath, 'v1.0.0');
  assert.equal(zip.etag, `"${entry.zipH1}"`);
  assert.equal((await w.depot.mod(entry.modulePath, 'v1.0.0')).immutable, true);
});

test('a stored .mod the origin has fixed by the time the zip is asked is replaced by the zip\'s go.mod, with a warning naming both', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/fixed', 'v1.0.0', { 'go.mod': goMod('example.com/fixed'), ...source('f') });
  const lie = 'module example.com/fixed\n\ngo 1.12\n';
  w.upstream.fault(entry.urls.mod, { status: 200, body: lie });
  const provisional = await w.depot.mod(entry.modulePath, 'v1.0.0');
  assert.equal((await bytesOf(provisional)).toString(), lie);
  assert.equal(provisional.immutable, false);
  w.upstream.clearFaults();

  const zip = await w.depot.zip(entry.modulePath, 'v1.0.0');
  assert.deepEqual(await bytesOf(zip), await readFile(entry.zipFile));
  assert.equal(await readFile(join(w.storeRoot, 'example.com', 'fixed', '@v', 'v1.0.0.mod'), 'utf8'), entry.goMod);
  const mod = await w.depot.mod(entry.modulePath, 'v1.0.0');
  assert.equal((await bytesOf(mod)).toString(), entry.goMod);
  assert.equal(mod.immutable, true);
  const warning = w.logs.find((l) => l.msg === 'replaced a stored .mod that disagreed with its zip');
  assert.deepEqual([warning?.module, warning?.version, warning?.storedModH1, warning?.modH1], [entry.modulePath, 'v1.0.0', hashGoMod(Buffer.from(lie)), entry.modH1]);
  // After a restart the stored .mod, confirmed by the zip beside it, is immutable too.
  const restarted = await w.restart().mod(entry.modulePath, 'v1.0.0');
  assert.equal(restarted.immutable, true);
  assert.equal(restarted.etag, mod.etag);
});

test('a .mod missing beside a stored zip is the zip\'s go.mod, without asking the origin', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/lost', 'v1.0.0', { 'go.mod': goMod('example.com/lost'), ...source('l') });
  const legacy = await w.add('example.com/lostlegacy', 'v1.0.0', source('l'));
  for (const e of [entry, legacy]) {
    await w.depot.zip(e.modulePath, 'v1.0.0');
    await w.storage.delete(proxyUrls(e.modulePath, 'v1.0.0').mod.slice(1));
    w.upstream.fault(e.urls.mod, { status: 200, body: 'module example.com/somethingelse\n' });
    const before = w.upstream.countOf(e.urls.mod);
    const mod = await w.restart().mod(e.modulePath, 'v1.0.0');
    assert.equal((await bytesOf(mod)).toString(), e.goMod);
    assert.equal(mod.immutable, true);
    assert.equal(w.upstream.countOf(e.urls.mod), before);
    assert.equal(await readFile(join(w.storeRoot, proxyUrls(e.modulePath, 'v1.0.0').mod.slice(1)), 'utf8'), e.goMod);
  }
});

test('a .mod request and a zip fetch of one version at once share one .mod download; a lying .mod refuses the zip until the origin agrees', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/race', 'v1.0.0', { 'go.mod': goMod('example.com/race'), ...source('r') });
  // The .mod request gets a late lie, which the zip fetch joins rather than asking again.
  const lie = 'module example.com/race\n\ngo 1.12\n';
  w.upstream.fault(entry.urls.mod, { status: 200, body: lie, delayMs: 300, times: 1 });
  const mod = w.depot.mod(entry.modulePath, 'v1.0.0');
  await new Promise((resolve) => setTimeout(resolve, 50));
  await assert.rejects(w.depot.zip(entry.modulePath, 'v1.0.0'), /its go\.mod differs from the \.mod the origin serves/);
  assert.equal((await bytesOf(await mod)).toString(), lie);
  assert.equal(w.upstream.countOf(entry.urls.mod), 1);
  // With the origin fixed, the next zip fetch asks for the .mod again and the zip's go.mod is what stays.
  await w.depot.close();
  const zip = await w.depot.zip(entry.modulePath, 'v1.0.0');
  assert.equal(zip.etag, `"${entry.zipH1}"`);
  assert.equal(w.upstream.countOf(entry.urls.mod), 2);
  assert.equal(await readFile(join(w.storeRoot, 'example.com', 'race', '@v', 'v1.0.0.mod'), 'utf8'), entry.goMod);
  assert.equal((await bytesOf(await w.depot.mod(entry.modulePath, 'v1.0.0'))).toString(), entry.goMod);
});

test('a zip over go\'s size limit is refused whatever the origin lets through, and nothing is stored', async () => {
  // The origin's own limit sits above the depot's, so that the depot's limit is the one tested.
  const w = await makeWorld({ zipLimit: MAX_ZIP_FILE + (8 << 20) });
  const entry = await w.add('example.com/huge', 'v1.0.0', { 'go.mod': goMod('example.com/huge'), ...source('h') });
  w.upstream.fault(entry.urls.zip, { bodyBytes: MAX_ZIP_FILE + 1 });
  await assertZipRefused(w, entry, new RegExp(`zip from origin is larger than ${MAX_ZIP_FILE} bytes`));
});

test('an .info that names another version is refused, for the .info itself and within a zip fetch', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/other', 'v1.0.0', { 'go.mod': goMod('example.com/other'), ...source('o') });
  await writeFile(entry.infoFile, JSON.stringify({ Version: 'v1.0.1', Time: '2023-01-02T03:04:05Z' }));
  await assert.rejects(w.depot.info(entry.modulePath, 'v1.0.0'), /returned info for version v1\.0\.1 instead of the requested version/);
  await assertZipRefused(w, entry, /returned info for version v1\.0\.1/);
  await writeFile(entry.infoFile, '{"Version": "v1.0.0", "Time": ');
  await assert.rejects(w.depot.info(entry.modulePath, 'v1.0.0'), InvalidContentError);
  await writeFile(entry.modFile, 'module example.com/other\nrequire (\n');
  await assert.rejects(w.depot.mod(entry.modulePath, 'v1.0.0'), /\.mod from origin does not parse/);
  assert.deepEqual(await storedKeys(w, 'example.com/other'), []);
});

test('queries are resolved by the origin every time and never stored under their name', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/q', 'v1.2.0', { 'go.mod': goMod('example.com/q'), ...source('q') });
  const vdir = join(w.tree, 'example.com', 'q', '@v');
  const pseudo = 'v1.2.1-0.20230102030405-0123456789ab';
  await writeFile(join(vdir, 'master.info'), JSON.stringify({ Version: pseudo, Time: '2023-01-02T03:04:05Z' }));
  await writeFile(join(vdir, 'v1.2.info'), await readFile(entry.infoFile));
  for (let i = 1; i <= 2; i++) {
    const master = await w.depot.info('example.com/q', 'master');
    assert.equal(master.cache, 'miss');
    assert.equal(master.immutable, false);
    assert.equal(master.etag, null);
    assert.equal(JSON.parse((await bytesOf(master)).toString()).Version, pseudo);
    assert.equal(w.upstream.countOf('/example.com/q/@v/master.info'), i);
    assert.equal(JSON.parse((await bytesOf(await w.depot.info('example.com/q', 'v1.2'))).toString()).Version, 'v1.2.0');
    assert.equal(w.upstream.countOf('/example.com/q/@v/v1.2.info'), i);
  }
  assert.deepEqual(await storedKeys(w, 'example.com/q'), []);
  // An answer that is no version of the module is refused.
  await writeFile(join(vdir, 'bad.info'), JSON.stringify({ Version: 'v2.0.0' }));
  await assert.rejects(w.depot.info('example.com/q', 'bad'), InvalidContentError);
  // v2.0.0 of a path without /v2 is a query go expects to resolve to v2.0.0+incompatible.
  await writeFile(join(vdir, 'v2.0.0.info'), JSON.stringify({ Version: 'v2.0.0+incompatible' }));
  assert.equal(JSON.parse((await bytesOf(await w.depot.info('example.com/q', 'v2.0.0'))).toString()).Version, 'v2.0.0+incompatible');
  assert.deepEqual(await storedKeys(w, 'example.com/q'), []);
});

test('invalid module paths and versions are typed errors and cause no upstream traffic', async () => {
  const w = await makeWorld();
  const cases: Array<() => Promise<unknown>> = [
    () => w.depot.list('../etc'),
    () => w.depot.list('example.com/../x'),
    () => w.depot.latest('/example.com/m'),
    () => w.depot.list('example.com//m'),
    () => w.depot.list('example.com/m\0'),
    () => w.depot.list('nodot/m'),
    () => w.depot.info('example.com/m', '../../../etc/passwd'),
    () => w.depot.info('example.com/m', 'a/b'),
    () => w.depot.info('example.com/m', 'v1!'),
    () => w.depot.info('example.com/m', ''),
    () => w.depot.mod('example.com/m', 'v1.0'),
    () => w.depot.mod('example.com/m', 'master'),
    () => w.depot.mod('example.com/m/v2', 'v1.0.0'),
    () => w.depot.zip('example.com/m', 'v2.0.0'),
    () => w.depot.zip('example.com/m', 'v1.0.0+meta'),
    () => w.depot.zip('example.com\\m', 'v1.0.0'),
  ];
  for (const c of cases) await assert.rejects(c(), InvalidRequestError);
  assert.deepEqual(w.upstream.requests, []);
  assert.deepEqual(await w.storage.list(''), []);
});

test('list: the origin list filtered, merged with stored versions, refreshed at most once per TTL, kept as @v/list', async () => {
  const w = await makeWorld();
  const modulePath = 'example.com/l';
  await w.add(modulePath, 'v1.0.0', { 'go.mod': goMod(modulePath), ...source('l') });
  await w.add(modulePath, 'v1.10.0', { 'go.mod': goMod(modulePath), ...source('l') });
  const unlisted = await w.add(modulePath, 'v1.1.0', { 'go.mod': goMod(modulePath), ...source('l') });
  const listFile = join(w.tree, 'example.com', 'l', '@v', 'list');
  await writeFile(listFile, 'v1.10.0\nv1.0.0\nv1.0.0-20230102030405-0123456789ab\nv1.2\nv2.0.0\nnot-a-version\n');

  const first = await w.depot.list(modulePath);
  assert.equal(first.cache, 'miss');
  assert.equal(first.immutable, false);
  assert.equal(first.etag, null);
  assert.equal((await bytesOf(first)).toString(), 'v1.0.0\nv1.10.0\n');
  assert.equal(await readFile(join(w.storeRoot, 'example.com', 'l', '@v', 'list'), 'utf8'), 'v1.0.0\nv1.10.0\n');

  const second = await w.depot.list(modulePath);
  assert.equal(second.cache, 'hit');
  assert.equal(w.upstream.countOf(unlisted.urls.list), 1);

  // A version fetched since is listed at once, though the origin's list does not have it.
  await w.depot.info(modulePath, 'v1.1.0');
  // A stored pseudo-version is not, as lists never hold them.
  const pseudo = await w.add(modulePath, 'v1.10.1-0.20230102030405-0123456789ab', { 'go.mod': goMod(modulePath), ...source('l') });
  assert.equal((await w.depot.info(modulePath, pseudo.version)).cache, 'miss');
  assert.equal((await bytesOf(await w.depot.list(modulePath))).toString(), 'v1.0.0\nv1.1.0\nv1.10.0\n');
  assert.equal(w.upstream.countOf(unlisted.urls.list), 1);

  // A restart within the TTL uses the stored answer; with the TTL passed, the origin is asked again.
  const within = await w.restart().list(modulePath);
  assert.equal(within.cache, 'hit');
  assert.equal(w.upstream.countOf(unlisted.urls.list), 1);
  await writeFile(listFile, 'v1.0.0\nv1.10.0\nv1.11.0\n');
  const expired = w.restart({ listTtlMs: 0 });
  const refreshed = await expired.list(modulePath);
  assert.equal(refreshed.cache, 'miss');
  assert.equal((await bytesOf(refreshed)).toString(), 'v1.0.0\nv1.1.0\nv1.10.0\nv1.11.0\n');
  assert.equal(w.upstream.countOf(unlisted.urls.list), 2);
});

test('list and @latest of a module the origin does not have: NotFoundError, unless storage holds versions', async () => {
  const w = await makeWorld();
  await assert.rejects(w.depot.list('example.com/none'), NotFoundError);
  await assert.rejects(w.depot.latest('example.com/none'), NotFoundError);
  const entry = await w.add('example.com/removed', 'v1.0.0', { 'go.mod': goMod('example.com/removed'), ...source('r') });
  await w.depot.zip(entry.modulePath, 'v1.0.0');
  await rm(join(w.tree, 'example.com', 'removed'), { recursive: true });
  const depot = w.restart({ listTtlMs: 0 });
  assert.equal((await bytesOf(await depot.list(entry.modulePath))).toString(), 'v1.0.0\n');
  assert.equal(JSON.parse((await bytesOf(await depot.latest(entry.modulePath))).toString()).Version, 'v1.0.0');
  assert.equal((await depot.zip(entry.modulePath, 'v1.0.0')).cache, 'hit');
});

test('a version stored beside the depot (published) is in list and @latest from the moment the depot is told', async () => {
  const w = await makeWorld();
  const modulePath = 'example.com/published';
  const storeInfo = (version: string): Promise<unknown> => w.storage.put(`example.com/published/@v/${version}.info`, Buffer.from(JSON.stringify({ Version: version, Time: '2024-01-02T03:04:05Z' })));
  await storeInfo('v1.0.0');
  assert.equal((await bytesOf(await w.depot.list(modulePath))).toString(), 'v1.0.0\n');
  assert.equal(JSON.parse((await bytesOf(await w.depot.latest(modulePath))).toString()).Version, 'v1.0.0');
  await storeInfo('v1.1.0');
  // Remembered until the TTL passes, as the origin's answers are...
  assert.equal((await bytesOf(await w.depot.list(modulePath))).toString(), 'v1.0.0\n');
  // ...unless the depot is told.
  w.depot.versionStored(modulePath, 'v1.1.0');
  assert.equal((await bytesOf(await w.depot.list(modulePath))).toString(), 'v1.0.0\nv1.1.0\n');
  assert.equal(JSON.parse((await bytesOf(await w.depot.latest(modulePath))).toString()).Version, 'v1.1.0');
});

test('@latest: verified, stored, refreshed per TTL', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/lt', 'v1.0.0', { 'go.mod': goMod('example.com/lt'), ...source('lt') });
  const latestFile = join(w.tree, 'example.com', 'lt', '@latest');
  await writeFile(latestFile, await readFile(entry.infoFile));
  const first = await w.depot.latest(entry.modulePath);
  assert.equal(first.cache, 'miss');
  assert.equal(first.contentType, 'application/json');
  assert.deepEqual(await bytesOf(first), await readFile(entry.infoFile));
  assert.equal((await w.depot.latest(entry.modulePath)).cache, 'hit');
  assert.equal(w.upstream.countOf('/example.com/lt/@latest'), 1);
  assert.deepEqual(await readFile(join(w.storeRoot, 'example.com', 'lt', '@latest')), await readFile(entry.infoFile));
  // A broken answer is not passed on: the last good one is served, stale.
  await writeFile(latestFile, '{"Version":"v1.0"}');
  const expired = w.restart({ listTtlMs: 0 });
  const stale = await expired.latest(entry.modulePath);
  assert.equal(stale.cache, 'stale');
  assert.deepEqual(await bytesOf(stale), await readFile(entry.infoFile));
});

test('upstream down: stale list and @latest (logged) and every stored file is still served', async () => {
  const w = await makeWorld();
  const modulePath = 'example.com/offline';
  const entries = [
    await w.add(modulePath, 'v1.0.0', { 'go.mod': goMod(modulePath), ...source('offline') }),
    await w.add(modulePath, 'v1.1.0', { 'go.mod': goMod(modulePath), ...source('offline') }),
  ];
  await writeFile(join(w.tree, 'example.com', 'offline', '@latest'), await readFile(entries[1]!.infoFile));
  const list = await bytesOf(await w.depot.list(modulePath));
  const latest = await bytesOf(await w.depot.latest(modulePath));
  for (const e of entries) await w.depot.zip(modulePath, e.version);
  await w.upstream.stop();

  const depot = w.restart({ listTtlMs: 0 });
  const staleList = await depot.list(modulePath);
  assert.equal(staleList.cache, 'stale');
  assert.deepEqual(await bytesOf(staleList), list);
  const staleLatest = await depot.latest(modulePath);
  assert.equal(staleLatest.cache, 'stale');
  assert.deepEqual(await bytesOf(staleLatest), latest);
  for (const e of entries) {
    assert.deepEqual(await bytesOf(await depot.info(modulePath, e.version)), await readFile(e.infoFile));
    assert.equal((await bytesOf(await depot.mod(modulePath, e.version))).toString(), e.goMod);
    assert.deepEqual(await bytesOf(await depot.zip(modulePath, e.version)), await readFile(e.zipFile));
  }
  // Every request meets the same outage: one short line for the module (a minute), no stack.
  for (let i = 0; i < 20; i++) {
    await depot.list(modulePath);
    await depot.latest(modulePath);
  }
  const warnings = w.logs.filter((l) => l.level === 40 && l.module === modulePath);
  assert.deepEqual(warnings.map((l) => [l.msg, l.answer]), [['origin failing: answering from storage', 'list']]);
  assert.match(String(warnings[0]!.reason), /^[^\n]+$/);
  assert.equal(warnings[0]!.err, undefined, 'no error object, so no stack');
  assert.equal(await counted(w.metrics, 'cache', { route: 'list', result: 'stale' }), 21);

  // Nothing stored: the origin's failure is the answer, never a made-up not-found.
  await assert.rejects(depot.list('example.com/never'), UpstreamError);
  await assert.rejects(depot.zip('example.com/never', 'v1.0.0'), UpstreamError);

  // A stored module without a stored @latest: the newest stored version stands in.
  await rm(join(w.storeRoot, 'example.com', 'offline', '@latest'));
  const standIn = await w.restart({ listTtlMs: 0 }).latest(modulePath);
  assert.equal(standIn.cache, 'stale');
  assert.deepEqual(await bytesOf(standIn), await readFile(entries[1]!.infoFile));
});

test('a program error in the origin is not served as a stale answer: only origin failures are', async () => {
  const w = await makeWorld();
  const modulePath = 'example.com/bug';
  await w.add(modulePath, 'v1.0.0', { 'go.mod': goMod(modulePath), ...source('bug') });
  await writeFile(join(w.tree, 'example.com', 'bug', '@latest'), JSON.stringify({ Version: 'v1.0.0' }));
  await w.depot.list(modulePath);
  await w.depot.latest(modulePath);
  const failing = (err: () => Error): Origin => ({
    name: 'failing',
    list: async () => Promise.reject(err()),
    query: async () => Promise.reject(err()),
    download: () => ({}),
  });
  const depot = (origin: Origin): CachingDepot => new CachingDepot({ storage: w.storage, origin, logger: pino({ level: 'silent' }), metrics: createMetrics(), listTtlMs: 0 });
  const buggy = depot(failing(() => new TypeError('cannot read properties of undefined')));
  await assert.rejects(buggy.list(modulePath), TypeError);
  await assert.rejects(buggy.latest(modulePath), TypeError);
  const down = depot(failing(() => new UpstreamError('reading the upstream: connection refused')));
  assert.equal((await down.list(modulePath)).cache, 'stale');
  assert.equal((await down.latest(modulePath)).cache, 'stale');
});

test('storage failures are counted and reported, not mistaken for misses', async () => {
  const w = await makeWorld();
  const entry = await w.add('example.com/disk', 'v1.0.0', { 'go.mod': goMod('example.com/disk'), ...source('d') });
  // A regular file where the module's folder should be: every put under it fails.
  await mkdir(join(w.storeRoot, 'example.com'), { recursive: true });
  await writeFile(join(w.storeRoot, 'example.com', 'disk'), 'in the way');
  // The .mod is answered (it passed its checks) while its store fails behind the answer: counted and
  // logged, and the .mod forgotten, so that the next request fetches it and tries to store it again.
  assert.equal((await bytesOf(await w.depot.mod(entry.modulePath, 'v1.0.0'))).toString(), entry.goMod);
  await w.depot.close();
  assert.equal(await counted(w.metrics, 'storageErrors', { operation: 'put' }), 1);
  assert.ok(w.logs.some((line) => line.level === 50 && line.file === 'mod' && line.module === entry.modulePath));
  await w.depot.mod(entry.modulePath, 'v1.0.0');
  await w.depot.close();
  assert.equal(w.upstream.countOf(entry.urls.mod), 2);
  assert.equal(await counted(w.metrics, 'storageErrors', { operation: 'put' }), 2);
  // A zip is stored before it is answered: its failed commit is the request's error.
  await assert.rejects(w.depot.zip(entry.modulePath, 'v1.0.0'), (err) => !(err instanceof GodepotError));
  assert.equal(await counted(w.metrics, 'storageErrors', { operation: 'put' }), 3);
  assert.deepEqual(await stagedFiles(w), []);
});
