import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GitHttpServer } from '../../test/support/git-http.js';
import { serveRepositories, testGitEnv, TestRepo } from '../../test/support/git-repos.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import { GitNotFoundError } from './git-error.js';
import { GitRepo, UnknownRevisionError } from './git-repo.js';
import { GitRunner, INSECURE_PROTOCOLS, SECURE_PROTOCOLS } from './git.js';
import { MirrorSet } from './mirror.js';

const protocols = [...SECURE_PROTOCOLS, ...INSECURE_PROTOCOLS];
const URL_ = 'https://example.com/team/lib';

let work: string;
let server: GitHttpServer;
let gitconfig: string;
let repo: TestRepo;
const commits = { first: '', second: '', head: '', pr: '' };

/** A fresh state folder and the counts of the git commands run in it. */
function fixture(): { mirrors: MirrorSet; metrics: Metrics; count: (kind: string) => Promise<number>; stateDir: string } {
  const metrics = createMetrics();
  const stateDir = join(work, `state-${Math.random().toString(16).slice(2)}`);
  const runner = new GitRunner({ env: testGitEnv(gitconfig, work), timeoutMs: 30_000, concurrency: 4, metrics });
  const count = async (kind: string): Promise<number> => {
    const values = (await metrics.upstreamSeconds.get()).values;
    return values.filter((v) => v.metricName?.endsWith('_count') && v.labels.kind === kind).reduce((n, v) => n + v.value, 0);
  };
  return { mirrors: new MirrorSet(stateDir, runner), metrics, count, stateDir };
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-git-repo-'));
  const root = join(work, 'served');
  repo = await TestRepo.create(root, 'example.com/team/lib');
  commits.first = await repo.commit({ 'go.mod': 'module example.com/team/lib\n', 'a.go': 'package lib\n' }, '2022-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  commits.second = await repo.commit({ 'b.go': 'package lib\n' }, '2022-02-01T00:00:00Z');
  await repo.tag('v1.1.0', { annotated: true, date: '2022-02-02T00:00:00Z' });
  for (let i = 0; i < 5; i++) commits.head = await repo.commit({ [`c${i}.go`]: 'package lib\n' }, `2022-03-0${i + 1}T00:00:00Z`);
  // A commit only a pull-request ref reaches: go never fetches such commits.
  await repo.run(['checkout', '-q', '-b', 'pr']);
  commits.pr = await repo.commit({ 'pr.go': 'package lib\n' }, '2022-04-01T00:00:00Z');
  await repo.run(['checkout', '-q', 'main']);
  await repo.run(['update-ref', 'refs/pull/1/head', commits.pr]);
  await repo.run(['branch', '-D', 'pr']);
  await repo.publish();
  ({ server, gitconfig } = await serveRepositories(root, ['example.com']));
});

