// `godepot storage verify` on a storage folder go filled through godepot: a clean store passes; a flipped
// byte, a truncated zip, a deleted .mod, a broken .info and a leftover of an interrupted write are each
// reported; --repair fetches them again from the upstream and quarantines a published version's damaged
// zip, which nothing can fetch again; and go then builds through godepot on the repaired storage, with
// `go mod verify` agreeing with the go.sum the first build wrote.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { writeTree } from '../support/git.js';
import { runGodepot, type CliResult } from '../support/cli.js';
import { filesUnder, startGodepot, stateDirOf, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { buildModuleGraph, consumerOutput, writeConsumer, type ModuleGraph } from '../support/modgraph.js';
import { flipZipDataByte } from '../support/rawzip.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const execFileAsync = promisify(execFile);
const token = 'publish-token-of-the-verify-test';

let work: string;
let graph: ModuleGraph;
let upstream: Upstream;
let godepot: GodepotServer;
let config: string;
let consumer: string;
/** What the first publish of corp.example.com/lib printed: its go.sum line. */
let publishedLine: string;
const worlds: GoWorld[] = [];

/** `godepot storage verify` on the test server's storage, with its settings (upstream, routing, state). */
function verify(...args: string[]): Promise<CliResult> {
  return runGodepot(['storage', 'verify', '--storage', godepot.storage, '--upstream', upstream.url, '--sumdb', 'off', '--config', config, '--state-dir', stateDirOf(godepot.storage), ...args], {
    cwd: work,
  });
}

/** The stored file of a module version's file. */
const stored = (modulePath: string, version: string, file: string): string => join(godepot.storage, ...modulePath.split('/'), '@v', `${version}.${file}`);

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-storage-verify-'));
  graph = await buildModuleGraph(work);
  upstream = await startUpstream({ root: graph.tree });
  config = join(work, 'godepot.yaml');
  await writeFile(config, 'rules:\n  - match: corp.example.com\n    route: hosted\n');
  godepot = await startGodepot({ upstream: upstream.url, config, args: ['--publish-token', token] });
  const w = await makeGoWorld(godepot.url);
  worlds.push(w);
  consumer = join(work, 'consumer');
  await writeConsumer(consumer);
  await w.go(['mod', 'tidy'], { cwd: consumer });
  await w.go(['build', './...'], { cwd: consumer });
  // A module published to this godepot: nowhere else to fetch it from.
  const lib = join(work, 'lib');
  await writeTree(lib, { 'go.mod': 'module corp.example.com/lib\n\ngo 1.17\n', 'lib.go': `package lib\n\n// Text is long enough to be compressed.\nconst Text = "${'x'.repeat(300)}"\n` });
  const published = await runGodepot(['publish', lib, '--version', 'v1.0.0', '--server', godepot.url], { env: { GODEPOT_TOKEN: token } });
  assert.equal(published.code, 0, published.stderr);
  publishedLine = published.stdout;
  await godepot.stop();
});

