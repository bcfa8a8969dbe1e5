// go decides where a module's repository is: the real go 1.19 resolves each path with GOPROXY=direct,
// and godepot's RepoDiscovery must find what go found. What go decided is read from `go mod download
// -x`: the `?go-get=1` pages it fetched, the git remote it set up (`git remote add origin -- URL`), the
// URLs it tried for a path naming git (`git ls-remote URL`), the proxy it asked for the mod form, or its
// error. go needs no repository behind a URL to print its command; where a real one helps (a module in
// a subdirectory), a git daemon on loopback serves it. Every host is a fake name only the test proxy
// resolves: go, git and godepot all go through it, and nothing leaves the machine (ssh is `false`,
// git:// to the fake names goes through `false`, the fake git host is rewritten to the daemon).
import '../support/test-hosts.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { after, before, test } from 'node:test';
import { Transport } from '../../src/http/transport.js';
import { RepoDiscovery } from '../../src/vcs/discovery.js';
import { ImportPathError, RepoUrlRefusedError, VcsNotSupportedError } from '../../src/vcs/errors.js';
import type { RepoRoot } from '../../src/vcs/repo-root.js';
import { UpstreamError } from '../../src/errors.js';
import { startForwardProxy, type ForwardProxy } from '../support/forward-proxy.js';
import { commitAll, git, writeTree } from '../support/git.js';
import { freePort, startGitDaemon, type GitDaemon } from '../support/gitdaemon.js';
import { makeGoWorld, parseJsonStream, type GoWorld } from '../support/go.js';
import { goImport, metaHtml, startMetaServer, type MetaServer } from '../support/meta-server.js';
import { addModule, type ProxyEntry } from '../support/modgraph.js';
import { makeTestCertificates } from '../support/tls.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

// meta.godepot.test: an insecure host (GOINSECURE) answering over plain http only.
// tls.godepot.test: a secure host answering over https with a certificate from a test CA.
// git.godepot.test: where the meta tags point; git reaches it as the local git daemon.
const INSECURE = 'meta.godepot.test';

let work: string;
let proxy: ForwardProxy;
let plain: MetaServer;
let tls: MetaServer;
let goproxy: Upstream;
let daemon: GitDaemon;
let world: GoWorld;
let caPem: string;
let modForm: ProxyEntry;
const transports: Transport[] = [];

/** What `go mod download -x -json <path>@latest` did. */
interface GoDecision {
  /** The download's error, without go's `path@latest: ` or `module path: ` prefix. */
  error: string | null;
  version: string | null;
  sum: string | null;
  /** The repository go set up: `git remote add origin -- URL`. */
  remote: string | null;
  /** URLs go probed for a path naming git: `git ls-remote URL`. */
  pinged: string[];
  /** `hg clone -U -- URL .`. */
  hgClone: string | null;
  /** Every URL go printed as `# get URL` (its first line for each). */
  gets: string[];
  /** The `?go-get=1` pages the meta servers were asked for meanwhile (git's own requests left out). */
  pages: string[];
  stderr: string;
}

function runGo(env: NodeJS.ProcessEnv, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('go', args, { cwd: world.root, env, timeout: 120_000, maxBuffer: 16 << 20 }, (_err, stdout, stderr) => resolve({ stdout, stderr }));
  });
}

/** The `?go-get=1` pages both meta servers were asked for since the last call, as `host/path`. */
function pagesAsked(): string[] {
  const asked = [...plain.log, ...tls.log].filter((r) => r.url.endsWith('?go-get=1')).map((r) => `${r.host}${r.url}`);
  plain.log.length = 0;
  tls.log.length = 0;
  return asked;
}