after(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('GitRepo over a mirror', () => {
  it('keeps one bare mirror per URL under <state>/vcs, named for the hash of its URL', async () => {
    const { mirrors, stateDir } = fixture();
    await new GitRepo(mirrors.get(URL_), protocols).stat('v1.0.0');
    const name = createHash('sha256').update(`git:${URL_}`).digest('hex');
    assert.deepEqual(await readdir(join(stateDir, 'vcs')), [name]);
    await access(join(stateDir, 'vcs', name, 'objects'));
    assert.equal(mirrors.get(URL_).dir, join(stateDir, 'vcs', name));
  });

  it('resolves a tag with one shallow fetch, and from the mirror alone the next time', async () => {
    const { mirrors, count } = fixture();
    const info = await new GitRepo(mirrors.get(URL_), protocols).stat('v1.1.0');
    assert.equal(info.name, commits.second);
    assert.equal(info.version, 'v1.1.0');
    assert.equal(info.time, Date.parse('2022-02-01T00:00:00Z') / 1000);
    assert.deepEqual(info.origin, { vcs: 'git', url: URL_, subdir: '', ref: 'refs/tags/v1.1.0', hash: commits.second });
    assert.equal(await count('git fetch'), 1);
    await access(join(mirrors.get(URL_).dir, 'shallow'));
    const again = await new GitRepo(mirrors.get(URL_), protocols).stat('v1.1.0');
    assert.equal(again.name, commits.second);
    assert.equal(await count('git fetch'), 1);
    assert.equal(await count('git ls-remote'), 1);
  });

  it('shares one fetch among requests for the same revision at once', async () => {
    const { mirrors, count } = fixture();
    const infos = await Promise.all(Array.from({ length: 6 }, () => new GitRepo(mirrors.get(URL_), protocols).stat('v1.0.0')));
    assert.ok(infos.every((i) => i.name === commits.first));
    assert.equal(await count('git fetch'), 1);
  });

  it('resolves branches, HEAD and hash prefixes of refs, never a commit no head or tag reaches', async () => {
    const { mirrors } = fixture();
    const session = new GitRepo(mirrors.get(URL_), protocols);
    const main = await session.stat('main');
    assert.equal(main.name, commits.head);
    assert.equal(main.version, commits.head);
    assert.equal(main.origin.ref, 'refs/heads/main');
    const latest = await session.latest();
    assert.equal(latest.name, commits.head);
    assert.equal(latest.origin.ref, 'HEAD');
    assert.equal((await session.stat(commits.second.slice(0, 8))).name, commits.second);
    // A hash below a head is found once the history is fetched.
    const middle = await repo.run(['rev-parse', 'HEAD~2']);
    assert.equal((await new GitRepo(mirrors.get(URL_), protocols).stat(middle.trim().slice(0, 10))).name, middle.trim());
    await assert.rejects(new GitRepo(mirrors.get(URL_), protocols).stat(commits.pr), UnknownRevisionError);
    await assert.rejects(new GitRepo(mirrors.get(URL_), protocols).stat('no-such-branch'), UnknownRevisionError);
  });

  it('finds the tag below a commit, fetching the history a shallow mirror lacks', async () => {
    const { mirrors } = fixture();
    const session = new GitRepo(mirrors.get(URL_), protocols);
    assert.equal(await session.recentTag('main', '', async () => true), 'v1.1.0');
    assert.equal(await session.recentTag('main', '', async (tag) => tag !== 'v1.1.0'), 'v1.0.0');
    assert.equal(await session.descendsFrom(commits.head, 'v1.0.0'), true);
    assert.equal(await session.descendsFrom(commits.first, 'v1.1.0'), false);
  });

  it('tries a fetch again while another process holds a git lock in the mirror', async () => {
    const { mirrors } = fixture();
    const mirror = mirrors.get(URL_);
    await new GitRepo(mirror, protocols).stat('v1.0.0');
    const lock = join(mirror.dir, 'shallow.lock');
    await writeFile(lock, '');
    setTimeout(() => void rm(lock, { force: true }), 300);
    assert.equal((await new GitRepo(mirror, protocols).stat('v1.1.0')).name, commits.second);
  });

  it('reports a repository that vanished as not found, and keeps resolving what the mirror holds', async () => {
    const { mirrors } = fixture();
    const gone = await TestRepo.create(join(work, 'served'), 'example.com/team/gone');
    const hash = await gone.commit({ 'go.mod': 'module example.com/team/gone\n' }, '2022-01-01T00:00:00Z');
    await gone.tag('v0.1.0');
    await gone.publish();
    const url = 'https://example.com/team/gone';
    assert.equal((await new GitRepo(mirrors.get(url), protocols).stat('v0.1.0')).name, hash);
    await rm(gone.bare, { recursive: true });
    await assert.rejects(new GitRepo(mirrors.get(url), protocols).refs(), GitNotFoundError);
    assert.equal((await new GitRepo(mirrors.get(url), protocols).stat('v0.1.0')).name, hash);
  });
});
