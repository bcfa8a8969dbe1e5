// godepot verifying what its upstream serves against the checksum database it trusts (`--sumdb "<key>
// <url>"`), as the go command would: the graph is verified and stored, a module whose hash disagrees with
// the database is refused with both hashes and nothing of it stored, and once the database is gone, the
// lookups, tiles and signed head godepot verified still let the real go verify every stored module.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChecksumDatabase } from '../../src/checksum/database.js';
import { generateKey } from '../../src/checksum/note.js';
import { InvalidRequestError, NotFoundError } from '../../src/errors.js';
import { escapePath, escapeVersion } from '../../src/module/path.js';
import { DiskStorage } from '../../src/storage/disk.js';
import { filesUnder, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { addModule, buildModuleGraph, consumerOutput, writeConsumer, type ModuleGraph, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const NAME = 'sum.trusted.test';

type Tamper = (path: string, body: Buffer) => Buffer;

interface DatabaseFront {
  url: string;
  requests: string[];
  /** Rewrites answers on their way out while set. */
  tamper: Tamper | null;
  stop(): Promise<void>;
}

/** A checksum database on loopback: godepot's ChecksumDatabase behind a plain HTTP server. */
async function serveDatabase(db: ChecksumDatabase): Promise<DatabaseFront> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    requests.push(path);
    db.get(path).then(
      (a) => {
        const body = front.tamper === null ? a.body! : front.tamper(path, a.body!);
        res.writeHead(200, { 'content-type': a.contentType, 'content-length': body.length }).end(body);
      },
      (err: unknown) => {
        const status = err instanceof NotFoundError ? 404 : err instanceof InvalidRequestError ? 400 : 500;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const front: DatabaseFront = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    tamper: null,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return front;
}

/** Breaks the signature of every signed note (a lookup's or latest's). */
const badSignatures: Tamper = (path, body) => {
  if (!(path === 'latest' || path.startsWith('lookup/'))) return body;
  const text = body.toString();
  const at = text.lastIndexOf(' ') + 12;
  return Buffer.from(text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1));
};

/** Flips one bit of every tile. */
const badTiles: Tamper = (path, body) => {
  if (!path.startsWith('tile/')) return body;
  const bad = Buffer.from(body);
  bad[bad.length - 1]! ^= 1;
  return bad;
};

describe('godepot verifies upstream modules against the checksum database it trusts', () => {
  let work: string;
  let graph: ModuleGraph;
  let upstream: Upstream;
  let db: ChecksumDatabase;
  let database: DatabaseFront;
  let godepot: GodepotServer;
  let badZip: ProxyEntry;
  let badMod: ProxyEntry;
  const key = generateKey(NAME);
  const worlds: GoWorld[] = [];
  const recorded = { zip: '', mod: '' };

  async function world(env: NodeJS.ProcessEnv): Promise<GoWorld> {
    const w = await makeGoWorld(godepot.url, env);
    worlds.push(w);
    return w;
  }

  /** What godepot answers for a URL path: status and body. */
  async function get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(godepot.url + path);
    return { status: res.status, body: await res.text() };
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-e2e-sumdb-verify-'));
    graph = await buildModuleGraph(work);
    // Two modules whose upstream copies are not what the database recorded: one zip, one go.mod.
    badZip = await addModule(graph.tree, work, 'example.com/tampered/zip', 'v1.0.0', { 'go.mod': 'module example.com/tampered/zip\n', 'z.go': 'package zip\n\n// Evil was added after publication.\nconst Evil = true\n' });
    badMod = await addModule(graph.tree, work, 'example.com/tampered/mod', 'v1.0.0', { 'go.mod': 'module example.com/tampered/mod\n\nrequire example.com/evil v1.0.0\n', 'm.go': 'package mod\n' });
    db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(work, 'database') }), signerKey: key.signerKey });
    for (const e of graph.entries) await db.add(e.modulePath, e.version, { zip: e.zipH1, mod: e.modH1 });
    const published = await addModule(join(work, 'published'), work, 'example.com/tampered/zip', 'v1.0.0', { 'go.mod': 'module example.com/tampered/zip\n', 'z.go': 'package zip\n' });
    recorded.zip = published.zipH1;
    await db.add(badZip.modulePath, badZip.version, { zip: published.zipH1, mod: badZip.modH1 });
    const publishedMod = await addModule(join(work, 'published'), work, 'example.com/tampered/mod', 'v1.0.0', { 'go.mod': 'module example.com/tampered/mod\n', 'm.go': 'package mod\n' });
    recorded.mod = publishedMod.modH1;
    await db.add(badMod.modulePath, badMod.version, { zip: publishedMod.zipH1, mod: publishedMod.modH1 });
    database = await serveDatabase(db);
    upstream = await startUpstream({ root: graph.tree });
    godepot = await startGodepot({ upstream: upstream.url, sumdb: `${key.verifierKey} ${database.url}` });
  });

  after(async () => {
    await godepot?.dispose();
    await upstream?.stop();
    await database?.stop();
    for (const w of worlds) await w.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('go builds the 12-module consumer through godepot; godepot verified and stored every module and kept the proofs', async () => {
    const w = await world({ GOSUMDB: key.verifierKey });
    const dir = join(work, 'consumer');
    await writeConsumer(dir);
    await w.go(['mod', 'tidy'], { cwd: dir });
    await w.go(['build', '-o', join(dir, 'consumer.bin'), '.'], { cwd: dir });

    const stored = await filesUnder(godepot.storage);
    const needed = graph.entries.filter((e) => stored.includes(e.urls.zip.slice(1)));
    assert.ok(needed.length >= 10, `${needed.length} zips stored`);
    for (const e of needed) {
      // godepot's own client looked the module up (go's lookups through the passthrough are not kept).
      assert.ok(stored.includes(`sumdb/${NAME}/lookup/${escapePath(e.modulePath)}@${escapeVersion(e.version)}`), `proof of ${e.modulePath}@${e.version} kept`);
    }
    assert.ok(stored.includes(`sumdb/${NAME}/latest`), 'the verified signed head is kept');
    assert.ok(stored.some((f) => f.startsWith(`sumdb/${NAME}/tile/8/0/000.p/`)), 'the tiles of the proofs are kept');
    assert.ok(database.requests.some((p) => p.startsWith('lookup/example.com/deep/c@')));
  });

  it('refuses an upstream zip whose hash disagrees with the database, showing both hashes, and stores nothing of it', async () => {
    const { status, body } = await get(badZip.urls.zip);
    assert.equal(status, 502);
    assert.ok(body.includes(`example.com/tampered/zip@v1.0.0: verifying module: checksum mismatch`), body);
    assert.ok(body.includes(`downloaded: ${badZip.zipH1}`), body);
    assert.ok(body.includes(`${NAME}: ${recorded.zip}`), body);
    const prefix = `${escapePath(badZip.modulePath)}/`;
    assert.deepEqual((await filesUnder(godepot.storage)).filter((f) => f.startsWith(prefix)), []);

    // go, asking godepot with its own checksum checks off, is refused by godepot itself.
    const w = await world({ GOSUMDB: 'off' });
    try {
      await w.go(['mod', 'download', `${badZip.modulePath}@${badZip.version}`]);
      assert.fail('go downloaded a module whose hash disagrees with the database');
    } catch (err) {
      const message = (err as Error).message;
      assert.match(message, /502 Bad Gateway/);
      assert.ok(message.includes(badZip.zipH1) && message.includes(recorded.zip), message);
    }
    assert.deepEqual((await filesUnder(godepot.storage)).filter((f) => f.endsWith('.zip') && f.startsWith(prefix)), []);
  });

  it('refuses an upstream .mod whose hash disagrees with the database, and stores nothing of it', async () => {
    for (const path of [badMod.urls.mod, badMod.urls.zip]) {
      const { status, body } = await get(path);
      assert.equal(status, 502, path);
      assert.ok(body.includes('verifying go.mod: checksum mismatch'), body);
      assert.ok(body.includes(`downloaded: ${badMod.modH1}`) && body.includes(`${NAME}: ${recorded.mod}`), body);
    }
    const prefix = `${escapePath(badMod.modulePath)}/`;
    assert.deepEqual((await filesUnder(godepot.storage)).filter((f) => f.startsWith(prefix)), []);
  });

  it('refuses a module when the database answer is tampered with (bad signature, bad tile), stores nothing, and takes it once the answer is honest', async () => {
    const e = await addModule(graph.tree, work, 'example.com/late', 'v1.0.0', { 'go.mod': 'module example.com/late\n', 'l.go': 'package late\n' });
    await db.add(e.modulePath, e.version, { zip: e.zipH1, mod: e.modH1 });
    const prefix = `${escapePath(e.modulePath)}/`;
    const cases: Array<[Tamper, RegExp]> = [
      [badSignatures, new RegExp(`^bad gateway: checksum database: ${e.modulePath}@v1\\.0\\.0/go\\.mod: reading tree note: invalid signature for key ${NAME.replace(/\./g, '\\.')}\\+`)],
      [badTiles, /^bad gateway: checksum database: .*downloaded inconsistent tile/],
    ];
    for (const [tamper, message] of cases) {
      database.tamper = tamper;
      try {
        const { status, body } = await get(e.urls.zip);
        assert.equal(status, 502);
        assert.match(body, message);
      } finally {
        database.tamper = null;
      }
      assert.deepEqual((await filesUnder(godepot.storage)).filter((f) => f.startsWith(prefix)), []);
    }
    assert.equal((await get(e.urls.zip)).status, 200);
    assert.ok((await filesUnder(godepot.storage)).includes(e.urls.zip.slice(1)));
  });

  it('with the database stopped, go verifies every stored module from the proofs godepot kept', async () => {
    await database.stop();
    const before = database.requests.length;
    const w = await world({ GOSUMDB: key.verifierKey, GOFLAGS: '-modcacherw -mod=mod' });
    const dir = join(work, 'consumer-offline');
    await mkdir(dir);
    for (const file of ['go.mod', 'main.go']) await copyFile(join(work, 'consumer', file), join(dir, file));
    const bin = join(dir, 'consumer.bin');
    await w.go(['build', '-o', bin, '.'], { cwd: dir });
    const out = await new Promise<string>((resolve, reject) => execFile(bin, (err, stdout) => (err ? reject(err) : resolve(stdout))));
    assert.deepEqual(out.trim().split('\n'), consumerOutput);
    assert.equal(database.requests.length, before);
    const fromStorage = await godepot.untilLogged((l) => l.route === 'sumdb' && l.cache === 'stale' && String(l.sumdb).startsWith(`${NAME}/lookup/`), 10);
    assert.ok(fromStorage.length >= 10, `${fromStorage.length} lookups answered from storage`);
    // A module godepot never verified has no proof to offer.
    const { status } = await get(`/sumdb/${NAME}/lookup/example.com/unknown@v1.0.0`);
    assert.equal(status, 502);
  });
});
