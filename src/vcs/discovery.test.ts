import '../../test/support/test-hosts.js';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { after, before, test } from 'node:test';
import { NotFoundError, TimeoutError, UpstreamError } from '../errors.js';
import { Transport } from '../http/transport.js';
import { InvalidPathError } from '../module/path.js';
import { startForwardProxy, type ForwardProxy } from '../../test/support/forward-proxy.js';
import { goImport, metaHtml, startMetaServer, type MetaServer } from '../../test/support/meta-server.js';
import { makeTestCertificates } from '../../test/support/tls.js';
import { RepoDiscovery, type RepoDiscoveryOptions } from './discovery.js';
import { ImportPathError, VcsNotSupportedError } from './errors.js';
import type { RepoRoot } from './repo-root.js';

// The fake hosts: meta.godepot.test answers over plain http only (its https port is closed), as an
// insecure host; secure.godepot.test over https with a test CA; loose.godepot.test over https with a
// certificate for another name, as an insecure host. Only the test proxy resolves them.
const INSECURE = 'meta.godepot.test,other.godepot.test,loose.godepot.test';

let work: string;
let proxy: ForwardProxy;
let plain: MetaServer;
let tls: MetaServer;
let caFile: string;
const transports: Transport[] = [];

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-discovery-'));
  const certificates = await makeTestCertificates(work, 'secure.godepot.test');
  caFile = certificates.caFile;
  proxy = await startForwardProxy();
  plain = await startMetaServer();
  tls = await startMetaServer({ tls: { key: certificates.key, cert: certificates.cert } });
  proxy.ports.set('meta.godepot.test:80', plain.port);
  proxy.ports.set('meta.godepot.test:443', await closedPort());
  proxy.ports.set('other.godepot.test:80', plain.port);
  proxy.ports.set('secure.godepot.test:443', tls.port);
  proxy.ports.set('secure.godepot.test:80', plain.port);
  proxy.ports.set('loose.godepot.test:443', tls.port);
  proxy.ports.set('loose.godepot.test:80', plain.port);
});

after(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await proxy?.stop();
  await plain?.stop();
  await tls?.stop();
  await rm(work, { recursive: true, force: true });
});

/** A discovery through the test proxy, with the insecure patterns above unless told otherwise. */
function discovery(options: Partial<RepoDiscoveryOptions> & { ca?: readonly string[]; noProxy?: string } = {}): RepoDiscovery {
  const transport = new Transport({ proxy: { http: proxy.url, https: proxy.url, noProxy: options.noProxy ?? '' }, ca: options.ca, timeoutMs: 5000 });
  transports.push(transport);
  return new RepoDiscovery({ insecure: INSECURE, cacheTtlMs: 0, ...options, transport });
}

function page(hostPath: string, ...tags: string[]): void {
  plain.pages.set(hostPath, { body: metaHtml(...tags) });
}

const git = (root: string, ...urls: string[]): RepoRoot => ({ root, vcs: 'git', urls, fromMetaTag: false });
const tagged = (root: string, vcs: string, url: string): RepoRoot => ({ root, vcs, urls: [url], fromMetaTag: true });

