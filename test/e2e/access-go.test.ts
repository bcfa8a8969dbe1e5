// Access control end to end, with the real go client: `godepot serve` over HTTPS (go sends its .netrc
// credentials over https only) with corp.example.com routed `hosted` (so private) and a static upstream
// for a public module; tokens made, listed and revoked with `godepot token` beside the running server;
// a module published with a publish token and built by go with a read token from .netrc, refused without
// one (401) and with a token for other modules (403), in go's own words; anonymous clients told nothing
// about which private modules exist; the audit chain verified and its tampering detected; rate limits
// and the failed-authentication bar met and recovered from; /metrics, /healthz and /readyz under
// --metrics-token and --anonymous none; and no token, nor its secret, in anything the processes printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runGodepot, type CliResult } from '../support/cli.js';
import { runGo, type GoRun } from '../support/go-direct.js';
import { writeTree } from '../support/git.js';
import { filesUnder, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { addModule } from '../support/modgraph.js';
import { makeTestCa, type IssuedCertificate } from '../support/tls.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const LIB = 'corp.example.com/lib';
const PUB = 'example.com/pub';
const METRICS_TOKEN = 'metrics-token-of-the-access-e2e-test';

let work: string;
let caFile: string;
let certificate: IssuedCertificate;
let agent: Agent;
let upstream: Upstream;
/** The main server: corp.example.com hosted, anonymous reads of public modules, default limits. */
let godepot: GodepotServer;
let state: string;
const servers: GodepotServer[] = [];
const worlds: GoWorld[] = [];
/** Every token the test made, by name. */
const tokens = new Map<string, string>();
/** What every go and godepot command printed, for the leak check (token create's stdout left out: it is the token). */
const printed: string[] = [];

/** A token made by `godepot token create` in `stateDir`. */
async function createToken(stateDir: string, name: string, ...roles: string[]): Promise<string> {
  const made = await runGodepot(['token', 'create', '--name', name, ...roles.flatMap((r) => ['--role', r]), '--state-dir', stateDir]);
  assert.equal(made.code, 0, made.stderr);
  printed.push(made.stderr);
  const token = made.stdout.trim();
  assert.match(token, /^gdp_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  tokens.set(name, token);
  return token;
}

async function godepotCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const result = await runGodepot(args, { env });
  printed.push(result.stdout, result.stderr);
  return result;
}

async function go(world: GoWorld, args: string[], cwd?: string): Promise<GoRun> {
  const run = await runGo(world, args, cwd);
  printed.push(run.stdout, run.stderr);
  return run;
}

/** A go world using `server` as GOPROXY, trusting the test CA, with a .netrc giving `token` (or none) for 127.0.0.1. */
async function goWorld(server: GodepotServer, token: string | undefined): Promise<GoWorld> {
  const netrc = join(work, `netrc-${worlds.length}`);
  await writeFile(netrc, token === undefined ? '' : `machine 127.0.0.1 login ci password ${token}\n`);
  const world = await makeGoWorld(server.url, { SSL_CERT_FILE: caFile, NETRC: netrc, GONOSUMDB: 'corp.example.com' });
  worlds.push(world);
  return world;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Header names in the order sent, lower-cased. */
  names: string[];
  body: string;
}

/** A request over HTTPS (keep-alive, trusting the test CA) with an optional token (Bearer) or Authorization header. */
function get(server: GodepotServer, path: string, options: { token?: string; authorization?: string; requestId?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(server.url + path, { agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => (body += text));
      res.on('end', () => {
        const names = res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
        resolve({ status: res.statusCode!, headers: res.headers, names, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls (every 100 ms, 10 s at most) until `check` holds of the answer to `path`; returns the last answer. */
async function until(server: GodepotServer, path: string, options: Parameters<typeof get>[2], check: (a: Answer) => boolean): Promise<Answer> {
  let answer = await get(server, path, options);
  for (let i = 0; i < 100 && !check(answer); i++) {
    await sleep(100);
    answer = await get(server, path, options);
  }
  return answer;
}

async function startServer(stateDir: string, args: string[] = []): Promise<GodepotServer> {
  const config = join(work, 'godepot.yaml');
  const server = await startGodepot({
    upstream: upstream.url,
    config,
    args: ['--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile, '--state-dir', stateDir, ...args],
  });
  servers.push(server);
  return server;
}

const unauthorized = (modulePath: string): string =>
  `unauthorized: a token is needed to read ${modulePath} (Authorization: Bearer <token>, or Basic with the token as password)\n`;
const notValid = 'unauthorized: the token is not valid (unknown or revoked)\n';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-access-'));
  await mkdir(join(work, 'ca'));
  const ca = await makeTestCa(join(work, 'ca'));
  caFile = ca.caFile;
  certificate = await ca.issue('server', ['127.0.0.1']);
  agent = new Agent({ keepAlive: true, maxSockets: 1, ca: await readFile(caFile) });
  const tree = join(work, 'upstream');
  await addModule(tree, work, PUB, 'v1.0.0', { 'go.mod': `module ${PUB}\n\ngo 1.17\n`, 'pub.go': 'package pub\n\n// Name is what the public module says.\nconst Name = "public"\n' });
  upstream = await startUpstream({ root: tree });
  await writeFile(join(work, 'godepot.yaml'), 'rules:\n  - match: corp.example.com\n    route: hosted\n');
  state = join(work, 'state');
  godepot = await startServer(state);
});

after(async () => {
  agent?.destroy();
  for (const s of servers) await s.dispose();
  await upstream?.stop();
  for (const w of worlds) await w.dispose();
  await rm(work, { recursive: true, force: true });
});

test('a private module: published with a publish token; go builds it over https with a read token from .netrc, gets 401 without one and 403 with a token for other modules', async () => {
  await createToken(state, 'publisher', 'publish:corp.example.com/*');
  const ci = await createToken(state, 'ci', 'read:corp.example.com/*');
  const other = await createToken(state, 'other', 'read:other.example.com/*');
  const listed = await godepotCli(['token', 'list', '--json', '--state-dir', state]);
  assert.deepEqual(
    (JSON.parse(listed.stdout) as Array<{ name: string; roles: string[] }>).map((t) => [t.name, t.roles]),
    [['publisher', ['publish:corp.example.com/*']], ['ci', ['read:corp.example.com/*']], ['other', ['read:other.example.com/*']]],
  );

  const folder = join(work, 'lib');
  await writeTree(folder, { 'go.mod': `module ${LIB}\n\ngo 1.19\n`, 'lib.go': 'package lib\n\n// Hello greets.\nfunc Hello() string { return "hello from corp" }\n' });
  const published = await godepotCli(['publish', folder, '--version', 'v1.0.0', '--server', godepot.url], { GODEPOT_TOKEN: tokens.get('publisher'), NODE_EXTRA_CA_CERTS: caFile });
  assert.equal(published.code, 0, published.stderr);
  assert.match(published.stdout, /^published corp\.example\.com\/lib v1\.0\.0 h1:\S+\n$/);

  const world = await goWorld(godepot, ci);
  const app = join(work, 'app');
  await writeTree(app, {
    'go.mod': `module example.org/app\n\ngo 1.19\n\nrequire (\n\t${LIB} v1.0.0\n\t${PUB} v1.0.0\n)\n`,
    'main.go': `package main\n\nimport (\n\t"fmt"\n\n\t"${LIB}"\n\t"${PUB}"\n)\n\nfunc main() { fmt.Print(lib.Hello(), " and ", pub.Name) }\n`,
  });
  const tidy = await go(world, ['mod', 'tidy'], app);
  assert.equal(tidy.code, 0, tidy.stderr);
  const build = await go(world, ['build', '-o', join(app, 'app.bin'), '.'], app);
  assert.equal(build.code, 0, build.stderr);
  const output = await new Promise<string>((resolve, reject) => execFile(join(app, 'app.bin'), (err, stdout) => (err === null ? resolve(stdout) : reject(err))));
  assert.equal(output, 'hello from corp and public');
  // go sent the token from .netrc (Basic), and the log names it by its name.
  assert.ok((await godepot.untilLogged((l) => l.msg === 'request' && l.module === LIB && l.route === 'zip' && l.status === 200 && l.principal === 'ci')).length > 0);

  const anonymous = await goWorld(godepot, undefined);
  const refused = await go(anonymous, ['mod', 'download', `${LIB}@v1.0.0`]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /reading https:\/\/127\.0\.0\.1:\d+\/corp\.example\.com\/lib\/@v\/v1\.0\.0\.(info|mod): 401 Unauthorized\n\tserver response: /);
  assert.ok(refused.stderr.includes(`server response: ${unauthorized(LIB).trim()}`), refused.stderr);
  // The public module needs no token.
  const publicOnly = await go(anonymous, ['mod', 'download', `${PUB}@v1.0.0`]);
  assert.equal(publicOnly.code, 0, publicOnly.stderr);

  const elsewhere = await goWorld(godepot, other);
  const forbidden = await go(elsewhere, ['mod', 'download', `${LIB}@v1.0.0`]);
  assert.notEqual(forbidden.code, 0);
  assert.match(forbidden.stderr, /: 403 Forbidden\n\tserver response: forbidden: token "other" may not read corp\.example\.com\/lib\n/);
});

test('a publish with a read-only token is refused (403) and nothing is stored', async () => {
  const folder = join(work, 'lib');
  await writeTree(folder, { 'lib.go': 'package lib\n\n// Hello greets.\nfunc Hello() string { return "hello, v1.1.0" }\n' });
  const refused = await godepotCli(['publish', folder, '--version', 'v1.1.0', '--server', godepot.url, '--token', tokens.get('ci')!], { NODE_EXTRA_CA_CERTS: caFile });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /refused corp\.example\.com\/lib@v1\.1\.0 \(403\): forbidden: token "ci" may not publish corp\.example\.com\/lib\n/);
  assert.deepEqual((await filesUnder(godepot.storage)).filter((f) => f.includes('v1.1.0')), []);
  const versions = await go(await goWorld(godepot, tokens.get('ci')), ['list', '-m', '-versions', LIB]);
  assert.equal(versions.code, 0, versions.stderr);
  assert.equal(versions.stdout, `${LIB} v1.0.0\n`);
});

test('an anonymous client, or a token without the role, cannot tell a private module that exists from one that does not', async () => {
  const paths = (modulePath: string): string[] => [
    `/${modulePath}/@v/list`,
    `/${modulePath}/@v/v1.0.0.info`,
    `/${modulePath}/@v/v1.0.0.mod`,
    `/${modulePath}/@v/v1.0.0.zip`,
    `/${modulePath}/@latest`,
    `/sumdb/sum.golang.org/lookup/${modulePath}@v1.0.0`,
  ];
  const nothere = 'corp.example.com/nothere';
  // The one that exists is there to be found: a reader gets it, and 404 for the other.
  assert.deepEqual(await get(godepot, `/${LIB}/@v/list`, { token: tokens.get('ci') }).then((a) => [a.status, a.body]), [200, 'v1.0.0\n']);
  assert.equal((await get(godepot, `/${nothere}/@v/list`, { token: tokens.get('ci') })).status, 404);

  upstream.clearLog();
  for (const [who, token, status] of [['anonymous', undefined, 401], ['other', tokens.get('other'), 403]] as const) {
    const libPaths = paths(LIB);
    const otherPaths = paths(nothere);
    for (let i = 0; i < libPaths.length; i++) {
      const exists = await get(godepot, libPaths[i]!, { token, requestId: `${who}-exists-${i}` });
      const missing = await get(godepot, otherPaths[i]!, { token, requestId: `${who}-missing-${i}` });
      const what = `${who} ${libPaths[i]}`;
      assert.equal(exists.status, status, what);
      assert.equal(missing.status, status, what);
      assert.equal(missing.body.replaceAll(nothere, LIB), exists.body, what);
      assert.equal(exists.body, status === 401 ? unauthorized(LIB) : `forbidden: token "other" may not read ${LIB}\n`, what);
      assert.deepEqual(missing.names, exists.names, what);
      for (const name of exists.names) {
        if (name === 'date' || name === 'x-request-id' || name === 'content-length') continue;
        assert.equal(missing.headers[name], exists.headers[name], `${what}: ${name}`);
      }
      assert.equal(Number(exists.headers['content-length']), Buffer.byteLength(exists.body), what);
      assert.equal(Number(missing.headers['content-length']) - Number(exists.headers['content-length']), nothere.length - LIB.length, what);
      if (status === 401) assert.equal(exists.headers['www-authenticate'], 'Basic realm="godepot"');
      // Refused before any lookup: the log line names no cache outcome, no upstream status.
      for (const [id, answer] of [[`${who}-exists-${i}`, exists], [`${who}-missing-${i}`, missing]] as const) {
        assert.equal(answer.headers['x-request-id'], id);
        const [line] = await godepot.untilLogged((l) => l.msg === 'request' && l.reqId === id);
        assert.ok(line, `no request log line ${id}`);
        assert.equal(line.status, status, id);
        assert.equal(line.error, answer.body.slice(answer.body.indexOf(': ') + 2, -1), id);
        for (const field of ['cache', 'upstreamStatus']) assert.equal(line[field], undefined, `${id}: ${field}`);
      }
    }
  }
  assert.deepEqual(upstream.requests.filter((p) => p.includes('corp.example.com')), []);
  assert.deepEqual(upstream.requests, [], 'nothing at all went upstream');
});

test('a revoked token is refused without a restart, and a token made after the start works', async () => {
  const ci = tokens.get('ci')!;
  const path = `/${LIB}/@v/list`;
  assert.equal((await get(godepot, path, { token: ci })).status, 200);
  const revoked = await godepotCli(['token', 'revoke', 'ci', '--state-dir', state]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(revoked.stdout, 'revoked token "ci"\n');
  const refused = await until(godepot, path, { token: ci }, (a) => a.status !== 200);
  assert.deepEqual([refused.status, refused.body], [401, notValid]);
  // go with that token in its .netrc hears the same.
  const stale = await go(await goWorld(godepot, ci), ['list', '-m', '-versions', LIB]);
  assert.notEqual(stale.code, 0);
  assert.ok(stale.stderr.includes(`401 Unauthorized\n\tserver response: ${notValid.trim()}`), stale.stderr);

  const late = await createToken(state, 'late', 'read:corp.example.com/*');
  const admitted = await until(godepot, path, { token: late }, (a) => a.status === 200);
  assert.deepEqual([admitted.status, admitted.body], [200, 'v1.0.0\n']);
  const versions = await go(await goWorld(godepot, late), ['list', '-m', '-versions', LIB]);
  assert.equal(versions.code, 0, versions.stderr);
  assert.equal(versions.stdout, `${LIB} v1.0.0\n`);
});

test('the audit chain verifies; a line altered, deleted or inserted is found', async () => {
  const file = join(state, 'audit.log');
  // Refusals are recorded after they are answered: wait until the log holds them and has stopped growing.
  let lines: Array<Record<string, unknown>> = [];
  for (let i = 0, last = ''; i < 50; i++) {
    const text = await readFile(file, 'utf8');
    lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    if (text === last && lines.some((l) => l.action === 'request.denied' && l.actor === 'ci')) break;
    last = text;
    await sleep(100);
  }
  const verified = await godepotCli(['audit', 'verify', file]);
  assert.equal(verified.code, 0, verified.stdout);
  assert.match(verified.stdout, new RegExp(`^ok: ${lines.length} lines, last hash [0-9a-f]{64}\n$`));

  const has = (what: Record<string, unknown>): boolean => lines.some((l) => Object.entries(what).every(([k, v]) => (v instanceof RegExp ? v.test(String(l[k])) : l[k] === v)));
  for (const name of ['publisher', 'ci', 'other', 'late']) assert.ok(has({ action: 'token.create', actor: /^cli:/, target: name }), `token.create ${name}`);
  assert.ok(has({ action: 'publish', actor: 'publisher', target: `${LIB}@v1.0.0`, outcome: 'ok' }));
  assert.ok(has({ action: 'request.denied', actor: 'anonymous', outcome: 'unauthenticated', target: `/${LIB}/@v/v1.0.0.zip` }));
  assert.ok(has({ action: 'request.denied', actor: 'other', outcome: 'forbidden', target: `/corp.example.com/nothere/@latest` }));
  assert.ok(has({ action: 'request.denied', actor: 'ci', outcome: 'forbidden', target: `/admin/modules/${LIB}/@v/v1.1.0.zip` }));
  assert.ok(has({ action: 'request.denied', actor: 'unknown', outcome: 'credentials refused', target: `/${LIB}/@v/list` }));
  assert.ok(has({ action: 'token.revoke', actor: /^cli:/, target: 'ci' }));

  const text = await readFile(file, 'utf8');
  const raw = text.split('\n').slice(0, -1);
  const tampered = async (name: string, content: string[]): Promise<CliResult> => {
    const copy = join(work, `audit-${name}.log`);
    await writeFile(copy, content.join('\n') + '\n');
    return godepotCli(['audit', 'verify', copy]);
  };

  // One byte of line 3's time changed (a digit for another: the line still parses).
  const third = raw[2]!;
  const at = third.indexOf('"time":"') + '"time":"'.length + 3;
  const altered = third.slice(0, at) + (third[at] === '1' ? '2' : '1') + third.slice(at + 1);
  const alteredReport = await tampered('altered', [...raw.slice(0, 2), altered, ...raw.slice(3)]);
  assert.equal(alteredReport.code, 1);
  assert.match(alteredReport.stdout, /^line 3: altered: /);

  const deletedReport = await tampered('deleted', [raw[0]!, ...raw.slice(2)]);
  assert.equal(deletedReport.code, 1);
  assert.match(deletedReport.stdout, /^line 2: 1 line missing before it /);

  // A forged line that chains correctly to line 2 (the chain has no key): the line after it no longer does.
  const second = JSON.parse(raw[1]!) as Record<string, unknown>;
  const forged = JSON.stringify({ ...second, seq: 3, action: 'token.revoke', target: 'nobody', prev: createHash('sha256').update(raw[1]!).digest('hex') });
  const insertedReport = await tampered('inserted', [...raw.slice(0, 2), forged, ...raw.slice(2)]);
  assert.equal(insertedReport.code, 1);
  assert.match(insertedReport.stdout, /^line 3: inserted: line 4 chains directly to line 2\n$/);
});

/** `count` requests for `path`, one after another: their statuses and Retry-After values, and how long they took (ms). */
async function burst(server: GodepotServer, path: string, count: number, token?: string): Promise<{ answers: Answer[]; elapsedMs: number }> {
  const started = performance.now();
  const answers: Answer[] = [];
  for (let i = 0; i < count; i++) answers.push(await get(server, path, { token }));
  return { answers, elapsedMs: performance.now() - started };
}

test('rate limits: a burst of 10 passes, then 429 with Retry-After, and requests pass again after it; repeated bad tokens bar the address for a while', async () => {
  const stateB = join(work, 'state-b');
  const token = await createToken(stateB, 'fast', 'read');
  const limited = await startServer(stateB, ['--anonymous-rate-limit', '5:10', '--rate-limit', '5:10']);
  const path = `/${PUB}/@v/v1.0.0.info`;
  for (const [who, bearer] of [['anonymous', undefined], ['token', token]] as const) {
    const { answers, elapsedMs } = await burst(limited, path, 40, bearer);
    const statuses = answers.map((a) => a.status);
    const passed = statuses.filter((s) => s === 200).length;
    const what = `${who}: ${statuses.join(' ')} in ${Math.round(elapsedMs)} ms`;
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(200), what);
    assert.deepEqual(new Set(statuses.slice(10)).has(429), true, what);
    assert.ok(statuses.every((s) => s === 200 || s === 429), what);
    // No more than the burst and what 5 a second refilled meanwhile.
    assert.ok(passed <= 10 + Math.ceil((5 * elapsedMs) / 1000), what);
    const last = answers.filter((a) => a.status === 429).at(-1)!;
    assert.match(String(last.headers['retry-after']), /^[1-9][0-9]*$/);
    assert.equal(last.body, `too many requests: rate limit exceeded: retry after ${last.headers['retry-after']} s\n`);
    await sleep(Number(last.headers['retry-after']) * 1000);
    assert.equal((await get(limited, path, { token: bearer })).status, 200, `${who} after Retry-After`);
  }

  // A mistyped token: refused (401) AUTH_FAILURES.burst times, then the address is barred (429), whatever it sends.
  const wrong = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
  const tries: Answer[] = [];
  for (let i = 0; i < 100 && tries.at(-1)?.status !== 429; i++) tries.push(await get(limited, path, { token: wrong }));
  const what = tries.map((a) => a.status).join(' ');
  assert.ok(tries.length > 30, what);
  assert.deepEqual(tries.slice(0, 30).map((a) => [a.status, a.body]), Array(30).fill([401, notValid]), what);
  const barred = tries.at(-1)!;
  assert.equal(barred.status, 429, what);
  assert.match(String(barred.headers['retry-after']), /^[1-9][0-9]*$/);
  await sleep(Number(barred.headers['retry-after']) * 1000);
  assert.equal((await get(limited, path, { token })).status, 200, 'a good token from the address once the bar is over');
  // Each refusal of the token is on the record (they are written after they are answered); requests over a rate are not.
  const refusals = tries.filter((a) => a.status === 401).length;
  let denied: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 50 && denied.length < refusals; i++) {
    if (i > 0) await sleep(100);
    denied = (await readFile(join(stateB, 'audit.log'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.action === 'request.denied');
  }
  assert.equal(denied.length, refusals);
  assert.ok(denied.every((l) => l.outcome === 'credentials refused' && l.actor === 'unknown' && l.target === path));
});

test('/metrics with --metrics-token: 401 without, 200 with it or an admin token; /healthz and /readyz open under --anonymous none, where a public module needs a token', async () => {
  const stateC = join(work, 'state-c');
  const admin = await createToken(stateC, 'admin', 'admin');
  const reader = await createToken(stateC, 'reader', 'read');
  const closed = await startServer(stateC, ['--anonymous', 'none', '--metrics-token', METRICS_TOKEN]);

  const noToken = await get(closed, '/metrics');
  assert.deepEqual([noToken.status, noToken.headers['www-authenticate']], [401, 'Basic realm="godepot"']);
  assert.equal(noToken.body, 'unauthorized: a token is needed to admin on this server (Authorization: Bearer <token>, or Basic with the token as password)\n');
  const wrongMetricsToken = await get(closed, '/metrics', { token: METRICS_TOKEN + 'x' });
  assert.equal(wrongMetricsToken.status, 401);
  const scraped = await get(closed, '/metrics', { token: METRICS_TOKEN });
  assert.equal(scraped.status, 200);
  assert.match(scraped.body, /^# (HELP|TYPE) /m);
  printed.push(scraped.body);
  const byAdmin = await get(closed, '/metrics', { token: admin });
  assert.equal(byAdmin.status, 200);
  const byReader = await get(closed, '/metrics', { token: reader });
  assert.deepEqual([byReader.status, byReader.body], [403, 'forbidden: token "reader" may not admin on this server as a whole (that needs the role admin without a pattern)\n']);

  for (const path of ['/healthz', '/readyz']) assert.equal((await get(closed, path)).status, 200, path);
  const list = `/${PUB}/@v/list`;
  assert.deepEqual(await get(closed, list).then((a) => [a.status, a.body]), [401, unauthorized(PUB)]);
  assert.deepEqual(await get(closed, list, { token: reader }).then((a) => [a.status, a.body]), [200, 'v1.0.0\n']);
  // Basic with the token as password, as go sends it from .netrc.
  const basic = `Basic ${Buffer.from(`anyone:${reader}`).toString('base64')}`;
  assert.equal((await get(closed, list, { authorization: basic })).status, 200);

  // The main server has no metrics token: its /metrics is open, and counted the refusals above.
  const open = await get(godepot, '/metrics');
  assert.equal(open.status, 200);
  assert.match(open.body, /status="401"/);
  printed.push(open.body);
});

test('no token, nor its secret, appears in any log, metrics, go output, command output or audit log', async () => {
  // Every server's output, complete: stopped first.
  for (const s of servers) await s.stop();
  const outputs = [...printed];
  for (const s of servers) outputs.push(JSON.stringify(s.logs), s.stderr);
  for (const dir of [state, join(work, 'state-b'), join(work, 'state-c')]) outputs.push(await readFile(join(dir, 'audit.log'), 'utf8'));
  const everything = outputs.join('\n');
  assert.ok(everything.includes('"principal":"ci"'), 'the logs name tokens by their names');
  assert.deepEqual([...tokens.keys()], ['publisher', 'ci', 'other', 'late', 'fast', 'admin', 'reader']);
  const secrets = [METRICS_TOKEN];
  for (const token of tokens.values()) {
    secrets.push(token, token.slice('gdp_'.length + 17), Buffer.from(`ci:${token}`).toString('base64'), Buffer.from(`anyone:${token}`).toString('base64'));
  }
  for (const secret of secrets) assert.ok(!everything.includes(secret), `a secret (${secret.slice(0, 8)}…) was printed`);
});
