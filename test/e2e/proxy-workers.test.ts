// `godepot serve --workers 2`: two processes on one socket behave as one proxy. go builds through it,
// concurrent cold requests spread over both workers still cause one upstream fetch (and with three
// workers, one per file of a version whose files are all asked for at once), a worker that dies
// is replaced while the other keeps serving, /metrics counts both, and SIGTERM lets an in-flight
// download finish, exit 0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { getDigest, sha256, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld } from '../support/go.js';
import { sample, storedFigures } from '../support/metrics.js';
import { addBigModule, buildModuleGraph, consumerOutput, writeConsumer, type ModuleGraph, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';
import { fiftyColdRequests, togetherColdRequests } from './cold-requests.js';

const execFileAsync = promisify(execFile);

let work: string;
let graph: ModuleGraph;
// Zips nobody has asked for: one per try of the test that spreads cold requests over both workers.
let cold: ProxyEntry[];
let slow: ProxyEntry;
let upstream: Upstream;
let godepot: GodepotServer;
// One connection per client, as 50 separate go commands would open.
const clientConnections = (): Agent => new Agent({ connections: 100, pipelining: 0 });
const agent = clientConnections();

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-workers-'));
  graph = await buildModuleGraph(work);
  cold = [];
  for (let i = 0; i < 4; i++) cold.push(await addBigModule(graph.tree, work, `example.com/big${i}`, 'v1.0.0', 4 << 20));
  slow = await addBigModule(graph.tree, work, 'example.com/slow', 'v1.0.0', 8 << 20);
  upstream = await startUpstream({ root: graph.tree });
  godepot = await startGodepot({ upstream: upstream.url, args: ['--workers', '2'] });
});

