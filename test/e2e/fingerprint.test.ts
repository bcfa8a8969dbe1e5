// `godepot fingerprint` and `godepot compare` against what the real go makes: the go.sum it writes, the
// module caches it fills, a godepot storage folder it fills through the proxy, and a bundle of its modules. A
// project and a store match when the store holds every go.sum line of the project; two projects, or two
// stores, when they hold exactly the same entries.
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { makeFixture, opener, type FixtureModule } from '../support/bundle-fixtures.js';
import { writeBundle } from '../../src/bundle/format.js';
import { compare as semverCompare } from '../../src/module/semver.js';
import { runGodepot, type CliResult } from '../support/cli.js';
import { startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { buildModuleGraph, writeConsumer, type ModuleGraph } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let work: string;
let graph: ModuleGraph;
let project: string;
let tidyWorld: GoWorld;
let downloadWorlds: GoWorld[];
let upstream: Upstream | undefined;
let godepot: GodepotServer | undefined;
const worlds: GoWorld[] = [];


const fingerprint = async (...args: string[]): Promise<string> => {
  const result = await runGodepot(['fingerprint', ...args]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.split(' ')[0]!;
};
const compare = (...args: string[]): Promise<CliResult> => runGodepot(['compare', ...args]);

async function world(goproxy: string): Promise<GoWorld> {
  const w = await makeGoWorld(goproxy);
  worlds.push(w);
  return w;
}

const cacheOf = (w: GoWorld): string => w.env.GOMODCACHE!;

/** A copy of the tidy project (go.mod, go.sum, main.go) in a new folder. */
async function copyProject(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  for (const file of ['go.mod', 'go.sum', 'main.go']) await copyFile(join(project, file), join(dir, file));
  return dir;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-fingerprint-'));
  graph = await buildModuleGraph(work);
  project = join(work, 'consumer');
  await writeConsumer(project);
  tidyWorld = await world(pathToFileURL(graph.tree).href);
  await tidyWorld.go(['mod', 'tidy'], { cwd: project });
});

after(async () => {
  await godepot?.dispose();
  await upstream?.stop();
  for (const w of worlds) await w.dispose();
  await rm(work, { recursive: true, force: true });
});

test("a project's entries are the go.sum go wrote, with the hashes of the modules the tree served", async () => {
  const goSum = (await readFile(join(project, 'go.sum'), 'utf8')).trim().split('\n');
  const canonical = await runGodepot(['fingerprint', '--canonical', project]);
  const lines = canonical.stdout.trim().split('\n');
  assert.deepEqual([...lines].sort(), [...goSum].sort());
  assert.equal(lines.length, 24);
  for (const line of lines) {
    const [modulePath, versionField, h1] = line.split(' ');
    assert.equal(h1, graph.expectedSum(modulePath!, versionField!), line);
  }
  assert.equal(await fingerprint(join(project, 'go.sum')), await fingerprint(project));
  const described = await runGodepot(['fingerprint', project]);
  assert.match(described.stdout, / {2}12 modules, 13 versions, 24 entries \(project /);
});

test('the GOPROXY tree the project was built from covers it: godepot hashes every zip and go.mod as go did', async () => {
  const result = await compare(project, graph.tree);
  assert.equal(result.code, 0, result.stdout);
  assert.match(result.stdout, /\nB covers every go.sum line of A\n$/);
  assert.doesNotMatch(result.stdout, /DIFFERENT CONTENT/);
});

test('the module cache go mod tidy filled covers the project and holds more; restricted to the project it has its fingerprint', async () => {
  const cache = cacheOf(tidyWorld);
  const covered = await compare(project, cache);
  assert.equal(covered.code, 0, covered.stdout);
  assert.match(covered.stdout, /\nB also holds 2 entries A's go.sum does not list/);
  // go read log v1.1.0 (what the consumer asked for) before MVS raised it to v1.2.0; go.sum does not list it.
  const exact = await compare('--exact', project, cache);
  assert.equal(exact.code, 1);
  assert.match(exact.stdout, /different versions \(1\):\n {2}example\.com\/app\/log {2}A: v1\.0\.0, v1\.2\.0 {2}B: v1\.0\.0, v1\.1\.0, v1\.2\.0\n/);
  assert.match(exact.stdout, /\ndiffer: 1 module at other versions\n$/);
  assert.notEqual(await fingerprint(cache), await fingerprint(project));
  assert.equal(await fingerprint(cache, '--for', project), await fingerprint(project));
  // go's own .ziphash files agree with godepot's hash of go's zips.
  assert.equal((await compare('--rehash', project, cache)).code, 0);
});

test('two caches filled by go mod download are identical, and lack the two go.mod lines go needs to list the graph offline', async () => {
  downloadWorlds = [];
  for (const name of ['download-1', 'download-2']) {
    const w = await world(pathToFileURL(graph.tree).href);
    await w.go(['mod', 'download'], { cwd: await copyProject(name) });
    downloadWorlds.push(w);
  }
  const [first, second] = downloadWorlds.map(cacheOf) as [string, string];
  const same = await compare(first, second);
  assert.equal(same.code, 0, same.stdout);
  assert.match(same.stdout, /\nidentical\n$/);
  assert.equal(await fingerprint(first), await fingerprint(second));

  const notCovered = await compare(project, first);
  assert.equal(notCovered.code, 1);
  const uncovered = notCovered.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
  assert.deepEqual(uncovered, [
    `example.com/app/log v1.0.0/go.mod ${graph.entry('example.com/app/log', 'v1.0.0').modH1}`,
    'B has example.com/app/log v1.2.0',
    `example.com/modonly v1.0.0/go.mod ${graph.entry('example.com/modonly', 'v1.0.0').modH1}`,
    'B has no version of example.com/modonly',
  ]);
  assert.match(notCovered.stdout, /\nB does not cover A: 2 of A's 24 go.sum lines missing or different\n$/);

  // What compare reported is what go finds: the cache builds the project, but cannot load its whole graph.
  const offline = { env: { GOPROXY: 'off' } };
  const downloaded = join(work, 'download-1');
  await downloadWorlds[0]!.go(['build', '-o', join(downloaded, 'consumer.bin'), '.'], { cwd: downloaded, ...offline });
  await assert.rejects(downloadWorlds[0]!.go(['list', '-m', 'all'], { cwd: downloaded, ...offline }), /module lookup disabled by GOPROXY=off/);
});

test('each go.sum line a cache lacks is one an offline go command fails on, until go has fetched it', async () => {
  const [w, twin] = downloadWorlds as [GoWorld, GoWorld];
  const dir = join(work, 'download-1');
  const offline = { cwd: dir, env: { GOPROXY: 'off' } };
  await w.go(['list', '-m', 'all'], { cwd: dir });
  await w.go(['list', '-m', 'all'], offline);
  const oneLeft = await compare(project, cacheOf(w));
  assert.equal(oneLeft.code, 1);
  assert.match(oneLeft.stdout, /\n {2}example\.com\/app\/log v1\.0\.0\/go\.mod h1:\S+\n {6}B has example\.com\/app\/log v1\.2\.0\n\nB does not cover A: 1 of A's 24/);
  // Tidy also loads the graph as go 1.16 would, which reads that go.mod (major/v2 requires log v1.0.0).
  await assert.rejects(w.go(['mod', 'tidy'], offline), /example\.com\/app\/log@v1\.0\.0: module lookup disabled by GOPROXY=off/);
  await w.go(['mod', 'tidy'], { cwd: dir });
  const covered = await compare(project, cacheOf(w));
  assert.equal(covered.code, 0, covered.stdout);
  await w.go(['mod', 'tidy'], offline);

  const differ = await compare(cacheOf(w), cacheOf(twin));
  assert.equal(differ.code, 1);
  assert.match(differ.stdout, /only in A \(1\):\n {2}example\.com\/modonly v1\.0\.0\n/);
  assert.match(differ.stdout, /example\.com\/app\/log {2}A: v1\.0\.0, v1\.2\.0 {2}B: v1\.2\.0\n/);
});

test('a tampered go.sum line changes the fingerprint, and compare flags it before go refuses to build', async () => {
  const tampered = await copyProject('tampered');
  const good = graph.entry('example.com/deep/c', 'v1.0.0').zipH1;
  const bad = `h1:${good.slice(3, 4) === 'A' ? 'B' : 'A'}${good.slice(4)}`;
  const goSum = await readFile(join(tampered, 'go.sum'), 'utf8');
  await writeFile(join(tampered, 'go.sum'), goSum.replace(`example.com/deep/c v1.0.0 ${good}`, `example.com/deep/c v1.0.0 ${bad}`));
  assert.notEqual(await fingerprint(tampered), await fingerprint(project));

  const projects = await compare(project, tampered);
  assert.equal(projects.code, 1);
  assert.match(projects.stdout, new RegExp(`\\nSAME VERSION, DIFFERENT CONTENT \\(1\\).*\\n.*\\n {2}example\\.com/deep/c v1\\.0\\.0 \\(files\\)\\n {4}A: ${escape(good)}\\n {4}B: ${escape(bad)}\\n`));
  assert.match(projects.stdout, /\ndiffer: 1 hash mismatch\n$/);

  const environment = await compare(tampered, cacheOf(tidyWorld));
  assert.equal(environment.code, 1);
  assert.match(environment.stdout, new RegExp(`\\n {2}example\\.com/deep/c v1\\.0\\.0 ${escape(bad)}\\n {6}B has ${escape(good)}\\n`));

  await assert.rejects(tidyWorld.go(['build', '-o', join(tampered, 'consumer.bin'), '.'], { cwd: tampered, env: { GOPROXY: 'off' } }), /example\.com\/deep\/c@v1\.0\.0: checksum mismatch/);
});

test('a godepot storage folder a build went through covers the project, and holds what that build left in the module cache', async () => {
  upstream = await startUpstream({ root: graph.tree });
  godepot = await startGodepot({ upstream: upstream.url });
  const w = await world(godepot.url);
  const fresh = join(work, 'through-godepot');
  await writeConsumer(fresh);
  await w.go(['mod', 'tidy'], { cwd: fresh });
  assert.equal(await fingerprint(fresh), await fingerprint(project));

  const covered = await compare(project, godepot.storage);
  assert.equal(covered.code, 0, covered.stdout);
  assert.match(covered.stdout, /^B: \S+ {2}12 modules, 14 versions, 26 entries \(goproxy-tree /m);
  const sameAsCache = await compare(godepot.storage, cacheOf(w));
  assert.equal(sameAsCache.code, 0, sameAsCache.stdout);
  assert.match(sameAsCache.stdout, /\nidentical\n$/);

  // A zip replaced behind its .ziphash: believed by default, as go believes its cache; refused with --rehash.
  const copy = join(work, 'storage-copy');
  await cp(godepot.storage, copy, { recursive: true });
  const v12 = join(copy, 'example.com/app/log/@v/v1.2.0.zip');
  await copyFile(join(copy, 'example.com/app/log/@v/v1.1.0.zip'), v12);
  assert.equal((await compare(project, copy)).code, 0);
  const rehashed = await compare('--rehash', project, copy);
  assert.equal(rehashed.code, 2);
  assert.match(rehashed.stderr, new RegExp(`^godepot: ${escape(v12)}: the zip hashes to h1:\\S+ but ${escape(v12)}hash says ${escape(graph.entry('example.com/app/log', 'v1.2.0').zipH1)}\\n$`));
});

test("a bundle of exactly the modules the go.sum lists has the project's fingerprint, and --rehash checks its zips", async () => {
  // The manifest wants modules sorted by path, then version: the canonical lines' order is close, so sort.
  const canonical = (await runGodepot(['fingerprint', '--canonical', project])).stdout.trim().split('\n');
  const versions = new Map<string, FixtureModule>();
  for (const line of canonical) {
    const [modulePath, versionField] = line.split(' ') as [string, string];
    const version = versionField.replace(/\/go\.mod$/, '');
    const entry = graph.entry(modulePath, version);
    const module = versions.get(`${modulePath}@${version}`) ?? { path: modulePath, version, mod: entry.goMod };
    if (versionField === version) Object.assign(module, { zip: await readFile(entry.zipFile), zipHash: entry.zipH1 });
    versions.set(`${modulePath}@${version}`, module);
  }
  const modules = [...versions.values()].sort((x, y) => (x.path === y.path ? semverCompare(x.version, y.version) : x.path < y.path ? -1 : 1));
  const fixture = makeFixture(modules);
  const bundle = join(work, 'project.bundle.tar.gz');
  await writeBundle(bundle, fixture.manifest, opener(fixture.contents));

  assert.equal(await fingerprint(bundle), await fingerprint(project));
  const covered = await compare('--rehash', project, bundle);
  assert.equal(covered.code, 0, covered.stdout);
  assert.match(covered.stdout, /^B: \S+ {2}12 modules, 13 versions, 24 entries \(bundle /m);
  assert.match(covered.stdout, /\n\nB covers every go.sum line of A\n$/, 'nothing more in the bundle');
  const stores = await compare(cacheOf(tidyWorld), bundle);
  assert.equal(stores.code, 1, 'two stores are compared exactly; the cache also holds log v1.1.0');
  assert.match(stores.stdout, /\ndiffer: 1 module at other versions\n$/);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
