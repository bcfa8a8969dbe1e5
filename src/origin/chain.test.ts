import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { ConfigError, GoneError, OriginUnavailableError, TimeoutError, UpstreamError } from '../errors.js';
import { createChain, parseGoproxyList, type Chain, type ChainOptions } from './chain.js';
import { CONTRACT_MODULES, originContract, writeGoproxyTree } from './origin.contract.js';
import { NoDirect } from '../../test/support/no-direct.js';

describe('parseGoproxyList', () => {
  it('splits on , and | as go does, adding https:// to bare hosts', () => {
    assert.deepEqual(parseGoproxyList('https://proxy.golang.org,direct'), [
      { kind: 'proxy', url: 'https://proxy.golang.org', fallBackOnError: false },
      { kind: 'direct', url: 'direct', fallBackOnError: false },
    ]);
    assert.deepEqual(parseGoproxyList(' a.example | http://b.example:8080/p/ ,off,https://never.example'), [
      { kind: 'proxy', url: 'https://a.example', fallBackOnError: true },
      { kind: 'proxy', url: 'http://b.example:8080/p/', fallBackOnError: false },
      { kind: 'off', url: 'off', fallBackOnError: false },
    ]);
    assert.deepEqual(parseGoproxyList(',, localhost:3000|'), [{ kind: 'proxy', url: 'https://localhost:3000', fallBackOnError: true }]);
    assert.deepEqual(parseGoproxyList('direct|https://x.example'), [{ kind: 'direct', url: 'direct', fallBackOnError: true }]);
    assert.deepEqual(parseGoproxyList('off'), [{ kind: 'off', url: 'off', fallBackOnError: false }]);
    assert.deepEqual(parseGoproxyList('file:///srv/goproxy'), [{ kind: 'proxy', url: 'file:///srv/goproxy', fallBackOnError: false }]);
  });

  it('rejects lists without entries and invalid URLs with ConfigError naming the value', () => {
    const cases: [string, RegExp][] = [
      ['', /contains no entries/],
      [' , | ', /contains no entries/],
      ['noproxy', /"noproxy": invalid proxy URL missing scheme: noproxy/],
      ['/srv/goproxy', /missing scheme: \/srv\/goproxy/],
      ['ftp://x.example', /must be https, http, file/],
      ['https://ok.example,file://host/path', /non-path elements/],
    ];
    for (const [spec, message] of cases) {
      assert.throws(() => parseGoproxyList(spec), (err: Error) => err instanceof ConfigError && message.test(err.message) && err.message.startsWith('upstream:'), spec);
    }
  });
});

originContract('chain falling through a proxy that has nothing', async (modules, scratch) => {
  await writeGoproxyTree(join(scratch, 'tree'), modules);
  await mkdir(join(scratch, 'empty'));
  const empty = await startUpstream({ root: join(scratch, 'empty') });
  const full = await startUpstream({ root: join(scratch, 'tree') });
  const chain = createChain({ upstream: `${empty.url},${full.url}`, direct: new NoDirect(), timeoutMs: 5000, retries: 0 });
  return {
    origin: chain,
    async close() {
      await chain.close();
      await empty.stop();
      await full.stop();
    },
  };
});

const M = 'example.com/contract/plain';
const INFO = `/${M}/@v/v1.0.0.info`;

/** An origin that counts calls, standing in for `direct` where the test must see whether it was asked. */
class CountingDirect extends NoDirect {
  calls = 0;
  override query(modulePath: string, query: string, signal?: AbortSignal): Promise<Buffer> {
    this.calls++;
    return super.query(modulePath, query, signal);
  }
}

