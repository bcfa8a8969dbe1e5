import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { createChain, type Chain } from './chain.js';
import { HostedOrigin } from './hosted.js';
import { CONTRACT_MODULES, writeGoproxyTree } from './origin.contract.js';
import type { Download, DownloadRequest, Origin } from './origin.js';
import { ProxyOrigin } from './proxy.js';
import { deadRule, Routing, RoutingOrigin, type RouteRule } from './routing.js';

const FILE = 'config file godepot.yaml';

/** The rules of a typical configuration: the file's, then --private and GONOPROXY as serve adds them. */
const rules: RouteRule[] = [
  { match: ['corp.example.com/published/*'], route: 'hosted', sumdb: false, source: `${FILE}: rule 1` },
  { match: ['corp.example.com/*'], route: 'direct', sumdb: false, source: `${FILE}: rule 2` },
  { match: ['evil.example.com', 'bad.example.com/x'], route: 'deny', sumdb: false, source: `${FILE}: rule 3` },
  { match: ['github.com/corp/mirrored'], route: 'upstream', sumdb: true, source: `${FILE}: rule 4` },
  { match: ['*.internal.example', 'github.com/corp'], route: 'direct', sumdb: false, source: '--private' },
  { match: ['gitlab.example'], route: 'direct', sumdb: true, source: 'GONOPROXY' },
];

function routing(over: Partial<ConstructorParameters<typeof Routing>[0]> = {}): Routing {
  return new Routing({ rules, noSumdb: ['*.internal.example', 'github.com/corp', 'nosum.example'], private: ['*.internal.example', 'github.com/corp'], govcs: [], ...over });
}