/** What resolve gave: the RepoRoot, or the error's class name and message. */
async function outcome(d: RepoDiscovery, modulePath: string): Promise<RepoRoot | string> {
  try {
    return await d.resolve(modulePath);
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}

test('the hosting sites go knows, and paths naming their VCS: found without any request', async () => {
  const d = discovery();
  proxy.log.length = 0;
  const cases: Array<[string, RepoRoot | string]> = [
    ['github.com/user/repo', git('github.com/user/repo', 'https://github.com/user/repo')],
    ['github.com/user/repo/sub/v2', git('github.com/user/repo', 'https://github.com/user/repo')],
    ['github.com/user', 'ImportPathError: invalid github.com import path "github.com/user"'],
    ['github.com/user/repo.git', 'ImportPathError: invalid version control suffix in github.com/ path'],
    ['github.com/user/repo.hg/sub', 'ImportPathError: invalid version control suffix in github.com/ path'],
    ['bitbucket.org/user/repo/sub', git('bitbucket.org/user/repo', 'https://bitbucket.org/user/repo')],
    ['hub.jazz.net/git/user/project/sub', git('hub.jazz.net/git/user/project', 'https://hub.jazz.net/git/user/project')],
    ['hub.jazz.net/git/User/project', 'ImportPathError: invalid hub.jazz.net/git import path "hub.jazz.net/git/User/project"'],
    ['git.apache.org/thrift.git/lib/go', git('git.apache.org/thrift.git', 'https://git.apache.org/thrift.git')],
    ['git.apache.org/thrift', 'ImportPathError: invalid git.apache.org import path "git.apache.org/thrift"'],
    ['git.openstack.org/openstack/swift/sub', git('git.openstack.org/openstack/swift', 'https://git.openstack.org/openstack/swift')],
    ['chiselapp.com/user/kyle/repository/fossilgg', 'VcsNotSupportedError: chiselapp.com/user/kyle/repository/fossilgg: https://chiselapp.com/user/kyle/repository/fossilgg is a Fossil (fossil) repository; godepot fetches modules from git repositories only'],
    // A path naming git: each scheme go tries, only the secure ones for a host not matching the patterns.
    ['secure.godepot.test/repo.git/sub', git('secure.godepot.test/repo.git', 'https://secure.godepot.test/repo', 'git+ssh://secure.godepot.test/repo', 'ssh://secure.godepot.test/repo')],
    [
      'meta.godepot.test/~user/repo.git',
      git('meta.godepot.test/~user/repo.git', 'git://meta.godepot.test/~user/repo', 'https://meta.godepot.test/~user/repo', 'http://meta.godepot.test/~user/repo', 'git+ssh://meta.godepot.test/~user/repo', 'ssh://meta.godepot.test/~user/repo'),
    ],
    // go's pattern under Perl's rules, as go's regexp applies them: each element is first taken whole,
    // so `a.git` is read as a directory when a later element ends in `.git` too.
    ['secure.godepot.test/a.git/b.git/c', git('secure.godepot.test/a.git/b.git', 'https://secure.godepot.test/a.git/b', 'git+ssh://secure.godepot.test/a.git/b', 'ssh://secure.godepot.test/a.git/b')],
    ['secure.godepot.test/a.hg/b.git', git('secure.godepot.test/a.hg/b.git', 'https://secure.godepot.test/a.hg/b', 'git+ssh://secure.godepot.test/a.hg/b', 'ssh://secure.godepot.test/a.hg/b')],
    ['secure.godepot.test/repo.hg/sub', 'VcsNotSupportedError: secure.godepot.test/repo.hg/sub: secure.godepot.test/repo.hg is a Mercurial (hg) repository; godepot fetches modules from git repositories only'],
    ['secure.godepot.test/repo.svn', 'VcsNotSupportedError: secure.godepot.test/repo.svn: secure.godepot.test/repo.svn is a Subversion (svn) repository; godepot fetches modules from git repositories only'],
  ];
  for (const [modulePath, want] of cases) assert.deepEqual(await outcome(d, modulePath), want, modulePath);
  assert.deepEqual(proxy.log, [], 'no request');
  await assert.rejects(d.resolve('nodot/x'), InvalidPathError);
});

test('meta tags: the root at the path, at a prefix (the module in a subdirectory), the mod form, tags in a 404 page, a redirect to another host', async () => {
  page('meta.godepot.test/x', goImport('meta.godepot.test/x', 'git', 'https://git.godepot.test/x.git'));
  page('meta.godepot.test/sub/y', goImport('meta.godepot.test/sub', 'git', 'https://git.godepot.test/sub'));
  page('meta.godepot.test/sub', goImport('meta.godepot.test/sub', 'git', 'https://git.godepot.test/sub'));
  page('meta.godepot.test/mod', goImport('meta.godepot.test/mod', 'mod', 'http://proxy.godepot.test/'), goImport('meta.godepot.test/mod', 'git', 'https://git.godepot.test/mod'));
  page('meta.godepot.test/gitproto', goImport('meta.godepot.test/gitproto', 'git', 'git://git.godepot.test/gitproto'));
  page('meta.godepot.test/ssh', goImport('meta.godepot.test/ssh', 'git', 'ssh://git@git.godepot.test:2222/ssh.git'));
  plain.pages.set('meta.godepot.test/in404', { status: 404, body: metaHtml(goImport('meta.godepot.test/in404', 'git', 'https://git.godepot.test/in404')) });
  plain.pages.set('meta.godepot.test/moved', { redirect: 'http://other.godepot.test/elsewhere?go-get=1' });
  page('other.godepot.test/elsewhere', goImport('meta.godepot.test/moved', 'git', 'https://git.godepot.test/moved'));
  const d = discovery();
  proxy.log.length = 0;
  assert.deepEqual(await outcome(d, 'meta.godepot.test/x'), tagged('meta.godepot.test/x', 'git', 'https://git.godepot.test/x.git'));
  assert.deepEqual(await outcome(d, 'meta.godepot.test/sub/y'), tagged('meta.godepot.test/sub', 'git', 'https://git.godepot.test/sub'));
  assert.deepEqual(await outcome(d, 'meta.godepot.test/mod'), tagged('meta.godepot.test/mod', 'mod', 'http://proxy.godepot.test/'));
  assert.deepEqual(await outcome(d, 'meta.godepot.test/gitproto'), tagged('meta.godepot.test/gitproto', 'git', 'git://git.godepot.test/gitproto'));
  assert.deepEqual(await outcome(d, 'meta.godepot.test/ssh'), tagged('meta.godepot.test/ssh', 'git', 'ssh://git@git.godepot.test:2222/ssh.git'));
  assert.deepEqual(await outcome(d, 'meta.godepot.test/in404'), tagged('meta.godepot.test/in404', 'git', 'https://git.godepot.test/in404'));
  assert.deepEqual(await outcome(d, 'meta.godepot.test/moved'), tagged('meta.godepot.test/moved', 'git', 'https://git.godepot.test/moved'));
  // As go does for an insecure host: https first (its port is closed here), then http; both through the proxy.
  const asked = proxy.log.map((r) => `${r.method} ${r.target}`);
  for (const line of ['CONNECT meta.godepot.test:443', 'GET http://meta.godepot.test/x?go-get=1', 'GET http://meta.godepot.test/sub/y?go-get=1', 'GET http://meta.godepot.test/sub?go-get=1', 'GET http://other.godepot.test/elsewhere?go-get=1']) {
    assert.ok(asked.includes(line), `${line} in\n${asked.join('\n')}`);
  }
});

test('meta tags that name no repository, or one godepot refuses: go\'s errors, typed', async () => {
  plain.pages.set('meta.godepot.test/e500', { status: 500, contentType: 'text/plain', body: 'database down\n' });
  page('meta.godepot.test/lie/y', goImport('meta.godepot.test/lie', 'git', 'https://git.godepot.test/claimed'));
  page('meta.godepot.test/lie', goImport('meta.godepot.test/lie', 'git', 'https://git.godepot.test/real'));
  page('meta.godepot.test/orphan/y', goImport('meta.godepot.test/orphan', 'git', 'https://git.godepot.test/orphan'));
  page('meta.godepot.test/multi/y', goImport('meta.godepot.test/multi', 'git', 'https://git.godepot.test/a'), goImport('meta.godepot.test/multi/y', 'git', 'https://git.godepot.test/b'));
  page('meta.godepot.test/elsewhere', goImport('meta.godepot.test/other', 'git', 'https://git.godepot.test/other'));
  plain.pages.set('meta.godepot.test/script', { body: `<html><head><script>if (a < b) {}</script>${goImport('meta.godepot.test/script', 'git', 'https://x')}</head></html>` });
  page('meta.godepot.test/hg', goImport('meta.godepot.test/hg', 'hg', 'https://hg.godepot.test/hg'));
  page('meta.godepot.test/cvs', goImport('meta.godepot.test/cvs', 'cvs', 'https://cvs.godepot.test/cvs'));
  page('meta.godepot.test/file', goImport('meta.godepot.test/file', 'git', 'file:///srv/git/file'));
  page('meta.godepot.test/ext', goImport('meta.godepot.test/ext', 'git', 'ext::sh%20-c%20touch%20pwned'));
  page('meta.godepot.test/noscheme', goImport('meta.godepot.test/noscheme', 'git', 'git.godepot.test/noscheme'));
  page('meta.godepot.test/scp', goImport('meta.godepot.test/scp', 'git', 'git@git.godepot.test:scp.git'));
  page('meta.godepot.test/modssh', goImport('meta.godepot.test/modssh', 'mod', 'ssh://proxy.godepot.test/'));
  const d = discovery();
  const url = (path: string): string => `http://meta.godepot.test/${path}?go-get=1`;
  const unrecognized = (path: string, reason: string): string => `ImportPathError: unrecognized import path "meta.godepot.test/${path}": ${reason}`;
  const cases: Array<[string, string]> = [
    ['none', unrecognized('none', `reading ${url('none')}: 404 Not Found\n\tserver response: no page for meta.godepot.test/none?go-get=1`)],
    ['e500', `UpstreamError: unrecognized import path "meta.godepot.test/e500": reading ${url('e500')}: 500 Internal Server Error\n\tserver response: database down`],
    ['lie/y', unrecognized('lie/y', `${url('lie/y')} and //meta.godepot.test/lie?go-get=1 disagree about go-import for meta.godepot.test/lie`)],
    ['orphan/y', unrecognized('orphan/y', `reading ${url('orphan')}: 404 Not Found\n\tserver response: no page for meta.godepot.test/orphan?go-get=1`)],
    ['multi/y', unrecognized('multi/y', 'parse //meta.godepot.test/multi/y?go-get=1: multiple meta tags match import path "meta.godepot.test/multi/y"')],
    ['elsewhere', unrecognized('elsewhere', `parse ${url('elsewhere')}: no go-import meta tags (meta tag meta.godepot.test/other did not match import path meta.godepot.test/elsewhere)`)],
    ['script', unrecognized('script', 'parsing meta.godepot.test/script: XML syntax error on line 1: expected element name after <')],
    ['cvs', unrecognized('cvs', `${url('cvs')}: unknown vcs "cvs"`)],
    ['noscheme', unrecognized('noscheme', `${url('noscheme')}: invalid repo root "git.godepot.test/noscheme": no scheme`)],
    ['scp', unrecognized('scp', `${url('scp')}: invalid repo root "git@git.godepot.test:scp.git": parse "git@git.godepot.test:scp.git": first path segment in URL cannot contain colon`)],
    ['hg', 'VcsNotSupportedError: meta.godepot.test/hg: https://hg.godepot.test/hg is a Mercurial (hg) repository; godepot fetches modules from git repositories only'],
    ['file', `RepoUrlRefusedError: unrecognized import path "meta.godepot.test/file": ${url('file')}: invalid repo root "file:///srv/git/file": file scheme disallowed`],
    [
      'ext',
      `RepoUrlRefusedError: meta.godepot.test/ext: the go-import meta tag at ${url('ext')} names ext::sh%20-c%20touch%20pwned: the ext transport is refused; godepot reaches git repositories over https or ssh (or http and git:// for insecure module paths)`,
    ],
    [
      'modssh',
      `RepoUrlRefusedError: meta.godepot.test/modssh: the go-import meta tag at ${url('modssh')} names ssh://proxy.godepot.test/: the ssh transport is refused; godepot reaches a module proxy over https (or http for insecure module paths)`,
    ],
  ];
  for (const [path, want] of cases) assert.equal(await outcome(d, `meta.godepot.test/${path}`), want, path);
  // Not found, as far as the server's error table goes.
  await assert.rejects(d.resolve('meta.godepot.test/none'), (err) => err instanceof NotFoundError && err instanceof ImportPathError && err.modulePath === 'meta.godepot.test/none');
  await assert.rejects(d.resolve('meta.godepot.test/hg'), (err) => err instanceof VcsNotSupportedError && err.vcs === 'hg');
  await assert.rejects(d.resolve('meta.godepot.test/e500'), (err) => err instanceof UpstreamError && err.status === 500);
});

test('https with a private CA: trusted through the transport\'s roots (SSL_CERT_FILE), refused without them; http URLs only for insecure hosts', async () => {
  tls.pages.set('secure.godepot.test/x', { body: metaHtml(goImport('secure.godepot.test/x', 'git', 'https://git.godepot.test/x')) });
  tls.pages.set('secure.godepot.test/plain', { body: metaHtml(goImport('secure.godepot.test/plain', 'git', 'http://git.godepot.test/plain')) });
  tls.pages.set('secure.godepot.test/gitproto', { body: metaHtml(goImport('secure.godepot.test/gitproto', 'git', 'git://git.godepot.test/plain')) });
  tls.pages.set('secure.godepot.test/modhttp', { body: metaHtml(goImport('secure.godepot.test/modhttp', 'mod', 'http://proxy.godepot.test')) });
  tls.pages.set('secure.godepot.test/down', { redirect: 'http://secure.godepot.test/x?go-get=1' });
  const trusted = discovery({ ca: [...rootCertificates, await readFile(caFile, 'utf8')] });
  assert.deepEqual(await outcome(trusted, 'secure.godepot.test/x'), tagged('secure.godepot.test/x', 'git', 'https://git.godepot.test/x'));
  const page = 'the go-import meta tag at https://secure.godepot.test';
  assert.equal(
    await outcome(trusted, 'secure.godepot.test/plain'),
    `RepoUrlRefusedError: secure.godepot.test/plain: ${page}/plain?go-get=1 names http://git.godepot.test/plain: http is allowed only for module paths matching the insecure patterns (GOINSECURE); use https or git+ssh or ssh`,
  );
  assert.match(String(await outcome(trusted, 'secure.godepot.test/gitproto')), /^RepoUrlRefusedError: .* names git:\/\/git\.godepot\.test\/plain: git is allowed only for module paths matching the insecure patterns/);
  assert.match(String(await outcome(trusted, 'secure.godepot.test/modhttp')), /^RepoUrlRefusedError: .* names http:\/\/proxy\.godepot\.test: http is allowed only for module paths matching the insecure patterns \(GOINSECURE\); use https$/);
  assert.equal(
    await outcome(trusted, 'secure.godepot.test/down'),
    'UpstreamError: unrecognized import path "secure.godepot.test/down": https fetch: Get "http://secure.godepot.test/x?go-get=1": redirected from secure URL https://secure.godepot.test/down?go-go=1 to insecure URL http://secure.godepot.test/x?go-get=1'.replace('go-go', 'go-get'),
  );
  // Node's roots alone do not know the test CA: a network failure, not a missing module.
  await assert.rejects(
    discovery().resolve('secure.godepot.test/x'),
    (err) => err instanceof UpstreamError && /^unrecognized import path "secure\.godepot\.test\/x": https fetch: Get "https:\/\/secure\.godepot\.test\/x\?go-get=1": .*certificate/.test(err.message),
  );
});

test('an insecure host: https with any certificate first (as go does), plain http only when https fails', async () => {
  tls.pages.set('loose.godepot.test/x', { body: metaHtml(goImport('loose.godepot.test/x', 'git', 'https://git.godepot.test/loose')) });
  plain.log.length = 0;
  // The certificate is for secure.godepot.test, from a CA nobody trusts here.
  assert.deepEqual(await outcome(discovery(), 'loose.godepot.test/x'), tagged('loose.godepot.test/x', 'git', 'https://git.godepot.test/loose'));
  assert.deepEqual(plain.log, [], 'no plain http request');
  // Not an insecure host: the same page is refused.
  assert.match(String(await outcome(discovery({ insecure: '' }), 'loose.godepot.test/x')), /^UpstreamError: unrecognized import path "loose\.godepot\.test\/x": https fetch: Get "https:\/\/loose\.godepot\.test\/x\?go-get=1": /);
});

test('through HTTPS_PROXY and HTTP_PROXY; NO_PROXY hosts are reached directly', async () => {
  page('meta.godepot.test/proxied', goImport('meta.godepot.test/proxied', 'git', 'https://git.godepot.test/proxied'));
  proxy.log.length = 0;
  await discovery().resolve('meta.godepot.test/proxied');
  assert.deepEqual(
    proxy.log.map((r) => `${r.method} ${r.target}`),
    ['CONNECT meta.godepot.test:443', 'GET http://meta.godepot.test/proxied?go-get=1'],
  );
  proxy.log.length = 0;
  // Direct: this test process cannot resolve the fake names itself (test-hosts), which shows the proxy was bypassed.
  await assert.rejects(
    discovery({ noProxy: '.godepot.test' }).resolve('meta.godepot.test/proxied'),
    (err) => err instanceof UpstreamError && /http\/https fetch: Get "http:\/\/meta\.godepot\.test\/proxied\?go-get=1": .*ENOTFOUND meta\.godepot\.test/.test(err.message),
  );
  assert.deepEqual(proxy.log, []);
});

test('pages are fetched once for the lookups that need them together, and kept for cacheTtlMs', async () => {
  page('meta.godepot.test/shared/a', goImport('meta.godepot.test/shared', 'git', 'https://git.godepot.test/shared'));
  page('meta.godepot.test/shared/b', goImport('meta.godepot.test/shared', 'git', 'https://git.godepot.test/shared'));
  plain.pages.set('meta.godepot.test/shared', { delayMs: 200, body: metaHtml(goImport('meta.godepot.test/shared', 'git', 'https://git.godepot.test/shared')) });
  const count = (path: string): number => plain.log.filter((r) => r.url === `/${path}?go-get=1`).length;
  plain.log.length = 0;
  const once = discovery();
  const roots = await Promise.all([once.resolve('meta.godepot.test/shared/a'), once.resolve('meta.godepot.test/shared/b'), once.resolve('meta.godepot.test/shared/a')]);
  assert.ok(roots.every((root) => root.root === 'meta.godepot.test/shared'));
  assert.equal(count('shared'), 1, 'the prefix page, once for both paths');
  assert.equal(count('shared/a'), 1);
  await once.resolve('meta.godepot.test/shared/a');
  assert.equal(count('shared/a'), 2, 'cacheTtlMs 0: fetched again');

  const kept = discovery({ cacheTtlMs: 60_000 });
  await kept.resolve('meta.godepot.test/shared/b');
  await kept.resolve('meta.godepot.test/shared/b');
  assert.equal(count('shared/b'), 2, 'one more fetch for two lookups');
});

test('a page that does not answer in time is a TimeoutError; a caller that goes away stops only its own wait', async () => {
  plain.pages.set('meta.godepot.test/slow', { delayMs: 1500, body: metaHtml(goImport('meta.godepot.test/slow', 'git', 'https://git.godepot.test/slow')) });
  await assert.rejects(discovery({ timeoutMs: 300 }).resolve('meta.godepot.test/slow'), (err) => err instanceof TimeoutError && /http\/https fetch: Get "http:\/\/meta\.godepot\.test\/slow\?go-get=1": no answer within 0\.3 s/.test(err.message));
  const d = discovery();
  const gone = new AbortController();
  const leaving = d.resolve('meta.godepot.test/slow', gone.signal);
  const staying = d.resolve('meta.godepot.test/slow');
  setTimeout(() => gone.abort(new Error('client went away')), 100);
  await assert.rejects(leaving, /client went away/);
  assert.deepEqual(await staying, tagged('meta.godepot.test/slow', 'git', 'https://git.godepot.test/slow'));
});

test('launchpad.net: its meta tags first, else go\'s Bazaar rule, which godepot refuses', async () => {
  // The test proxy refuses to reach launchpad.net: the page fails, the Bazaar rule applies.
  assert.equal(
    await outcome(discovery(), 'launchpad.net/project/series/sub'),
    'VcsNotSupportedError: launchpad.net/project/series/sub: https://launchpad.net/project/series is a Bazaar (bzr) repository; godepot fetches modules from git repositories only',
  );
  assert.equal(await outcome(discovery(), 'launchpad.net/~user/project/branch/sub'), 'VcsNotSupportedError: launchpad.net/~user/project/branch/sub: https://launchpad.net/~user/project/branch is a Bazaar (bzr) repository; godepot fetches modules from git repositories only');
});

test('a page that fails leaves its host\'s breaker closed; a host the transport holds down fails at once', async () => {
  proxy.ports.set('down.godepot.test:443', await closedPort());
  const transport = new Transport({ proxy: { http: proxy.url, https: proxy.url, noProxy: '' }, timeoutMs: 5000 });
  transports.push(transport);
  const d = new RepoDiscovery({ transport, cacheTtlMs: 0 });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(d.resolve('down.godepot.test/x'), (err) => err instanceof UpstreamError && /https fetch: Get "https:\/\/down\.godepot\.test\/x\?go-get=1": /.test(err.message) && !/considered down/.test(err.message));
  }
  assert.ok(transport.route(new URL('https://down.godepot.test')).breaker.up, 'never probed in the background');
  transport.route(new URL('https://down.godepot.test')).breaker.failed(new Error('found down by another client'));
  proxy.log.length = 0;
  await assert.rejects(d.resolve('down.godepot.test/x'), (err) => err instanceof UpstreamError && /considered down since .* \(found down by another client\)/.test(err.message));
  assert.deepEqual(proxy.log, [], 'nothing sent');
});
