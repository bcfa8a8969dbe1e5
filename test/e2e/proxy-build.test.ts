// The proxy's main promise, checked with the real go command: a project built once through godepot keeps
// building from godepot alone when the upstream is gone, and godepot's storage folder is itself a GOPROXY.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { hashZip } from '../../src/module/hash.js';
import { filesUnder, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { buildModuleGraph, consumerOutput, writeConsumer, type ModuleGraph } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const execFileAsync = promisify(execFile);

let work: string;
let graph: ModuleGraph;
let upstream: Upstream;
let godepot: GodepotServer;
const worlds: GoWorld[] = [];

async function world(goproxy: string): Promise<GoWorld> {
  const w = await makeGoWorld(goproxy);
  worlds.push(w);
  return w;
}

/** Builds the consumer in `dir` and returns what the binary printed, one line per imported module. */
async function buildAndRun(w: GoWorld, dir: string): Promise<string[]> {
  const bin = join(dir, 'consumer.bin');
  await w.go(['build', '-o', bin, '.'], { cwd: dir });
  const { stdout } = await execFileAsync(bin);
  return stdout.trim().split('\n');
}

/** A copy of the consumer as the first build left it (go.mod completed by tidy, go.sum written). */
async function copyConsumer(from: string, name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  for (const file of ['go.mod', 'go.sum', 'main.go']) await copyFile(join(from, file), join(dir, file));
  return dir;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-build-'));
  graph = await buildModuleGraph(work);
  upstream = await startUpstream({ root: graph.tree });
  // A list TTL of zero makes every list and @latest ask the upstream, so the answers after the upstream
  // is gone must come from the stale path.
  godepot = await startGodepot({ upstream: upstream.url, env: { GODEPOT_LIST_TTL: '0' } });
});

after(async () => {
  await godepot?.dispose();
  await upstream?.stop();
  for (const w of worlds) await w.dispose();
  await rm(work, { recursive: true, force: true });
});

const consumer = () => join(work, 'consumer');
const log = 'example.com/app/log';

test('go builds a 12-module consumer through godepot and go.sum holds the upstream h1 of every module', async () => {
  const w = await world(godepot.url);
  await writeConsumer(consumer());
  await w.go(['mod', 'tidy'], { cwd: consumer() });
  assert.deepEqual(await buildAndRun(w, consumer()), consumerOutput, 'MVS picked the expected versions');

  const lines = (await readFile(join(consumer(), 'go.sum'), 'utf8')).trim().split('\n');
  const modules = new Set<string>();
  for (const line of lines) {
    const [modulePath, versionField, h1] = line.split(' ');
    assert.ok(modulePath && versionField && h1, `go.sum line: ${line}`);
    assert.equal(h1, graph.expectedSum(modulePath, versionField), `go.sum: ${line}`);
    modules.add(modulePath);
  }
  assert.ok(modules.size >= 10, `go.sum names ${modules.size} modules`);
  for (const path of ['example.com/major/v2', 'example.com/Upper/Mixed', 'example.com/pseudo', 'example.com/modonly']) {
    assert.ok(modules.has(path), `go.sum has ${path}`);
  }
  // Everything go fetched went through the upstream exactly once: the second build never asked again.
  const asked = upstream.requests.length;
  const again = await world(godepot.url);
  assert.deepEqual(await buildAndRun(again, await copyConsumer(consumer(), 'consumer-again')), consumerOutput);
  assert.equal(upstream.requests.length, asked, `no upstream request for a stored module: ${upstream.requests.slice(asked).join(', ')}`);
  for (const e of [graph.entry(log, 'v1.2.0'), graph.entry('example.com/Upper/Mixed', 'v1.0.0')]) {
    assert.equal(upstream.countOf(e.urls.zip), 1, `${e.urls.zip} fetched once`);
  }

  const versions = await w.go(['list', '-m', '-versions', log], { cwd: consumer() });
  assert.equal(versions.stdout.trim(), `${log} v1.0.0 v1.1.0 v1.2.0 v1.3.0-beta.1`);
  const latest = await w.go(['list', '-m', `${log}@latest`], { cwd: consumer() });
  assert.equal(latest.stdout.trim(), `${log} v1.2.0`);
});

test('with the upstream stopped and the module cache wiped, the same build succeeds from godepot alone', async () => {
  await upstream.stop();
  const w = await world(godepot.url);
  const dir = await copyConsumer(consumer(), 'consumer-offline');
  assert.deepEqual(await buildAndRun(w, dir), consumerOutput);
  await w.go(['mod', 'verify'], { cwd: dir });

  // list and @latest answer from storage (stale) while every upstream attempt fails.
  const versions = await w.go(['list', '-m', '-versions', log], { cwd: dir });
  assert.equal(versions.stdout.trim(), `${log} v1.0.0 v1.1.0 v1.2.0 v1.3.0-beta.1`);
  const latest = await w.go(['list', '-m', `${log}@latest`], { cwd: dir });
  assert.equal(latest.stdout.trim(), `${log} v1.2.0`);
  const stale = await godepot.untilLogged((l) => l.msg === 'request' && l.route === 'list' && l.module === log && l.cache === 'stale');
  assert.ok(stale.length > 0, 'godepot logged that it answered the list from storage');
});

test('the storage folder alone is a GOPROXY=file:// tree go builds from, with no godepot running', async () => {
  await godepot.stop();
  const stored = await filesUnder(godepot.storage);
  const zip = graph.entry(log, 'v1.2.0');
  const storedZip = join(godepot.storage, zip.urls.zip.slice(1));
  assert.ok(stored.includes(zip.urls.zip.slice(1)), `storage holds ${zip.urls.zip}`);
  assert.equal(await hashZip(storedZip), zip.zipH1, 'the stored zip is the upstream zip');

  const w = await world(pathToFileURL(godepot.storage).href);
  const dir = await copyConsumer(consumer(), 'consumer-file');
  assert.deepEqual(await buildAndRun(w, dir), consumerOutput);
});
