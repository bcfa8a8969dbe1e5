// godepot as the go command's checksum database: `GOSUMDB=<verifier key>` with no URL, so go finds the
// database through GOPROXY's /sumdb/<name>/, and godepot records every module it stores (`--sumdb off`).
// The real go verifies the whole graph against it while the tree grows, across a restart of godepot
// (go checks the new tree extends the one it remembers), and with the upstream gone.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { escapePath, escapeVersion } from '../../src/module/path.js';
import { runGodepot } from '../support/cli.js';
import { startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, parseJsonStream, type GoWorld } from '../support/go.js';
import { buildModuleGraph, writeConsumer, type ModuleGraph } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const NAME = 'sumdb.godepot.test';

describe('go verifies every module against the checksum database godepot hosts', () => {
  let work: string;
  let graph: ModuleGraph;
  let upstream: Upstream;
  let godepot: GodepotServer;
  let world: GoWorld;
  let verifierKey: string;
  const sizes: number[] = [];

  /** The size of godepot's tree, from its signed head. */
  async function treeSize(): Promise<number> {
    const res = await fetch(`${godepot.url}/sumdb/${NAME}/latest`);
    assert.equal(res.status, 200);
    return Number((await res.text()).split('\n')[1]);
  }

  /** The size of the tree go remembers for the database ($GOPATH/pkg/sumdb/<name>/latest). */
  async function goTreeSize(): Promise<number> {
    const latest = await readFile(join(world.env.GOPATH!, 'pkg', 'sumdb', NAME, 'latest'), 'utf8');
    return Number(latest.split('\n')[1]);
  }

  /** go.sum lines of `dir`, each checked against the upstream's hashes; returns the modules named. */
  async function checkGoSum(dir: string): Promise<Set<string>> {
    const modules = new Set<string>();
    for (const line of (await readFile(join(dir, 'go.sum'), 'utf8')).trim().split('\n')) {
      const [modulePath = '', versionField = '', h1] = line.split(' ');
      assert.equal(h1, graph.expectedSum(modulePath, versionField), `go.sum: ${line}`);
      modules.add(modulePath);
    }
    return modules;
  }

  /** Every go.sum line go wrote agrees with godepot's record for it. */
  async function checkRecords(dir: string): Promise<void> {
    for (const line of (await readFile(join(dir, 'go.sum'), 'utf8')).trim().split('\n')) {
      const [modulePath = '', versionField = ''] = line.split(' ');
      const version = versionField.replace(/\/go\.mod$/, '');
      const e = graph.entry(modulePath, version);
      const res = await fetch(`${godepot.url}/sumdb/${NAME}/lookup/${escapePath(modulePath)}@${escapeVersion(version)}`);
      assert.equal(res.status, 200);
      const record = (await res.text()).split('\n\n')[0]!.split('\n').slice(1);
      assert.deepEqual(record, [`${modulePath} ${version} ${e.zipH1}`, `${modulePath} ${version}/go.mod ${e.modH1}`]);
    }
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-e2e-sumdb-proxy-'));
    graph = await buildModuleGraph(work);
    upstream = await startUpstream({ root: graph.tree });
    const keyFile = join(work, 'sumdb.key');
    const generated = await runGodepot(['sumdb', 'key', 'generate', NAME, '--output', keyFile]);
    assert.equal(generated.code, 0, generated.stderr);
    verifierKey = generated.stdout.trim();
    godepot = await startGodepot({ upstream: upstream.url, sumdb: 'off', args: ['--sumdb-host', NAME, '--sumdb-key', keyFile] });
    world = await makeGoWorld(godepot.url, { GOSUMDB: verifierKey, GONOSUMDB: '', GOPRIVATE: '' });
  });

  after(async () => {
    await godepot?.dispose();
    await upstream?.stop();
    await world?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('go downloads single modules and verifies them, finding the database through the proxy', async () => {
    const wanted = [graph.entry('example.com/Upper/Mixed', 'v1.0.0'), graph.entry('example.com/app/log', 'v1.0.0')];
    const { stdout } = await world.go(['mod', 'download', '-json', ...wanted.map((e) => `${e.modulePath}@${e.version}`)]);
    const out = parseJsonStream<{ Path: string; Sum: string; GoModSum: string; Error?: string }>(stdout);
    for (const e of wanted) {
      const got = out.find((o) => o.Path === e.modulePath);
      assert.equal(got?.Error, undefined);
      assert.equal(got?.Sum, e.zipH1);
      assert.equal(got?.GoModSum, e.modH1);
    }
    const size = await treeSize();
    assert.equal(size, 2);
    assert.equal(await goTreeSize(), size);
    sizes.push(size);
    const supported = await godepot.untilLogged((l) => l.route === 'sumdb' && l.sumdb === `${NAME}/supported`);
    assert.ok(supported.length > 0, 'go asked godepot whether it proxies the database');
    const tiles = await godepot.untilLogged((l) => l.route === 'sumdb' && typeof l.sumdb === 'string' && l.sumdb.startsWith(`${NAME}/tile/8/0/000.p/`));
    assert.ok(tiles.length > 0, 'go read hash tiles from godepot');
  });

  it('go builds the 12-module consumer with no go.sum: every module and go.mod verified, the tree grown', async () => {
    const dir = join(work, 'consumer');
    await writeConsumer(dir);
    await world.go(['mod', 'tidy'], { cwd: dir });
    await world.go(['build', '-o', join(dir, 'consumer.bin'), '.'], { cwd: dir });
    const modules = await checkGoSum(dir);
    assert.ok(modules.size >= 10, `go.sum names ${modules.size} modules`);
    await checkRecords(dir);
    const size = await treeSize();
    assert.ok(size > sizes.at(-1)! + 8, `the tree grew from ${sizes.at(-1)} to ${size}`);
    assert.equal(await goTreeSize(), size);
    sizes.push(size);
  });

  it('after a restart, the same tree goes on growing and go checks it extends the one it saw', async () => {
    const before = await treeSize();
    const head = await (await fetch(`${godepot.url}/sumdb/${NAME}/latest`)).text();
    godepot = await godepot.restart();
    assert.equal(await (await fetch(`${godepot.url}/sumdb/${NAME}/latest`)).text(), head, 'the same signed head after the restart');
    world.env.GOPROXY = godepot.url;
    // Versions nobody has asked for yet: recorded now, after the records of the first run.
    const more = [graph.entry('example.com/app/log', 'v1.3.0-beta.1'), graph.entry('example.com/modonly', 'v0.9.0')];
    for (const e of more) {
      const [out] = parseJsonStream<{ Sum: string; Error?: string }>((await world.go(['mod', 'download', '-json', `${e.modulePath}@${e.version}`])).stdout);
      assert.equal(out?.Error, undefined);
      assert.equal(out?.Sum, e.zipH1);
      const size = await treeSize();
      assert.ok(size > sizes.at(-1)!);
      assert.equal(await goTreeSize(), size);
      sizes.push(size);
    }
    assert.equal(sizes.at(-1), before + 2);
  });

  it('with the upstream stopped, go verifies the whole graph again from godepot alone (fresh module cache, no go.sum)', async () => {
    await upstream.stop();
    const dir = join(work, 'consumer-offline');
    await mkdir(dir);
    for (const file of ['go.mod', 'main.go']) await copyFile(join(work, 'consumer', file), join(dir, file));
    const env = { GOMODCACHE: join(work, 'modcache-offline'), GOPROXY: godepot.url };
    await world.go(['mod', 'tidy'], { cwd: dir, env });
    await world.go(['build', '-o', join(dir, 'consumer.bin'), '.'], { cwd: dir, env });
    assert.ok((await checkGoSum(dir)).size >= 10);
    // Nothing new to record: the same tree as before the upstream went away.
    assert.equal(await treeSize(), sizes.at(-1));
    assert.equal(await goTreeSize(), sizes.at(-1));
    assert.ok(sizes.length >= 4 && new Set(sizes).size === sizes.length, `tree sizes seen by go: ${sizes.join(', ')}`);
  });
});
