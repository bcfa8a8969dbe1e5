// `godepot serve` as an operator runs it: a child process, its JSON log on stdout, signals to stop it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { godepotBin, runGodepot } from '../../test/support/cli.js';
import { addBigModule, addModule, type ProxyEntry } from '../../test/support/modgraph.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Running {
  child: ChildProcess;
  url: string;
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<number | null>;
}

// The go variables godepot reads as defaults are left out too: the tests say what they mean.
const goVariables = new Set(['GOSUMDB', 'GOPRIVATE', 'GONOPROXY', 'GONOSUMDB', 'GOINSECURE', 'GOVCS']);
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GODEPOT_') && !goVariables.has(name)));

async function serve(args: string[], options: { cwd?: string } = {}): Promise<Running> {
  // The default state folder is relative: never the clone's.
  const cwd = options.cwd ?? (await mkdtemp(join(tmpdir(), 'godepot-serve-cwd-')));
  if (options.cwd === undefined) cleanups.push(() => rm(cwd, { recursive: true, force: true }));
  const child = spawn(process.execPath, [godepotBin, 'serve', ...args], { env: cleanEnv, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'listening') resolve(String(entry.url));
    });
    void exited.then((code) => reject(new Error(`godepot serve exited (${code}) before listening: ${stderr}`)));
  });
  return { child, url, logs, stderr: () => stderr, exited };
}

let world: Promise<{ dir: string; upstream: Upstream; small: ProxyEntry; big: ProxyEntry }> | undefined;
function makeWorld(): NonNullable<typeof world> {
  world ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'godepot-serve-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const tree = join(dir, 'tree');
    await mkdir(tree);
    const small = await addModule(tree, join(dir, 'work'), 'example.com/small', 'v1.0.0', { 's.go': 'package small\n' });
    const big = await addBigModule(tree, join(dir, 'work'), 'example.com/big', 'v1.0.0', 4 << 20);
    const upstream = await startUpstream({ root: tree });
    cleanups.push(() => upstream.stop());
    return { dir, upstream, small, big };
  })();
  return world;
}

async function storageDir(): Promise<string> {
  const { dir } = await makeWorld();
  return mkdtemp(join(dir, 'store-'));
}

function get(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

/** Starts a download that reads `bytesPerTick` every 10 ms; resolves with the body once it ends. */
function slowDownload(url: string, bytesPerTick: number): { done: Promise<{ status: number; body: Buffer; complete: boolean }> } {
  const done = new Promise<{ status: number; body: Buffer; complete: boolean }>((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      res.pause();
      const chunks: Buffer[] = [];
      const tick = setInterval(() => {
        const chunk = res.read(bytesPerTick) as Buffer | null;
        if (chunk !== null) chunks.push(chunk);
      }, 10);
      const finish = (complete: boolean): void => {
        clearInterval(tick);
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks), complete });
      };
      res.on('end', () => finish(true));
      res.on('aborted', () => finish(false));
      res.on('error', () => finish(false));
    });
    req.on('error', reject);
    req.end();
  });
  return { done };
}

test('serve logs one "listening" line with the real URL, the storage, the upstream chain, the effective routing, private patterns and sumdb', async () => {
  const { upstream, small } = await makeWorld();
  const storage = await storageDir();
  const s = await serve(['--listen', '127.0.0.1:0', '--storage', storage, '--upstream', `${upstream.url},direct`, '--private', 'corp.example.com,*.internal.example', '--sumdb', 'off']);
  const listening = s.logs.find((l) => l.msg === 'listening')!;
  assert.match(s.url, /^http:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
  assert.equal(listening.storage, storage);
  assert.equal(listening.upstream, `${upstream.url},direct`);
  assert.deepEqual(listening.routing, [
    { match: 'corp.example.com,*.internal.example', route: 'direct', sumdb: false, source: '--private' },
    { route: 'upstream', sumdb: true, source: 'default' },
  ]);
  assert.deepEqual(listening.private, ['corp.example.com', '*.internal.example']);
  assert.equal(listening.sumdb, 'off');
  assert.equal(listening.level, 30);
  assert.equal(s.logs.filter((l) => l.msg === 'listening').length, 1);
  // What a go client needs, in the JSON line; as plain lines only on a terminal, never among the JSON.
  const settings = [`GOPROXY=${s.url}`, 'GONOSUMDB=corp.example.com,*.internal.example'];
  assert.deepEqual(listening.clientSettings, settings);
  assert.doesNotMatch(s.stderr(), /GOPROXY/);

  const home = await get(s.url + '/');
  assert.equal(home.status, 200);
  const { version } = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.ok(home.body.toString().startsWith(`godepot ${version}: a Go module proxy.`));
  for (const line of settings) assert.ok(home.body.toString().includes(`\n  ${line}\n`), line);

  const info = await get(s.url + small.urls.info);
  assert.equal(info.status, 200);
  assert.deepEqual(info.body, await readFile(small.infoFile));
  assert.equal((await get(s.url + '/readyz')).status, 200);

  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0);
  assert.ok(s.logs.some((l) => l.msg === 'request' && l.route === 'info' && l.status === 200));
  assert.equal(s.logs.at(-1)!.msg, 'stopped');
});

