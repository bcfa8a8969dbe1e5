// Managing the store as an operator does, with the real go command: go builds through godepot, then
// `storage ls` and `du` (on the folder, and through the running server with an admin token; a read token
// is refused) show what go fetched, with origins and last-download times; `storage rm` takes a version
// out and go fetches it again from the upstream; a removed published version cannot come back with other
// bytes; the audit log holds the removals and verifies; `/index` lists what was stored, in order, hiding
// private modules from anonymous clients; and a second godepot follows the first with `mirror --from`,
// the second run fetching only what the first stored since.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { request } from 'undici';
import { runGodepot, type CliResult } from '../support/cli.js';
import { writeTree } from '../support/git.js';
import { startGodepot, stateDirOf, urlWithToken, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { addModule } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const execFileAsync = promisify(execFile);
const publishToken = 'publish-token-of-the-storage-test';

interface Listed {
  path: string;
  version: string;
  files: string[];
  bytes: number;
  origin: string;
  originRecorded: boolean;
  stored: string;
  lastDownloaded: string | null;
}

interface IndexLine {
  Path: string;
  Version: string;
  Timestamp: string;
}

describe('storage ls, du and rm, /index and mirror --from, with go through godepot', () => {
  let work: string;
  let tree: string;
  let upstream: Upstream;
  let godepot: GodepotServer;
  let follower: string;
  let admin: string;
  let reader: string;
  const worlds: GoWorld[] = [];

  async function world(goproxy: string): Promise<GoWorld> {
    const w = await makeGoWorld(goproxy);
    worlds.push(w);
    return w;
  }

  async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    return runGodepot(args, { cwd: work, env });
  }

  async function lsJson(args: string[]): Promise<Listed[]> {
    const listed = await cli(['storage', 'ls', '--json', ...args]);
    assert.equal(listed.code, 0, listed.stderr);
    return JSON.parse(listed.stdout) as Listed[];
  }

  async function index(query: string, token?: string): Promise<IndexLine[]> {
    const res = await request(`${godepot.url}/index${query}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    const text = await res.body.text();
    assert.equal(res.statusCode, 200, text);
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as IndexLine);
  }

  // The catalog is written just behind the store: a few milliseconds after go has its answer.
  async function indexUntil(count: number, token?: string): Promise<IndexLine[]> {
    for (let i = 0; ; i++) {
      const lines = await index('', token);
      if (lines.length >= count || i === 50) return lines;
      await sleep(100);
    }
  }

  const publish = (dir: string, version: string): Promise<CliResult> =>
    cli(['publish', dir, '--version', version, '--server', godepot.url], { GODEPOT_TOKEN: publishToken });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-e2e-storage-'));
    tree = join(work, 'tree');
    for (const [path, version, text] of [
      ['example.com/greet', 'v1.0.0', 'hello'],
      ['example.com/greet', 'v1.1.0', 'hello again'],
      ['example.com/extra', 'v1.0.0', 'extra'],
      ['example.com/late', 'v1.0.0', 'late'],
    ] as const) {
      const pkg = path.split('/').at(-1)!;
      await addModule(tree, work, path, version, { 'go.mod': `module ${path}\n\ngo 1.17\n`, [`${pkg}.go`]: `package ${pkg}\n\nfunc Text() string { return ${JSON.stringify(text)} }\n` });
    }
    upstream = await startUpstream({ root: tree });
    const config = join(work, 'godepot.yaml');
    await writeTree(work, { 'godepot.yaml': 'rules:\n  - match: corp.example.com\n    route: hosted\n' });
    godepot = await startGodepot({ upstream: upstream.url, config, args: ['--publish-token', publishToken] });
    admin = (await urlWithToken(godepot, 'ops', ['admin'])).token;
    reader = (await urlWithToken(godepot, 'ci', ['read'])).token;
    follower = join(work, 'follower');
  });

  after(async () => {
    await godepot?.dispose();
    await upstream?.stop();
    for (const w of worlds) await w.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('go builds through godepot; storage ls and du show what it fetched, with origins and last downloads, on the folder and through the server', async () => {
    const app = join(work, 'app');
    await writeTree(app, {
      'go.mod': 'module example.org/app\n\ngo 1.17\n\nrequire example.com/greet v1.0.0\n',
      'main.go': 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Print(greet.Text()) }\n',
    });
    const w = await world(godepot.url);
    await w.go(['mod', 'tidy'], { cwd: app });
    await w.go(['build', '-o', join(app, 'app.bin'), '.'], { cwd: app });
    assert.equal((await execFileAsync(join(app, 'app.bin'))).stdout, 'hello');
    const greet = join(work, 'greet');
    await writeTree(greet, { 'go.mod': 'module corp.example.com/greet\n\ngo 1.17\n', 'greet.go': 'package greet\n\nconst Text = "published"\n' });
    const published = await publish(greet, 'v0.1.0');
    assert.equal(published.code, 0, published.stderr);

    const remote = await lsJson(['--server', godepot.url, '--token', admin]);
    assert.deepEqual(remote.map((v) => `${v.path}@${v.version}`), ['corp.example.com/greet@v0.1.0', 'example.com/greet@v1.0.0']);
    const fetched = remote.find((v) => v.path === 'example.com/greet')!;
    assert.deepEqual(fetched.files, ['info', 'mod', 'zip']);
    assert.equal(fetched.origin, upstream.url, 'the upstream list that delivered it, recorded when it was stored');
    assert.equal(fetched.originRecorded, true);
    assert.ok(fetched.lastDownloaded !== null && Date.now() - Date.parse(fetched.lastDownloaded) < 120_000, `last downloaded ${fetched.lastDownloaded}`);
    assert.ok(fetched.bytes > 0);
    assert.equal(remote.find((v) => v.path === 'corp.example.com/greet')!.origin, 'hosted');

    // The folder, as serve finds it, while the server runs: the same versions and times.
    const local = await lsJson(['--storage', godepot.storage, '--config', join(work, 'godepot.yaml'), '--upstream', upstream.url]);
    assert.deepEqual(local, remote);
    const human = await cli(['storage', 'ls', 'example.com', '--storage', godepot.storage]);
    assert.equal(human.code, 0, human.stderr);
    const [header, row, more] = human.stdout.split('\n');
    assert.match(header!, /^MODULE +VERSION +SIZE +ORIGIN +STORED +LAST DOWNLOAD$/);
    assert.match(row!, new RegExp(`^example\\.com/greet +v1\\.0\\.0 +[0-9.]+ [KMG]?B +${upstream.url.replace(/[.:/]/g, '\\$&')} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`));
    assert.equal(more, '', 'the pattern keeps corp.example.com out');

    const refused = await cli(['storage', 'ls', '--server', godepot.url], { GODEPOT_TOKEN: reader });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused the stored versions \(403\): forbidden: token "ci" may not admin on this server as a whole/);

    const du = await cli(['storage', 'du', '--by', 'origin', '--json', '--server', godepot.url, '--token', admin]);
    assert.equal(du.code, 0, du.stderr);
    const usage = JSON.parse(du.stdout) as { rows: Array<{ name: string; versions: number; bytes: number }>; total: { modules: number; versions: number; bytes: number } };
    assert.deepEqual(usage.rows.map((r) => [r.name, r.versions]).sort(), [['hosted', 1], [upstream.url, 1]]);
    assert.equal(usage.total.bytes, remote.reduce((sum, v) => sum + v.bytes, 0));
    const duHuman = await cli(['storage', 'du', '--storage', godepot.storage]);
    assert.match(duHuman.stdout, /^MODULE +VERSIONS +SIZE\n/);
    assert.match(duHuman.stdout, /\ntotal: 2 modules, 2 versions, [0-9.]+ [KMG]?B\n$/);
  });

  it('/index lists what was stored in stored order, with since and limit; anonymous clients never see the published (private) module', async () => {
    const all = await indexUntil(2, admin);
    assert.deepEqual(all.map((l) => `${l.Path}@${l.Version}`), ['example.com/greet@v1.0.0', 'corp.example.com/greet@v0.1.0']);
    assert.ok(all[0]!.Timestamp < all[1]!.Timestamp);
    assert.deepEqual((await index('')).map((l) => l.Path), ['example.com/greet'], 'anonymous');
    assert.deepEqual((await index('?limit=1', admin)).map((l) => l.Path), ['example.com/greet']);
    assert.deepEqual((await index(`?since=${encodeURIComponent(all[1]!.Timestamp)}`, admin)).map((l) => l.Path), ['corp.example.com/greet']);
  });

  it('mirror --from follows godepot into a second storage; after go fetches one more module through the first, the next run fetches only that one', async () => {
    const first = await cli(['mirror', '--from', godepot.url, '--token', admin, '--storage', follower, '--sumdb', 'off', '--quiet']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `${follower}: 2 module versions fetched from ${godepot.url} (2 new in its catalog)\n`);
    const leaderVersions = (await lsJson(['--server', godepot.url, '--token', admin])).map((v) => `${v.path}@${v.version} ${v.files.join(',')}`);
    const followed = await lsJson(['--storage', follower]);
    assert.deepEqual(followed.map((v) => `${v.path}@${v.version} ${v.files.join(',')}`), leaderVersions);
    assert.ok(followed.every((v) => v.origin === godepot.url && v.originRecorded));

    const w = await world(godepot.url);
    await w.go(['mod', 'download', 'example.com/late@v1.0.0']);
    await indexUntil(3, admin);
    const second = await cli(['mirror', '--from', godepot.url, '--token', admin, '--storage', follower, '--sumdb', 'off', '--quiet']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, `${follower}: 1 module versions fetched from ${godepot.url} (1 new in its catalog)\n`);
    assert.deepEqual((await lsJson(['--storage', follower])).map((v) => v.path), ['corp.example.com/greet', 'example.com/greet', 'example.com/late']);

    // The follower serves what it followed, with no upstream at all.
    const offline = await startGodepot({ storage: follower, upstream: 'off' });
    try {
      const o = await world(offline.url);
      const { stdout } = await o.go(['mod', 'download', '-json', 'example.com/late@v1.0.0']);
      assert.match(stdout, /"Sum": "h1:/);
    } finally {
      await offline.stop();
    }
  });

  it('rm through the server: go fetches the version again from the upstream; a removed published version cannot come back with other bytes; removals are audited', async () => {
    const zipPath = '/example.com/greet/@v/v1.0.0.zip';
    const before = upstream.countOf(zipPath);
    const removed = await cli(['storage', 'rm', 'example.com/greet@v1.0.0', '--server', godepot.url, '--token', admin]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^removed example\.com\/greet@v1\.0\.0 \(info, mod, zip: [0-9.]+ [KMG]?B\)\n$/);
    assert.ok(!(await lsJson(['--storage', godepot.storage])).some((v) => v.path === 'example.com/greet'));
    const w = await world(godepot.url);
    const { stdout } = await w.go(['mod', 'download', '-json', 'example.com/greet@v1.0.0']);
    assert.match(stdout, /"Sum": "h1:/);
    assert.equal(upstream.countOf(zipPath), before + 1, 'fetched again from the upstream');

    const gone = await cli(['storage', 'rm', 'corp.example.com/greet@v0.1.0', '--server', godepot.url, '--json'], { GODEPOT_TOKEN: admin });
    assert.equal(gone.code, 0, gone.stderr);
    assert.deepEqual(JSON.parse(gone.stdout), { path: 'corp.example.com/greet', version: 'v0.1.0', files: ['info', 'mod', 'zip'], bytes: (JSON.parse(gone.stdout) as { bytes: number }).bytes });
    const greet = join(work, 'greet');
    await writeTree(greet, { 'greet.go': 'package greet\n\nconst Text = "other bytes"\n' });
    const changed = await publish(greet, 'v0.1.0');
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /corp\.example\.com\/greet@v0\.1\.0 was published with other content and removed on \S+, and a published version never changes/);
    await writeTree(greet, { 'greet.go': 'package greet\n\nconst Text = "published"\n' });
    const same = await publish(greet, 'v0.1.0');
    assert.equal(same.code, 0, same.stderr);

    // On the folder, by the operator at the command line.
    const local = await cli(['storage', 'rm', 'example.com/late@v1.0.0', '--storage', godepot.storage, '--state-dir', stateDirOf(godepot.storage)]);
    assert.equal(local.code, 0, local.stderr);
    const missing = await cli(['storage', 'rm', 'example.com/late@v1.0.0', '--storage', godepot.storage, '--state-dir', stateDirOf(godepot.storage)]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'godepot: example.com/late@v1.0.0 is not stored\n');
    const bad = await cli(['storage', 'rm', 'example.com/late@latest', '--storage', godepot.storage]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^godepot: .*latest/);

    const log = join(stateDirOf(godepot.storage), 'audit.log');
    const events = (await readFile(log, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { action: string; actor: string; target: string; from: string });
    const removals = events.filter((e) => e.action === 'storage.delete');
    assert.deepEqual(
      removals.map((e) => [e.actor.startsWith('cli:') ? 'cli' : e.actor, e.target]),
      [['ops', 'example.com/greet@v1.0.0'], ['ops', 'corp.example.com/greet@v0.1.0'], ['cli', 'example.com/late@v1.0.0']],
    );
    const verified = await cli(['audit', 'verify', log]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /^ok: \d+ lines/);
  });
});

describe('with --workers 2: the same /index from every worker, and a removal forgotten by every worker', () => {
  let work: string;
  let godepot: GodepotServer;
  let admin: string;

  /** Status and body of a GET on a connection of its own, so that the requests spread over the workers. */
  async function fresh(path: string): Promise<{ status: number; text: string }> {
    const res = await request(`${godepot.url}${path}`, { headers: { authorization: `Bearer ${admin}` }, reset: true });
    return { status: res.statusCode, text: await res.body.text() };
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-e2e-storage-workers-'));
    await writeTree(work, { 'godepot.yaml': 'rules:\n  - match: corp.example.com\n    route: hosted\n' });
    godepot = await startGodepot({ upstream: 'off', config: join(work, 'godepot.yaml'), args: ['--publish-token', publishToken, '--workers', '2'] });
    admin = (await urlWithToken(godepot, 'ops', ['admin'])).token;
  });

  after(async () => {
    await godepot?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('publishes, lists, removes: every worker answers the catalog alike, and none answers the removed version from memory', async () => {
    const dir = join(work, 'w');
    await writeTree(dir, { 'go.mod': 'module corp.example.com/w\n\ngo 1.17\n', 'w.go': 'package w\n' });
    const published = await runGodepot(['publish', dir, '--version', 'v0.1.0', '--server', godepot.url], { env: { GODEPOT_TOKEN: publishToken } });
    assert.equal(published.code, 0, published.stderr);
    const info = '/corp.example.com/w/@v/v0.1.0.info';
    for (let i = 0; i < 12; i++) assert.equal((await fresh(info)).status, 200);

    let catalog = '';
    for (let i = 0; i < 50 && !catalog.includes('corp.example.com/w'); i++) {
      catalog = (await fresh('/index')).text;
      if (!catalog.includes('corp.example.com/w')) await sleep(100);
    }
    for (let i = 0; i < 8; i++) assert.equal((await fresh('/index')).text, catalog, 'the same catalog from whichever worker answers');
    assert.equal(catalog.split('\n').filter(Boolean).length, 1);

    const removed = await runGodepot(['storage', 'rm', 'corp.example.com/w@v0.1.0', '--server', godepot.url], { env: { GODEPOT_TOKEN: admin } });
    assert.equal(removed.code, 0, removed.stderr);
    // The other worker hears of it through the primary, a moment later (5 s at most).
    let statuses: number[] = [];
    for (let round = 0; round < 50 && !(statuses.length > 0 && statuses.every((status) => status === 404)); round++) {
      if (round > 0) await sleep(100);
      statuses = [];
      for (let i = 0; i < 12; i++) statuses.push((await fresh(info)).status);
    }
    assert.deepEqual(statuses, new Array(12).fill(404), 'no worker answers the removed version');
    assert.equal((await fresh('/index')).text, '');
  });
});
