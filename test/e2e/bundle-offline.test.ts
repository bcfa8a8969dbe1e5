// Offline bundles end to end: a bundle made online for a real project (v2+ module, upper-case path,
// pseudo-version, replace, exclude, a module only a test dependency needs) carries everything the go
// command needs on the far side of an air gap, where go builds, tests and verifies every module against
// the checksum database from the bundle's proofs alone: through a file:// tree, a module cache with
// GOPROXY=off, a proxy the bundle was imported into, and a proxy serving the bundle in place.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import { compressedOffset } from '../../src/bundle/gzip.js';
import { openBundle } from '../../src/bundle/format.js';
import { manifestId } from '../../src/bundle/manifest.js';
import { runGodepot } from '../support/cli.js';
import { filesUnder, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { addProjectModules, writeProject } from '../support/projects.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const NAME = 'sum.bundle.test';

/** go.sum lines, as a sorted set, ignoring blank lines. */
async function goSumLines(file: string): Promise<string[]> {
  return [...new Set((await readFile(file, 'utf8')).split('\n').filter((l) => l !== ''))].sort();
}

async function manifestBytesOf(file: string): Promise<Buffer> {
  const opened = await openBundle(file);
  await opened.close();
  return opened.manifestBytes;
}

async function godepot(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const result = await runGodepot(args, { env: { GOSUMDB: '', GODEPOT_UPSTREAM: '' } });
  if (result.code !== 0) assert.fail(`godepot ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

describe('an offline bundle carries a project across an air gap', { concurrency: false }, () => {
  let work: string;
  let upstream: Upstream;
  let online: GodepotServer;
  let project: string;
  let verifierKey: string;
  let bundle: string;
  let sinceOld: string;
  let sinceNew: string;
  let expectedSums: string[];
  const worlds: GoWorld[] = [];
  const servers: GodepotServer[] = [];

  /** A fresh go world (empty module cache) checking every module against the tests' database. */
  async function offlineWorld(goproxy: string, env: NodeJS.ProcessEnv = {}): Promise<GoWorld> {
    const world = await makeGoWorld(goproxy, { GOSUMDB: verifierKey, GOFLAGS: '-modcacherw -mod=mod', ...env });
    worlds.push(world);
    return world;
  }

  /** A copy of the project without go.sum, so that go must verify each module with the checksum database. */
  async function projectCopy(): Promise<string> {
    const dir = await mkdtemp(join(work, 'copy-'));
    await cp(project, dir, { recursive: true });
    await rm(join(dir, 'go.sum'));
    return dir;
  }

  /** Builds, tests and verifies the project copy; its new go.sum must hold exactly the project's lines. */
  async function buildOffline(world: GoWorld): Promise<void> {
    const dir = await projectCopy();
    await world.go(['build', './...'], { cwd: dir });
    await world.go(['test', './...'], { cwd: dir });
    await world.go(['mod', 'verify'], { cwd: dir });
    const got = await goSumLines(join(dir, 'go.sum'));
    for (const line of got) assert.ok(expectedSums.includes(line), `go.sum line not in the project's: ${line}`);
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-bundle-e2e-'));
    const tree = join(work, 'goproxy');
    await addProjectModules(tree, work);
    upstream = await startUpstream({ root: tree });

    const keyFile = join(work, 'sumdb.key');
    verifierKey = (await godepot(['sumdb', 'key', 'generate', NAME, '--output', keyFile])).stdout.trim();
    online = await startGodepot({ upstream: upstream.url, args: ['--sumdb-host', NAME, '--sumdb-key', keyFile] });
    servers.push(online);
    // The tests' checksum database records a module when godepot first stores its zip: every module of
    // the tree goes through once, as the world's downloads would have made it.
    for (const file of (await filesUnder(tree)).filter((f) => f.endsWith('.zip'))) {
      const res = await request(`${online.url}/${file}`);
      await res.body.dump();
      assert.equal(res.statusCode, 200, file);
    }

    project = join(work, 'project');
    await writeProject(project);
    const tidy = await makeGoWorld(upstream.url, { GOFLAGS: '-modcacherw -mod=mod' });
    worlds.push(tidy);
    await tidy.go(['mod', 'tidy'], { cwd: project });
    expectedSums = await goSumLines(join(project, 'go.sum'));

    bundle = join(work, 'project.tar.gz');
    await godepot(['bundle', 'create', '--quiet', '--upstream', online.url, '--sumdb', verifierKey, '--output', bundle, project]);
    sinceOld = join(work, 'since-old.tar.gz');
    sinceNew = join(work, 'since-new.tar.gz');
    await godepot(['bundle', 'create', '--quiet', '--upstream', online.url, '--sumdb', verifierKey, '--output', sinceOld, 'example.com/proj/testdep@v1.0.0']);
    await godepot(['bundle', 'create', '--quiet', '--upstream', online.url, '--sumdb', verifierKey, '--since', sinceOld, '--output', sinceNew, project]);
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.dispose()));
    await upstream?.stop();
    await Promise.all(worlds.map((w) => w.dispose()));
    await rm(work, { recursive: true, force: true });
  });

  it('is byte-for-byte the same when created again from the same inputs', async () => {
    const again = join(work, 'again.tar.gz');
    await godepot(['bundle', 'create', '--quiet', '--upstream', online.url, '--sumdb', verifierKey, '--output', again, project]);
    assert.ok((await readFile(again)).equals(await readFile(bundle)));
  });

  it('passes verify, and holds every module of the project\'s go.sum with the same hashes', async () => {
    const verified = await godepot(['bundle', 'verify', bundle]);
    assert.match(verified.stdout, /ok: \d+ module versions/);
    const listed = (await godepot(['bundle', 'list', bundle])).stdout;
    for (const line of expectedSums) {
      const [path, version] = line.split(' ');
      assert.match(listed, new RegExp(`^${path!.replaceAll('.', '\\.')} +${version!.replace('/go.mod', '').replaceAll('.', '\\.')} `, 'm'));
    }
    // The fingerprint tool's view: the bundle covers every go.sum line of the project.
    const compared = await runGodepot(['compare', project, bundle]);
    assert.equal(compared.code, 0, compared.stdout + compared.stderr);
  });

  it('is signed with --sign and refused by verify and import under another public key', async () => {
    const keys = join(work, 'keys');
    await godepot(['key', 'generate', '--output', join(work, 'signer')]);
    await godepot(['key', 'generate', '--output', join(work, 'other')]);
    const signed = join(work, 'signed.tar.gz');
    await godepot(['bundle', 'create', '--quiet', '--upstream', online.url, '--sumdb', verifierKey, '--sign', join(work, 'signer'), '--output', signed, project]);
    assert.match((await godepot(['bundle', 'verify', signed, '--pubkey', join(work, 'signer.pub')])).stdout, /signature good/);
    const refused = await runGodepot(['bundle', 'verify', signed, '--pubkey', join(work, 'other.pub')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /signature/);
    const imported = await runGodepot(['bundle', 'import', signed, '--storage', keys, '--pubkey', join(work, 'other.pub')]);
    assert.equal(imported.code, 1);
    assert.deepEqual(await filesUnder(keys).catch(() => []), [], 'import changed nothing');
  });

  it('fails verify and import naming the zip when one of its bytes is flipped, and import changes nothing', async () => {
    const opened = await openBundle(bundle);
    const name = opened.manifest.modules.find((m) => m.path.endsWith('/Upper'))!.files.find((f) => f.name.endsWith('.zip'))!.name;
    const at = compressedOffset(opened.entries.get(name)!.offset + 10);
    await opened.close();
    const bad = join(work, 'flipped.tar.gz');
    const bytes = await readFile(bundle);
    bytes[at]! ^= 0x20;
    await writeFile(bad, bytes);
    const verified = await runGodepot(['bundle', 'verify', bad]);
    assert.equal(verified.code, 1);
    assert.ok(verified.stderr.includes(name), verified.stderr);
    const json = await runGodepot(['bundle', 'verify', '--json', bad]);
    assert.equal(json.code, 1);
    const outcome = JSON.parse(json.stdout) as { file: string; ok: boolean; entry: string; error: string };
    assert.deepEqual({ file: outcome.file, ok: outcome.ok, entry: outcome.entry }, { file: bad, ok: false, entry: name });
    assert.match(outcome.error, /sha256 is [0-9a-f]{64}, the manifest says/);
    const storage = join(work, 'flipped-storage');
    const imported = await runGodepot(['bundle', 'import', bad, '--storage', storage]);
    assert.equal(imported.code, 1);
    assert.ok(imported.stderr.includes(name), imported.stderr);
    assert.deepEqual(await filesUnder(storage).catch(() => []), []);
  });

  it('create and list show the manifest id an incremental bundle names as its base, and list and verify speak JSON', async () => {
    const again = join(work, 'id.tar.gz');
    const created = await godepot(['bundle', 'create', '--quiet', '--upstream', online.url, '--sumdb', verifierKey, '--output', again, project]);
    const id = manifestId(await manifestBytesOf(again));
    assert.match(created.stdout, new RegExp(`^manifest id: ${id}$`, 'm'));
    const oldId = manifestId(await manifestBytesOf(sinceOld));
    assert.match((await godepot(['bundle', 'list', sinceOld])).stdout, new RegExp(`^manifest id: +${oldId}$`, 'm'));
    assert.match((await godepot(['bundle', 'list', sinceNew])).stdout, new RegExp(`^adds to: +the bundle whose manifest id is ${oldId} `, 'm'));

    const listing = JSON.parse((await godepot(['bundle', 'list', '--json', sinceNew])).stdout) as { manifestId: string; since: { manifestId: string }; modules: { path: string; version: string }[] };
    assert.equal(listing.since.manifestId, oldId);
    assert.equal(listing.manifestId, manifestId(await manifestBytesOf(sinceNew)));
    assert.ok(listing.modules.some((m) => m.path === 'example.com/proj/Upper'));
    const verified = JSON.parse((await godepot(['bundle', 'verify', '--json', bundle])).stdout) as Record<string, unknown>;
    assert.deepEqual({ ok: verified.ok, file: verified.file, signature: verified.signature }, { ok: true, file: bundle, signature: 'unsigned' });
    assert.equal(verified.manifestId, manifestId(await manifestBytesOf(bundle)));
  });

  it('create refuses to replace an existing file unless --force, and bundles a project without go.sum with a warning', async () => {
    const output = join(work, 'exists.tar.gz');
    await writeFile(output, 'keep me');
    const args = ['bundle', 'create', '--quiet', '--upstream', online.url, '--sumdb', verifierKey, '--output', output, project];
    const refused = await runGodepot(args, { env: { GOSUMDB: '', GODEPOT_UPSTREAM: '' } });
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `godepot: ${output} already exists; give --force to replace it\n`);
    assert.equal(await readFile(output, 'utf8'), 'keep me');
    await godepot([...args, '--force']);
    assert.ok((await readFile(output)).equals(await readFile(bundle)), 'replaced by the bundle');

    const noSum = await projectCopy();
    const made = await godepot(['bundle', 'create', '--quiet', '--upstream', online.url, '--sumdb', verifierKey, '--output', join(work, 'no-sum.tar.gz'), noSum]);
    assert.match(made.stderr, new RegExp(`^godepot: warning: ${noSum.replaceAll('/', '\\/')}: ${join(noSum, 'go.sum').replaceAll('/', '\\/')} does not exist: .*go mod tidy`, 'm'));
    assert.match(made.stdout, /module versions/);
  });

  it('diff reads an incremental bundle as what it adds to its base: nothing removed', async () => {
    const { stdout } = await godepot(['bundle', 'diff', sinceOld, sinceNew]);
    assert.match(stdout, new RegExp(`^${sinceNew.replaceAll('.', '\\.')} adds to ${sinceOld.replaceAll('.', '\\.')} \\(manifest id [0-9a-f]{64}\\)`));
    assert.doesNotMatch(stdout, /^- /m);
    assert.match(stdout, /^[1-9][0-9]* added, 0 removed, /m);
  });

  it('--since writes only the modules the older bundle lacks', async () => {
    const older = await openBundle(sinceOld);
    const newer = await openBundle(sinceNew);
    const whole = (b: typeof older) => new Set(b.manifest.modules.filter((m) => m.zipHash !== undefined).map((m) => `${m.path}@${m.version}`));
    const inBoth = [...whole(newer)].filter((m) => whole(older).has(m));
    assert.deepEqual(inBoth, []);
    assert.ok(whole(older).size > 0 && whole(newer).size > 0);
    assert.equal(newer.manifest.since?.modules, older.manifest.modules.length);
    await Promise.all([older.close(), newer.close()]);
  });

  it('mirror pre-fills a storage with a listed module and its graph, and a second run fetches nothing new', async () => {
    const list = join(work, 'mirror.txt');
    await writeFile(list, '# popular modules\nexample.com/proj/wantsnew@latest\n');
    const storage = join(work, 'mirrored');
    const args = ['mirror', list, '--storage', storage, '--quiet', '--upstream', online.url, '--sumdb', verifierKey];
    await godepot(args);
    const files = await filesUnder(storage);
    assert.ok(files.includes('example.com/proj/wantsnew/@v/v1.0.0.zip'), files.join('\n'));
    assert.ok(files.some((f) => f.startsWith('example.com/proj/leaf/@v/') && f.endsWith('.zip')));
    await godepot(args);
    assert.deepEqual(await filesUnder(storage), files);
  });

  it('mirror --server fills a running proxy by asking it for every file of the graph', async () => {
    const proxy = await startGodepot({ upstream: upstream.url });
    servers.push(proxy);
    const list = join(work, 'mirror-server.txt');
    await writeFile(list, 'example.com/proj/wantsnew@v1.0.0\n');
    await godepot(['mirror', list, '--server', proxy.url, '--quiet']);
    const files = await filesUnder(proxy.storage);
    for (const f of ['example.com/proj/wantsnew/@v/v1.0.0.zip', 'example.com/proj/wantsnew/@v/v1.0.0.info', 'example.com/proj/wantsnew/@v/v1.0.0.mod']) {
      assert.ok(files.includes(f), `${f} not in the proxy's storage:\n${files.join('\n')}`);
    }
  });

  describe('with the upstream and the online proxy gone', () => {
    before(async () => {
      await online.stop();
      await upstream.stop();
    });

    it('exports a GOPROXY=file:// tree go builds, tests and verifies from, with the checksum database on', async () => {
      const dir = join(work, 'export-dir');
      await godepot(['bundle', 'export', bundle, '--dir', dir]);
      await buildOffline(await offlineWorld(pathToFileURL(dir).href));
    });

    it('fills a module cache that builds with GOPROXY=off', async () => {
      const world = await offlineWorld('off');
      await godepot(['bundle', 'export', bundle, '--gomodcache', world.env.GOMODCACHE!]);
      await buildOffline(world);
    });

    it('imports into a fresh proxy that go builds through', async () => {
      const storage = join(work, 'imported');
      const first = await godepot(['bundle', 'import', bundle, '--storage', storage]);
      assert.match(first.stdout, /[1-9][0-9]* module versions added/);
      const second = await godepot(['bundle', 'import', bundle, '--storage', storage]);
      assert.match(second.stdout, / 0 module versions added/);
      const proxy = await startGodepot({ storage, upstream: 'off' });
      servers.push(proxy);
      await buildOffline(await offlineWorld(proxy.url));
    });

    it('uploads to a running proxy holding its import token, which go then builds through', async () => {
      const token = 'import-token-of-the-e2e-test';
      const proxy = await startGodepot({ upstream: 'off', args: ['--import-token', token] });
      servers.push(proxy);
      const refused = await runGodepot(['bundle', 'import', bundle, '--server', proxy.url, '--token', 'not-the-import-token']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /401/);
      assert.deepEqual((await filesUnder(proxy.storage)).filter((f) => !f.startsWith('.')), []);
      const uploaded = await godepot(['bundle', 'import', bundle, '--server', proxy.url, '--token', token]);
      assert.match(uploaded.stdout, /[1-9][0-9]* module versions added/);
      await buildOffline(await offlineWorld(proxy.url));
    });

    it('is served in place by serve --bundle, nothing imported', async () => {
      const proxy = await startGodepot({ upstream: 'off', args: ['--bundle', bundle] });
      servers.push(proxy);
      await buildOffline(await offlineWorld(proxy.url));
      assert.deepEqual((await filesUnder(proxy.storage)).filter((f) => !f.startsWith('.')), [], 'the storage folder gained nothing');
    });

    it('builds from an older bundle and an incremental one exported together', async () => {
      const dir = join(work, 'export-since');
      const refused = await runGodepot(['bundle', 'export', sinceNew, '--dir', dir]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`adds to the bundle whose manifest id is ${manifestId(await manifestBytesOf(sinceOld))} .*--allow-partial`));
      assert.deepEqual(await filesUnder(dir).catch(() => []), [], 'nothing exported without the base');
      await godepot(['bundle', 'export', sinceOld, '--dir', dir]);
      await godepot(['bundle', 'export', sinceNew, '--dir', dir]);
      await buildOffline(await offlineWorld(pathToFileURL(dir).href));
    });

    it('imports an incremental bundle only after its base, or alone with --allow-partial, into storage and by upload', async () => {
      const storage = join(work, 'imported-since');
      const refused = await runGodepot(['bundle', 'import', sinceNew, '--storage', storage]);
      assert.equal(refused.code, 1);
      const base = manifestId(await manifestBytesOf(sinceOld));
      assert.match(refused.stderr, new RegExp(`manifest id is ${base}`));
      assert.deepEqual(await filesUnder(storage).catch(() => []), []);
      await godepot(['bundle', 'import', sinceOld, '--storage', storage]);
      assert.match((await godepot(['bundle', 'import', sinceNew, '--storage', storage])).stdout, /[1-9][0-9]* module versions added/);
      const partial = await godepot(['bundle', 'import', sinceNew, '--storage', join(work, 'imported-partial'), '--allow-partial']);
      assert.match(partial.stdout, new RegExp(`without its base, the bundle whose manifest id is ${base}`));

      const token = 'import-token-of-the-since-test';
      const proxy = await startGodepot({ upstream: 'off', args: ['--import-token', token] });
      servers.push(proxy);
      const upload = ['bundle', 'import', sinceNew, '--server', proxy.url, '--token', token];
      const refusedUpload = await runGodepot(upload);
      assert.equal(refusedUpload.code, 1);
      assert.match(refusedUpload.stderr, new RegExp(`\\(422\\): bundle refused, nothing imported: .*manifest id is ${base}`));
      assert.match((await godepot([...upload, '--allow-partial'])).stdout, /[1-9][0-9]* module versions added/);
    });

    it('makes go fail with its own verification error when one proof was altered', async () => {
      const dir = join(work, 'export-tampered');
      await godepot(['bundle', 'export', bundle, '--dir', dir]);
      const lookups = (await filesUnder(join(dir, 'sumdb', NAME))).filter((f) => f.startsWith('lookup/') && f.includes('!upper'));
      assert.ok(lookups.length > 0);
      const lookup = join(dir, 'sumdb', NAME, lookups[0]!);
      const body = await readFile(lookup, 'utf8');
      // Another hash for the zip: the record no longer proves into the signed tree.
      await writeFile(lookup, body.replace(/ h1:[A-Za-z0-9+/]{43}=\n/, ` h1:${'A'.repeat(43)}=\n`));
      const world = await offlineWorld(pathToFileURL(dir).href);
      const dirCopy = await projectCopy();
      await assert.rejects(world.go(['build', './...'], { cwd: dirCopy }), /example\.com\/proj\/Upper@v1\.2\.0: verifying module: .*cannot authenticate record data in server response/);
    });
  });
});