describe('Routing', () => {
  it('decides by the first matching rule; the rest goes upstream; sumdb yields to the no-sumdb patterns', () => {
    const r = routing();
    // module path, route, may be looked up, the rule's source (null: the default)
    const table: [string, string, boolean, string | null][] = [
      ['corp.example.com/published/lib', 'hosted', false, `${FILE}: rule 1`],
      ['corp.example.com/published/lib/v2', 'hosted', false, `${FILE}: rule 1`],
      ['corp.example.com/app', 'direct', false, `${FILE}: rule 2`],
      ['corp.example.com', 'upstream', true, null],
      ['evil.example.com', 'deny', false, `${FILE}: rule 3`],
      ['evil.example.com/anything/v3', 'deny', false, `${FILE}: rule 3`],
      ['bad.example.com/x/y', 'deny', false, `${FILE}: rule 3`],
      ['bad.example.com/y', 'upstream', true, null],
      // an explicit rule before --private decides the route; --private still keeps it from the database
      ['github.com/corp/mirrored', 'upstream', false, `${FILE}: rule 4`],
      ['github.com/corp/other', 'direct', false, '--private'],
      ['git.internal.example/team/x', 'direct', false, '--private'],
      ['gitlab.example/group/x', 'direct', true, 'GONOPROXY'],
      ['nosum.example/x', 'upstream', false, null],
      ['golang.org/x/text', 'upstream', true, null],
    ];
    for (const [modulePath, route, sumdb, source] of table) {
      const decision = r.routeOf(modulePath);
      assert.deepEqual([decision.route, decision.sumdb, decision.rule?.source ?? null], [route, sumdb, source], modulePath);
      assert.equal(r.sumdbAllowed(modulePath), sumdb, modulePath);
    }
    assert.equal(r.denies, true);
    assert.equal(routing({ rules: rules.filter((rule) => rule.route !== 'deny') }).denies, false);
  });

  it('refuses a denied module with ForbiddenError naming the rule', () => {
    const r = routing();
    assert.throws(
      () => r.checkAllowed('evil.example.com/x'),
      (err: Error) => err instanceof ForbiddenError && err.message === `evil.example.com/x: denied by ${FILE}: rule 3 (match "evil.example.com,bad.example.com/x")`,
    );
    r.checkAllowed('corp.example.com/app');
    r.checkAllowed('golang.org/x/text');
  });

  it("checks GOVCS with go's text; a private path is one matching --private", () => {
    const r = routing({ govcs: [{ pattern: 'public', allowed: ['hg'] }, { pattern: 'private', allowed: ['off'] }] });
    assert.throws(() => r.checkVcs('github.com/google/go-cmp', 'git'), (err: Error) => err instanceof ForbiddenError && err.message === "GOVCS disallows using git for public github.com/google/go-cmp; see 'go help vcs'");
    assert.throws(() => r.checkVcs('git.internal.example/team', 'git'), (err: Error) => err instanceof ForbiddenError && err.message === "GOVCS disallows using git for private git.internal.example/team; see 'go help vcs'");
    r.checkVcs('github.com/google/go-cmp', 'hg');
    // a go-import of the GOPROXY protocol involves no version control command
    r.checkVcs('git.internal.example/team', 'mod');
    // go's defaults: public:git|hg, private:all
    const defaults = routing();
    defaults.checkVcs('github.com/google/go-cmp', 'git');
    defaults.checkVcs('git.internal.example/team', 'svn');
    assert.throws(() => defaults.checkVcs('rsc.io/nonexist.svn', 'svn'), /^ForbiddenError: GOVCS disallows using svn for public rsc.io\/nonexist.svn; see 'go help vcs'$/);
  });

  it('describes every rule in order with its source, then the default', () => {
    assert.deepEqual(routing().describe(), [
      { match: 'corp.example.com/published/*', route: 'hosted', sumdb: false, source: `${FILE}: rule 1` },
      { match: 'corp.example.com/*', route: 'direct', sumdb: false, source: `${FILE}: rule 2` },
      { match: 'evil.example.com,bad.example.com/x', route: 'deny', sumdb: false, source: `${FILE}: rule 3` },
      { match: 'github.com/corp/mirrored', route: 'upstream', sumdb: true, source: `${FILE}: rule 4` },
      { match: '*.internal.example,github.com/corp', route: 'direct', sumdb: false, source: '--private' },
      { match: 'gitlab.example', route: 'direct', sumdb: true, source: 'GONOPROXY' },
      { route: 'upstream', sumdb: true, source: 'default' },
    ]);
  });

  it('deadRule finds a rule every glob of which is taken first, and nothing in the typical rules', () => {
    assert.equal(deadRule(rules), null);
    const shadowed: RouteRule = { match: ['corp.example.com/published/x'], route: 'deny', sumdb: false, source: `${FILE}: rule 7` };
    assert.deepEqual(deadRule([...rules, shadowed]), { rule: shadowed, shadowedBy: [rules[0]] });
  });
});

/** An origin that records the calls it gets and answers each with its name. */
class NamedOrigin implements Origin {
  readonly calls: string[] = [];
  constructor(readonly name: string) {}
  async list(modulePath: string): Promise<string[]> {
    this.calls.push(`list ${modulePath}`);
    return [this.name];
  }
  async query(modulePath: string, query: string): Promise<Buffer> {
    this.calls.push(`query ${modulePath}@${query}`);
    return Buffer.from(this.name);
  }
  download(modulePath: string, version: string, _request: DownloadRequest): Download {
    this.calls.push(`download ${modulePath}@${version}`);
    return { info: Promise.resolve(Buffer.from(this.name)) };
  }
}

