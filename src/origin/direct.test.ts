import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { RepoRoot } from '../vcs/repo-root.js';
import { DirectOrigin } from './direct.js';
import { CONTRACT_MODULES, writeGoproxyTree } from './origin.contract.js';
import { ProxyOrigin } from './proxy.js';

// Two GOPROXY trees stand for the two ways a repository can be served: `repos` for what the git origin
// reads, `modProxy` for the proxy a `mod` meta tag names. What each was asked shows which one answered.
let dir: string;
let repos: Upstream;
let modProxy: Upstream;
const origins: ProxyOrigin[] = [];
const M = 'example.com/contract/plain';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'godepot-direct-'));
  await writeGoproxyTree(join(dir, 'tree'), CONTRACT_MODULES);
  repos = await startUpstream({ root: join(dir, 'tree') });
  modProxy = await startUpstream({ root: join(dir, 'tree') });
});

after(async () => {
  await Promise.all(origins.map((o) => o.close()));
  await repos.stop();
  await modProxy.stop();
  await rm(dir, { recursive: true, force: true });
});

function direct(roots: Record<string, RepoRoot>, forbid = new Set<string>()): DirectOrigin {
  const origin = (url: string): ProxyOrigin => {
    const o = new ProxyOrigin({ url, retries: 0 });
    origins.push(o);
    return o;
  };
  return new DirectOrigin({
    resolve: async (modulePath) => {
      const root = roots[modulePath];
      if (root === undefined) throw new NotFoundError(`unrecognized import path "${modulePath}"`);
      return root;
    },
    git: origin(repos.url),
    proxy: origin,
    checkVcs: (root, vcs) => {
      if (forbid.has(vcs)) throw new ForbiddenError(`GOVCS disallows using ${vcs} for public ${root}`);
    },
  });
}

const git: RepoRoot = { root: M, vcs: 'git', urls: ['https://example.com/contract/plain'], fromMetaTag: true };

test('a git repository is read by the git origin, every file of one download asked for together', async () => {
  repos.clearLog();
  const d = direct({ [M]: git });
  assert.ok((await d.list(M)).includes('v1.1.0'));
  const zipTo = join(dir, 'direct.zip');
  const download = d.download(M, 'v1.0.0', { info: true, mod: true, zipTo });
  const [info, mod, size] = await Promise.all([download.info!, download.mod!, download.zip!]);
  assert.equal(JSON.parse(info.toString()).Version, 'v1.0.0');
  assert.match(mod.toString(), /^module example\.com\/contract\/plain/);
  assert.equal((await stat(zipTo)).size, size);
  assert.deepEqual(repos.requests.sort(), [`/${M}/@v/list`, `/${M}/@v/v1.0.0.info`, `/${M}/@v/v1.0.0.mod`, `/${M}/@v/v1.0.0.zip`].sort());
});

test('a mod meta tag sends the module to the proxy it names', async () => {
  repos.clearLog();
  modProxy.clearLog();
  const d = direct({ [M]: { root: 'example.com/contract', vcs: 'mod', urls: [modProxy.url], fromMetaTag: true } });
  assert.equal(JSON.parse((await d.query(M, 'v1.0.0')).toString()).Version, 'v1.0.0');
  assert.deepEqual(modProxy.requests, [`/${M}/@v/v1.0.0.info`]);
  assert.deepEqual(repos.requests, []);
});

test('GOVCS refusing the VCS stops every call before any repository is asked; a path without repository is not found', async () => {
  repos.clearLog();
  const d = direct({ [M]: git }, new Set(['git']));
  await assert.rejects(d.list(M), ForbiddenError);
  await assert.rejects(d.download(M, 'v1.0.0', { info: true }).info!, ForbiddenError);
  assert.deepEqual(repos.requests, []);
  await assert.rejects(d.query('example.com/nowhere', 'latest'), NotFoundError);
});
