import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startUpstream, type Upstream } from './upstream.js';

let root: string;
let up: Upstream;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'godepot-upstream-'));
  await mkdir(join(root, 'example.com', '!foo', '@v'), { recursive: true });
  await writeFile(join(root, 'example.com', '!foo', '@v', 'list'), 'v1.0.0\n');
  await writeFile(join(root, 'example.com', '!foo', '@v', 'v1.0.0.info'), '{"Version":"v1.0.0"}');
  await mkdir(join(root, 'sumdb', 'sum.example.org', 'tile', '8', '0'), { recursive: true });
  await writeFile(join(root, 'sumdb', 'sum.example.org', 'tile', '8', '0', '000'), 'tile');
  up = await startUpstream({ root, sumdb: join(root, 'sumdb') });
});

after(async () => {
  await up.stop();
  await rm(root, { recursive: true, force: true });
});

/** GET with a fresh connection; resolves with the status and body, or rejects on a socket error. */
function get(path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(up.url + path, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('serves the module-cache layout with percent-decoded paths and logs requests', async () => {
  const list = await get('/example.com/%21foo/@v/list');
  assert.equal(list.status, 200);
  assert.equal(list.body, 'v1.0.0\n');
  assert.equal((await get('/example.com/!foo/@v/v1.0.0.info')).headers['content-type'], 'application/json');
  assert.equal((await get('/example.com/!foo/@v/v9.0.0.info')).status, 404);
  assert.equal((await get('/example.com/../../etc/passwd')).status, 404);
  assert.equal(up.countOf('/example.com/!foo/@v/list'), 1);
});

test('serves a checksum database folder and answers supported for it only', async () => {
  assert.equal((await get('/sumdb/sum.example.org/supported')).status, 200);
  assert.equal((await get('/sumdb/sum.example.org/tile/8/0/000')).body, 'tile');
  assert.equal((await get('/sumdb/other.example/supported')).status, 404);
});

test('faults: status, times, redirect, reset, declared length', async () => {
  up.fault('/example.com/!foo/@v/list', { status: 503, times: 1 });
  assert.equal((await get('/example.com/!foo/@v/list')).status, 503);
  assert.equal((await get('/example.com/!foo/@v/list')).status, 200);
  up.fault('/a', { redirect: '/example.com/!foo/@v/list' });
  const redirected = await get('/a');
  assert.equal(redirected.status, 302);
  assert.equal(redirected.headers.location, '/example.com/!foo/@v/list');
  up.fault('/example.com/!foo/@v/v1.0.0.info', { resetAfterBytes: 3 });
  await assert.rejects(get('/example.com/!foo/@v/v1.0.0.info'));
  up.fault('/big', { bodyBytes: 100_000, declareLength: true });
  const big = await get('/big');
  assert.equal(big.headers['content-length'], '100000');
  assert.equal(big.body.length, 100_000);
  up.clearFaults();
});

test('stop() cuts hanging requests and start() listens on the same port', async () => {
  up.fault('*', { hang: true });
  const hanging = get('/example.com/!foo/@v/list');
  await new Promise((r) => setTimeout(r, 50));
  const port = up.port;
  await up.stop();
  await assert.rejects(hanging);
  await assert.rejects(get('/example.com/!foo/@v/list'));
  up.clearFaults();
  await up.start();
  assert.equal(up.port, port);
  assert.equal((await get('/example.com/!foo/@v/list')).status, 200);
});

test('bytesPerSecond paces a body over several writes; the log tells an answer sent whole from one cut off', async () => {
  up.clearLog();
  up.fault('/paced', { bodyBytes: 30, bytesPerSecond: 200 });
  const chunks: number[] = [];
  const whole = await new Promise<number>((resolve, reject) => {
    const req = request(up.url + '/paced', { agent: false }, (res) => {
      res.on('data', (c: Buffer) => chunks.push(c.length));
      res.on('end', () => resolve(chunks.reduce((a, b) => a + b, 0)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(whole, 30);
  assert.ok(chunks.length >= 3, `${chunks.length} writes`);
  for (let i = 0; i < 100 && !up.log[0]?.closed; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual([up.log[0]?.closed, up.log[0]?.finished], [true, true]);
  up.clearFaults();
});
