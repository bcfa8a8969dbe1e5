// A company's own module reached the way companies reach them: its path names a vanity host whose
// go-get page names a git repository on another host, both on the company network, both over plain
// http (an insecure host), and everything goes through the outbound proxy HTTP_PROXY names. go's
// direct mode and godepot --upstream direct, given the same environment, must find the same
// repository and make the same module. The hosts are names only the test proxy resolves (to loopback
// servers), and neither go's nor godepot's processes can look them up: an answer proves the proxy
// carried it, and nothing leaves the machine.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startForwardProxy, type ForwardProxy } from '../support/forward-proxy.js';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.js';
import { TestRepo } from '../support/git-repos.js';
import { startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, parseJsonStream, type GoWorld } from '../support/go.js';
import { goImport, metaHtml, startMetaServer, type MetaServer } from '../support/meta-server.js';
import { testHostsModule } from '../support/test-hosts.js';

const MODULE = 'code.godepot.test/lib';
const REPO = 'http://git.godepot.test/lib.git';

let work: string;
let meta: MetaServer;
let gitServer: GitHttpServer;
let proxy: ForwardProxy;
let godepot: GodepotServer;
let proxyEnv: NodeJS.ProcessEnv;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-direct-proxy-'));
  const repo = await TestRepo.create(join(work, 'repos'), 'lib.git');
  await repo.commit({ 'go.mod': `module ${MODULE}\n\ngo 1.17\n`, 'lib.go': 'package lib\n\nconst Name = "lib"\n' }, '2023-03-01T10:00:00Z');
  await repo.tag('v1.0.0');
  await repo.commit({ 'lib.go': 'package lib\n\nconst Name = "lib, later"\n' }, '2023-03-02T10:00:00Z');
  await repo.publish();
  gitServer = await startGitHttpServer({ root: join(work, 'repos') });
  meta = await startMetaServer();
  meta.pages.set(MODULE, { body: metaHtml(goImport(MODULE, 'git', REPO)) });
  proxy = await startForwardProxy();
  // Port 80 of both names is the loopback server standing for it; https (443) is no one's, so the
  // insecure host's https attempt fails and go, like godepot, falls back to http.
  proxy.ports.set('code.godepot.test:80', meta.port);
  proxy.ports.set('git.godepot.test:80', gitServer.port);
  // Both names, both cases: go reads HTTP_PROXY first, git's curl http_proxy.
  proxyEnv = { HTTP_PROXY: proxy.url, http_proxy: proxy.url, HTTPS_PROXY: proxy.url, https_proxy: proxy.url, NO_PROXY: '', no_proxy: '' };
  godepot = await startGodepot({
    upstream: 'direct',
    args: ['--state-dir', join(work, 'state'), '--insecure', 'code.godepot.test'],
    env: { ...proxyEnv, HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    nodeArgs: ['--import', testHostsModule],
  });
});

after(async () => {
  await godepot?.dispose();
  await proxy?.stop();
  await meta?.stop();
  await gitServer?.stop();
  await rm(work, { recursive: true, force: true });
});

interface Downloaded {
  Version?: string;
  Sum?: string;
  GoModSum?: string;
  Error?: string;
}

async function download(world: GoWorld, query: string): Promise<Downloaded> {
  const result = await world.go(['mod', 'download', '-json', `${MODULE}@${query}`]).catch((err: Error & { cause?: { stdout?: string } }) => ({ stdout: err.cause?.stdout ?? '' }));
  return parseJsonStream(result.stdout)[0] as Downloaded;
}

test('through HTTP_PROXY to an insecure vanity host and its git server, godepot makes what go direct makes', async () => {
  const direct = await makeGoWorld('direct', { ...proxyEnv, GOINSECURE: 'code.godepot.test', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_GLOBAL: '/dev/null' });
  const through = await makeGoWorld(godepot.url);
  const queries = ['v1.0.0', 'main'];
  let godepotFrom: number;
  try {
    const wants = [];
    for (const query of queries) {
      const want = await download(direct, query);
      assert.equal(want.Error, undefined, `go direct: ${want.Error}`);
      wants.push(want);
    }
    godepotFrom = proxy.log.length;
    for (const [i, query] of queries.entries()) {
      const got = await download(through, query);
      assert.equal(got.Error, undefined, `through godepot: ${got.Error}`);
      assert.deepEqual([got.Version, got.Sum, got.GoModSum], [wants[i]!.Version, wants[i]!.Sum, wants[i]!.GoModSum], query);
    }
  } finally {
    await direct.dispose();
    await through.dispose();
  }
  // godepot went through the proxy for both hosts: the go-get page (https first, refused, then http,
  // as for go) and the smart-HTTP git requests.
  const godepotAsked = proxy.log.slice(godepotFrom).map((r) => r.target);
  assert.ok(godepotAsked.some((t) => t === `http://code.godepot.test/lib?go-get=1`), godepotAsked.join('\n'));
  assert.ok(godepotAsked.some((t) => t.startsWith(`${REPO}/info/refs?service=git-upload-pack`)), godepotAsked.join('\n'));
  assert.ok(gitServer.log.length > 0);
});
