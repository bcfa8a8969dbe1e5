// Single-flight seen from outside: many clients asking for the same uncached zip at once cause exactly one
// upstream fetch and all get the same bytes, and so do requests for all the files of one version at
// once; different zips are fetched side by side, each once.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import { getDigest, sha256, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { addBigModule, buildModuleGraph, type ModuleGraph, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';
import { fiftyColdRequests, togetherColdRequests } from './cold-requests.js';

let work: string;
let graph: ModuleGraph;
let big: ProxyEntry;
let upstream: Upstream;
let godepot: GodepotServer;
// One connection per client, as 50 separate go commands would open.
const agent = new Agent({ connections: 100, pipelining: 0 });

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-flight-'));
  graph = await buildModuleGraph(work);
  big = await addBigModule(graph.tree, work, 'example.com/big', 'v1.0.0', 4 << 20);
  upstream = await startUpstream({ root: graph.tree });
  godepot = await startGodepot({ upstream: upstream.url });
});

after(async () => {
  await agent.close();
  await godepot?.dispose();
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

const get = (path: string) => getDigest(godepot.url + path, agent);

test('50 concurrent cold requests for one zip: one upstream fetch, 50 identical answers', async () => {
  await fiftyColdRequests(godepot, upstream, big, agent, 500);
});

test('the .info, .mod and .zip of a cold version asked for 20 times each at once: one upstream fetch per file', async () => {
  // Several versions, since which request reaches the depot first varies from one to the next.
  for (const e of graph.entries.slice(0, 6)) await togetherColdRequests(godepot, upstream, e, agent);
});

test('different zips requested in parallel are each fetched once', async () => {
  const entries = graph.entries.filter((e) => e.modulePath.startsWith('example.com/deep/') || e.modulePath === 'example.com/app/log');
  for (const e of entries) upstream.fault(e.urls.zip, { delayMs: 300 });
  const started = Date.now();
  const answers = await Promise.all(entries.flatMap((e) => Array.from({ length: 8 }, () => get(e.urls.zip).then((a) => ({ e, a })))));
  const elapsed = Date.now() - started;
  for (const { e, a } of answers) {
    assert.equal(a.status, 200, e.urls.zip);
    assert.equal(a.digest, sha256(await readFile(e.zipFile)), e.urls.zip);
  }
  for (const e of entries) assert.equal(upstream.countOf(e.urls.zip), 1, `${e.urls.zip} fetched once`);
  // Fetched one after the other, the delays alone would add up to entries.length * 300 ms.
  assert.ok(elapsed < entries.length * 300, `${entries.length} zips took ${elapsed} ms: not fetched in parallel`);
});
