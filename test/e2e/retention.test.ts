// Retention and quotas as an operator meets them, with the real go command: a store filled by go through
// godepot, `storage gc` with pins and --dry-run, a --max-storage limit reached while serving, gc-on-full
// making room for a new module, and --gc-schedule running inside serve (under --workers, once).
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { escapePath, escapeVersion } from '../../src/module/path.js';
import { runGodepot } from '../support/cli.js';
import { writeTree } from '../support/git.js';
import { filesUnder, startGodepot, stateDirOf, urlWithToken } from '../support/godepot-server.js';
import { makeGoWorld } from '../support/go.js';
import { sample } from '../support/metrics.js';
import { addBigModule, addModule } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const pseudo = 'v1.2.1-0.20240101000000-abcdefabcdef';
// What go stores of the modules below once the app is built and the extra versions downloaded.
const extraVersions = ['example.com/lib@v1.1.0', 'example.com/lib@v1.2.0', `example.com/lib@${pseudo}`, 'example.com/other@v0.1.0', 'example.com/other@v0.2.0'];

let work: string;
let upstream: Upstream;
let app: string;
let filled: string;

const dayMs = 24 * 60 * 60 * 1000;

async function library(tree: string, modulePath: string, version: string): Promise<void> {
  const name = modulePath.split('/').pop()!;
  await addModule(tree, work, modulePath, version, {
    'go.mod': `module ${modulePath}\n\ngo 1.17\n`,
    [`${name}.go`]: `package ${name}\n\n// Version names the version of the module this package came from.\nconst Version = "${version}"\n`,
  });
}

/** Runs go with its own module cache against `goproxy`; returns what it printed, or throws with it. */
async function go(goproxy: string, args: string[], cwd?: string): Promise<string> {
  const world = await makeGoWorld(goproxy);
  try {
    const { stdout, stderr } = await world.go(args, cwd === undefined ? {} : { cwd });
    return stdout + stderr;
  } finally {
    await world.dispose();
  }
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-retention-'));
  const tree = join(work, 'goproxy');
  for (const version of ['v1.0.0', 'v1.1.0', 'v1.2.0', pseudo]) await library(tree, 'example.com/lib', version);
  for (const version of ['v0.1.0', 'v0.2.0']) await library(tree, 'example.com/other', version);
  await library(tree, 'example.com/pinned', 'v1.0.0');
  await addBigModule(tree, work, 'example.com/big', 'v1.0.0', 256 << 10);
  upstream = await startUpstream({ root: tree });

  // The project whose modules are pinned: it needs lib v1.0.0 and pinned v1.0.0.
  app = join(work, 'app');
  await writeTree(app, {
    'go.mod': 'module example.com/app\n\ngo 1.17\n\nrequire (\n\texample.com/lib v1.0.0\n\texample.com/pinned v1.0.0\n)\n',
    'main.go': 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/lib"\n\t"example.com/pinned"\n)\n\nfunc main() {\n\tfmt.Println(lib.Version, pinned.Version)\n}\n',
  });
  // A store filled by go through godepot: the app built (go.sum written), then more versions downloaded.
  filled = join(work, 'filled');
  const godepot = await startGodepot({ upstream: upstream.url, storage: filled });
  try {
    await go(godepot.url, ['mod', 'tidy'], app);
    await go(godepot.url, ['build', './...'], app);
    await go(godepot.url, ['mod', 'download', ...extraVersions]);
  } finally {
    await godepot.stop();
  }
});

