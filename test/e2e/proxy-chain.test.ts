// GOPROXY list semantics as godepot's --upstream applies them, seen by the go command: "," falls through
// only on 404/410, "|" on any error (a timeout included), "off" and "direct" answer errors go prints, and
// --private modules never reach an upstream proxy.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runGodepot } from '../support/cli.js';
import { startGodepot, stateDirOf, type GodepotOptions } from '../support/godepot-server.js';
import { makeGoWorld, parseJsonStream } from '../support/go.js';
import { buildModuleGraph, type ModuleGraph, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

interface Downloaded {
  Path: string;
  Version: string;
  Sum?: string;
  GoModSum?: string;
  Error?: string;
}

let work: string;
let graph: ModuleGraph;
let a: Upstream;
let b: Upstream;
let mixed: ProxyEntry;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-chain-'));
  graph = await buildModuleGraph(work);
  a = await startUpstream({ root: graph.tree });
  b = await startUpstream({ root: graph.tree });
  mixed = graph.entry('example.com/Upper/Mixed', 'v1.0.0');
});

after(async () => {
  await a?.stop();
  await b?.stop();
  await rm(work, { recursive: true, force: true });
});

/**
 * Starts a godepot with `options`, runs `go mod download -json` of `entry` through it from an empty
 * module cache, and returns what go reported (go exits non-zero on a failed download; -json still
 * prints the error, which is what the tests look at).
 */
async function download(options: GodepotOptions, entry: ProxyEntry): Promise<Downloaded> {
  a.clearLog();
  b.clearLog();
  const godepot = await startGodepot(options);
  const world = await makeGoWorld(godepot.url);
  try {
    const target = `${entry.modulePath}@${entry.version}`;
    let stdout: string;
    try {
      ({ stdout } = await world.go(['mod', 'download', '-json', target]));
    } catch (err) {
      const cause = (err as { cause?: { stdout?: string } }).cause;
      stdout = cause?.stdout ?? '';
    }
    const [result] = parseJsonStream<Downloaded>(stdout);
    assert.ok(result, `go mod download -json printed a result:\n${stdout}`);
    return result;
  } finally {
    await world.dispose();
    await godepot.dispose();
    a.clearFaults();
    b.clearFaults();
  }
}

function assertDownloaded(result: Downloaded, entry: ProxyEntry): void {
  assert.equal(result.Error, undefined, result.Error);
  assert.equal(result.Sum, entry.zipH1);
  assert.equal(result.GoModSum, entry.modH1);
}

test('"A,B": A answers 404, so B serves the module', async () => {
  a.fault('*', { status: 404 });
  const result = await download({ upstream: `${a.url},${b.url}` }, mixed);
  assertDownloaded(result, mixed);
  assert.ok(a.countOf(mixed.urls.info) > 0, 'A was asked first');
  assert.equal(b.countOf(mixed.urls.zip), 1, 'B served the zip');
});

test('"A,B": A answers 410, so B serves the module', async () => {
  a.fault('*', { status: 410 });
  assertDownloaded(await download({ upstream: `${a.url},${b.url}` }, mixed), mixed);
  assert.equal(b.countOf(mixed.urls.zip), 1);
});

test('"A,B": A answers 500, so the download fails and B is never asked', async () => {
  a.fault('*', { status: 500 });
  const result = await download({ upstream: `${a.url},${b.url}` }, mixed);
  assert.ok(result.Error, 'go reports an error');
  assert.ok(a.requests.length > 0, 'A was asked');
  assert.deepEqual(b.requests, [], 'no fall-through to B after a 500');
});

test('"A|B": A answers 500, so B serves the module', async () => {
  a.fault('*', { status: 500 });
  assertDownloaded(await download({ upstream: `${a.url}|${b.url}` }, mixed), mixed);
  assert.ok(a.requests.length > 0, 'A was asked first');
  assert.equal(b.countOf(mixed.urls.zip), 1);
});

test('"A|B": A never answers, so after the upstream timeout B serves the module', async () => {
  a.fault('*', { hang: true });
  const started = Date.now();
  const result = await download({ upstream: `${a.url}|${b.url}`, env: { GODEPOT_UPSTREAM_TIMEOUT: '0.5' } }, mixed);
  assertDownloaded(result, mixed);
  assert.ok(a.requests.length > 0, 'A was asked first');
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 500 && elapsed < 15_000, `the 0.5 s timeout cut the hanging upstream short (${elapsed} ms)`);
});

test('"off": go prints that module lookup is disabled, by godepot\'s setting', async () => {
  const result = await download({ upstream: 'off' }, mixed);
  assert.match(result.Error ?? '', /module lookup disabled by --upstream off/);
});

// direct goes where the module path says the code lives; the tests keep every process on loopback
// (containedEnv), so the module's own go-get page is refused by the closed proxy, and go prints that.
test('"direct": godepot looks for the module\'s own repository, and go prints why it could not reach it', async () => {
  const result = await download({ upstream: 'direct' }, mixed);
  assert.match(result.Error ?? '', /unrecognized import path "example\.com\/Upper\/Mixed": https fetch: Get "https:\/\/example\.com\/Upper\/Mixed\?go-get=1"/);
});

test('--private modules go direct and never reach an upstream proxy; others still do', async () => {
  const options = { upstream: a.url, private: 'example.com/Upper/*' };
  // Private modules are read with a token only: go, which sends none over plain http, is refused.
  const result = await download(options, mixed);
  assert.match(result.Error ?? '', /401 Unauthorized\n\tserver response: unauthorized: a token is needed to read example\.com\/Upper\/Mixed/);
  const godepot = await startGodepot(options);
  try {
    const made = await runGodepot(['token', 'create', '--name', 'reader', '--role', 'read', '--state-dir', stateDirOf(godepot.storage)]);
    assert.equal(made.code, 0, made.stderr);
    const answer = await fetch(`${godepot.url}${mixed.urls.info}`, { headers: { authorization: `Bearer ${made.stdout.trim()}` } });
    assert.match(await answer.text(), /https:\/\/example\.com\/Upper\/Mixed\?go-get=1/, 'the private module went direct');
  } finally {
    await godepot.dispose();
  }
  assert.deepEqual(a.requests, [], 'the private module was never sent upstream');
  const pre = graph.entry('example.com/pre', 'v1.5.0-rc.1');
  assertDownloaded(await download(options, pre), pre);
});
