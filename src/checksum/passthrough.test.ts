import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { InvalidContentError, InvalidRequestError, NotFoundError, UpstreamError } from '../errors.js';
import { DiskStorage } from '../storage/disk.js';
import { parseGosumdb, verifierKeyHash } from './gosumdb.js';
import { SumdbPassthrough, type SumdbPassthroughOptions } from './passthrough.js';

const DB = 'sum.example.com';
const fullTile = Buffer.alloc(32 << 8, 7);
const partialTile = Buffer.alloc(32 * 5, 9);
const dataTile = Buffer.from('example.com/m v1.0.0 h1:abc=\nexample.com/m v1.0.0/go.mod h1:def=\n\n');

function verifierKey(name: string): string {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const key = Buffer.concat([Buffer.from([1]), Buffer.from(jwk.x!, 'base64url')]);
  return `${name}+${verifierKeyHash(name, key).toString(16).padStart(8, '0')}+${key.toString('base64')}`;
}

async function put(file: string, body: Buffer | string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, body);
}

describe('SumdbPassthrough', () => {
  let root: string;
  let none: Upstream; // a proxy that supports no database
  let proxy: Upstream; // a proxy that supports sum.example.com
  let database: Upstream; // the database itself, at its own URL
  const passthroughs: SumdbPassthrough[] = [];

  function passthrough(options: Partial<SumdbPassthroughOptions> = {}): SumdbPassthrough {
    const p = new SumdbPassthrough({
      upstreams: [none.url, proxy.url],
      sumdb: null,
      storage: new DiskStorage({ root: join(root, `storage-${passthroughs.length}`) }),
      timeoutMs: 2000,
      retries: 0,
      ...options,
    });
    passthroughs.push(p);
    return p;
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'godepot-sumdb-'));
    const db = join(root, 'sumdb', DB);
    await put(join(db, 'latest'), 'go.sum database tree\n42\nhash\n\n— sig\n');
    await put(join(db, 'lookup', 'example.com', 'm@v1.0.0'), '7\nexample.com/m v1.0.0 h1:abc=\n');
    await put(join(db, 'tile', '8', '0', '000'), fullTile);
    await put(join(db, 'tile', '8', '0', '001.p', '5'), partialTile);
    await put(join(db, 'tile', '8', 'data', '000'), dataTile);
    await mkdir(join(root, 'empty'));
    none = await startUpstream({ root: join(root, 'empty') });
    proxy = await startUpstream({ root: join(root, 'empty'), sumdb: join(root, 'sumdb') });
    database = await startUpstream({ root: db });
  });

  after(async () => {
    await Promise.all(passthroughs.map((p) => p.close()));
    await Promise.all([none.stop(), proxy.stop(), database.stop()]);
    await rm(root, { recursive: true, force: true });
  });

  beforeEach(async () => {
    for (const u of [none, proxy, database]) {
      await u.start();
      u.clearFaults();
      u.clearLog();
    }
  });

  it('routes to the first proxy that supports the database, probing once', async () => {
    const p = passthrough();
    const supported = await p.get(DB, 'supported');
    assert.equal(supported.size, 0);
    assert.equal(supported.immutable, false);
    assert.equal((await p.get(DB, 'latest')).body?.toString(), 'go.sum database tree\n42\nhash\n\n— sig\n');
    assert.equal((await p.get(DB, 'lookup/example.com/m@v1.0.0')).body?.toString(), '7\nexample.com/m v1.0.0 h1:abc=\n');
    await p.get(DB, 'supported');
    assert.deepEqual(none.requests, [`/sumdb/${DB}/supported`]);
    assert.deepEqual(proxy.requests, [`/sumdb/${DB}/supported`, `/sumdb/${DB}/latest`, `/sumdb/${DB}/lookup/example.com/m@v1.0.0`]);
  });

  it('never caches latest or lookups', async () => {
    const p = passthrough();
    for (let i = 0; i < 2; i++) {
      assert.equal((await p.get(DB, 'latest')).cache, 'miss');
      assert.equal((await p.get(DB, 'lookup/example.com/m@v1.0.0')).cache, 'miss');
    }
    assert.equal(proxy.countOf(`/sumdb/${DB}/latest`), 2);
    assert.equal(proxy.countOf(`/sumdb/${DB}/lookup/example.com/m@v1.0.0`), 2);
  });

  it('keeps full tiles and serves them when the upstream is gone; partial tiles are not kept', async () => {
    const p = passthrough();
    const first = await p.get(DB, 'tile/8/0/000');
    assert.equal(first.cache, 'miss');
    assert.ok(first.immutable);
    assert.match(first.etag ?? '', /^"sha256-[0-9a-f]{64}"$/);
    assert.deepEqual(first.body, fullTile);
    assert.deepEqual((await p.get(DB, 'tile/8/data/000')).body, dataTile);
    const partial = await p.get(DB, 'tile/8/0/001.p/5');
    assert.deepEqual(partial.body, partialTile);
    assert.equal(partial.immutable, false);
    assert.equal(partial.etag, null);

    await proxy.stop();
    const again = await p.get(DB, 'tile/8/0/000');
    assert.equal(again.cache, 'hit');
    assert.deepEqual(again.body, fullTile);
    assert.equal(again.etag, first.etag);
    assert.deepEqual((await p.get(DB, 'tile/8/data/000')).body, dataTile);
    await assert.rejects(p.get(DB, 'tile/8/0/001.p/5'), UpstreamError);
    assert.equal(proxy.countOf(`/sumdb/${DB}/tile/8/0/000`), 1);
  });

  it('stores full tiles in the module-cache layout', async () => {
    const storage = new DiskStorage({ root: join(root, 'layout') });
    const p = passthrough({ storage });
    await p.get(DB, 'tile/8/0/000');
    await p.get(DB, 'tile/8/0/001.p/5');
    assert.deepEqual(await storage.list('sumdb'), [`sumdb/${DB}/tile/8/0/000`]);
  });

  it('refuses a full hash tile of the wrong size and keeps nothing', async () => {
    const storage = new DiskStorage({ root: join(root, 'bad-tile') });
    const p = passthrough({ storage });
    proxy.fault(`/sumdb/${DB}/tile/8/0/002`, { bodyBytes: 100 });
    await assert.rejects(p.get(DB, 'tile/8/0/002'), InvalidContentError);
    assert.deepEqual(await storage.list('sumdb'), []);
  });

  it('answers not found when no proxy supports the database, and remembers it', async () => {
    const p = passthrough();
    await assert.rejects(p.get('sum.other.example', 'supported'), NotFoundError);
    await assert.rejects(p.get('sum.other.example', 'latest'), NotFoundError);
    await assert.rejects(p.get('sum.other.example', 'tile/8/0/000'), NotFoundError);
    assert.equal(none.countOf('/sumdb/sum.other.example/supported'), 1);
    assert.equal(proxy.countOf('/sumdb/sum.other.example/supported'), 1);
    await assert.rejects(passthrough({ upstreams: [] }).get(DB, 'supported'), NotFoundError);
  });

  it('goes to the database URL that --sumdb gives, bypassing the proxies', async () => {
    const sumdb = parseGosumdb(`${verifierKey(DB)} ${database.url}`);
    const p = passthrough({ sumdb });
    assert.equal((await p.get(DB, 'supported')).size, 0);
    assert.deepEqual((await p.get(DB, 'tile/8/0/000')).body, fullTile);
    assert.match((await p.get(DB, 'latest')).body?.toString() ?? '', /^go.sum database tree/);
    assert.deepEqual(database.requests, ['/tile/8/0/000', '/latest']);
    assert.deepEqual([...none.requests, ...proxy.requests], []);
    // Other names still go through the proxies.
    await p.get('sum.example.com', 'latest');
    await assert.rejects(p.get('sum.other.example', 'supported'), NotFoundError);
    assert.equal(none.countOf('/sumdb/sum.other.example/supported'), 1);
  });

  it('reports an unavailable database when a probe fails and no proxy said yes, without remembering it', async () => {
    const p = passthrough();
    none.fault(`/sumdb/${DB}/supported`, { status: 500, times: 1 });
    proxy.fault(`/sumdb/${DB}/supported`, { status: 404, times: 1 });
    await assert.rejects(p.get(DB, 'supported'), (err: Error) => err instanceof UpstreamError && err.status === 500);
    assert.equal((await p.get(DB, 'supported')).size, 0);
  });

  it('skips a failing proxy when a later one supports the database', async () => {
    none.fault(`/sumdb/${DB}/supported`, { status: 503 });
    assert.equal((await passthrough().get(DB, 'latest')).cache, 'miss');
  });

  it('keeps a known route when a later probe fails', async () => {
    const p = passthrough({ routeTtlMs: 0 });
    await p.get(DB, 'supported');
    none.fault('*', { status: 500 });
    proxy.fault('*', { status: 502 });
    assert.equal((await p.get(DB, 'supported')).size, 0);
    assert.equal(proxy.countOf(`/sumdb/${DB}/supported`), 2);
  });

  it('never looks up a private module', async () => {
    const p = passthrough({ lookedUp: (modulePath) => !modulePath.startsWith('example.com/secret/') });
    await assert.rejects(p.get(DB, 'lookup/example.com/secret/x@v1.0.0'), NotFoundError);
    assert.equal(none.requests.length + proxy.requests.length, 0);
  });

  it('answers from what storage holds when the route fails: latest, verified lookups, tiles cut from wider ones', async () => {
    const storage = new DiskStorage({ root: join(root, 'fallback') });
    const p = passthrough({ storage });
    const head = Buffer.from('go.sum database tree\n7\nhash\n\n— sig\n');
    const lookup = Buffer.from('3\nexample.com/kept v1.0.0 h1:k=\n');
    const wide = Buffer.alloc(32 * 7, 5);
    await storage.put(`sumdb/${DB}/latest`, head);
    await storage.put(`sumdb/${DB}/lookup/example.com/kept@v1.0.0`, lookup);
    await storage.put(`sumdb/${DB}/tile/8/0/000.p/7`, wide);
    await storage.put(`sumdb/${DB}/tile/8/1/000`, fullTile);

    // While the route answers, it is asked, and its not-found answers stand.
    assert.equal((await p.get(DB, 'latest')).cache, 'miss');
    await assert.rejects(p.get(DB, 'lookup/example.com/kept@v1.0.0'), NotFoundError);

    await proxy.stop();
    const latest = await p.get(DB, 'latest');
    assert.deepEqual([latest.cache, latest.body], ['stale', head]);
    assert.deepEqual((await p.get(DB, 'lookup/example.com/kept@v1.0.0')).body, lookup);
    assert.deepEqual((await p.get(DB, 'tile/8/0/000.p/7')).body, wide);
    assert.deepEqual((await p.get(DB, 'tile/8/0/000.p/5')).body, wide.subarray(0, 32 * 5));
    assert.deepEqual((await p.get(DB, 'tile/8/1/000.p/3')).body, fullTile.subarray(0, 32 * 3));
    await assert.rejects(p.get(DB, 'tile/8/0/000.p/8'), UpstreamError);
    await assert.rejects(p.get(DB, 'lookup/example.com/other@v1.0.0'), UpstreamError);

    // A passthrough that never found a route (the proxy down from the start) answers the same.
    const cold = passthrough({ storage });
    assert.equal((await cold.get(DB, 'supported')).cache, 'stale');
    assert.deepEqual((await cold.get(DB, 'lookup/example.com/kept@v1.0.0')).body, lookup);
    await assert.rejects(passthrough().get(DB, 'supported'), UpstreamError);

    // No route at all (no upstream supports it): stored proofs are still served.
    const offline = passthrough({ storage, upstreams: [] });
    assert.equal((await offline.get(DB, 'supported')).size, 0);
    assert.deepEqual((await offline.get(DB, 'latest')).body, head);
    await assert.rejects(offline.get(DB, 'lookup/example.com/other@v1.0.0'), NotFoundError);
    await assert.rejects(offline.get('sum.other.example', 'supported'), NotFoundError);
  });

  it('after its route failed, answers from storage for a while without asking the route again', async () => {
    const tcp = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const database = `http://127.0.0.1:${(tcp.address() as { port: number }).port}`;
    let connections = 0;
    tcp.on('connection', () => connections++);
    try {
      const storage = new DiskStorage({ root: join(root, 'unreachable') });
      const head = Buffer.from('go.sum database tree\n7\nhash\n\n— sig\n');
      await storage.put(`sumdb/${DB}/latest`, head);
      const p = passthrough({ storage, sumdb: parseGosumdb(`${verifierKey(DB)} ${database}`) });
      assert.equal((await p.get(DB, 'latest')).cache, 'stale');
      const tried = connections;
      assert.ok(tried > 0);
      assert.deepEqual((await p.get(DB, 'latest')).body, head);
      assert.equal(connections, tried, 'the failed route was not asked again');
      // What storage lacks fails at once: the database's host is considered down until a probe finds it back.
      await assert.rejects(p.get(DB, 'lookup/example.com/other@v1.0.0'), (err: Error) => err instanceof UpstreamError && /considered down since/.test(err.message));
      assert.equal(connections, tried);
    } finally {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it('goes to https://<name> for the trusted database when no proxy supports it, as go does', async () => {
    let connections = 0;
    const tcp = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    try {
      const name = `127.0.0.1:${(tcp.address() as { port: number }).port}`;
      const p = passthrough({ sumdb: parseGosumdb(verifierKey(name)) });
      await assert.rejects(p.get(name, 'latest'), UpstreamError);
      assert.ok(connections > 0, 'the database itself was asked');
      assert.equal(none.countOf(`/sumdb/${name}/supported`), 1);
      assert.equal(proxy.countOf(`/sumdb/${name}/supported`), 1);
      // Other names with no route are still not found.
      await assert.rejects(p.get('sum.other.example', 'supported'), NotFoundError);
    } finally {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it('rejects bad names and paths before any traffic', async () => {
    const p = passthrough();
    const names = ['', '..', '../x', 'UPPER.example', 'a/b', 'sum.example.com\0', 'x'.repeat(300)];
    for (const name of names) await assert.rejects(p.get(name, 'supported'), InvalidRequestError, JSON.stringify(name));
    const paths = [
      '',
      'latest/',
      '../../etc/passwd',
      'tile/8/0/../../../x',
      'tile/8/0/000/',
      'tile/0/0/000',
      'tile/31/0/000',
      'tile/8/0/00',
      'tile/8/0/1000',
      'tile/8/0/x001',
      'tile/8/0/000.p/0',
      'tile/8/0/000.p/256',
      'tile/8/0/000.p/',
      'tile/8/data/000.p/x',
      'lookup/',
      'lookup/example.com/m',
      'lookup/@v1.0.0',
      'lookup/Example.com/m@v1.0.0',
      'lookup/example.com/../m@v1.0.0',
      'lookup/example.com/m@v1.0.0/../../x',
      'other',
    ];
    for (const path of paths) await assert.rejects(p.get(DB, path), InvalidRequestError, JSON.stringify(path));
    assert.equal(none.requests.length + proxy.requests.length, 0);
  });
});