describe('RoutingOrigin', () => {
  it("hands each call to its route's origin; a denied module reaches none", async () => {
    const upstream = new NamedOrigin('upstream');
    const direct = new NamedOrigin('direct');
    const hosted = new NamedOrigin('hosted');
    const origin = new RoutingOrigin(routing(), { upstream, direct, hosted });
    assert.deepEqual(await origin.list('golang.org/x/text'), ['upstream']);
    assert.deepEqual(await origin.list('corp.example.com/app'), ['direct']);
    assert.deepEqual(await origin.list('corp.example.com/published/lib'), ['hosted']);
    assert.equal((await origin.query('git.internal.example/x', 'latest')).toString(), 'direct');
    assert.equal((await origin.download('github.com/corp/mirrored', 'v1.0.0', { info: true }).info!).toString(), 'upstream');

    await assert.rejects(origin.list('evil.example.com/x'), ForbiddenError);
    await assert.rejects(origin.query('evil.example.com/x', 'latest'), ForbiddenError);
    const download = origin.download('evil.example.com/x', 'v1.0.0', { info: true, mod: true, zipTo: '/nonexistent/x.zip' });
    for (const part of [download.info, download.mod, download.zip]) await assert.rejects(part!, /denied by config file godepot.yaml: rule 3/);
    assert.deepEqual([...upstream.calls, ...direct.calls, ...hosted.calls].filter((call) => call.includes('evil')), []);
  });

  it('HostedOrigin has nothing: not found, so the depot answers from storage alone', async () => {
    const hosted = new HostedOrigin();
    await assert.rejects(hosted.list('corp.example.com/published/lib'), (err: Error) => err instanceof NotFoundError && /not published to godepot/.test(err.message));
    await assert.rejects(hosted.query('corp.example.com/published/lib', 'latest'), NotFoundError);
    await assert.rejects(hosted.download('corp.example.com/published/lib', 'v1.0.0', { info: true }).info!, (err: Error) => err instanceof NotFoundError && err.message.startsWith('corp.example.com/published/lib@v1.0.0: '));
    await assert.rejects(hosted.list('x.example/m', AbortSignal.abort()), (err: Error) => err.name === 'AbortError');
  });

  describe('over a real chain', () => {
    let root: string;
    let a: Upstream;
    let b: Upstream;
    let vcs: Upstream;
    const chains: Chain[] = [];
    const M = 'example.com/contract/plain';
    const INFO = `/${M}/@v/v1.0.0.info`;

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'godepot-routing-'));
      await writeGoproxyTree(join(root, 'tree'), CONTRACT_MODULES);
      a = await startUpstream({ root: join(root, 'tree') });
      b = await startUpstream({ root: join(root, 'tree') });
      vcs = await startUpstream({ root: join(root, 'tree') });
    });

    after(async () => {
      await Promise.all(chains.map((c) => c.close()));
      for (const u of [a, b, vcs]) await u.stop();
      await rm(root, { recursive: true, force: true });
    });

    it('sends private modules to direct only, never to a proxy, whatever the GOPROXY list (off and direct too)', async () => {
      // A proxy origin standing in for direct: it shows which requests went "direct".
      const direct = new ProxyOrigin({ url: vcs.url, retries: 0 });
      const privateRouting = new Routing({
        rules: [{ match: ['*.corp.example', 'example.com/contract'], route: 'direct', sumdb: false, source: '--private' }],
        noSumdb: [],
        private: [],
        govcs: [],
      });
      try {
        for (const list of [`${a.url},${b.url},direct`, `${a.url}|off`, 'off', 'direct']) {
          const chain = createChain({ upstream: list, direct, timeoutMs: 2000, retries: 0 });
          chains.push(chain);
          const origin = new RoutingOrigin(privateRouting, { upstream: chain, direct, hosted: new HostedOrigin() });
          assert.equal(JSON.parse((await origin.query(M, 'v1.0.0')).toString()).Version, 'v1.0.0');
          assert.ok((await origin.list(M)).includes('v1.1.0'));
          await assert.rejects(origin.query(M, 'v9.0.0'), NotFoundError);
        }
        assert.deepEqual(a.requests, []);
        assert.deepEqual(b.requests, []);
        assert.equal(vcs.countOf(INFO), 4);
        // A module outside the patterns still goes through the proxies.
        const chain = createChain({ upstream: `${a.url},direct`, direct, timeoutMs: 2000, retries: 0 });
        chains.push(chain);
        const narrower = new Routing({ rules: [{ match: [M], route: 'direct', sumdb: false, source: '--private' }], noSumdb: [], private: [], govcs: [] });
        const origin = new RoutingOrigin(narrower, { upstream: chain, direct, hosted: new HostedOrigin() });
        assert.equal(JSON.parse((await origin.query('example.com/contract/Upper', 'v0.1.0')).toString()).Version, 'v0.1.0');
        assert.equal(a.requests.length, 1);
      } finally {
        await direct.close();
      }
    });
  });
});
