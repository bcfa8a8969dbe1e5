// --upstream-timeout is a limit on the whole exchange, not an idle timeout: an upstream that trickles a
// body keeps neither godepot nor go waiting beyond it (504, the connection let go of, no staged file
// left), while a large zip arriving well above --upstream-min-rate downloads whole however many
// timeouts it lasts.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { isTemporaryName } from '../../src/storage/atomic-file.js';
import { filesUnder, sha256, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, parseJsonStream } from '../support/go.js';
import { addBigModule, addModule, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let work: string;
let upstream: Upstream;
let godepot: GodepotServer;
let slowInfo: ProxyEntry;
let slowZip: ProxyEntry;
let big: ProxyEntry;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-limits-'));
  const tree = join(work, 'goproxy');
  slowInfo = await addModule(tree, work, 'example.com/slow/info', 'v1.0.0', { 'go.mod': 'module example.com/slow/info\n', 'a.go': 'package info\n' });
  slowZip = await addModule(tree, work, 'example.com/slow/zip', 'v1.0.0', { 'go.mod': 'module example.com/slow/zip\n', 'a.go': 'package zip\n' });
  big = await addBigModule(tree, work, 'example.com/slow/big', 'v1.0.0', 12 << 20);
  upstream = await startUpstream({ root: tree });
  godepot = await startGodepot({ upstream: upstream.url, args: ['--upstream-timeout', '2'] });
});

after(async () => {
  await godepot?.dispose();
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

/** Resolves once `check` holds, polling for at most `ms` (a liveness bound, never a measurement). */
async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  for (const started = Date.now(); !(await check()); await sleep(25)) {
    if (Date.now() - started > ms) assert.fail(`not within ${ms} ms`);
  }
}

test('a trickling .info answers 504 about two seconds in, saying why', async () => {
  // Its 50-odd bytes would take half a minute at 2 bytes a second.
  upstream.fault(slowInfo.urls.info, { bytesPerSecond: 2 });
  const started = Date.now();
  const res = await request(godepot.url + slowInfo.urls.info);
  const body = await res.body.text();
  const elapsed = Date.now() - started;
  assert.equal(res.statusCode, 504, body);
  assert.match(body, /^gateway timeout: reading http:\/\/127\.0\.0\.1:\d+\/example\.com\/slow\/info\/@v\/v1\.0\.0\.info: body below 65536 B\/s for 2 s/);
  assert.ok(elapsed < 10_000, `answered in ${elapsed} ms`);
  const fetched = upstream.log.find((r) => r.path === slowInfo.urls.info)!;
  await eventually(() => fetched.closed);
  assert.equal(fetched.finished, false, 'godepot let go of the connection');
});

test('a trickling .zip answers 504 and leaves no staged file; go reports the failure instead of waiting', async () => {
  upstream.fault(slowZip.urls.zip, { bytesPerSecond: 20 });
  const world = await makeGoWorld(godepot.url);
  try {
    const started = Date.now();
    let stdout = '';
    try {
      ({ stdout } = await world.go(['mod', 'download', '-json', `${slowZip.modulePath}@${slowZip.version}`]));
    } catch (err) {
      stdout = (err as { cause?: { stdout?: string } }).cause?.stdout ?? '';
    }
    const [result] = parseJsonStream<{ Error?: string }>(stdout);
    assert.match(result?.Error ?? '', /504 Gateway Timeout[\s\S]*body below 65536 B\/s for 2 s/);
    assert.ok(Date.now() - started < 30_000, 'go did not wait for the whole trickle');
  } finally {
    await world.dispose();
  }
  const fetched = upstream.log.filter((r) => r.path === slowZip.urls.zip);
  assert.ok(fetched.length > 0);
  await eventually(() => fetched.every((r) => r.closed));
  assert.ok(fetched.every((r) => !r.finished), 'every trickling connection was cut');
  await eventually(async () => (await filesUnder(godepot.storage)).every((f) => !isTemporaryName(basename(f))));
  const stored = await filesUnder(godepot.storage);
  assert.ok(!stored.includes(slowZip.urls.zip.slice(1)), 'no zip stored');
});

test('a 12 MB zip at 2 MB/s, six times the timeout, downloads whole', async () => {
  upstream.fault(big.urls.zip, { bytesPerSecond: 2 << 20 });
  const started = Date.now();
  const res = await request(godepot.url + big.urls.zip);
  const body = Buffer.from(await res.body.arrayBuffer());
  assert.equal(res.statusCode, 200);
  assert.equal(sha256(body), sha256(await readFile(big.zipFile)));
  assert.ok(Date.now() - started > 4000, 'the download lasted several timeouts');
});