after(async () => {
  await godepot?.dispose();
  await upstream?.stop();
  for (const w of worlds) await w.dispose();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

test('a store go filled is whole: exit 0, no lines on stdout, a summary on stderr', async () => {
  const result = await verify();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /: \d+ module versions checked \(\d+ objects, \d+ bytes\): nothing damaged\n$/);
});

test('damage is reported one line a problem (exit 1); --repair fetches it all again (exit 0); the damaged bytes are kept in quarantine', async () => {
  const flipped = await flipZipDataByte(stored('example.com/app/log', 'v1.2.0', 'zip'));
  await truncate(stored('example.com/app/util', 'v1.0.0', 'zip'), 200);
  await rm(stored('example.com/major/v2', 'v2.1.0', 'mod'));
  await writeFile(stored('example.com/nomod', 'v1.0.0', 'info'), '{"Version": "v1.0.0", "Time": ');
  // What a crash in the middle of a write leaves, found an hour later or more.
  const leftover = join(godepot.storage, '.tmp', '.v1.0.0.zip.0123456789ab.tmp');
  await writeFile(leftover, 'PK\x03\x04 the first bytes of a zip');
  const crash = new Date(Date.now() - 2 * 60 * 60 * 1000);
  await utimes(leftover, crash, crash);

  const found = await verify();
  assert.equal(found.code, 1, found.stderr);
  const lines = found.stdout.split('\n').slice(0, -1);
  assert.equal(lines.length, 5, found.stdout);
  assert.equal(lines[0], `.tmp/.v1.0.0.zip.0123456789ab.tmp: left by a write that never finished (29 bytes, last written ${crash.toISOString()})`);
  assert.match(lines[1]!, /^example\.com\/app\/log@v1\.2\.0: zip: (not a valid zip file: .+|checksum error in file example\.com\/app\/log@v1\.2\.0\/\S+)$/);
  assert.equal(lines[2], 'example.com/app/util@v1.0.0: zip: not a valid zip file: end of central directory record not found');
  assert.equal(lines[3], 'example.com/major/v2@v2.1.0: .mod: missing beside its zip');
  assert.equal(lines[4], 'example.com/nomod@v1.0.0: .info is not JSON');
  assert.match(found.stderr, /: 5 problems\n$/);

  const json = await verify('--json');
  assert.equal(json.code, 1);
  const document = JSON.parse(json.stdout) as { storage: string; remaining: number; problems: Array<{ module: string | null; version: string | null; file: string; problem: string }> };
  assert.equal(document.storage, godepot.storage);
  assert.equal(document.remaining, 5);
  assert.deepEqual(
    document.problems.map((p) => [p.module, p.version, p.file]),
    [
      [null, null, 'leftover'],
      ['example.com/app/log', 'v1.2.0', 'zip'],
      ['example.com/app/util', 'v1.0.0', 'zip'],
      ['example.com/major/v2', 'v2.1.0', 'mod'],
      ['example.com/nomod', 'v1.0.0', 'info'],
    ],
  );

  upstream.clearLog();
  const repaired = await verify('--repair');
  assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
  assert.deepEqual(
    repaired.stdout.split('\n').slice(0, -1).map((line) => line.slice(line.lastIndexOf(' -> '))),
    [' -> removed', ' -> refetched', ' -> refetched', ' -> refetched', ' -> refetched'],
  );
  assert.match(repaired.stderr, /: 5 problems; 5 repaired, 0 not; damaged objects kept under godepot\/quarantine\/\d{8}T\d{6}Z\/\n$/);
  // Fetched again from the upstream: the zips and the .info; the .mod is the go.mod of the zip beside it.
  assert.ok(upstream.requests.includes(graph.entry('example.com/app/log', 'v1.2.0').urls.zip));
  assert.ok(upstream.requests.includes(graph.entry('example.com/app/util', 'v1.0.0').urls.zip));
  assert.ok(upstream.requests.includes(graph.entry('example.com/nomod', 'v1.0.0').urls.info));
  assert.ok(!upstream.requests.includes(graph.entry('example.com/major/v2', 'v2.1.0').urls.mod));
  assert.deepEqual(await readFile(stored('example.com/app/log', 'v1.2.0', 'zip')), await readFile(graph.entry('example.com/app/log', 'v1.2.0').zipFile));
  assert.equal(await readFile(stored('example.com/major/v2', 'v2.1.0', 'mod'), 'utf8'), graph.entry('example.com/major/v2', 'v2.1.0').goMod);
  const quarantined = (await filesUnder(godepot.storage)).filter((f) => f.startsWith('godepot/quarantine/'));
  const flippedCopy = quarantined.find((f) => f.endsWith('/example.com/app/log/@v/v1.2.0.zip'));
  assert.ok(flippedCopy !== undefined, quarantined.join('\n'));
  assert.deepEqual(await readFile(join(godepot.storage, flippedCopy)), flipped);

  const again = await verify();
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal(again.stdout, '');
});

test('a published version cannot be fetched again: its damaged zip is quarantined, reported, and the repair exits 1', async () => {
  const zip = stored('corp.example.com/lib', 'v1.0.0', 'zip');
  const damaged = await flipZipDataByte(zip);
  const repaired = await verify('--repair');
  assert.equal(repaired.code, 1, repaired.stderr);
  assert.match(
    repaired.stdout,
    /^corp\.example\.com\/lib@v1\.0\.0: zip: .+ -> quarantined, not fetched again: corp\.example\.com\/lib@v1\.0\.0: not published to godepot \(hosted modules are only ever published, never fetched\)\n$/,
  );
  assert.match(repaired.stderr, /: 1 problem; 0 repaired, 1 not; damaged objects kept under godepot\/quarantine\//);
  const kept = (await filesUnder(godepot.storage)).find((f) => f.startsWith('godepot/quarantine/') && f.endsWith('corp.example.com/lib/@v/v1.0.0.zip'));
  assert.ok(kept !== undefined);
  assert.deepEqual(await readFile(join(godepot.storage, kept)), damaged);
  // Nothing damaged is left to serve: the version is as one whose zip was never fetched.
  const after = await verify();
  assert.equal(after.code, 0, after.stdout);
});

test('the published zip is restored by publishing it again; go builds through godepot on the repaired storage from an empty module cache, and go mod verify agrees with go.sum', async () => {
  godepot = await godepot.restart();
  // Not with other content: the quarantined zip's hash stays on record, as after storage rm.
  const other = join(work, 'lib-other');
  await cp(join(work, 'lib'), other, { recursive: true });
  await writeFile(join(other, 'lib.go'), 'package lib\n\nconst Text = "other"\n');
  const refused = await runGodepot(['publish', other, '--version', 'v1.0.0', '--server', godepot.url], { env: { GODEPOT_TOKEN: token } });
  assert.notEqual(refused.code, 0, refused.stdout);
  assert.match(refused.stderr, /409|already|other content|differ/i, refused.stderr);
  // The published version whose zip was quarantined is restored by publishing the same zip again.
  const republished = await runGodepot(['publish', join(work, 'lib'), '--version', 'v1.0.0', '--server', godepot.url], { env: { GODEPOT_TOKEN: token } });
  assert.equal(republished.code, 0, republished.stderr);
  assert.equal(republished.stdout, publishedLine);
  assert.equal((await verify()).code, 0);
  const w = await makeGoWorld(godepot.url);
  worlds.push(w);
  const copy = join(work, 'consumer-again');
  await cp(consumer, copy, { recursive: true });
  const sum = await readFile(join(copy, 'go.sum'), 'utf8');
  await w.go(['mod', 'download'], { cwd: copy });
  await w.go(['build', '-o', 'consumer.bin', '.'], { cwd: copy });
  const { stdout } = await execFileAsync(join(copy, 'consumer.bin'));
  assert.deepEqual(stdout.trim().split('\n'), consumerOutput);
  const verified = await w.go(['mod', 'verify'], { cwd: copy });
  assert.equal(verified.stdout, 'all modules verified\n');
  assert.equal(await readFile(join(copy, 'go.sum'), 'utf8'), sum, 'the hashes go recorded in the first build hold');
});