async function goDecides(modulePath: string, env: NodeJS.ProcessEnv = {}): Promise<GoDecision> {
  pagesAsked();
  const { stdout, stderr } = await runGo({ ...world.env, ...env }, ['mod', 'download', '-x', '-json', `${modulePath}@latest`]);
  const [result] = parseJsonStream<{ Error?: string; Version?: string; Sum?: string }>(stdout);
  const all = (pattern: RegExp): string[] => [...stderr.matchAll(pattern)].map((m) => m[1]!);
  return {
    error: result?.Error?.replace(new RegExp(`^(${modulePath}@latest: |module ${modulePath}: )`), '') ?? null,
    version: result?.Error === undefined ? (result?.Version ?? null) : null,
    sum: result?.Sum ?? null,
    remote: all(/(?:^|; )git remote add origin -- (\S+)$/gm)[0] ?? null,
    pinged: all(/^git ls-remote (\S+)$/gm),
    hgClone: all(/(?:^|; )hg clone -U -- (\S+) \.$/gm)[0] ?? null,
    gets: [...new Set(all(/^# get (\S+)$/gm))],
    pages: pagesAsked(),
    stderr,
  };
}

/** godepot's answer, with the pages it asked for. */
async function godepotDecides(modulePath: string, options: { ca?: boolean } = {}): Promise<{ root: RepoRoot | null; error: Error | null; pages: string[] }> {
  const transport = new Transport({
    proxy: { http: proxy.url, https: proxy.url, noProxy: '' },
    ca: options.ca === false ? undefined : [...rootCertificates, caPem],
  });
  transports.push(transport);
  const discovery = new RepoDiscovery({ transport, insecure: INSECURE, cacheTtlMs: 0 });
  pagesAsked();
  try {
    const root = await discovery.resolve(modulePath);
    return { root, error: null, pages: pagesAsked() };
  } catch (err) {
    return { root: null, error: err as Error, pages: pagesAsked() };
  }
}

async function makeRepo(name: string, files: Record<string, string>, tags: string[]): Promise<void> {
  const dir = join(work, 'repos', 'git.godepot.test', name);
  await mkdir(dir, { recursive: true });
  await git(dir, ['init', '-q', '-b', 'main']);
  await writeTree(dir, files);
  await commitAll(dir, 'first', '2023-03-04T05:06:07Z');
  for (const tag of tags) await git(dir, ['tag', tag]);
}

function page(server: MetaServer, hostPath: string, ...tags: string[]): void {
  server.pages.set(hostPath, { body: metaHtml(...tags) });
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-discovery-'));
  const certificates = await makeTestCertificates(work, 'tls.godepot.test');
  caPem = await readFile(certificates.caFile, 'utf8');
  proxy = await startForwardProxy();
  plain = await startMetaServer();
  tls = await startMetaServer({ tls: { key: certificates.key, cert: certificates.cert } });
  const closed = await freePort();
  proxy.ports.set('meta.godepot.test:80', plain.port);
  proxy.ports.set('meta.godepot.test:443', closed);
  proxy.ports.set('tls.godepot.test:443', tls.port);
  proxy.ports.set('tls.godepot.test:80', closed);
  proxy.ports.set('git.godepot.test:443', closed);
  proxy.ports.set('git.godepot.test:80', closed);
  proxy.ports.set('hg.godepot.test:443', closed);

  // A static GOPROXY for the mod form.
  const tree = join(work, 'goproxy');
  modForm = await addModule(tree, work, 'meta.godepot.test/modform', 'v1.0.0', { 'go.mod': 'module meta.godepot.test/modform\n', 'm.go': 'package modform\n' });
  goproxy = await startUpstream({ root: tree });

  await mkdir(join(work, 'repos'), { recursive: true });
  await makeRepo('root', { 'go.mod': 'module meta.godepot.test/root\n', 'r.go': 'package root\n' }, ['v1.0.0']);
  await makeRepo('mono', { 'go.mod': 'module meta.godepot.test/mono\n', 'lib/go.mod': 'module meta.godepot.test/mono/lib\n', 'lib/l.go': 'package lib\n' }, ['lib/v1.2.0']);
  daemon = await startGitDaemon(join(work, 'repos'), ['git.godepot.test']);
  // git reaches the fake git host over http too as the daemon, and git:// to any fake host through
  // `false`, so that no name is ever looked up.
  const gitconfig = join(work, 'gitconfig');
  await writeFile(
    gitconfig,
    `${await readFile(daemon.gitconfig, 'utf8')}[url "git://127.0.0.1:${daemon.port}/git.godepot.test/"]\n\tinsteadOf = http://git.godepot.test/\n[core]\n\tgitProxy = false for godepot.test\n`,
  );
  await writeFile(join(work, 'ca.pem'), caPem);
  world = await makeGoWorld('direct', {
    GOINSECURE: INSECURE,
    HTTP_PROXY: proxy.url,
    HTTPS_PROXY: proxy.url,
    // git's curl reads only the lower-case name for http.
    http_proxy: proxy.url,
    https_proxy: proxy.url,
    SSL_CERT_FILE: join(work, 'ca.pem'),
    GIT_CONFIG_GLOBAL: gitconfig,
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: 'false',
  });

  page(plain, 'meta.godepot.test/root', goImport('meta.godepot.test/root', 'git', 'https://git.godepot.test/root'));
  page(plain, 'meta.godepot.test/mono/lib', goImport('meta.godepot.test/mono', 'git', 'https://git.godepot.test/mono'));
  page(plain, 'meta.godepot.test/mono', goImport('meta.godepot.test/mono', 'git', 'https://git.godepot.test/mono'));
  page(plain, 'meta.godepot.test/modform', goImport('meta.godepot.test/modform', 'mod', goproxy.url), goImport('meta.godepot.test/modform', 'git', 'https://git.godepot.test/modform'));
  page(tls, 'tls.godepot.test/x', goImport('tls.godepot.test/x', 'git', 'https://git.godepot.test/tlsx'));
});

after(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await world?.dispose();
  await daemon?.stop();
  await goproxy?.stop();
  await proxy?.stop();
  await plain?.stop();
  await tls?.stop();
  await rm(work, { recursive: true, force: true });
});

test('meta tags: go and godepot find the same repository, at the path, at a prefix (a module in a subdirectory), over https with the test CA', async () => {
  const cases: Array<{ modulePath: string; root: string; url: string; version?: string }> = [
    { modulePath: 'meta.godepot.test/root', root: 'meta.godepot.test/root', url: 'https://git.godepot.test/root', version: 'v1.0.0' },
    { modulePath: 'meta.godepot.test/mono/lib', root: 'meta.godepot.test/mono', url: 'https://git.godepot.test/mono', version: 'v1.2.0' },
    { modulePath: 'tls.godepot.test/x', root: 'tls.godepot.test/x', url: 'https://git.godepot.test/tlsx' },
  ];
  for (const c of cases) {
    const go = await goDecides(c.modulePath);
    const ours = await godepotDecides(c.modulePath);
    assert.equal(go.remote, c.url, `go's remote for ${c.modulePath}\n${go.stderr}`);
    assert.deepEqual(ours.root, { root: c.root, vcs: 'git', urls: [go.remote], fromMetaTag: true }, c.modulePath);
    assert.deepEqual(ours.pages, go.pages, `the same pages asked for ${c.modulePath}`);
    // Where a repository is there, go's download shows the root was right: the module is its subdirectory.
    if (c.version !== undefined) assert.equal(go.version, c.version, `${c.modulePath}: ${go.error}`);
  }
});

test('the mod form: go fetches the module from the proxy the tag names, the one godepot names', async () => {
  const go = await goDecides(modForm.modulePath);
  const ours = await godepotDecides(modForm.modulePath);
  assert.equal(go.error, null, go.stderr);
  assert.equal(go.sum, modForm.zipH1);
  assert.ok(go.gets.includes(`${goproxy.url}/meta.godepot.test/modform/@v/list`), go.gets.join('\n'));
  assert.equal(go.remote, null, 'no git');
  assert.deepEqual(ours.root, { root: 'meta.godepot.test/modform', vcs: 'mod', urls: [goproxy.url], fromMetaTag: true });
});

test('paths naming git: godepot lists the URLs go tries, in go\'s order, the insecure schemes only for insecure hosts', async () => {
  for (const modulePath of ['tls.godepot.test/repo.git/sub', 'meta.godepot.test/repo.git']) {
    const go = await goDecides(modulePath);
    const ours = await godepotDecides(modulePath);
    assert.ok(go.pinged.length > 0, go.stderr);
    assert.deepEqual(ours.root?.urls, go.pinged, modulePath);
    assert.equal(ours.root?.root, modulePath.replace(/\/sub$/, ''));
    assert.deepEqual(go.pages, [], 'go asked for no page');
    assert.deepEqual(ours.pages, []);
  }
});

test('no repository: godepot fails with go\'s own words, as a not-found', async () => {
  page(plain, 'meta.godepot.test/multi/y', goImport('meta.godepot.test/multi', 'git', 'https://git.godepot.test/a'), goImport('meta.godepot.test/multi/y', 'git', 'https://git.godepot.test/b'));
  page(plain, 'meta.godepot.test/lie/y', goImport('meta.godepot.test/lie', 'git', 'https://git.godepot.test/claimed'));
  page(plain, 'meta.godepot.test/lie', goImport('meta.godepot.test/lie', 'git', 'https://git.godepot.test/real'));
  page(plain, 'meta.godepot.test/noscheme', goImport('meta.godepot.test/noscheme', 'git', 'git.godepot.test/noscheme'));
  page(plain, 'meta.godepot.test/other', goImport('meta.godepot.test/elsewhere', 'git', 'https://git.godepot.test/elsewhere'));
  page(plain, 'meta.godepot.test/cvs', goImport('meta.godepot.test/cvs', 'cvs', 'https://git.godepot.test/cvs'));
  plain.pages.set('meta.godepot.test/script', { body: `<html><head>\n<script>if (a < b) {}</script>\n${goImport('meta.godepot.test/script', 'git', 'https://x')}</head></html>` });
  plain.pages.set('meta.godepot.test/latin1', { body: `<?xml version="1.0" encoding="iso-8859-1"?>\n${goImport('meta.godepot.test/latin1', 'git', 'https://x')}` });
  for (const modulePath of [
    'meta.godepot.test/none',
    'meta.godepot.test/multi/y',
    'meta.godepot.test/lie/y',
    'meta.godepot.test/noscheme',
    'meta.godepot.test/other',
    'meta.godepot.test/cvs',
    'meta.godepot.test/script',
    'meta.godepot.test/latin1',
    'github.com/user',
    'github.com/user/repo.git',
    'bitbucket.org/user/repo.hg',
  ]) {
    const go = await goDecides(modulePath);
    const ours = await godepotDecides(modulePath);
    assert.ok(ours.error instanceof ImportPathError, `${modulePath}: ${ours.error}`);
    assert.equal(ours.error.message, go.error, modulePath);
    assert.deepEqual(ours.pages, go.pages, modulePath);
  }
});

test('a file:// repository: go refuses it, and godepot with go\'s words, typed as a refused URL', async () => {
  page(plain, 'meta.godepot.test/file', goImport('meta.godepot.test/file', 'git', 'file:///srv/git/file'));
  const go = await goDecides('meta.godepot.test/file');
  const ours = await godepotDecides('meta.godepot.test/file');
  assert.ok(ours.error instanceof RepoUrlRefusedError);
  assert.equal(ours.error.message, go.error);
});

test('another VCS: go runs hg (not installed here) and fails; godepot refuses at once, naming hg and the repository', async () => {
  page(plain, 'meta.godepot.test/hg', goImport('meta.godepot.test/hg', 'hg', 'https://hg.godepot.test/hg'));
  const go = await goDecides('meta.godepot.test/hg');
  const ours = await godepotDecides('meta.godepot.test/hg');
  assert.equal(go.hgClone, 'https://hg.godepot.test/hg', go.stderr);
  assert.match(go.error ?? '', /\bhg\b/);
  assert.ok(ours.error instanceof VcsNotSupportedError);
  assert.equal(ours.error.message, 'meta.godepot.test/hg: https://hg.godepot.test/hg is a Mercurial (hg) repository; godepot fetches modules from git repositories only');
});

test('transports: go and godepot both refuse ext::; go uses http on a secure host, which godepot refuses', async () => {
  page(plain, 'meta.godepot.test/ext', goImport('meta.godepot.test/ext', 'git', 'ext::false'));
  page(tls, 'tls.godepot.test/plain', goImport('tls.godepot.test/plain', 'git', 'http://git.godepot.test/plain'));
  // go takes a URL without `://` for a local path, and refuses the colon in it before running git.
  const ext = await goDecides('meta.godepot.test/ext');
  assert.equal(ext.remote, null, ext.stderr);
  assert.equal(ext.error, 'git remote cannot use host:path syntax');
  const refused = (await godepotDecides('meta.godepot.test/ext')).error;
  assert.ok(refused instanceof RepoUrlRefusedError);
  assert.match(refused.message, /names ext::false: the ext transport is refused/);
  // godepot is stricter than go 1.19 in module mode, which only refuses such URLs in GOPATH mode.
  const plainHttp = await goDecides('tls.godepot.test/plain');
  assert.equal(plainHttp.remote, 'http://git.godepot.test/plain', plainHttp.stderr);
  const ours = await godepotDecides('tls.godepot.test/plain');
  assert.ok(ours.error instanceof RepoUrlRefusedError);
  assert.match(ours.error.message, /http is allowed only for module paths matching the insecure patterns \(GOINSECURE\)/);
});

test('without the test CA, go and godepot both fail on the certificate, as a network failure', async () => {
  const go = await goDecides('tls.godepot.test/x', { SSL_CERT_FILE: '' });
  const ours = await godepotDecides('tls.godepot.test/x', { ca: false });
  const prefix = 'unrecognized import path "tls.godepot.test/x": https fetch: Get "https://tls.godepot.test/x?go-get=1": ';
  assert.ok(go.error?.startsWith(prefix) && /x509|certificate/.test(go.error), go.error ?? go.stderr);
  assert.ok(ours.error instanceof UpstreamError && ours.error.message.startsWith(prefix), String(ours.error));
  assert.match(ours.error.message, /certificate/);
});

test('go and godepot reach the pages through the same outbound proxy', async () => {
  proxy.log.length = 0;
  await goDecides('meta.godepot.test/root');
  const goAsked = proxy.log.map((r) => `${r.method} ${r.target}`).filter((line) => line.includes('meta.godepot.test'));
  proxy.log.length = 0;
  await godepotDecides('meta.godepot.test/root');
  const ourAsked = proxy.log.map((r) => `${r.method} ${r.target}`);
  assert.deepEqual(goAsked, ['CONNECT meta.godepot.test:443', 'GET http://meta.godepot.test/root?go-get=1']);
  assert.deepEqual(ourAsked, goAsked);
});
