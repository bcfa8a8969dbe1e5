// A storage folder godepot never catalogued (a store from before the catalog, a restored backup of its
// module files): at start godepot lists it once, in the background, for both its figures and its catalog. /index then lists
// every version at the time its files were stored, in that order, /metrics counts them, and go builds
// through it with no upstream.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld } from '../support/go.js';
import { sample } from '../support/metrics.js';
import { buildModuleGraph, consumerOutput, writeConsumer, type ModuleGraph } from '../support/modgraph.js';

let work: string;
let graph: ModuleGraph;
let storage: string;
let godepot: GodepotServer;
/** When each version's files were stored, as their modification times say: an order unlike the graph's. */
const storedAt = new Map<string, Date>();

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-existing-store-'));
  graph = await buildModuleGraph(work);
  storage = join(work, 'storage');
  await cp(graph.tree, storage, { recursive: true });
  const base = Date.parse('2024-05-01T10:00:00.000Z');
  const entries = graph.entries.map((e, i) => ({ e, i })).reverse();
  for (const [order, { e }] of entries.entries()) {
    const at = new Date(base + order * 60_000);
    storedAt.set(`${e.modulePath}@${e.version}`, at);
    // The version's first file (its .info) marks when it was stored; the others came a moment later.
    await utimes(join(storage, e.urls.info), at, at);
    // As godepot stores a zip: with its h1 beside it.
    await writeFile(join(storage, e.urls.zip + 'hash'), e.zipH1);
    for (const url of [e.urls.mod, e.urls.zip, e.urls.zip + 'hash']) await utimes(join(storage, url), at, new Date(at.getTime() + 5_000));
  }
  godepot = await startGodepot({ storage, upstream: 'off' });
});

after(async () => {
  await godepot?.dispose();
  await rm(work, { recursive: true, force: true });
});

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (done(value)) return value;
    await sleep(50);
  }
  return assert.fail(`${what} never came`);
}

test('a store godepot never catalogued: catalogued at its stored times and in that order, counted, and served to go', async () => {
  const index = await until(
    'the catalog of the whole store',
    async () => (await (await request(`${godepot.url}/index`)).body.text()).split('\n').filter(Boolean),
    (lines) => lines.length >= graph.entries.length,
  );
  const expected = [...storedAt].sort((a, b) => a[1].getTime() - b[1].getTime());
  assert.deepEqual(
    index.map((line) => JSON.parse(line) as { Path: string; Version: string; Timestamp: string }).map((l) => [`${l.Path}@${l.Version}`, l.Timestamp]),
    expected.map(([id, at]) => [id, at.toISOString()]),
  );
  const caughtUp = await godepot.untilLogged((l) => l.msg === 'catalogued stored versions');
  assert.deepEqual(
    caughtUp.map((l) => [l.versions, l.atStoredTimes]),
    [[graph.entries.length, true]],
  );

  const metrics = await until(
    'the stored figures',
    async () => (await request(`${godepot.url}/metrics`)).body.text(),
    (text) => sample(text, 'godepot_stored_versions', {}) === graph.entries.length,
  );
  assert.equal(sample(metrics, 'godepot_stored_modules', {}), new Set(graph.entries.map((e) => e.modulePath)).size);

  const world = await makeGoWorld(godepot.url, { GOFLAGS: '-modcacherw -mod=mod' });
  try {
    const project = join(world.root, 'consumer');
    await writeConsumer(project);
    const { stdout } = await world.go(['run', '.'], { cwd: project });
    assert.deepEqual(stdout.trim().split('\n'), consumerOutput);
  } finally {
    await world.dispose();
  }
});
