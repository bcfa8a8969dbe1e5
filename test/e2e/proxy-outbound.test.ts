// Behind a corporate outbound proxy: godepot sends every upstream request, module files and checksum
// database traffic alike, through HTTP_PROXY (absolute-form requests) or HTTPS_PROXY (CONNECT tunnels),
// with the proxy's credentials, and never shows them; NO_PROXY hosts are reached directly; a dead proxy
// is a clear 502 naming it. The upstream is known by a name only the test proxy resolves
// (upstream.godepot.test), so an answer proves the request went through the proxy; the godepot
// processes cannot look that name up themselves (test-hosts), so no request ever leaves the machine.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startForwardProxy, type ForwardProxy } from '../support/forward-proxy.js';
import { sha256, startGodepot, type GodepotOptions, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, parseJsonStream } from '../support/go.js';
import { addModule, type ProxyEntry } from '../support/modgraph.js';
import { testHostsModule } from '../support/test-hosts.js';
import { makeTestCertificates } from '../support/tls.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const SECRET = 'pr0xy-s3cret';
const AUTH = `Basic ${Buffer.from(`user:${SECRET}`).toString('base64')}`;
const HEAD = 'go.sum database tree\n7\nhash\n';

let work: string;
let tree: string;
let upstream: Upstream;
let proxy: ForwardProxy;
const modules: ProxyEntry[] = [];
const servers: GodepotServer[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-outbound-'));
  tree = join(work, 'goproxy');
  for (const name of ['one', 'two', 'three', 'four']) {
    const modulePath = `example.com/outbound/${name}`;
    modules.push(await addModule(tree, work, modulePath, 'v1.0.0', { 'go.mod': `module ${modulePath}\n`, 'a.go': `package ${name}\n` }));
  }
  await mkdir(join(work, 'sumdb', 'sum.golang.org'), { recursive: true });
  await writeFile(join(work, 'sumdb', 'sum.golang.org', 'latest'), HEAD);
  upstream = await startUpstream({ root: tree, sumdb: join(work, 'sumdb') });
  proxy = await startForwardProxy({ credentials: `user:${SECRET}` });
});

