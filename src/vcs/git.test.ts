import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { GitHttpServer } from '../../test/support/git-http.js';
import { serveRepositories } from '../../test/support/git-repos.js';
import { git } from '../../test/support/git.js';
import { createMetrics } from '../telemetry/metrics.js';
import { classifyGitFailure, gitReason, GitAuthError, GitFailedError, GitNotFoundError, GitOutputTooLargeError, GitTimeoutError, GitTransportRefusedError } from './git-error.js';
import { GitRunner, INSECURE_PROTOCOLS, SECURE_PROTOCOLS } from './git.js';
import { ProcessSlots } from './process-slots.js';

const execFileAsync = promisify(execFile);

let work: string;
let repo: string;
let server: GitHttpServer;
let gitconfig: string;
const allProtocols = [...SECURE_PROTOCOLS, ...INSECURE_PROTOCOLS];

function runner(options: { timeoutMs?: number; concurrency?: number; env?: Record<string, string | undefined> } = {}): GitRunner {
  return new GitRunner({
    env: options.env ?? { PATH: process.env.PATH, HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: gitconfig },
    timeoutMs: options.timeoutMs ?? 30_000,
    concurrency: options.concurrency ?? 4,
  });
}

// The processes whose command line mentions `text`, other than ps itself.
async function processesMentioning(text: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ps', ['-eo', 'pid,args']);
  return stdout.split('\n').filter((line) => line.includes(text) && !line.includes('ps -eo'));
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-git-runner-'));
  const root = join(work, 'served');
  repo = join(root, 'example.com', 'repo');
  await mkdir(root, { recursive: true });
  await git(root, ['init', '-q', '--bare', repo]);
  const tree = join(work, 'tree');
  await git(work, ['init', '-q', '-b', 'main', tree]);
  await writeFile(join(tree, 'big.txt'), 'x'.repeat(100_000));
  await git(tree, ['add', '-A']);
  await git(tree, ['commit', '-q', '-m', 'one']);
  await git(tree, ['push', '-q', repo, 'main']);
  ({ server, gitconfig } = await serveRepositories(root, ['example.com', 'hang.example', 'private.example']));
});