after(async () => {
  await agent.close();
  await godepot?.dispose();
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

const get = (path: string) => getDigest(godepot.url + path, agent);

/** The pids of the primary's workers. */
async function workerPids(): Promise<number[]> {
  const { stdout } = await execFileAsync('ps', ['--ppid', String(godepot.pid), '-o', 'pid=']);
  return stdout.split('\n').filter((line) => line.trim() !== '').map(Number);
}

/** Each worker numbers its requests after a prefix of its own (`<prefix>-<n>`): the processes that answered for the zip of `modulePath`. */
function answeringProcesses(modulePath: string): Set<string> {
  return new Set(
    godepot.logs
      .filter((entry) => entry.msg === 'request' && entry.route === 'zip' && entry.module === modulePath)
      .map((entry) => String(entry.reqId).replace(/-[0-9a-z]+$/, '')),
  );
}

test('one listening line, printed by the primary, naming two workers', async () => {
  const lines = godepot.logs.filter((entry) => entry.msg === 'listening');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.workers, 2);
  assert.equal(lines[0]?.url, godepot.url);
  assert.equal((await workerPids()).length, 2);
});

test('go builds the 12-module consumer through two workers', async () => {
  const w = await makeGoWorld(godepot.url);
  try {
    const dir = join(work, 'consumer');
    await writeConsumer(dir);
    await w.go(['mod', 'tidy'], { cwd: dir });
    await w.go(['build', '-o', join(dir, 'consumer.bin'), '.'], { cwd: dir });
    const { stdout } = await execFileAsync(join(dir, 'consumer.bin'));
    assert.deepEqual(stdout.trim().split('\n'), consumerOutput);
  } finally {
    await w.dispose();
  }
});

test('50 concurrent cold requests for one zip, answered by both workers: one upstream fetch, 50 identical answers', async () => {
  // The kernel gives each new connection to whichever worker accepts first, and one worker may take a
  // whole burst: such a try shows no sharing, so another cold zip is tried on new connections.
  let answering = 0;
  for (const entry of cold) {
    const fresh = clientConnections();
    try {
      await fiftyColdRequests(godepot, upstream, entry, fresh, 800);
    } finally {
      await fresh.close();
    }
    await sleep(200);
    answering = answeringProcesses(entry.modulePath).size;
    if (answering === 2) break;
  }
  assert.equal(answering, 2, 'both workers answered some of the requests of one try');
});

test('--workers 3: the .info, .mod and .zip of a cold version asked for 20 times each at once: one upstream fetch per file', async () => {
  const three = await startGodepot({ upstream: upstream.url, args: ['--workers', '3'] });
  const fresh = clientConnections();
  try {
    // The graph's versions this server has not stored: several, since which worker gets which request varies.
    for (const e of graph.entries.slice(0, 6)) await togetherColdRequests(three, upstream, e, fresh);
  } finally {
    await fresh.close();
    await three.dispose();
  }
});

test('/metrics counts every worker, whichever one answers the scrape', async () => {
  const mod = graph.entries[1]!.urls.mod;
  const served = (text: string): number => sample(text, 'godepot_requests_total', { route: 'mod', status: '200' });
  // Each scrape on a connection of its own, all at once, so that the kernel spreads them over the
  // workers; each says which process answered in its request id.
  const scrapes = async (count: number): Promise<Array<{ process: string; text: string }>> =>
    Promise.all(
      Array.from({ length: count }, async () => {
        const own = new Agent({ connections: 1 });
        try {
          const res = await request(godepot.url + '/metrics', { dispatcher: own });
          assert.equal(res.statusCode, 200);
          return { process: String(res.headers['x-request-id']).replace(/-[0-9a-z]+$/, ''), text: await res.body.text() };
        } finally {
          await own.close();
        }
      }),
    );
  const before = served((await scrapes(1))[0]!.text);
  const answers = await Promise.all(Array.from({ length: 50 }, () => get(mod)));
  for (const answer of answers) assert.equal(answer.status, 200);
  const answeredBy = new Set<string>();
  for (let burst = 0; burst < 10 && answeredBy.size < 2; burst++) {
    for (const scrape of await scrapes(12)) {
      assert.equal(served(scrape.text), before + 50, `the scrape answered by ${scrape.process} counts all 50 requests`);
      answeredBy.add(scrape.process);
    }
  }
  assert.equal(answeredBy.size, 2, 'both workers answered scrapes');
});

test('/metrics: the stored figures count each stored version once, not once per worker, and the process metrics add up', async () => {
  for (const entry of graph.entries.slice(0, 4)) assert.equal((await get(entry.urls.zip)).status, 200);
  const stored = await storedFigures(godepot.storage);
  assert.ok(stored.versions >= 4);
  const text = await (await request(godepot.url + '/metrics', { dispatcher: agent })).body.text();
  assert.deepEqual(
    { modules: sample(text, 'godepot_stored_modules', {}), versions: sample(text, 'godepot_stored_versions', {}), bytes: sample(text, 'godepot_stored_bytes', {}) },
    stored,
  );
  assert.equal(sample(text, 'godepot_build_info', {}), 1, 'build info is 1, not one per worker');
  assert.ok(sample(text, 'process_cpu_seconds_total', {}) > 0);
  assert.ok(sample(text, 'nodejs_heap_size_total_bytes', {}) > 0);
});

test('a killed worker is logged and replaced; serving goes on', async () => {
  const [victim, survivor] = await workerPids();
  assert.ok(victim !== undefined && survivor !== undefined);
  process.kill(victim, 'SIGKILL');
  const replaced = await godepot.untilLogged((entry) => entry.msg === 'worker replaced');
  const died = godepot.logs.find((entry) => entry.msg === 'worker died: starting another');
  assert.equal(died?.pid, victim);
  assert.equal(died?.signal, 'SIGKILL');
  assert.ok(replaced.length > 0, 'a new worker listens');
  const now = await workerPids();
  assert.equal(now.length, 2);
  assert.ok(now.includes(survivor) && !now.includes(victim));
  const answers = await Promise.all(Array.from({ length: 20 }, () => get(graph.entries[0]!.urls.info)));
  for (const answer of answers) assert.equal(answer.status, 200);
});

test('SIGTERM: the in-flight zip download completes intact, every worker stops, exit code 0', async () => {
  upstream.fault(slow.urls.zip, { delayMs: 2000 });
  const download = request(godepot.url + slow.urls.zip, { dispatcher: agent }).then(async (res) => ({
    status: res.statusCode,
    body: Buffer.from(await res.body.arrayBuffer()),
  }));
  for (let i = 0; i < 200 && upstream.countOf(slow.urls.zip) === 0; i++) await sleep(25);
  assert.equal(upstream.countOf(slow.urls.zip), 1, 'the download is under way');
  const workers = await workerPids();
  const exit = await godepot.stop();
  const { status, body } = await download;
  assert.equal(status, 200);
  assert.equal(sha256(body), sha256(await readFile(slow.zipFile)), 'the in-flight download got the whole zip');
  assert.deepEqual(exit, { code: 0, signal: null });
  for (const pid of workers) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `worker ${pid} is gone`);
});
