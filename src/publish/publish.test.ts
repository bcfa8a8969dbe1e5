// The client's side of publishing, from a folder, against the server's route in-process: the zip it
// builds is the one `godepot mod zip` makes, the checks it shares with the server stop a bad version
// before any request, and the server's answers come back as typed errors. (Publishing from git tags
// runs git, so it is tested end to end: test/e2e/publish.test.ts.)
import '../../test/support/test-hosts.js';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startForwardProxy, type ForwardProxy } from '../../test/support/forward-proxy.js';
import { writeTree } from '../../test/support/git.js';
import { SumdbPassthrough } from '../checksum/passthrough.js';
import { CachingDepot } from '../depot/caching-depot.js';
import { UpstreamError } from '../errors.js';
import { Transport } from '../http/transport.js';
import { hashZip } from '../module/hash.js';
import { createZipFromDir } from '../module/zip.js';
import { createChain } from '../origin/chain.js';
import { createServer, type GodepotServer } from '../server/app.js';
import { DiskStorage } from '../storage/disk.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { PublishConflictError, PublishRefusedError } from './errors.js';
import { ModulePublisher } from './module-publisher.js';
import { ModuleSourceError } from './module-source.js';
import { publishModule } from './publish.js';
import { openTestAccess } from '../../test/support/access.js';
import { NoDirect } from '../../test/support/no-direct.js';

const token = 'publish-token-of-the-client-test';
let closeAccess: () => Promise<void>;
let dir: string;
let server: GodepotServer;
let url: string;
let storeRoot: string;
let requests = 0;
let proxy: ForwardProxy;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'godepot-publish-client-'));
  storeRoot = join(dir, 'store');
  const { logger } = createLogger({ level: 'info', destination: { write: (line: string) => void (line.includes('"route":"publish"') && requests++) } });
  const metrics = createMetrics();
  const storage = new DiskStorage({ root: storeRoot });
  const depot = new CachingDepot({ storage, origin: createChain({ upstream: 'off', direct: new NoDirect() }), logger, metrics, listTtlMs: 60_000 });
  const publisher = new ModulePublisher({ storage, staging: storage, accepts: (modulePath) => modulePath.startsWith('corp.example.com/') });
  const sumdb = new SumdbPassthrough({ upstreams: [], sumdb: null, storage, logger, metrics });
  const access = await openTestAccess(dir, { statics: [{ name: 'publish-token', token, role: 'publish' }] });
  closeAccess = () => access.close();
  server = createServer({ depot, sumdb, metrics, logger, gate: access.gate, audit: access.audit, publishing: { publisher } });
  ({ url } = await server.listen('127.0.0.1', 0));
  proxy = await startForwardProxy();
});

after(async () => {
  await proxy.stop();
  await server.close();
  await closeAccess();
  await rm(dir, { recursive: true, force: true });
});

/** A module folder with `files`, outside any git work tree. */
async function moduleFolder(name: string, files: Record<string, string>): Promise<string> {
  const folder = join(dir, name);
  await writeTree(folder, files);
  return folder;
}

test('a folder is zipped as `godepot mod zip` zips it (go\'s rules), published under its go.mod\'s module path, and stored byte for byte', async () => {
  const folder = await moduleFolder('lib', {
    'go.mod': 'module corp.example.com/lib\n\ngo 1.19\n',
    'lib.go': 'package lib\n',
    'internal/x.go': 'package internal\n',
    '.hg/store': 'version control\n',
    'nested/go.mod': 'module corp.example.com/lib/nested\n',
    'nested/n.go': 'package nested\n',
    'vendor/modules.txt': '# vendored\n',
  });
  await symlink('lib.go', join(folder, 'link.go'));
  await mkdir(join(dir, 'expected'));
  const expected = join(dir, 'expected', 'lib.zip');
  await createZipFromDir(createWriteStream(expected), 'corp.example.com/lib', 'v1.0.0', folder);

  const { modulePath, source, result } = await publishModule({ dir: folder, version: 'v1.0.0', server: url, token });
  assert.equal(modulePath, 'corp.example.com/lib');
  assert.equal(source.description, `folder ${folder}`);
  assert.equal(source.time, null);
  assert.equal(result.created, true);
  assert.equal(result.h1, await hashZip(expected));
  assert.deepEqual(await readFile(join(storeRoot, 'corp.example.com', 'lib', '@v', 'v1.0.0.zip')), await readFile(expected));

  const again = await publishModule({ dir: folder, version: 'v1.0.0', server: url, token });
  assert.equal(again.result.created, false);
  assert.equal(again.result.h1, result.h1);
});