describe('createChain', () => {
  let root: string;
  let a: Upstream;
  let b: Upstream;
  const chains: Chain[] = [];

  function chain(upstream: string, options: Partial<ChainOptions> = {}): Chain {
    const c = createChain({ upstream, direct: new NoDirect(), timeoutMs: 2000, retries: 0, ...options });
    chains.push(c);
    return c;
  }

  async function version(p: Promise<Buffer>): Promise<string> {
    return (JSON.parse((await p).toString()) as { Version: string }).Version;
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'godepot-chain-'));
    await writeGoproxyTree(join(root, 'tree'), CONTRACT_MODULES);
    a = await startUpstream({ root: join(root, 'tree') });
    b = await startUpstream({ root: join(root, 'tree') });
  });

  after(async () => {
    await Promise.all(chains.map((c) => c.close()));
    await a.stop();
    await b.stop();
    await rm(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    for (const u of [a, b]) {
      u.clearFaults();
      u.clearLog();
    }
  });

  it('a comma falls through only on 404/410', async () => {
    a.fault(INFO, { status: 404 });
    assert.equal(await version(chain(`${a.url},${b.url}`).query(M, 'v1.0.0')), 'v1.0.0');
    a.fault(INFO, { status: 410 });
    assert.equal(await version(chain(`${a.url},${b.url}`).query(M, 'v1.0.0')), 'v1.0.0');
    assert.equal(b.countOf(INFO), 2);
    a.fault(INFO, { status: 500 });
    await assert.rejects(chain(`${a.url},${b.url}`).query(M, 'v1.0.0'), (err: Error) => err instanceof UpstreamError && err.status === 500);
    assert.equal(b.countOf(INFO), 2);
  });

  it('a pipe falls through on any error', async () => {
    a.fault(INFO, { status: 500 });
    assert.equal(await version(chain(`${a.url}|${b.url}`).query(M, 'v1.0.0')), 'v1.0.0');
    a.fault(INFO, { status: 403 });
    assert.equal(await version(chain(`${a.url}|${b.url}`).query(M, 'v1.0.0')), 'v1.0.0');
    assert.equal(b.countOf(INFO), 2);
  });

  it('a timing-out first proxy stops a comma list and is skipped by a pipe list', async () => {
    a.fault(INFO, { hang: true });
    await assert.rejects(chain(`${a.url},${b.url}`, { timeoutMs: 200 }).query(M, 'v1.0.0'), TimeoutError);
    assert.equal(b.countOf(INFO), 0);
    assert.equal(await version(chain(`${a.url}|${b.url}`, { timeoutMs: 200 }).query(M, 'v1.0.0')), 'v1.0.0');
    assert.equal(b.countOf(INFO), 1);
  });

  it('off fails naming the setting, and counts as not found when ranking errors', async () => {
    await assert.rejects(chain('off').list(M), (err: Error) => err instanceof OriginUnavailableError && err.message === 'module lookup disabled by --upstream off');
    a.fault(INFO, { status: 404 });
    await assert.rejects(chain(`${a.url},off,${b.url}`).query(M, 'v1.0.0'), (err: Error) => err.message === 'module lookup disabled by the off ending --upstream');
    a.fault(INFO, { status: 503 });
    await assert.rejects(chain(`${a.url}|off`).query(M, 'v1.0.0'), (err: Error) => err instanceof UpstreamError && err.status === 503);
    assert.equal(b.requests.length, 0);
  });

  it('direct is tried after not-found, and its error is the one reported', async () => {
    const direct = new CountingDirect();
    a.fault(INFO, { status: 404 });
    await assert.rejects(chain(`${a.url},direct`, { direct }).query(M, 'v1.0.0'), (err: Error) => err instanceof OriginUnavailableError && err.message.startsWith('direct mode not available'));
    assert.equal(direct.calls, 1);
    a.fault(INFO, { status: 500 });
    await assert.rejects(chain(`${a.url},direct`, { direct }).query(M, 'v1.0.0'), UpstreamError);
    assert.equal(direct.calls, 1);
    await assert.rejects(chain(`${a.url}|direct`, { direct }).query(M, 'v1.0.0'), OriginUnavailableError);
    assert.equal(direct.calls, 2);
  });

  it('reports the first proxy failure over later not-founds, else the last not-found', async () => {
    a.fault(INFO, { status: 502 });
    b.fault(INFO, { status: 404, body: 'b has nothing\n' });
    await assert.rejects(chain(`${a.url}|${b.url}`).query(M, 'v1.0.0'), (err: Error) => err instanceof UpstreamError && err.status === 502);
    a.fault(INFO, { status: 404, body: 'a has nothing\n' });
    b.fault(INFO, { status: 410, body: 'b lost it\n' });
    await assert.rejects(chain(`${a.url},${b.url}`).query(M, 'v1.0.0'), (err: Error) => err instanceof GoneError && err.message === `${b.url}${INFO} answered 410: b lost it`);
  });

  it('rejects file:// upstreams with ConfigError', () => {
    assert.throws(() => createChain({ upstream: 'file:///srv/goproxy', direct: new NoDirect() }), ConfigError);
  });

  it('downloads every file from the first proxy at once; a file it lacks falls through alone', async () => {
    const zip = `/${M}/@v/v1.0.0.zip`;
    a.fault(zip, { status: 404 });
    const zipTo = join(root, `fall-through-${Date.now()}.zip`);
    const download = chain(`${a.url},${b.url}`).download(M, 'v1.0.0', { info: true, mod: true, zipTo });
    const [info, mod, size] = await Promise.all([download.info!, download.mod!, download.zip!]);
    assert.equal(await version(Promise.resolve(info)), 'v1.0.0');
    assert.match(mod.toString(), /^module example\.com\/contract\/plain/);
    assert.equal((await stat(zipTo)).size, size);
    assert.deepEqual([a.countOf(INFO), a.countOf(`/${M}/@v/v1.0.0.mod`), a.countOf(zip)], [1, 1, 1]);
    assert.deepEqual(b.requests, [zip]);
    await rm(zipTo);
  });

  it('a failed zip part leaves no file behind', async () => {
    const zip = `/${M}/@v/v1.0.0.zip`;
    a.fault(zip, { resetAfterBytes: 10 });
    const zipTo = join(root, `cut-${Date.now()}.zip`);
    await assert.rejects(chain(a.url).download(M, 'v1.0.0', { zipTo }).zip!, UpstreamError);
    await assert.rejects(stat(zipTo), { code: 'ENOENT' });
  });

  it('stops at once when aborted', async () => {
    await assert.rejects(chain(`${a.url},${b.url}`).query(M, 'v1.0.0', AbortSignal.abort()), (err: Error) => err.name === 'AbortError');
    const controller = new AbortController();
    a.fault(INFO, { hang: true });
    const call = chain(`${a.url}|${b.url}`, { timeoutMs: 10_000 }).query(M, 'v1.0.0', controller.signal);
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(call, (err: Error) => err.name === 'AbortError');
    assert.equal(b.requests.length, 0);
  });
});
