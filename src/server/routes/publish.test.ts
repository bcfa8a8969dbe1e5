// Publishes over real HTTP on loopback to the server, in front of a depot with no origin: every status
// of the publish route, what the depot serves afterwards, and what the request log keeps.
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { request } from 'undici';
import { writeTree } from '../../../test/support/git.js';
import { hashZip } from '../../module/hash.js';
import { createZipFromDir, MAX_ZIP_FILE } from '../../module/zip.js';
import { ModulePublisher } from '../../publish/module-publisher.js';
import type { ServerLimits } from '../app.js';
import type { TestAccess } from '../../../test/support/access.js';
import { startRouteServer } from '../../../test/support/route-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const token = 'publish-token-of-the-route-test';
const M = 'corp.example.com/lib';

interface World {
  url: string;
  dir: string;
  access: TestAccess;
  /** Every line the server logged, as written. */
  logText(): string;
  zip(version: string, text: string, modulePath?: string): Promise<string>;
}

async function startWorld(options: { publishing?: boolean; limits?: Partial<ServerLimits>; maxSize?: number } = {}): Promise<World> {
  const server = await startRouteServer(
    {
      name: 'publish-route',
      log: true,
      // The token of `serve --publish-token`, and a token file beside it.
      access: { statics: [{ name: 'publish-token', token, role: 'publish' }] },
      routes: ({ disk, depot, logger }) => {
        const publisher = new ModulePublisher({
          storage: disk,
          staging: disk,
          accepts: (modulePath) => modulePath.startsWith('corp.example.com/'),
          onStored: (modulePath, version) => depot.versionStored(modulePath, version),
          ...(options.maxSize === undefined ? {} : { maxSize: options.maxSize }),
          logger,
        });
        return { ...(options.limits === undefined ? {} : { limits: options.limits }), ...(options.publishing === false ? {} : { publishing: { publisher } }) };
      },
    },
    cleanups,
  );
  const { dir } = server;
  let zips = 0;
  return {
    ...server,
    async zip(version, text, modulePath = M) {
      const n = ++zips;
      const source = join(dir, `source-${n}`);
      await writeTree(source, { 'go.mod': `module ${modulePath}\n\ngo 1.19\n`, 'lib.go': `package lib\n\nconst Text = ${JSON.stringify(text)}\n` });
      const file = join(dir, `module-${n}.zip`);
      await createZipFromDir(createWriteStream(file), modulePath, version, source);
      return file;
    },
  };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function put(w: World, path: string, body: Buffer | string, headers: Record<string, string> = { authorization: `Bearer ${token}` }): Promise<Reply> {
  const res = await request(`${w.url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/zip', ...headers }, body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

async function get(w: World, path: string): Promise<{ status: number; body: Buffer }> {
  const res = await request(`${w.url}${path}`);
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
}

test('a published version is answered 201, then served by the depot, listed at once, and identical bytes again are 200', async () => {
  const w = await startWorld();
  assert.equal((await get(w, '/corp.example.com/lib/@v/list')).status, 404);
  const zip = await w.zip('v1.0.0', 'one');
  const created = await put(w, '/admin/modules/corp.example.com/lib/@v/v1.0.0.zip', await readFile(zip), {
    authorization: `Bearer ${token}`,
    'godepot-commit-time': '2024-02-03T04:05:06+01:00',
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers['content-type'], 'application/json');
  const result = JSON.parse(created.text) as Record<string, unknown>;
  assert.deepEqual({ ...result, goModH1: undefined }, { module: M, version: 'v1.0.0', h1: await hashZip(zip), goModH1: undefined, time: '2024-02-03T03:05:06Z', created: true });

  assert.deepEqual((await get(w, '/corp.example.com/lib/@v/v1.0.0.zip')).body, await readFile(zip));
  assert.equal((await get(w, '/corp.example.com/lib/@v/v1.0.0.mod')).body.toString(), `module ${M}\n\ngo 1.19\n`);
  assert.deepEqual(JSON.parse((await get(w, '/corp.example.com/lib/@v/v1.0.0.info')).body.toString()), { Version: 'v1.0.0', Time: '2024-02-03T03:05:06Z' });
  assert.equal((await get(w, '/corp.example.com/lib/@v/list')).body.toString(), 'v1.0.0\n');
  assert.equal(JSON.parse((await get(w, '/corp.example.com/lib/@latest')).body.toString()).Version, 'v1.0.0');

  // The list and @latest just answered are remembered; a new version is in them at once all the same.
  assert.equal((await put(w, '/admin/modules/corp.example.com/lib/@v/v1.1.0.zip', await readFile(await w.zip('v1.1.0', 'two')))).status, 201);
  assert.equal((await get(w, '/corp.example.com/lib/@v/list')).body.toString(), 'v1.0.0\nv1.1.0\n');
  assert.equal(JSON.parse((await get(w, '/corp.example.com/lib/@latest')).body.toString()).Version, 'v1.1.0');

  const again = await put(w, '/admin/modules/corp.example.com/lib/@v/v1.0.0.zip', await readFile(await w.zip('v1.0.0', 'one')));
  assert.equal(again.status, 200);
  assert.equal((JSON.parse(again.text) as { created: boolean }).created, false);
});

test('other bytes for a published version: 409 naming both hashes, and the first still served', async () => {
  const w = await startWorld();
  const first = await w.zip('v1.0.0', 'first');
  assert.equal((await put(w, '/admin/modules/corp.example.com/lib/@v/v1.0.0.zip', await readFile(first))).status, 201);
  const other = await w.zip('v1.0.0', 'other');
  const refused = await put(w, '/admin/modules/corp.example.com/lib/@v/v1.0.0.zip', await readFile(other));
  assert.equal(refused.status, 409);
  assert.match(refused.text, /^conflict: corp\.example\.com\/lib@v1\.0\.0 is already published with other content/);
  assert.ok(refused.text.includes(await hashZip(first)) && refused.text.includes(await hashZip(other)), refused.text);
  assert.deepEqual((await get(w, '/corp.example.com/lib/@v/v1.0.0.zip')).body, await readFile(first));
});

test('401 without a token or with a bad one, 403 for a token without the role or a path not taken, 422 for what cannot be published, 400 for a bad commit time; the token is never logged', async () => {
  const w = await startWorld();
  const zip = await readFile(await w.zip('v1.0.0', 'x'));
  const path = '/admin/modules/corp.example.com/lib/@v/v1.0.0.zip';
  const tries: Array<[Record<string, string>, string]> = [
    [{}, 'unauthorized: a token is needed to publish corp.example.com/lib (Authorization: Bearer <token>, or Basic with the token as password)\n'],
    [{ authorization: 'Bearer wrong-token-of-the-test' }, 'unauthorized: the token is not valid (unknown or revoked)\n'],
    [{ authorization: token }, 'unauthorized: the Authorization header is not "Bearer <token>" nor "Basic <base64 of user:token>"\n'],
  ];
  for (const [headers, text] of tries) {
    const reply = await put(w, path, zip, headers);
    assert.equal(reply.status, 401);
    assert.equal(reply.headers['www-authenticate'], 'Basic realm="godepot"');
    assert.equal(reply.text, text);
  }
  const reader = await w.access.token('reader', ['read']);
  const readOnly = await put(w, path, zip, { authorization: `Bearer ${reader}` });
  assert.equal(readOnly.status, 403);
  assert.equal(readOnly.text, 'forbidden: token "reader" may not publish corp.example.com/lib\n');
  const basic = `Basic ${Buffer.from(`ci:${token}`).toString('base64')}`;
  assert.equal((await put(w, '/admin/modules/corp.example.com/basic/@v/v1.0.0.zip', await readFile(await w.zip('v1.0.0', 'b', 'corp.example.com/basic')), { authorization: basic })).status, 201, 'Basic with the token as password');
  const forbidden = await put(w, '/admin/modules/github.com/public/lib/@v/v1.0.0.zip', zip);
  assert.equal(forbidden.status, 403);
  assert.match(forbidden.text, /^forbidden: github\.com\/public\/lib: this server takes no publishes for this module path/);

  const v2 = await put(w, '/admin/modules/corp.example.com/lib/v2/@v/v1.0.0.zip', zip);
  assert.equal(v2.status, 422);
  assert.equal(v2.text, 'publish refused, nothing stored: corp.example.com/lib/v2@v1.0.0 cannot be published: corp.example.com/lib/v2@v1.0.0: invalid version: should be v2, not v1\n');
  const otherModule = await put(w, path, await readFile(await w.zip('v1.0.0', 'x', 'corp.example.com/other')));
  assert.equal(otherModule.status, 422);
  assert.match(otherModule.text, /not a valid module zip/);
  const notZip = await put(w, path, 'not a zip');
  assert.equal(notZip.status, 422);

  const badTime = await put(w, path, zip, { authorization: `Bearer ${token}`, 'godepot-commit-time': 'yesterday' });
  assert.equal(badTime.status, 400);
  assert.equal(badTime.text, 'bad request: godepot-commit-time: not an RFC 3339 time: "yesterday"\n');
  assert.equal((await put(w, '/admin/modules/corp.example.com/Lib/@v/v1.0.0.zip', zip)).status, 400);

  assert.equal((await get(w, '/corp.example.com/lib/@v/v1.0.0.zip')).status, 404, 'nothing was stored');
  const logged = w.logText();
  assert.ok(logged.includes('"route":"publish"') && logged.includes('"module":"corp.example.com/lib"'), 'publishes are logged');
  assert.ok(!logged.includes(token) && !logged.includes(reader), 'no token is in any log line');
  const audited = (await readFile(w.access.auditFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.ok(!JSON.stringify(audited).includes(token) && !JSON.stringify(audited).includes(reader), 'no token is in the audit log');
  assert.deepEqual(
    audited.map((e) => [e.action, e.actor, e.outcome]),
    [
      ['request.denied', 'anonymous', 'unauthenticated'],
      ['request.denied', 'unknown', 'credentials refused'],
      ['request.denied', 'unknown', 'credentials refused'],
      ['request.denied', 'reader', 'forbidden'],
      ['publish', 'publish-token', 'ok'],
      // the path not taken, v2, another module's zip, no zip, a bad time; the bad module path never reached the route
      ...Array.from({ length: 5 }, () => ['publish', 'publish-token', 'refused']),
    ],
  );
});

test('a server that takes no publishes answers 404 to a publisher', async () => {
  const w = await startWorld({ publishing: false });
  const reply = await put(w, '/admin/modules/corp.example.com/lib/@v/v1.0.0.zip', 'zip');
  assert.equal(reply.status, 404);
  assert.equal(reply.text, 'not found: publishing is not enabled on this server\n');
});

/**
 * PUTs a body of zeros in 1 MiB chunks, framed as `headers` say (Content-Length or chunked), sending
 * `bytes` at most but stopping once the answer arrives; the answer and how much was sent by then.
 */
function putZeros(w: World, headers: Record<string, string>, bytes: number): Promise<{ status: number; text: string; sent: number }> {
  const { hostname, port } = new URL(w.url);
  const chunk = Buffer.alloc(1 << 20);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = httpRequest(
      { host: hostname, port, method: 'PUT', path: '/admin/modules/corp.example.com/lib/@v/v1.0.0.zip', headers: { authorization: `Bearer ${token}`, ...headers }, agent: false },
      (res) => {
        answered = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (part: string) => (text += part));
        res.on('end', () => resolve({ status: res.statusCode!, text, sent }));
      },
    );
    req.on('error', reject);
    const write = (): void => {
      while (!answered && sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', write);
          return;
        }
      }
    };
    write();
  });
}

test('--max-publish-size: a zip past the server\'s own limit is refused 413, nothing stored', async () => {
  const w = await startWorld({ maxSize: 100 });
  const reply = await put(w, '/admin/modules/corp.example.com/lib/@v/v1.0.0.zip', await readFile(await w.zip('v1.0.0', 'x'.repeat(200))));
  assert.equal(reply.status, 413);
  assert.equal(reply.text, 'payload too large, nothing stored: corp.example.com/lib@v1.0.0: the zip is larger than this server takes (100 bytes, --max-publish-size)\n');
  assert.equal((await get(w, '/corp.example.com/lib/@v/v1.0.0.info')).status, 404);
});

test('an upload that takes longer than a request head may is received whole: only its stalls are cut', async () => {
  const w = await startWorld({ limits: { headersTimeoutMs: 200, idleTimeoutMs: 2000 } });
  const zip = await readFile(await w.zip('v1.0.0', 'slow'));
  const { hostname, port } = new URL(w.url);
  const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest(
      { host: hostname, port, method: 'PUT', path: '/admin/modules/corp.example.com/lib/@v/v1.0.0.zip', headers: { authorization: `Bearer ${token}`, 'content-length': String(zip.length) }, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (part: string) => (text += part));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on('error', reject);
    // Four parts, 400 ms apart: the body arrives over more than a second, five times the head's limit.
    const parts = [0, 1, 2, 3].map((i) => zip.subarray(Math.floor((i * zip.length) / 4), Math.floor(((i + 1) * zip.length) / 4)));
    parts.forEach((part, i) => setTimeout(() => (i === parts.length - 1 ? req.end(part) : req.write(part)), i * 400));
  });
  assert.equal(reply.status, 201, reply.text);
});

test('a body over 500 MiB is answered 413 while the client is still sending: at once when declared, as soon as it passes the limit when chunked', async () => {
  const w = await startWorld();
  const tooLarge = 'payload too large, nothing stored: corp.example.com/lib@v1.0.0: the zip is larger than a module zip may be (524288000 bytes)\n';
  const declared = await putZeros(w, { 'content-length': String(MAX_ZIP_FILE + 1) }, MAX_ZIP_FILE + 1);
  assert.deepEqual({ status: declared.status, text: declared.text }, { status: 413, text: tooLarge });
  assert.ok(declared.sent < 64 << 20, `sent ${declared.sent} bytes before the answer`);
  const chunked = await putZeros(w, { 'transfer-encoding': 'chunked' }, 600 << 20);
  assert.deepEqual({ status: chunked.status, text: chunked.text }, { status: 413, text: tooLarge });
  assert.equal((await get(w, '/corp.example.com/lib/@v/v1.0.0.zip')).status, 404);
  assert.deepEqual(await readdir(join(w.dir, 'store', '.tmp')).catch(() => []), [], 'nothing staged is left');
});
