import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GitHttpServer } from '../../test/support/git-http.js';
import { resolveByThreeElements, serveRepositories, testGitEnv, TestRepo } from '../../test/support/git-repos.js';
import { NotFoundError, OriginUnavailableError, TimeoutError, UpstreamError } from '../errors.js';
import { ZipError } from '../module/ziperror.js';
import { errorAnswer } from '../server/errors.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import { GitAuthError, GitNotFoundError, GitTimeoutError, GitTransportRefusedError } from '../vcs/git-error.js';
import type { RepoRoot } from '../vcs/repo-root.js';
import { GitOrigin, urlProblem, type GitOriginOptions } from './git.js';
import { originContract, type ContractModule } from './origin.contract.js';

// Git repositories served over smart HTTP for `modules`, one per repository root, a commit and a tag
// per version, in order, each commit holding exactly the version's files.
async function serveContractModules(modules: readonly ContractModule[], root: string): Promise<void> {
  const repos = new Map<string, TestRepo>();
  for (const m of modules) {
    const { root: repoPath } = await resolveByThreeElements(m.modulePath);
    let repo = repos.get(repoPath);
    if (repo === undefined) {
      repo = await TestRepo.create(root, repoPath);
      repos.set(repoPath, repo);
    }
    await repo.commit(m.files, m.time, { replace: true });
    await repo.tag(m.version);
  }
  for (const repo of repos.values()) await repo.publish();
}

originContract('GitOrigin (git repositories over smart HTTP)', async (modules, scratch) => {
  const root = join(scratch, 'repos');
  await serveContractModules(modules, root);
  const { server, gitconfig } = await serveRepositories(root, ['example.com']);
  const origin = new GitOrigin({
    stateDir: join(scratch, 'state'),
    vcsConcurrency: 4,
    timeoutMs: 30_000,
    insecure: ['example.com'],
    gitEnv: testGitEnv(gitconfig, scratch),
    resolve: resolveByThreeElements,
  });
  return { origin, close: () => server.stop() };
});

let work: string;
let server: GitHttpServer;
let gitconfig: string;
let metrics: Metrics;
let origin: GitOrigin;
const served = (): string => join(work, 'served');

function makeOrigin(options: Partial<GitOriginOptions> = {}): GitOrigin {
  return new GitOrigin({
    stateDir: join(work, 'state'),
    vcsConcurrency: 4,
    timeoutMs: 30_000,
    insecure: ['example.com', 'hang.example', 'locked.example'],
    gitEnv: testGitEnv(gitconfig, work),
    resolve: resolveByThreeElements,
    metrics,
    ...options,
  });
}

async function gitCommands(): Promise<number> {
  const values = (await metrics.upstreamSeconds.get()).values;
  return values.filter((v) => v.metricName?.endsWith('_count')).reduce((n, v) => n + v.value, 0);
}

// Every file below `dir` named `name`.
async function filesNamed(dir: string, name: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.name === name).map((entry) => join(entry.parentPath, entry.name));
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-git-origin-'));
  metrics = createMetrics();
  const refs = await TestRepo.create(served(), 'example.com/bad/refs');
  await refs.commit({ 'go.mod': 'module example.com/bad/refs\n', 'a.go': 'package refs\n' }, '2022-01-01T00:00:00Z');
  await refs.tag('v1.0.0');
  const later = await refs.commit({ 'b.go': 'package refs\n' }, '2022-01-02T00:00:00Z');
  for (const ref of ['refs/tags/-x', 'refs/tags/--output=pwned', 'refs/tags/v1.0.0;touch-pwned', 'refs/heads/$(touch${IFS}pwned)', 'refs/heads/`touch-pwned`|x&y', 'refs/heads/-rf']) {
    await refs.run(['update-ref', ref, later]);
  }
  await refs.publish();
  const plain = await TestRepo.create(served(), 'example.com/ok/plain');
  await plain.commit({ 'p.go': 'package plain\n' }, '2021-05-05T05:05:05Z');
  await plain.tag('v0.3.0');
  await plain.publish();
  ({ server, gitconfig } = await serveRepositories(served(), ['example.com', 'hang.example', 'locked.example']));
  origin = makeOrigin();
});