after(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  await proxy?.stop();
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

/** A godepot whose process cannot resolve *.godepot.test itself (unless `loopbackNames`). */
async function godepotWith(options: GodepotOptions & { loopbackNames?: boolean }): Promise<GodepotServer> {
  const env = { ...options.env, ...(options.loopbackNames ? { GODEPOT_TEST_HOSTS: 'loopback' } : {}) };
  const server = await startGodepot({ ...options, env, nodeArgs: ['--import', testHostsModule] });
  servers.push(server);
  return server;
}

async function get(server: GodepotServer, path: string): Promise<{ status: number; body: Buffer }> {
  const res = await request(server.url + path);
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
}

/** Everything a stopped godepot printed. */
async function output(server: GodepotServer): Promise<string> {
  await server.stop();
  return JSON.stringify(server.logs) + server.stderr;
}

test('HTTP_PROXY with credentials carries module files and checksum database traffic; go downloads through godepot; the password never shows', async () => {
  proxy.log.length = 0;
  const target = `http://upstream.godepot.test:${upstream.port}`;
  const godepot = await godepotWith({ upstream: target, env: { HTTP_PROXY: `http://user:${SECRET}@127.0.0.1:${proxy.port}` } });
  const [one] = modules;
  for (const file of [one!.infoFile, one!.modFile, one!.zipFile]) {
    const url = file === one!.infoFile ? one!.urls.info : file === one!.modFile ? one!.urls.mod : one!.urls.zip;
    const answer = await get(godepot, url);
    assert.equal(answer.status, 200, answer.body.toString());
    assert.equal(sha256(answer.body), sha256(await readFile(file)));
  }
  const supported = await get(godepot, '/sumdb/sum.golang.org/supported');
  assert.equal(supported.status, 200);
  assert.equal((await get(godepot, '/sumdb/sum.golang.org/latest')).body.toString(), HEAD);

  const world = await makeGoWorld(godepot.url);
  try {
    const two = modules[1]!;
    const { stdout } = await world.go(['mod', 'download', '-json', `${two.modulePath}@${two.version}`]);
    assert.equal(parseJsonStream<{ Sum: string }>(stdout)[0]?.Sum, two.zipH1);
  } finally {
    await world.dispose();
  }

  const asked = proxy.log.map((r) => r.target);
  for (const path of [one!.urls.info, one!.urls.zip, '/sumdb/sum.golang.org/supported', '/sumdb/sum.golang.org/latest', modules[1]!.urls.zip]) {
    assert.ok(asked.includes(target + path), `the proxy was asked for ${path}:\n${asked.join('\n')}`);
  }
  assert.ok(proxy.log.every((r) => r.method === 'GET' && r.proxyAuthorization === AUTH));
  assert.equal(upstream.log.filter((r) => r.path !== '/').length, proxy.log.length, 'the upstream saw what the proxy forwarded, and nothing else');

  const printed = await output(godepot);
  assert.match(printed, /"outboundProxy":\{"http":"http:\/\/user:xxxxx@127\.0\.0\.1:\d+\/"/, 'the listening line names the proxy, redacted');
  assert.ok(!printed.includes(SECRET) && !printed.includes(AUTH.slice('Basic '.length)), 'no credentials in the output');
});

test('NO_PROXY hosts are reached directly', async () => {
  proxy.log.length = 0;
  upstream.clearLog();
  const target = `http://upstream.godepot.test:${upstream.port}`;
  const godepot = await godepotWith({
    upstream: target,
    loopbackNames: true,
    env: { HTTP_PROXY: `http://user:${SECRET}@127.0.0.1:${proxy.port}`, NO_PROXY: 'example.org, .godepot.test' },
  });
  const three = modules[2]!;
  assert.equal((await get(godepot, three.urls.info)).status, 200);
  assert.equal(upstream.countOf(three.urls.info), 1);
  assert.deepEqual(proxy.log, []);
});

test('a dead proxy: 502 naming the proxy without its password', async () => {
  const dead = await startForwardProxy();
  await dead.stop();
  const godepot = await godepotWith({
    upstream: `http://upstream.godepot.test:${upstream.port}`,
    // The lower-case name, the upper-case one empty (unset, as go reads it) over the tests' own.
    env: { HTTP_PROXY: '', http_proxy: `user:${SECRET}@127.0.0.1:${dead.port}` },
  });
  const answer = await get(godepot, modules[3]!.urls.info);
  assert.equal(answer.status, 502);
  assert.match(answer.body.toString(), new RegExp(`via proxy http://user:xxxxx@127\\.0\\.0\\.1:${dead.port}: .*ECONNREFUSED`));
  assert.ok(!(await output(godepot)).includes(SECRET));
  assert.ok(!answer.body.toString().includes(SECRET));
});

test('HTTPS_PROXY: an https upstream through a CONNECT tunnel, its certificate checked against a test CA', async () => {
  const certs = await makeTestCertificates(work, 'upstream.godepot.test');
  const secure = await startUpstream({ root: tree, tls: { key: certs.key, cert: certs.cert } });
  try {
    proxy.log.length = 0;
    const godepot = await godepotWith({
      upstream: `https://upstream.godepot.test:${secure.port}`,
      env: { HTTPS_PROXY: `http://user:${SECRET}@127.0.0.1:${proxy.port}`, NODE_EXTRA_CA_CERTS: certs.caFile },
    });
    const four = modules[3]!;
    const answer = await get(godepot, four.urls.info);
    assert.equal(answer.status, 200, answer.body.toString());
    assert.equal(answer.body.toString(), await readFile(four.infoFile, 'utf8'));
    assert.equal(secure.countOf(four.urls.info), 1);
    // The .mod and .zip fetched ahead may take tunnels of their own.
    assert.ok(proxy.log.length > 0);
    for (const r of proxy.log) assert.deepEqual([r.method, r.target, r.proxyAuthorization], ['CONNECT', `upstream.godepot.test:${secure.port}`, AUTH]);
    assert.ok(!(await output(godepot)).includes(SECRET));
  } finally {
    await secure.stop();
  }
});