test('SIGTERM: no new connections, a zip download in flight finishes whole, then exit 0', async () => {
  const { upstream, big } = await makeWorld();
  const s = await serve(['--listen', '127.0.0.1:0', '--storage', await storageDir(), '--upstream', upstream.url, '--sumdb', 'off']);
  const zip = await readFile(big.zipFile);
  // Cold, behind a slow upstream, and read slowly: in flight for a while whatever the socket buffers hold.
  upstream.fault(big.urls.zip, { delayMs: 600, times: 1 });
  const download = slowDownload(s.url + big.urls.zip, 256 << 10);
  await new Promise((r) => setTimeout(r, 100));
  s.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  await assert.rejects(get(s.url + '/healthz'), /ECONNREFUSED/);
  assert.equal(s.child.exitCode, null, 'still serving the download');
  const { status, body, complete } = await download.done;
  assert.equal(status, 200);
  assert.ok(complete);
  assert.ok(body.equals(zip));
  assert.equal(await s.exited, 0);
});

test('past --shutdown-timeout, or on a second signal, the connections left are cut and the exit is 1', async () => {
  const { upstream, big } = await makeWorld();
  const s = await serve(['--listen', '127.0.0.1:0', '--storage', await storageDir(), '--upstream', upstream.url, '--sumdb', 'off', '--shutdown-timeout', '0.3']);
  upstream.fault(big.urls.zip, { delayMs: 10_000, times: 1 });
  const stuck = assert.rejects(slowDownload(s.url + big.urls.zip, 1).done, /socket hang up|ECONNRESET/);
  await new Promise((r) => setTimeout(r, 100));
  const stopAt = Date.now();
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 1);
  assert.ok(Date.now() - stopAt < 5000);
  await stuck;
  assert.ok(s.logs.some((l) => l.msg === 'shutdown deadline passed: closing every connection'));

  const t = await serve(['--listen', '127.0.0.1:0', '--storage', await storageDir(), '--upstream', upstream.url, '--sumdb', 'off']);
  upstream.fault(big.urls.zip, { delayMs: 10_000, times: 1 });
  const stuck2 = assert.rejects(slowDownload(t.url + big.urls.zip, 1).done, /socket hang up|ECONNRESET/);
  await new Promise((r) => setTimeout(r, 100));
  t.child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(t.child.exitCode, null, 'the first signal waits for the request in flight');
  t.child.kill('SIGINT');
  assert.equal(await t.exited, 1);
  await stuck2;
});

test('a bad setting or a busy port stops the start with a message naming it', async () => {
  const storage = await storageDir();
  const bad = await runGodepot(['serve', '--storage', storage], { env: { ...cleanEnv, GODEPOT_LISTEN: 'x' } });
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'godepot: GODEPOT_LISTEN: invalid listen address "x" (want HOST:PORT)\n');

  const upstreamBad = await runGodepot(['serve', '--storage', storage, '--upstream', 'ftp://x'], { env: cleanEnv });
  assert.equal(upstreamBad.code, 1);
  assert.match(upstreamBad.stderr, /^godepot: --upstream: invalid GOPROXY "ftp:\/\/x"/);

  const missingBundle = await runGodepot(['serve', '--storage', storage, '--state-dir', `${storage}-state`, '--bundle', 'missing.gdb'], { env: cleanEnv, cwd: storage });
  assert.equal(missingBundle.code, 1);
  assert.equal(missingBundle.stderr, 'godepot: --bundle: missing.gdb: no such file\n');

  const busy = createNetServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => busy.close(resolve)));
  const port = (busy.address() as AddressInfo).port;
  const taken = await runGodepot(['serve', '--storage', storage, '--state-dir', `${storage}-state`, '--listen', `127.0.0.1:${port}`, '--sumdb', 'off'], { env: cleanEnv });
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, new RegExp(`^godepot: listen: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));

  const { dir } = await makeWorld();
  const notAFolder = await runGodepot(['serve', '--storage', join(dir, 'tree', 'example.com', 'small', '@v', 'list'), '--sumdb', 'off'], { env: cleanEnv });
  assert.equal(notAFolder.code, 1);
  assert.match(notAFolder.stderr, /^godepot: storage: folder .* cannot be used: /);
  const stateNotAFolder = await runGodepot(['serve', '--storage', storage, '--state-dir', join(dir, 'tree', 'example.com', 'small', '@v', 'list'), '--sumdb', 'off'], { env: cleanEnv });
  assert.equal(stateNotAFolder.code, 1);
  assert.match(stateNotAFolder.stderr, /^godepot: state-dir: folder .* cannot be used: /);
});

test('--log-format pretty writes lines to read even when stdout is not a terminal; a bad format stops the start', async () => {
  const storage = await storageDir();
  const child = spawn(process.execPath, [godepotBin, 'serve', '--listen', '127.0.0.1:0', '--storage', storage, '--state-dir', `${storage}-state`, '--upstream', 'off', '--sumdb', 'off', '--log-format', 'pretty'], {
    env: cleanEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  assert.match(first, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: listening \{"url":"http:\/\/127\.0\.0\.1:\d+"/);
  child.kill('SIGTERM');

  const bad = await runGodepot(['serve', '--storage', storage, '--log-format', 'text'], { env: cleanEnv });
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'godepot: --log-format: must be json or pretty\n');
});

test('a relative --storage is made absolute against the working folder', async () => {
  const { dir } = await makeWorld();
  const cwd = await mkdtemp(join(dir, 'cwd-'));
  const s = await serve(['--listen', '127.0.0.1:0', '--storage', 'depot', '--upstream', 'off', '--sumdb', 'off'], { cwd });
  assert.equal(s.logs.find((l) => l.msg === 'listening')!.storage, join(cwd, 'depot'));
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0);
});
