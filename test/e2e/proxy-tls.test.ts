// `godepot serve --tls-cert --tls-key`: go 1.19 builds through GOPROXY=https://127.0.0.1:PORT trusting a
// CA the test made (SSL_CERT_FILE), and fails with an x509 error without it; plain http to the port gets
// no answer; keep-alive holds over TLS; and a renewed certificate is served to new connections without a
// restart, by a change of its files or by SIGHUP, also with --workers 2, while a bad one keeps the old.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { Agent, get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { buildModuleGraph, consumerOutput, writeConsumer, type ModuleGraph } from '../support/modgraph.js';
import { makeTestCa, type IssuedCertificate, type TestCa } from '../support/tls.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const execFileAsync = promisify(execFile);

let work: string;
let graph: ModuleGraph;
let upstream: Upstream;
let ca: TestCa;
let otherCa: TestCa;
/** Both CAs, as the Node clients of this test trust them. */
let trusted: Buffer[];
const servers: GodepotServer[] = [];
const worlds: GoWorld[] = [];
const log = 'example.com/app/log';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-tls-'));
  graph = await buildModuleGraph(work);
  upstream = await startUpstream({ root: graph.tree });
  await mkdir(join(work, 'ca'));
  ca = await makeTestCa(join(work, 'ca'));
  otherCa = await makeTestCa(join(work, 'ca'), 'other-ca');
  trusted = [await readFile(ca.caFile), await readFile(otherCa.caFile)];
});

after(async () => {
  for (const s of servers) await s.dispose();
  await upstream?.stop();
  for (const w of worlds) await w.dispose();
  await rm(work, { recursive: true, force: true });
});

// Every file of a served pair is padded to one size and given a time in whole seconds, so that a pair
// can be swapped for another without anything a watcher looks at changing (the time put back exactly):
// only SIGHUP then makes godepot read it.
let clock = Date.parse('2020-01-01T00:00:00Z') / 1000;
const pad = (text: string, size: number): string => {
  assert.ok(text.length <= size, `${text.length} bytes fit in ${size}`);
  return text + '\n'.repeat(size - text.length);
};

/** The files godepot is told to serve, and how to put a pair (or anything) in them. */
interface Served {
  certFile: string;
  keyFile: string;
  put(pair: { cert: string; key: string }, options?: { unnoticed?: boolean }): Promise<void>;
}

async function servedFiles(name: string, first: IssuedCertificate): Promise<Served> {
  const dir = join(work, name);
  await mkdir(dir);
  const served: Served = {
    certFile: join(dir, 'cert.pem'),
    keyFile: join(dir, 'key.pem'),
    async put(pair, options = {}) {
      const time = options.unnoticed === true ? (await stat(served.certFile)).mtimeMs / 1000 : ++clock;
      // The key first: a certificate seen with its old key would only be logged as not matching.
      await writeFile(served.keyFile, pad(pair.key, 1024));
      await writeFile(served.certFile, pad(pair.cert, 2048));
      await utimes(served.keyFile, time, time);
      await utimes(served.certFile, time, time);
    },
  };
  await served.put(first);
  return served;
}

async function startTls(served: Served, args: string[] = []): Promise<GodepotServer> {
  const s = await startGodepot({ upstream: upstream.url, args: ['--tls-cert', served.certFile, '--tls-key', served.keyFile, ...args] });
  servers.push(s);
  return s;
}

/** GETs `path` on a new connection trusting both test CAs; the status and the serial of the certificate the server showed. */
function getFresh(server: GodepotServer, path: string): Promise<{ status: number; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(server.url + path, { agent: false, ca: trusted }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, serial }));
    });
    req.on('error', reject);
  });
}

/** The serials shown to `count` new connections. */
async function serials(server: GodepotServer, count: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) seen.add((await getFresh(server, '/healthz')).serial);
  return seen;
}

/** Waits (5 s at most) until every one of `count` new connections is shown `serial`. */
async function untilServed(server: GodepotServer, serial: string, count = 1): Promise<void> {
  let seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    seen = await serials(server, count);
    if (seen.size === 1 && seen.has(serial)) return;
    await sleep(50);
  }
  assert.fail(`still served ${[...seen].join(', ')}, not ${serial}; logs: ${JSON.stringify(server.logs.filter((l) => l.msg !== 'request'))}`);
}

/** Waits (5 s at most) until `server` logged `count` lines matching `match`, and no more. */
async function untilLogged(server: GodepotServer, count: number, match: (line: Record<string, unknown>) => boolean): Promise<Array<Record<string, unknown>>> {
  const lines = await server.untilLogged(match, count);
  assert.equal(lines.length, count, JSON.stringify(server.logs.filter((l) => l.msg !== 'request')));
  return lines;
}

