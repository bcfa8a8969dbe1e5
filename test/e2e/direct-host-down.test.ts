// A git host that accepts connections and never answers (defect 3 of issue 11, for git hosts as issue
// 12 asks): the first git command waits out --vcs-timeout, then the host is taken for down. Stored
// versions and stale lists answer at once, every other repository on that host fails at once naming
// the host and since when, and once it answers again a background probe finds it back and modules
// come through as before.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { serveRepositories, TestRepo, type ServedRepositories } from '../support/git-repos.js';
import { startGodepot, type GodepotServer } from '../support/godepot-server.js';

// github.com's static rule names the repository, and the test's git config sends it to loopback.
const HOST = 'github.com';
const OWNER = 'godepot-down';
let work: string;
let served: ServedRepositories;
let godepot: GodepotServer;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-git-down-'));
  for (const name of ['one', 'two']) {
    const repo = await TestRepo.create(join(work, 'repos'), `${HOST}/${OWNER}/${name}`);
    await repo.commit({ 'go.mod': `module ${HOST}/${OWNER}/${name}\n\ngo 1.17\n`, [`${name}.go`]: `package ${name}\n` }, '2023-05-01T00:00:00Z');
    await repo.tag('v1.0.0');
    await repo.publish();
  }
  served = await serveRepositories(join(work, 'repos'), [HOST]);
  godepot = await startGodepot({
    upstream: 'direct',
    // The git config rewrites https to the loopback server's plain http: insecure, for godepot.
    args: ['--state-dir', join(work, 'state'), '--insecure', `${HOST}/${OWNER}`, '--vcs-timeout', '2', '--list-ttl', '0'],
    env: { HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: served.gitconfig },
  });
});

after(async () => {
  await godepot?.dispose();
  await served?.server.stop();
  await rm(work, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const res = await request(godepot.url + path);
  const body = await res.body.text();
  return { status: res.statusCode, body, ms: performance.now() - started };
}

const one = `/${HOST}/${OWNER}/one/@v`;
const two = `/${HOST}/${OWNER}/two/@v`;

test('a git host that hangs costs one time limit; then stale answers and failures come at once, until a probe finds it back', async () => {
  // Stored while the host answers.
  assert.equal((await get(`${one}/v1.0.0.zip`)).status, 200);
  assert.equal((await get(`${one}/list`)).body, 'v1.0.0\n');

  served.server.fault({ kind: 'hang' });
  const first = await get(`${one}/list`);
  assert.equal(first.status, 200, first.body);
  assert.equal(first.body, 'v1.0.0\n', 'the stored list, once the time limit passed');
  assert.ok(first.ms >= 1500, `the first listing waited for git's time limit (${first.ms} ms)`);

  // The host is down now: no git command waits for it any more.
  for (let i = 0; i < 5; i++) {
    const stale = await get(`${one}/list`);
    assert.equal(stale.body, 'v1.0.0\n');
    assert.ok(stale.ms < 500, `a stale list answered in ${stale.ms} ms`);
  }
  const cold = await get(`${two}/v1.0.0.info`);
  assert.equal(cold.status, 502, cold.body);
  assert.match(cold.body, new RegExp(`git host https://${HOST.replace(/\./g, '\\.')} considered down since \\d{4}-\\d\\d-\\d\\dT`));
  assert.ok(cold.ms < 500, `a cold file failed in ${cold.ms} ms`);
  assert.equal((await get(`${one}/v1.0.0.zip`)).status, 200, 'stored files are served');

  served.server.fault(undefined);
  // The first probe comes 2 s after the failure; give it a few more.
  let back = await get(`${two}/v1.0.0.info`);
  for (let i = 0; i < 40 && back.status !== 200; i++) {
    await sleep(250);
    back = await get(`${two}/v1.0.0.info`);
  }
  assert.equal(back.status, 200, back.body);
  assert.ok((await godepot.untilLogged((l) => l.msg === 'upstream recovered' && l.origin === `git host https://${HOST}`)).length > 0);
});