after(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('GitOrigin', () => {
  it('answers .info as go caches it and makes up the go.mod of a tree without one', async () => {
    const download = origin.download('example.com/ok/plain', 'v0.3.0', { info: true, mod: true });
    const info = (await download.info!).toString();
    assert.match(info, /^\{"Version":"v0\.3\.0","Time":"2021-05-05T05:05:05Z","Origin":\{"VCS":"git","URL":"https:\/\/example\.com\/ok\/plain","Ref":"refs\/tags\/v0\.3\.0","Hash":"[0-9a-f]{40}"\}\}$/);
    assert.equal((await download.mod!).toString(), 'module example.com/ok/plain\n');
  });

  it('keeps its mirrors in <stateDir>/vcs, nowhere else', async () => {
    await origin.list('example.com/ok/plain');
    assert.deepEqual((await readdir(join(work, 'state'))).filter((n) => n !== 'tmp'), ['vcs']);
  });

  it('ignores refs that are not versions and runs no git for a query git could never resolve', async () => {
    assert.deepEqual(await origin.list('example.com/bad/refs'), ['v1.0.0']);
    const before = await gitCommands();
    for (const query of ['-x', '--output=pwned', '-rf', '--upload-pack=touch pwned', 'a..b', 'x@{1}']) {
      await assert.rejects(origin.query('example.com/bad/refs', query), (err: unknown) => err instanceof NotFoundError && err.message.includes(`unknown revision ${query}`), query);
    }
    assert.equal(await gitCommands(), before);
  });

  it('resolves refs named with shell metacharacters as refs, executing nothing', async () => {
    for (const query of ['$(touch${IFS}pwned)', '`touch-pwned`|x&y', 'v1.0.0;touch-pwned']) {
      const info = JSON.parse((await origin.query('example.com/bad/refs', query)).toString()) as { Version: string };
      assert.match(info.Version, /^v1\.0\.1-0\.20220102000000-[0-9a-f]{12}$/, query);
    }
    assert.deepEqual(await filesNamed(work, 'pwned'), []);
  });

  it('refuses file://, ext:: and local repositories, and http for a module not marked insecure, running no git', async () => {
    const before = await gitCommands();
    for (const url of [`file://${join(served(), 'example.com/ok/plain')}`, 'ext::sh -c touch% pwned', join(served(), 'example.com/ok/plain'), 'host.example:repo.git', 'ssh://-oProxyCommand=x/repo']) {
      const refusing = makeOrigin({ resolve: async () => ({ root: 'example.com/ok/plain', vcs: 'git', urls: [url], fromMetaTag: true }) });
      await assert.rejects(refusing.list('example.com/ok/plain'), (err: unknown) => err instanceof GitTransportRefusedError && err instanceof OriginUnavailableError, url);
    }
    const secureOnly = makeOrigin({ insecure: [], resolve: async () => ({ root: 'example.com/ok/plain', vcs: 'git', urls: ['http://example.com/ok/plain'], fromMetaTag: true }) });
    await assert.rejects(secureOnly.list('example.com/ok/plain'), GitTransportRefusedError);
    assert.equal(await gitCommands(), before);
    assert.equal(urlProblem('https://example.com/x', false), undefined);
    assert.equal(urlProblem('git+ssh://git@example.com/x', false), undefined);
    assert.equal(urlProblem('git://example.com/x', true), undefined);
  });

  it('refuses a transport the git configuration rewrites a URL to', async () => {
    const config = join(work, 'evil.gitconfig');
    await writeFile(config, `[url "file://${served()}/"]\n\tinsteadOf = https://evil.example/\n`);
    const rewritten = makeOrigin({ gitEnv: testGitEnv(config, work) });
    await assert.rejects(rewritten.list('evil.example/ok/plain'), (err: unknown) => err instanceof GitTransportRefusedError && /transport 'file' not allowed/.test(err.message));
  });

  it('refuses a module path outside the repository it is said to be in, and repositories that are not git', async () => {
    const wrongRoot = makeOrigin({ resolve: async () => ({ root: 'example.com/ok/plain', vcs: 'git', urls: ['https://example.com/ok/plain'], fromMetaTag: true }) });
    await assert.rejects(wrongRoot.list('example.com/bad/refs'), /mismatched repo: found example\.com\/ok\/plain for example\.com\/bad\/refs/);
    const hg = makeOrigin({ resolve: async (p: string): Promise<RepoRoot> => ({ root: p, vcs: 'hg', urls: [`https://${p}`], fromMetaTag: false }) });
    await assert.rejects(hg.list('example.com/ok/plain'), OriginUnavailableError);
  });

  it('tries the URLs of a repository in order and keeps the first that answers', async () => {
    const twoUrls = makeOrigin({ resolve: async () => ({ root: 'example.com/ok/plain', vcs: 'git', urls: ['https://example.com/none/here', 'https://example.com/ok/plain'], fromMetaTag: false }) });
    assert.deepEqual(await twoUrls.list('example.com/ok/plain'), ['v0.3.0']);
    const info = JSON.parse((await twoUrls.query('example.com/ok/plain', 'v0.3.0')).toString()) as { Origin: { URL: string } };
    assert.equal(info.Origin.URL, 'https://example.com/ok/plain');
  });

  it('answers 404 for a repository that is not there, 502 for refused credentials, and never remembers a failure', async () => {
    const missing = await origin.list('example.com/no/such').catch((err: unknown) => err);
    assert.ok(missing instanceof GitNotFoundError);
    assert.equal(errorAnswer(missing).status, 404);
    assert.match(errorAnswer(missing).body, /^not found: git ls-remote -q https:\/\/example\.com\/no\/such: repository not found: fatal: repository '.*' not found/);

    server.fault({ kind: 'unauthorized' }, { match: (repository) => repository === 'locked.example' });
    try {
      const refused = await origin.list('locked.example/some/repo').catch((err: unknown) => err);
      assert.ok(refused instanceof GitAuthError);
      assert.equal(errorAnswer(refused).status, 502);
      assert.match(errorAnswer(refused).body, /authentication refused .*could not read Username/);
      // One 500, then the repository answers again.
      server.fault({ kind: 'status', status: 500 }, { match: (repository) => repository === 'example.com', times: 1 });
      const flaky = await origin.list('example.com/ok/plain').catch((err: unknown) => err);
      assert.ok(flaky instanceof UpstreamError && !(flaky instanceof NotFoundError), String(flaky));
      assert.deepEqual(await origin.list('example.com/ok/plain'), ['v0.3.0']);
    } finally {
      server.fault(undefined);
    }
  });

  it('gives up on a repository that hangs within its time limit, and goes on serving others', async () => {
    server.fault({ kind: 'hang' }, { match: (repository) => repository === 'hang.example' });
    try {
      const quick = makeOrigin({ timeoutMs: 1000 });
      const started = Date.now();
      const err = await quick.list('hang.example/some/repo').catch((e: unknown) => e);
      assert.ok(err instanceof GitTimeoutError && err instanceof TimeoutError, String(err));
      assert.equal(errorAnswer(err).status, 504);
      assert.ok(Date.now() - started < 5000);
      assert.deepEqual(await quick.list('example.com/ok/plain'), ['v0.3.0']);
    } finally {
      server.fault(undefined);
    }
  });

  it('refuses a tree holding a 600 MB file by go\'s 500 MiB limit, never reading it into memory', async () => {
    const huge = await TestRepo.create(served(), 'example.com/bad/huge');
    await huge.commit({ 'go.mod': 'module example.com/bad/huge\n', 'h.go': 'package huge\n' }, '2022-01-01T00:00:00Z');
    // Sparse: the disk holds nothing of it, git reads 600 MB of zeros.
    await writeFile(join(huge.work, 'huge.bin'), '');
    await truncate(join(huge.work, 'huge.bin'), 600 * 1024 * 1024);
    await huge.commit({}, '2022-01-02T00:00:00Z');
    await huge.tag('v1.0.0');
    await huge.publish();
    await rm(join(huge.work, 'huge.bin'));

    const zipTo = join(work, 'huge.zip');
    const rssBefore = process.memoryUsage().rss;
    const download = origin.download('example.com/bad/huge', 'v1.0.0', { mod: true, zipTo });
    assert.equal((await download.mod!).toString(), 'module example.com/bad/huge\n');
    await assert.rejects(download.zip!, (err: unknown) => err instanceof ZipError && /module source tree too large/.test(err.message));
    assert.equal(errorAnswer(await download.zip!.catch((e: unknown) => e)).status, 502);
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'memory stayed bounded');
    await assert.rejects(stat(zipTo), { code: 'ENOENT' });
    assert.deepEqual(await readdir(join(work, 'state', 'tmp')), []);
  });

  it('leaves no zip behind for a caller that went away', async () => {
    const zipTo = join(work, 'aborted.zip');
    const controller = new AbortController();
    const download = origin.download('example.com/ok/plain', 'v0.3.0', { zipTo }, controller.signal);
    controller.abort();
    await assert.rejects(download.zip!, { name: 'AbortError' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await assert.rejects(stat(zipTo), { code: 'ENOENT' });
  });
});