after(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('GitRunner', () => {
  it('runs git with its arguments as given, never through a shell', async () => {
    const marker = join(work, 'pwned');
    const result = await runner().run({ args: ['tag', '-l', `$(touch ${marker})`, `; touch ${marker}`], gitDir: repo, maxOutput: 1000, output: 'tags' });
    assert.equal(result.exitCode, 0);
    await assert.rejects(stat(marker), { code: 'ENOENT' });
  });

  it('lists a remote over the transports it is allowed', async () => {
    const out = await runner().output({ args: ['ls-remote', '-q', 'https://example.com/repo'], gitDir: repo, protocols: allProtocols, maxOutput: 1 << 20, output: 'refs' });
    assert.match(out.toString(), /\trefs\/heads\/main\n/);
  });

  it('refuses a transport that is not allowed, even when git configuration rewrites to it', async () => {
    // The insteadOf rule sends https://example.com to plain http, which only insecure modules may use.
    await assert.rejects(
      runner().output({ args: ['ls-remote', '-q', 'https://example.com/repo'], gitDir: repo, protocols: SECURE_PROTOCOLS, maxOutput: 1 << 20, output: 'refs' }),
      (err: unknown) => err instanceof GitTransportRefusedError && /transport 'http' not allowed/.test(err.message),
    );
    for (const url of [`file://${repo}`, repo, 'ext::sh -c touch% /tmp/godepot-ext-pwned']) {
      await assert.rejects(
        runner().output({ args: ['ls-remote', '-q', url], gitDir: repo, protocols: allProtocols, maxOutput: 1 << 20, output: 'refs' }),
        GitTransportRefusedError,
        url,
      );
    }
    await assert.rejects(stat('/tmp/godepot-ext-pwned'), { code: 'ENOENT' });
  });

  it('keeps to the protocols of GIT_ALLOW_PROTOCOL when the environment sets one', async () => {
    const env = { PATH: process.env.PATH, HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: gitconfig, GIT_ALLOW_PROTOCOL: 'https:ssh' };
    await assert.rejects(
      runner({ env }).output({ args: ['ls-remote', '-q', 'https://example.com/repo'], gitDir: repo, protocols: allProtocols, maxOutput: 1 << 20, output: 'refs' }),
      GitTransportRefusedError,
    );
  });

  it('works in the repository it is given, whatever GIT_DIR the environment names', async () => {
    const env = { PATH: process.env.PATH, HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_DIR: join(work, 'elsewhere') };
    const out = await runner({ env }).output({ args: ['rev-parse', '--git-dir'], gitDir: repo, maxOutput: 1000, output: 'path' });
    assert.equal(out.toString().trim(), repo);
  });

  it('stops a command that runs past its time limit, with the helpers it started', async () => {
    server.fault({ kind: 'hang' }, { match: (repository) => repository === 'hang.example' });
    try {
      const started = Date.now();
      await assert.rejects(
        runner({ timeoutMs: 1000 }).output({ args: ['ls-remote', '-q', 'https://hang.example/repo'], gitDir: repo, protocols: allProtocols, maxOutput: 1 << 20, output: 'refs' }),
        (err: unknown) => err instanceof GitTimeoutError && /no answer within 1 s/.test(err.message),
      );
      assert.ok(Date.now() - started < 5000);
      // git-remote-http, which held the connection, went with git.
      for (let i = 0; i < 50 && (await processesMentioning('/hang.example/repo')).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await processesMentioning('/hang.example/repo'), []);
    } finally {
      server.fault(undefined);
    }
  });

  it('does not wait for a helper that left git\'s process group holding its output open', async () => {
    // An alias stands in for an ssh ControlMaster: a process in a session of its own keeps git's stdout.
    const started = Date.now();
    const result = await runner().run({ args: ['-c', 'alias.linger=!setsid -f sleep 31.5', 'linger'], gitDir: repo, maxOutput: 1000, output: 'nothing' });
    assert.equal(result.exitCode, 0);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    for (const line of await processesMentioning('sleep 31.5')) process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGTERM');
  });

  it('stops a command whose output passes its bound', async () => {
    const hash = (await git(repo, ['rev-parse', 'main:big.txt'])).trim();
    await assert.rejects(
      runner().output({ args: ['cat-file', 'blob', hash], gitDir: repo, maxOutput: 1000, output: 'go.mod' }),
      (err: unknown) => err instanceof GitOutputTooLargeError && /go\.mod larger than 1000 bytes/.test(err.message),
    );
    const result = await runner().run({ args: ['cat-file', 'blob', hash], gitDir: repo, maxOutput: 100_000, output: 'blob' });
    assert.equal(result.stdout.length, 100_000);
  });

  it('writes stdout to a new file, and removes it when the command is stopped', async () => {
    const hash = (await git(repo, ['rev-parse', 'main:big.txt'])).trim();
    const file = join(work, 'out.txt');
    const result = await runner().run({ args: ['cat-file', 'blob', hash], gitDir: repo, maxOutput: 1 << 20, output: 'blob', stdoutTo: { file } });
    assert.equal(result.outputBytes, 100_000);
    assert.equal((await stat(file)).size, 100_000);
    await rm(file);
    await assert.rejects(runner().run({ args: ['cat-file', 'blob', hash], gitDir: repo, maxOutput: 10, output: 'blob', stdoutTo: { file } }), GitOutputTooLargeError);
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  it('turns git failures into typed errors carrying git reason', async () => {
    await assert.rejects(
      runner().output({ args: ['ls-remote', '-q', 'https://example.com/absent'], gitDir: repo, protocols: allProtocols, maxOutput: 1 << 20, output: 'refs' }),
      (err: unknown) => err instanceof GitNotFoundError && /git ls-remote -q https:\/\/example\.com\/absent: repository not found: fatal: repository '.*' not found/.test(err.message),
    );
    server.fault({ kind: 'unauthorized' }, { match: (repository) => repository === 'private.example' });
    try {
      await assert.rejects(
        runner().output({ args: ['ls-remote', '-q', 'https://private.example/repo'], gitDir: repo, protocols: allProtocols, maxOutput: 1 << 20, output: 'refs' }),
        (err: unknown) => err instanceof GitAuthError && /could not read Username/.test(err.message),
      );
    } finally {
      server.fault(undefined);
    }
    await assert.rejects(runner().output({ args: ['no-such-command'], gitDir: repo, maxOutput: 1000, output: 'x' }), GitFailedError);
  });

  it('runs at most `concurrency` git processes at once', async () => {
    // Each command waits for a server that never answers, until its time limit.
    server.fault({ kind: 'hang' }, { match: (repository) => repository === 'hang.example' });
    try {
      const limited = runner({ concurrency: 2, timeoutMs: 400 });
      let most = 0;
      const watch = setInterval(() => (most = Math.max(most, limited.running)), 10);
      const runs = Array.from({ length: 5 }, () =>
        limited.run({ args: ['ls-remote', '-q', 'https://hang.example/slow'], gitDir: repo, protocols: allProtocols, maxOutput: 1 << 20, output: 'refs' }).catch((err: unknown) => err),
      );
      const outcomes = await Promise.all(runs);
      clearInterval(watch);
      assert.ok(outcomes.every((o) => o instanceof GitTimeoutError));
      assert.equal(most, 2);
    } finally {
      server.fault(undefined);
    }
  });

  it('observes every command in the upstream latency metric', async () => {
    const metrics = createMetrics();
    const observed = new GitRunner({ env: { PATH: process.env.PATH, HOME: work }, timeoutMs: 10_000, concurrency: 1, metrics });
    await observed.run({ args: ['-c', 'core.eol=lf', 'tag', '-l'], gitDir: repo, maxOutput: 1000, output: 'tags' });
    const text = await metrics.registry.metrics();
    assert.match(text, /godepot_upstream_request_seconds_count\{origin="direct",kind="git tag",outcome="ok"\} 1/);
  });
});

describe('gitReason', () => {
  it('shows git\'s telling lines without any password a URL carries', () => {
    assert.equal(
      gitReason("Cloning...\nfatal: repository 'https://bot:s3cr3t@git.example/x/' not found\n", 128, null),
      "fatal: repository 'https://bot:xxxxx@git.example/x/' not found (exit status 128)",
    );
    assert.equal(gitReason('', null, 'SIGKILL'), 'killed by SIGKILL');
  });
});

describe('classifyGitFailure', () => {
  it('reads git messages for missing repositories, refused credentials and refused transports', () => {
    assert.equal(classifyGitFailure("fatal: repository 'https://github.com/x/y/' not found"), 'not-found');
    assert.equal(classifyGitFailure('ERROR: Repository not found.\nfatal: Could not read from remote repository.'), 'not-found');
    assert.equal(classifyGitFailure("fatal: remote error: access denied or repository not exported: /x"), 'not-found');
    assert.equal(classifyGitFailure("fatal: could not read Username for 'https://github.com': terminal prompts disabled"), 'auth');
    assert.equal(classifyGitFailure('git@github.com: Permission denied (publickey).'), 'auth');
    assert.equal(classifyGitFailure("fatal: Authentication failed for 'https://x/'"), 'auth');
    assert.equal(classifyGitFailure("fatal: transport 'file' not allowed"), 'refused');
    assert.equal(classifyGitFailure('fatal: unable to access: Could not resolve host: x'), 'other');
  });
});

describe('ProcessSlots', () => {
  it('hands slots out in order of arrival, each freed once', async () => {
    const slots = new ProcessSlots(1);
    const first = await slots.take();
    const order: number[] = [];
    const second = slots.take().then((release) => (order.push(2), release));
    const third = slots.take().then((release) => (order.push(3), release));
    first();
    first();
    (await second)();
    (await third)();
    assert.deepEqual(order, [2, 3]);
    assert.equal(slots.inUse, 0);
  });
});