test('--module names the module when the go.mod does not, and must agree with it when it does', async () => {
  const noGoMod = await moduleFolder('legacy', { 'legacy.go': 'package legacy\n' });
  await assert.rejects(publishModule({ dir: noGoMod, version: 'v1.0.0', server: url, token }), (err: Error) => err instanceof ModuleSourceError && /has no go\.mod: give the module path with --module/.test(err.message));
  const { result } = await publishModule({ dir: noGoMod, version: 'v1.0.0', modulePath: 'corp.example.com/legacy', server: url, token });
  assert.equal(result.created, true);

  const before = requests;
  assert.ok(before > 0, 'publishes are counted');
  const named = await moduleFolder('named', { 'go.mod': 'module corp.example.com/named\n', 'n.go': 'package n\n' });
  await assert.rejects(publishModule({ dir: named, version: 'v1.0.0', modulePath: 'corp.example.com/other', server: url, token }), (err: Error) => err instanceof PublishRefusedError && /declares module "corp\.example\.com\/named"/.test(err.message));
  await assert.rejects(publishModule({ dir: named, version: 'v2.0.0', server: url, token }), (err: Error) => err instanceof PublishRefusedError && /should be v0 or v1, not v2/.test(err.message));
  await assert.rejects(publishModule({ dir: named, version: 'v1.0', server: url, token }), PublishRefusedError);
  assert.equal(requests, before, 'nothing was sent');
});

test('the server\'s answers: a conflict names both hashes, a refusal carries its status and reason and never the token', async () => {
  const folder = await moduleFolder('conflict', { 'go.mod': 'module corp.example.com/conflict\n', 'c.go': 'package c\n' });
  const first = await publishModule({ dir: folder, version: 'v0.1.0', server: url, token });
  await writeTree(folder, { 'c.go': 'package c\n\nconst Changed = true\n' });
  await assert.rejects(publishModule({ dir: folder, version: 'v0.1.0', server: url, token }), (err: Error) => {
    assert.ok(err instanceof PublishConflictError);
    assert.match(err.message, /^corp\.example\.com\/conflict@v0\.1\.0 is already published with other content/);
    assert.ok(err.message.includes(`published: ${first.result.h1}`), err.message);
    return true;
  });

  const wrong = 'wrong-token-of-the-client-test';
  await assert.rejects(publishModule({ dir: folder, version: 'v0.2.0', server: url, token: wrong }), (err: Error) => {
    assert.ok(err instanceof UpstreamError && err.status === 401, String(err));
    assert.equal(err.message, `${url} refused corp.example.com/conflict@v0.2.0 (401): unauthorized: the token is not valid (unknown or revoked)`);
    assert.ok(!err.message.includes(wrong));
    return true;
  });
  const elsewhere = await moduleFolder('public', { 'go.mod': 'module github.com/public/lib\n', 'p.go': 'package lib\n' });
  await assert.rejects(publishModule({ dir: elsewhere, version: 'v1.0.0', server: url, token }), (err: Error) => err instanceof UpstreamError && err.status === 403);
});

test('the upload goes through the outbound proxy the environment names', async () => {
  const folder = await moduleFolder('proxied', { 'go.mod': 'module corp.example.com/proxied\n', 'p.go': 'package p\n' });
  const transport = new Transport({ proxy: { http: proxy.url, https: null, noProxy: '' } });
  const port = new URL(url).port;
  try {
    // A name only the proxy can resolve: the upload cannot have gone around it.
    const { result } = await publishModule({ dir: folder, version: 'v1.0.0', server: `http://publish.godepot.test:${port}`, token, transport });
    assert.equal(result.created, true);
  } finally {
    await transport.close();
  }
  assert.deepEqual(proxy.log.map((r) => [r.method, r.target]), [['PUT', `http://publish.godepot.test:${port}/admin/modules/corp.example.com/proxied/@v/v1.0.0.zip`]]);
});