test('go 1.19 builds through GOPROXY=https://127.0.0.1:PORT trusting the test CA; without it, go reports an x509 error', async () => {
  const first = await ca.issue('build', ['127.0.0.1', 'localhost']);
  const served = await servedFiles('build', first);
  const godepot = await startTls(served);
  assert.match(godepot.url, /^https:\/\/127\.0\.0\.1:[0-9]+$/);
  const listening = godepot.logs.find((l) => l.msg === 'listening');
  assert.deepEqual((listening?.certificate as { serialNumber?: string } | undefined)?.serialNumber, first.serialNumber);

  const w = await makeGoWorld(godepot.url, { SSL_CERT_FILE: ca.caFile });
  worlds.push(w);
  const dir = join(work, 'consumer');
  await writeConsumer(dir);
  await w.go(['mod', 'tidy'], { cwd: dir });
  await w.go(['build', '-o', join(dir, 'consumer.bin'), '.'], { cwd: dir });
  const { stdout } = await execFileAsync(join(dir, 'consumer.bin'));
  assert.deepEqual(stdout.trim().split('\n'), consumerOutput);
  const zips = await godepot.untilLogged((l) => l.msg === 'request' && l.route === 'zip' && l.status === 200, 10);
  assert.ok(zips.length >= 10, `go fetched ${zips.length} zips over https`);

  // The system's roots only: the test CA is unknown.
  const untrusting = await makeGoWorld(godepot.url);
  worlds.push(untrusting);
  await assert.rejects(untrusting.go(['mod', 'download', `${log}@v1.2.0`]), /x509: certificate signed by unknown authority/);
  // godepot logs the refused handshake as a client gone without an answer.
  const refused = await untilLogged(godepot, 1, (l) => l.msg === 'request' && typeof l.error === 'string' && l.error.startsWith('ERR_SSL_'));
  assert.equal(refused[0]!.status, 499);
});

test('plain http to the TLS port gets no answer (the connection is closed); keep-alive holds over TLS', async () => {
  const served = await servedFiles('plain', await ca.issue('plain', ['127.0.0.1']));
  const godepot = await startTls(served);
  const plainUrl = godepot.url.replace(/^https:/, 'http:') + '/healthz';
  await assert.rejects(
    new Promise((resolve, reject) => httpGet(plainUrl, { agent: false }, resolve).on('error', reject)),
    (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET' && err.message === 'socket hang up',
  );
  await untilLogged(godepot, 1, (l) => l.msg === 'request' && l.error === 'ERR_SSL_HTTP_REQUEST' && l.status === 499);

  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: trusted });
  const entry = graph.entry(log, 'v1.2.0');
  const ports: number[] = [];
  for (const path of [entry.urls.info, entry.urls.mod, '/healthz']) {
    await new Promise<void>((resolve, reject) => {
      httpsGet(godepot.url + path, { agent }, (res) => {
        assert.equal(res.statusCode, 200, path);
        ports.push(res.socket.localPort!);
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
  }
  agent.destroy();
  assert.equal(new Set(ports).size, 1, `three requests on one connection: local ports ${ports.join(', ')}`);
});

for (const workers of [1, 2]) {
  test(`--workers ${workers}: a renewed certificate reaches new connections by a change of its files, by SIGHUP, and a bad one keeps the old`, async () => {
    const name = `renew-${workers}`;
    const first = await ca.issue(`${name}-first`, ['127.0.0.1']);
    const served = await servedFiles(name, first);
    const godepot = await startTls(served, ['--workers', String(workers)]);
    // Connections land on either worker: enough of them to meet both.
    const connections = workers * 6;
    assert.deepEqual(await serials(godepot, connections), new Set([first.serialNumber]));
    const reloaded = (reason: string) => (l: Record<string, unknown>) => l.msg === 'certificate reloaded' && l.reason === reason;

    // Renewed by the same CA (a new serial), the files rewritten.
    const second = await ca.issue(`${name}-second`, ['127.0.0.1']);
    await served.put(second);
    await untilServed(godepot, second.serialNumber, connections);
    await untilLogged(godepot, workers, reloaded('changed'));

    // From another CA, the files swapped so that nothing a watcher looks at changes (same sizes, same
    // times): still the old one, until SIGHUP.
    const third = await otherCa.issue(`${name}-third`, ['127.0.0.1']);
    await served.put(third, { unnoticed: true });
    await sleep(1000);
    assert.deepEqual(await serials(godepot, connections), new Set([second.serialNumber]), 'not noticed without SIGHUP');
    process.kill(godepot.pid, 'SIGHUP');
    await untilServed(godepot, third.serialNumber, connections);
    await untilLogged(godepot, workers, reloaded('SIGHUP'));
    if (workers > 1) assert.ok((await godepot.untilLogged((l) => l.msg === 'SIGHUP: workers read the certificate again')).length > 0);

    // A garbage key: logged by every worker, the third certificate still served, and by SIGHUP too.
    await served.put({ cert: second.cert, key: 'garbage\n' });
    const failed = (l: Record<string, unknown>) => l.msg === 'certificate not reloaded: still serving the previous one';
    const errors = await untilLogged(godepot, workers, failed);
    assert.equal(errors[0]!.level, 50);
    assert.match(String(errors[0]!.error), /key\.pem is not an unencrypted PEM private key/);
    process.kill(godepot.pid, 'SIGHUP');
    await untilLogged(godepot, 2 * workers, failed);
    assert.deepEqual(await serials(godepot, connections), new Set([third.serialNumber]));
    assert.equal((await getFresh(godepot, graph.entry(log, 'v1.2.0').urls.info)).status, 200);

    // Mended: served again, and SIGHUP never ended a process.
    await served.put(second);
    await untilServed(godepot, second.serialNumber, connections);
    assert.equal(godepot.logs.filter((l) => l.msg === 'stopped' || l.msg === 'worker died: starting another').length, 0);
    assert.deepEqual(await godepot.stop(), { code: 0, signal: null });
  });
}