after(async () => {
  await upstream?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** A copy of the filled store (and an empty state folder beside it), for one test to change. */
async function storeCopy(name: string): Promise<string> {
  const storage = join(work, name);
  await cp(filled, storage, { recursive: true, preserveTimestamps: true });
  return storage;
}

/** Bytes of a stored version: its .info, .mod and .zip. */
async function versionBytes(storage: string, id: string): Promise<number> {
  const [modulePath, version] = id.split('@') as [string, string];
  let bytes = 0;
  for (const ext of ['info', 'mod', 'zip']) bytes += (await stat(join(storage, escapePath(modulePath), '@v', `${escapeVersion(version)}.${ext}`)).catch(() => ({ size: 0 }))).size;
  return bytes;
}

/** Bytes of every stored version. */
async function storedBytes(storage: string): Promise<number> {
  return (await Promise.all((await storedVersions(storage)).map((id) => versionBytes(storage, id)))).reduce((a, b) => a + b, 0);
}

/** The versions a storage folder holds, as `module@version`, sorted. */
async function storedVersions(storage: string): Promise<string[]> {
  const versions = new Set<string>();
  for (const file of await filesUnder(storage)) {
    const match = /^(.+)\/@v\/(.+)\.(info|mod|zip)$/.exec(file);
    if (match !== null && !file.startsWith('godepot/')) versions.add(`${match[1]}@${match[2]}`);
  }
  return [...versions].sort();
}

/** Makes every stored file of the versions not in `recent` look stored `days` days ago. */
async function age(storage: string, days: number, recent: readonly string[]): Promise<void> {
  const then = new Date(Date.now() - days * dayMs);
  for (const file of await filesUnder(storage)) {
    const match = /^(.+)\/@v\/(.+)\.(info|mod|zip|ziphash)$/.exec(file);
    if (match === null || recent.includes(`${match[1]}@${match[2]}`)) continue;
    await utimes(join(storage, file), then, then);
  }
}

test('storage gc: --dry-run prints exactly what would go and changes nothing; the run removes just that, audited; go still builds the pinned project', async () => {
  const storage = await storeCopy('gc');
  // Everything was stored 40 days ago but lib v1.1.0, stored yesterday.
  await age(storage, 40, ['example.com/lib@v1.1.0']);
  const before = await filesUnder(storage);
  const gone = ['example.com/lib@v1.2.0', 'example.com/other@v0.1.0'];
  const bytes = await Promise.all(gone.map((id) => versionBytes(storage, id)));
  const total = bytes[0]! + bytes[1]!;
  const args = ['storage', 'gc', '--storage', storage, '--state-dir', stateDirOf(storage), '--older-than', '30', '--keep-latest', '1', '--keep', app];

  // lib: v1.0.0 pinned by the app, v1.1.0 stored lately, the pseudo-version (after v1.2.0) the newest.
  const dry = await runGodepot([...args, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.stdout, `example.com/lib@v1.2.0 ${bytes[0]}\nexample.com/other@v0.1.0 ${bytes[1]}\n2 versions, ${total} bytes would be freed (dry run: nothing removed)\n`);
  assert.deepEqual(await filesUnder(storage), before, 'a dry run changes nothing');
  const json = await runGodepot([...args, '--dry-run', '--json']);
  const report = JSON.parse(json.stdout) as { dryRun: boolean; removals: Array<{ path: string; version: string; bytes: number }>; bytes: number };
  assert.deepEqual([report.dryRun, report.removals.map((r) => `${r.path}@${r.version} ${r.bytes}`), report.bytes], [true, gone.map((id, i) => `${id} ${bytes[i]}`), total]);

  const run = await runGodepot(args);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `example.com/lib@v1.2.0 ${bytes[0]}\nexample.com/other@v0.1.0 ${bytes[1]}\n2 versions removed, ${total} bytes freed\n`);
  assert.deepEqual(await storedVersions(storage), ['example.com/lib@v1.0.0', 'example.com/lib@v1.1.0', `example.com/lib@${pseudo}`, 'example.com/other@v0.2.0', 'example.com/pinned@v1.0.0']);
  const audit = (await readFile(join(stateDirOf(storage), 'audit.log'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { action: string; actor: string; target: string; detail: { bytes: number } });
  assert.deepEqual(audit.map((e) => [e.action, e.actor.startsWith('cli:'), e.target, e.detail.bytes]), gone.map((id, i) => ['storage.gc', true, id, bytes[i]]));
  const verified = await runGodepot(['audit', 'verify', join(stateDirOf(storage), 'audit.log')]);
  assert.equal(verified.code, 0, verified.stdout);

  // Offline but for godepot: the pinned project builds from what is left, and a removed version is fetched again.
  const godepot = await startGodepot({ upstream: upstream.url, storage });
  try {
    upstream.requests.length = 0;
    assert.match(await go(godepot.url, ['run', '.'], app), /^v1\.0\.0 v1\.0\.0\n/);
    assert.deepEqual(upstream.requests.filter((path) => !path.endsWith('/@v/list')), [], 'the pinned project came from storage');
    await go(godepot.url, ['mod', 'download', 'example.com/lib@v1.2.0']);
    assert.ok(upstream.requests.some((path) => path.endsWith('/example.com/lib/@v/v1.2.0.zip')), 'the removed version was fetched again');
  } finally {
    await godepot.dispose();
  }
  const bad = await runGodepot(['storage', 'gc', '--storage', storage, '--state-dir', stateDirOf(storage), '--keep', app]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^godepot: retention needs at least one condition/);
});

test('--max-storage: at the limit go builds a stored project while a new module is refused with 507 and nothing of it is kept; /readyz and /metrics warn', async () => {
  const storage = await storeCopy('quota');
  const used = await storedBytes(storage);
  const godepot = await startGodepot({ upstream: upstream.url, storage, args: ['--max-storage', String(used), '--storage-warning', '90'] });
  try {
    const ready = await fetch(`${godepot.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.match(await ready.text(), /^degraded: storage holds .* of max-storage .* \(100%\): stored modules are served, new ones are refused\n$/);
    const metrics = await (await fetch(`${godepot.url}/metrics`)).text();
    assert.equal(sample(metrics, 'godepot_storage_limit_bytes', {}), used);
    assert.equal(sample(metrics, 'godepot_storage_warning', {}), 1);
    assert.equal(sample(metrics, 'godepot_stored_bytes', {}), used);

    assert.match(await go(godepot.url, ['run', '.'], app), /^v1\.0\.0 v1\.0\.0\n/, 'stored modules are still served');
    await assert.rejects(go(godepot.url, ['mod', 'download', 'example.com/big@v1.0.0']), /507 Insufficient Storage[\s\S]*storage quota reached: .* stored of max-storage .* \(\d+ bytes\); a new module of [\d.]+ KiB cannot be stored/);
    const direct = await fetch(`${godepot.url}/example.com/big/@v/v1.0.0.zip`);
    assert.equal(direct.status, 507);
    assert.match(await direct.text(), /^insufficient storage: storage quota reached: .*max-storage/);
    const kept = await filesUnder(storage);
    assert.deepEqual(kept.filter((file) => file.startsWith('example.com/big/')), [], 'nothing of the refused module');
    assert.deepEqual(await readdir(join(storage, '.tmp')), [], 'nor a staged file');
  } finally {
    await godepot.dispose();
  }
});

test('--gc-on-full: retention (the config file\'s gc settings) frees room first and the new module is stored, under --workers too', async () => {
  const storage = await storeCopy('full');
  const used = await storedBytes(storage);
  const freed = (await Promise.all(['example.com/lib@v1.1.0', 'example.com/lib@v1.2.0', 'example.com/other@v0.1.0'].map((id) => versionBytes(storage, id)))).reduce((a, b) => a + b, 0);
  const big = await versionBytes(join(work, 'goproxy'), 'example.com/big@v1.0.0');
  // The big module fits once retention has freed half of what it frees, not before.
  const limit = used + big - Math.floor(freed / 2);
  const config = join(work, 'full.yaml');
  await writeFile(config, `gc:\n  keepLatest: 1\n  keep: [${JSON.stringify(app)}]\n`);
  const godepot = await startGodepot({ upstream: upstream.url, storage, config, args: ['--max-storage', String(limit), '--gc-on-full', '--workers', '2'] });
  try {
    await go(godepot.url, ['mod', 'download', 'example.com/big@v1.0.0']);
    const left = await storedVersions(storage);
    assert.deepEqual(left, ['example.com/big@v1.0.0', 'example.com/lib@v1.0.0', `example.com/lib@${pseudo}`, 'example.com/other@v0.2.0', 'example.com/pinned@v1.0.0']);
    const audit = (await readFile(join(stateDirOf(storage), 'audit.log'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { actor: string; target: string });
    assert.deepEqual(audit.map((e) => `${e.actor} ${e.target}`), ['serve:gc-on-full example.com/lib@v1.1.0', 'serve:gc-on-full example.com/lib@v1.2.0', 'serve:gc-on-full example.com/other@v0.1.0']);
    const metrics = await (await fetch(`${godepot.url}/metrics`)).text();
    assert.equal(sample(metrics, 'godepot_stored_bytes', {}), await storedBytes(storage), 'the figure counts the removals and the new module');
    assert.ok(sample(metrics, 'godepot_stored_bytes', {}) <= limit);
  } finally {
    await godepot.dispose();
  }
});

test('--gc-schedule runs retention inside serve, once per interval under --workers, and the removed versions are fetched again on demand', async () => {
  const storage = await storeCopy('schedule');
  const config = join(work, 'schedule.yaml');
  await writeFile(config, `gc:\n  keepLatest: 1\n  keep: [${JSON.stringify(join(app, 'go.sum'))}]\ngc-schedule: 2s\n`);
  const godepot = await startGodepot({ upstream: upstream.url, storage, config, args: ['--workers', '2'] });
  try {
    const ran = (count: number): Promise<Array<Record<string, unknown>>> => godepot.untilLogged((line) => line.msg === 'retention ran', count, 10_000);
    const first = await ran(1);
    assert.equal(first[0]?.removed, 3);
    assert.deepEqual(await storedVersions(storage), ['example.com/lib@v1.0.0', `example.com/lib@${pseudo}`, 'example.com/other@v0.2.0', 'example.com/pinned@v1.0.0']);
    // The next interval finds nothing more to remove; each run was one process's.
    assert.deepEqual((await ran(2)).map((line) => [line.removed, line.pid]), [[3, first[0]!.pid], [0, first[0]!.pid]]);
    const audit = (await readFile(join(stateDirOf(storage), 'audit.log'), 'utf8')).trim().split('\n');
    assert.equal(audit.length, 3, 'each removal recorded once');
    assert.match(await go(godepot.url, ['run', '.'], app), /^v1\.0\.0 v1\.0\.0\n/);
    await go(godepot.url, ['mod', 'download', 'example.com/other@v0.1.0']);
    assert.ok((await storedVersions(storage)).includes('example.com/other@v0.1.0'), 'fetched again and stored');
  } finally {
    await godepot.dispose();
  }
});

test('storage gc --server: a running godepot (two workers) runs it as its admin asks, its own pins kept too; a read token is refused', async () => {
  const storage = await storeCopy('remote');
  const config = join(work, 'remote.yaml');
  // The server's own pin keeps lib v1.1.0; the admin's --keep keeps the app's versions.
  await writeFile(config, `gc:\n  keep: [${JSON.stringify(join(work, 'server-pin.sum'))}]\n`);
  await writeFile(join(work, 'server-pin.sum'), 'example.com/lib v1.1.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n');
  const godepot = await startGodepot({ upstream: upstream.url, storage, config, args: ['--workers', '2'] });
  try {
    const { token: admin } = await urlWithToken(godepot, 'ops', ['admin']);
    const { token: reader } = await urlWithToken(godepot, 'ci', ['read']);
    const gone = ['example.com/lib@v1.2.0', 'example.com/other@v0.1.0'];
    const bytes = await Promise.all(gone.map((id) => versionBytes(storage, id)));
    const args = ['storage', 'gc', '--keep-latest', '1', '--keep', app, '--server', godepot.url];

    const refused = await runGodepot([...args, '--dry-run'], { env: { GODEPOT_TOKEN: reader } });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused the retention run \(403\): forbidden: /);
    assert.ok(!refused.stderr.includes(reader), 'the token is not shown');
    const dry = await runGodepot([...args, '--dry-run'], { env: { GODEPOT_TOKEN: admin } });
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout, `${gone[0]} ${bytes[0]}\n${gone[1]} ${bytes[1]}\n2 versions, ${bytes[0]! + bytes[1]!} bytes would be freed (dry run: nothing removed)\n`);
    assert.equal((await storedVersions(storage)).length, 7, 'a dry run removes nothing');

    // The server remembers lib v1.2.0 (a zip it answered) before the run: it must fetch it again after.
    await go(godepot.url, ['mod', 'download', 'example.com/lib@v1.2.0']);
    const run = await runGodepot([...args, '--token', admin, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { removals: Array<{ path: string; version: string }>; bytes: number };
    assert.deepEqual(report.removals.map((r) => `${r.path}@${r.version}`), gone);
    assert.deepEqual(await storedVersions(storage), ['example.com/lib@v1.0.0', 'example.com/lib@v1.1.0', `example.com/lib@${pseudo}`, 'example.com/other@v0.2.0', 'example.com/pinned@v1.0.0']);
    const audit = (await readFile(join(stateDirOf(storage), 'audit.log'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { action: string; actor: string; target: string });
    assert.deepEqual(audit.filter((e) => e.action === 'storage.gc').map((e) => `${e.actor} ${e.target}`), gone.map((id) => `ops ${id}`));
    upstream.requests.length = 0;
    for (let i = 0; i < 4; i++) await go(godepot.url, ['mod', 'download', 'example.com/lib@v1.2.0']);
    assert.ok(upstream.requests.some((path) => path.endsWith('/example.com/lib/@v/v1.2.0.zip')), 'fetched again, whichever worker answered');
    assert.ok((await storedVersions(storage)).includes('example.com/lib@v1.2.0'));
  } finally {
    await godepot.dispose();
  }
});
