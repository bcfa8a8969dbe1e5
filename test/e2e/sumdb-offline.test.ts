// Checksum-database proofs that travel: proofs collected from godepot's own database (which records
// modules as they are looked up, so its tree grows while they are collected) let the real go verify the
// module graph with GOSUMDB on and nothing to reach: from a GOPROXY=file:// tree, from its module cache
// with GOPROXY=off, and through a godepot with no upstream holding them in its storage. A record or a
// tile altered in the proofs makes go fail with its own verification error.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { SumdbClient, type SumdbClientStore, type SumdbFetch } from '../../src/checksum/client.js';
import { ChecksumDatabase } from '../../src/checksum/database.js';
import { checkProofs, collectProofs, type ProofFiles } from '../../src/checksum/proofs.js';
import { recordHash } from '../../src/checksum/tlog.js';
import { NotFoundError } from '../../src/errors.js';
import { escapePath, escapeVersion } from '../../src/module/path.js';
import { DiskStorage } from '../../src/storage/disk.js';
import { runGodepot } from '../support/cli.js';
import { filesUnder, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { buildModuleGraph, consumerOutput, writeConsumer, type ModuleGraph, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const NAME = 'sumdb.offline.test';
// Records in the database before the graph's: the first modules' records then straddle a tile boundary.
const FILLER = 250;
// The graph's modules proven first, while the database has no more records than the filler and them.
const FIRST = 8;
// Records added before the other modules are recorded: the first ones' right-edge tile fills up.
const MORE_FILLER = 300;
// A loopback port nothing listens on (go sends loopback requests past any proxy setting).
const NOWHERE = 'http://127.0.0.1:1';

class MapStore implements SumdbClientStore {
  readonly m = new Map<string, Buffer>();
  async read(key: string): Promise<Buffer | null> {
    return this.m.get(key) ?? null;
  }
  async write(key: string, data: Buffer): Promise<void> {
    this.m.set(key, Buffer.from(data));
  }
}

/** go's error for a failed command: its stderr. */
async function goFails(world: GoWorld, args: string[], cwd: string): Promise<string> {
  try {
    await world.go(args, { cwd });
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail(`go ${args.join(' ')} succeeded`);
}

async function writeProofs(dir: string, proofs: ProofFiles): Promise<void> {
  for (const f of proofs.files) {
    await mkdir(dirname(join(dir, f.name)), { recursive: true });
    await writeFile(join(dir, f.name), f.data);
  }
}

describe('go verifies modules offline from checksum proofs alone, its checksum database on', () => {
  let work: string;
  let graph: ModuleGraph;
  let upstream: Upstream;
  let godepot: GodepotServer;
  let verifierKey: string;
  let storage: string;
  let keyFile: string;
  /** Proofs of the whole graph, collected while the database grew. */
  let proofs: ProofFiles;
  let sums: Map<string, string>;
  /** Proofs of the first modules, in an earlier head; then of the others only, with and without the tiles that extend it. */
  let firstProofs: ProofFiles;
  let sinceProofs: ProofFiles;
  let bareProofs: ProofFiles;
  const worlds: GoWorld[] = [];

  /**
   * A fresh go (its own GOPATH and module cache, so no remembered head and no cached proofs) with GOSUMDB
   * on. Whatever go would fetch from the database's own https:// address goes to a closed loopback port.
   */
  async function freshGo(goproxy: string): Promise<GoWorld> {
    const world = await makeGoWorld(goproxy, {
      GOSUMDB: verifierKey,
      GONOSUMDB: '',
      GOPRIVATE: '',
      GONOPROXY: '',
      GOFLAGS: '-modcacherw -mod=mod',
      HTTPS_PROXY: NOWHERE,
      HTTP_PROXY: NOWHERE,
      NO_PROXY: '',
    });
    worlds.push(world);
    return world;
  }

  /** Adds filler records `from`..`to` to godepot's database, opened on its storage while godepot is stopped. */
  async function addFiller(from: number, to: number): Promise<void> {
    const db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: storage }), signerKey: (await readFile(keyFile, 'utf8')).trim() });
    const h1 = (s: string) => `h1:${recordHash(Buffer.from(s)).toString('base64')}`;
    await Promise.all(Array.from({ length: to - from }, (_, k) => db.add(`example.com/filler/f${from + k}`, 'v1.0.0', { zip: h1(`z${from + k}`), mod: h1(`m${from + k}`) })));
  }

  /** A consumer project with no go.sum in a fresh folder. */
  async function consumer(): Promise<string> {
    const dir = await mkdtemp(join(work, 'consumer-'));
    await writeConsumer(dir);
    return dir;
  }

  /** Builds and runs the consumer, then checks every go.sum line against the upstream and the proofs; returns go.sum. */
  async function buildVerified(world: GoWorld, dir?: string): Promise<string> {
    dir ??= await consumer();
    await world.go(['mod', 'download', 'all'], { cwd: dir });
    await world.go(['build', '-o', join(dir, 'consumer.bin'), '.'], { cwd: dir });
    const { stdout } = await world.go(['run', '.'], { cwd: dir });
    assert.deepEqual(stdout.trim().split('\n'), consumerOutput);
    const goSum = await readFile(join(dir, 'go.sum'), 'utf8');
    const lines = goSum.trim().split('\n');
    for (const line of lines) {
      const [modulePath = '', versionField = '', h1] = line.split(' ');
      assert.equal(h1, graph.expectedSum(modulePath, versionField), `go.sum: ${line}`);
      assert.equal(h1, sums.get(`${modulePath} ${versionField}`), `the proofs vouch for ${line}`);
    }
    // Every module of the build list, with its zip; every go.mod of the graph go loaded.
    assert.equal(lines.filter((l) => !l.includes('/go.mod ')).length, 11, goSum);
    return goSum;
  }

  /** The signed head go remembers for the database after verifying ($GOPATH/pkg/sumdb/<name>/latest). */
  async function headGoRemembers(world: GoWorld): Promise<Buffer> {
    return readFile(join(world.env.GOPATH!, 'pkg', 'sumdb', NAME, 'latest'));
  }

  const head = (): Buffer => proofs.files.find((f) => f.name === 'latest')!.data;

  /** The tiles go verified and kept in its module cache. */
  async function tilesGoKept(world: GoWorld): Promise<string[]> {
    return (await filesUnder(join(world.env.GOMODCACHE!, 'cache', 'download', 'sumdb', NAME))).filter((f) => f.startsWith('tile/'));
  }

  const tileNames = (p = proofs): string[] => p.files.map((f) => f.name).filter((n) => n.startsWith('tile/'));

  /** A GOPROXY=file:// tree: the upstream's module files, `sumdb/<name>/supported` and the proofs, with `edit` applied to them. */
  async function fileTree(label: string, edit: (files: ProofFiles['files']) => ProofFiles['files'] = (f) => f, set = proofs): Promise<string> {
    const tree = join(work, label);
    await cp(graph.tree, tree, { recursive: true });
    const sumdb = join(tree, 'sumdb', NAME);
    await mkdir(sumdb, { recursive: true });
    await writeFile(join(sumdb, 'supported'), '');
    await writeProofs(sumdb, { ...set, files: edit(set.files) });
    return tree;
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-e2e-sumdb-offline-'));
    graph = await buildModuleGraph(work);
    upstream = await startUpstream({ root: graph.tree });
    keyFile = join(work, 'sumdb.key');
    const generated = await runGodepot(['sumdb', 'key', 'generate', NAME, '--output', keyFile]);
    assert.equal(generated.code, 0, generated.stderr);
    verifierKey = generated.stdout.trim();

    storage = join(work, 'godepot');
    await addFiller(0, FILLER);
    godepot = await startGodepot({ storage, upstream: upstream.url, sumdb: 'off', args: ['--sumdb-host', NAME, '--sumdb-key', keyFile] });
    const heads = new Set<string>();
    const fetch: SumdbFetch = async (path, signal) => {
      const res = await globalThis.fetch(`${godepot.url}/sumdb/${NAME}/${path}`, { signal: signal ?? null });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status === 404 || res.status === 410) throw new NotFoundError(`${path}: ${res.status}`);
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.toString()}`);
      if (path.startsWith('lookup/')) heads.add(body.toString().split('\n\n')[1]!);
      return body;
    };
    const client = new SumdbClient({ verifierKey, fetch, store: new MapStore() });
    const toProve = (entries: ProxyEntry[]) => entries.map((e) => ({ path: e.modulePath, version: e.version, modHash: e.modH1, zipHash: e.zipH1 }));
    const first = graph.entries.slice(0, FIRST);
    const rest = graph.entries.slice(FIRST);

    // An earlier set: the first modules, proven while godepot had recorded only them.
    firstProofs = await collectProofs(client, toProve(first));
    assert.equal(firstProofs.treeSize, FILLER + FIRST);
    // The database grows (godepot stopped, more records, started again), then records the others as
    // their lookups first ask for them: lookups come signed at several sizes.
    await godepot.stop();
    await addFiller(FILLER, FILLER + MORE_FILLER);
    godepot = await godepot.restart();
    proofs = await collectProofs(client, toProve(graph.entries), { concurrency: 4 });
    assert.ok(heads.size > 2, `lookups signed at ${heads.size} sizes`);
    assert.equal(proofs.treeSize, FILLER + MORE_FILLER + graph.entries.length);
    sums = await checkProofs(proofs);
    assert.equal(sums.size, graph.entries.length * 2);
    // A later set of the other modules only (as an incremental bundle carries), with and without the
    // tiles that show its head extends the earlier one.
    const older = firstProofs.files.find((f) => f.name === 'latest')!.data;
    sinceProofs = await collectProofs(client, toProve(rest), { olderHeads: [older] });
    bareProofs = await collectProofs(client, toProve(rest));
    for (const p of [firstProofs, sinceProofs, bareProofs]) await checkProofs(p);
    await godepot.stop();
    await upstream.stop();
  });

  after(async () => {
    await godepot?.dispose();
    await upstream?.stop();
    for (const world of worlds) await world.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('carries one signed head, the lookups and exactly the tiles that prove them in it', () => {
    const lookups = proofs.files.filter((f) => f.name.startsWith('lookup/'));
    assert.equal(lookups.length, graph.entries.length);
    for (const f of lookups) assert.ok(f.data.subarray(f.data.length - head().length).equals(head()), `${f.name} carries the head`);
    // 567 records = 2 * 256 + 55: the first modules' records in two full tiles, the others' at the right edge.
    assert.deepEqual(tileNames(), ['tile/8/0/000', 'tile/8/0/001', 'tile/8/0/002.p/55', 'tile/8/1/000.p/2']);
    assert.deepEqual(tileNames(firstProofs), ['tile/8/0/000', 'tile/8/0/001.p/2', 'tile/8/1/000.p/1']);
    // Tree#258's right edge, 0/001.p/2, is in full tile 0/001 of tree#567: needed to show one extends the other.
    assert.deepEqual(tileNames(bareProofs), ['tile/8/0/002.p/55', 'tile/8/1/000.p/2']);
    assert.deepEqual(tileNames(sinceProofs), ['tile/8/0/001', 'tile/8/0/002.p/55', 'tile/8/1/000.p/2']);
  });

  it('GOPROXY=file://: go downloads, verifies and builds the graph with no go.sum, reading every proof tile and no other', async () => {
    const world = await freshGo(pathToFileURL(await fileTree('file-tree')).href);
    await buildVerified(world);
    // Every module version of the graph, so go looks every lookup up.
    await world.go(['mod', 'download', ...graph.entries.map((e) => `${e.modulePath}@${e.version}`)]);
    assert.deepEqual(await tilesGoKept(world), tileNames());
    assert.ok((await headGoRemembers(world)).equals(head()), "go remembers the proofs' head");
  });

  it('GOPROXY=off: go verifies the graph from the proofs in its module cache', async () => {
    const world = await freshGo('off');
    const download = join(world.env.GOMODCACHE!, 'cache', 'download');
    await cp(graph.tree, download, { recursive: true });
    await writeProofs(join(download, 'sumdb', NAME), proofs);
    await buildVerified(world);
    assert.ok((await headGoRemembers(world)).equals(head()), "go verified against the proofs' head");
    // Without one module's lookup, go turns to the database's own address even with GOPROXY=off.
    const bare = await freshGo('off');
    const bareDownload = join(bare.env.GOMODCACHE!, 'cache', 'download');
    await cp(graph.tree, bareDownload, { recursive: true });
    await writeProofs(join(bareDownload, 'sumdb', NAME), { ...proofs, files: proofs.files.filter((f) => f.name !== 'lookup/example.com/app/util@v1.0.0') });
    const message = await goFails(bare, ['build', '.'], await consumer());
    assert.match(message, new RegExp(`verifying (module|go\\.mod): example\\.com/app/util@v1\\.0\\.0(/go\\.mod)?: Get "https://${NAME.replaceAll('.', '\\.')}/lookup/example\\.com/app/util@v1\\.0\\.0"`));
  });

  it('GOPROXY=godepot with no upstream: the proofs in its storage are served at /sumdb/<name>/ and go verifies from them', async () => {
    // What `bundle import` leaves in a proxy's storage: module files with their .ziphash, and the proofs under sumdb/<name>/.
    const storage = join(work, 'imported');
    await cp(graph.tree, storage, { recursive: true });
    for (const e of graph.entries) await writeFile(join(storage, escapePath(e.modulePath), '@v', `${escapeVersion(e.version)}.ziphash`), e.zipH1);
    await writeProofs(join(storage, 'sumdb', NAME), proofs);
    const offline = await startGodepot({ storage, upstream: 'off', sumdb: 'off' });
    try {
      const world = await freshGo(offline.url);
      await buildVerified(world);
      // Every module version too: which records share a tile with the build's own depends on the order
      // the concurrent collection recorded them in, so only all of them ask for every tile every run.
      await world.go(['mod', 'download', ...graph.entries.map((e) => `${e.modulePath}@${e.version}`)]);
      assert.ok((await headGoRemembers(world)).equals(head()), "go verified against the proofs' head");
      // Stopped first: a request's log line may still be on its way when go has exited.
      await offline.stop();
      const asked = offline.logs.filter((l) => l.route === 'sumdb').map((l) => l.sumdb);
      assert.ok(asked.includes(`${NAME}/supported`), 'go asked whether godepot proxies the database');
      assert.deepEqual([...new Set(asked.filter((p) => typeof p === 'string' && p.startsWith(`${NAME}/tile/`)))].sort(), tileNames().map((t) => `${NAME}/${t}`));
    } finally {
      await offline.dispose();
    }
  });

  it('a lookup whose record was altered fails go\'s verification', async () => {
    const util = graph.entry('example.com/app/util', 'v1.0.0');
    const name = `lookup/${util.modulePath}@${util.version}`;
    const evil = `h1:${recordHash(Buffer.from('evil')).toString('base64')}`;
    const tree = await fileTree('altered-record', (files) =>
      files.map((f) => (f.name === name ? { name, data: Buffer.from(f.data.toString().replace(util.zipH1, evil)) } : f)),
    );
    const world = await freshGo(pathToFileURL(tree).href);
    const message = await goFails(world, ['build', '.'], await consumer());
    assert.match(message, /example\.com\/app\/util@v1\.0\.0(\/go\.mod)?: verifying (module|go\.mod): example\.com\/app\/util@v1\.0\.0(\/go\.mod)?: cannot authenticate record data in server response/);
  });

  it('a tile with one byte flipped fails go\'s verification', async () => {
    const edge = tileNames().find((t) => t.startsWith('tile/8/0/002.p/'))!;
    const tree = await fileTree('flipped-tile', (files) =>
      files.map((f) => {
        if (f.name !== edge) return f;
        const data = Buffer.from(f.data);
        data[data.length - 1]! ^= 1;
        return { name: f.name, data };
      }),
    );
    const world = await freshGo(pathToFileURL(tree).href);
    const message = await goFails(world, ['build', '.'], await consumer());
    assert.match(message, /verifying (module|go\.mod): .*: downloaded inconsistent tile/);
  });

  it('a go that verified an earlier set verifies a later one that carries the tiles extending its head, and fails without them', async () => {
    const first = graph.entries.slice(0, FIRST).map((e) => `${e.modulePath}@${e.version}`);
    const run = async (later: ProofFiles, label: string): Promise<{ world: GoWorld; dir: string }> => {
      const world = await freshGo(pathToFileURL(await fileTree(`${label}-first`, undefined, firstProofs)).href);
      await world.go(['mod', 'download', ...first]);
      assert.equal(Number((await headGoRemembers(world)).toString().split('\n')[1]), FILLER + FIRST);
      // The same GOPATH and module cache (the earlier lookups and tiles in it), the later set as the proxy.
      world.env.GOPROXY = pathToFileURL(await fileTree(`${label}-later`, undefined, later)).href;
      return { world, dir: await consumer() };
    };
    const since = await run(sinceProofs, 'since');
    await buildVerified(since.world, since.dir);
    assert.ok((await headGoRemembers(since.world)).equals(head()), 'go moved on to the later head');

    const bare = await run(bareProofs, 'bare');
    const message = await goFails(bare.world, ['build', '.'], bare.dir);
    assert.match(message, new RegExp(`checking tree#${FILLER + FIRST} against tree#${proofs.treeSize}: .*tile/8/0/001`));
  });
});
