// An upstream that accepts connections and never answers costs one --upstream-timeout, once: godepot then
// considers it down, answers list and @latest from storage at once and fails what it does not hold at
// once, saying since when, while it probes the upstream in the background; go finishes as if the
// upstream were merely absent. When the upstream answers again, godepot logs that and fetches again.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { sample } from '../support/metrics.js';
import { startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, parseJsonStream } from '../support/go.js';
import { addModule, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let work: string;
let upstream: Upstream;
let godepot: GodepotServer;
let stored: ProxyEntry[];
let cold: ProxyEntry;

const TIMEOUT_S = 3;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-down-'));
  const tree = join(work, 'goproxy');
  stored = [];
  for (const name of ['alpha', 'beta', 'gamma']) {
    const modulePath = `example.com/down/${name}`;
    stored.push(await addModule(tree, work, modulePath, 'v1.0.0', { 'go.mod': `module ${modulePath}\n`, 'a.go': `package ${name}\n` }));
    stored.push(await addModule(tree, work, modulePath, 'v1.1.0', { 'go.mod': `module ${modulePath}\n`, 'a.go': `package ${name}\n\nconst V = 1\n` }));
  }
  cold = await addModule(tree, work, 'example.com/down/cold', 'v1.0.0', { 'go.mod': 'module example.com/down/cold\n', 'a.go': 'package cold\n' });
  upstream = await startUpstream({ root: tree });
  // --list-ttl 0: every list and @latest asks the upstream, as once a minute does in real life.
  godepot = await startGodepot({ upstream: upstream.url, args: ['--upstream-timeout', String(TIMEOUT_S), '--list-ttl', '0'] });
  const world = await makeGoWorld(godepot.url);
  try {
    await world.go(['mod', 'download', '-json', ...stored.map((e) => `${e.modulePath}@${e.version}`)]);
    for (const e of stored) {
      for (const path of [e.urls.list, e.urls.list.replace(/@v\/list$/, '@latest')]) assert.equal((await request(godepot.url + path)).statusCode, 200);
    }
  } finally {
    await world.dispose();
  }
});

after(async () => {
  await godepot?.dispose();
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

/** GETs `path` from godepot: status, body, and how long it took. */
async function get(path: string): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const res = await request(godepot.url + path);
  const body = await res.body.text();
  return { status: res.statusCode, body, ms: performance.now() - started };
}

async function upGauge(): Promise<number> {
  const text = await (await request(`${godepot.url}/metrics`)).body.text();
  assert.match(text, /godepot_upstream_up\{/);
  return sample(text, 'godepot_upstream_up', { origin: upstream.url });
}

test('a blackholed upstream: one timeout, then stale answers and failures at once, go finishing fast, and recovery', async () => {
  assert.equal(await upGauge(), 1);
  upstream.fault('*', { hang: true });
  const [first] = stored;
  const tripped = await get(first!.urls.list);
  assert.equal(tripped.status, 200, 'the first list waited for the timeout, then answered from storage');
  assert.ok(tripped.ms >= TIMEOUT_S * 1000 - 100, `${tripped.ms} ms`);

  // Every stale list and @latest, 40 at once, answers without waiting on the upstream: well inside one
  // timeout (how fast exactly is bench/'s business; a loaded CI machine must not fail this).
  const waitedNot = (TIMEOUT_S * 1000) / 2;
  const paths = stored.flatMap((e) => [e.urls.list, e.urls.list.replace(/@v\/list$/, '@latest')]);
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => get(paths[i % paths.length]!)));
  for (const answer of answers) {
    assert.equal(answer.status, 200);
    assert.ok(answer.ms < waitedNot, `a stale answer took ${Math.round(answer.ms)} ms`);
  }

  // A file godepot does not hold fails at once, saying which upstream is down and since when.
  const failed = await get(cold.urls.info);
  assert.equal(failed.status, 502);
  assert.ok(failed.ms < waitedNot, `the cold file took ${Math.round(failed.ms)} ms`);
  assert.match(failed.body, new RegExp(`upstream ${upstream.url.replace(/[.]/g, '\\.')} considered down since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z`));
  assert.equal(await upGauge(), 0);

  // go resolves @latest of every stored module from the stale lists, well within one timeout.
  const world = await makeGoWorld(godepot.url);
  try {
    const started = Date.now();
    const { stdout } = await world.go(['mod', 'download', '-json', ...['alpha', 'beta', 'gamma'].map((n) => `example.com/down/${n}@latest`)]);
    const elapsed = Date.now() - started;
    const results = parseJsonStream<{ Version: string; Error?: string }>(stdout);
    assert.deepEqual(
      results.map((r) => [r.Version, r.Error]),
      [
        ['v1.1.0', undefined],
        ['v1.1.0', undefined],
        ['v1.1.0', undefined],
      ],
    );
    assert.ok(elapsed < TIMEOUT_S * 1000, `go took ${elapsed} ms`);
  } finally {
    await world.dispose();
  }
  assert.equal((await godepot.untilLogged((l) => l.msg === 'upstream considered down')).length, 1);

  // Back: a probe finds it (2 s after the failure, then 4 s, 8 s later...), and cold files are fetched again.
  upstream.clearFaults();
  const recovered = await godepot.untilLogged((l) => l.msg === 'upstream recovered', 1, 30_000);
  assert.equal(recovered.length, 1, 'recovery logged once');
  assert.equal(recovered[0]!.origin, upstream.url);
  assert.equal((await get(cold.urls.info)).status, 200);
  assert.equal(await upGauge(), 1);
});
