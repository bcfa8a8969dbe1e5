// Bundle uploads to a running `godepot serve --import-token` (POST /admin/bundles), as an operator's
// clients send them: a bad bundle is refused saying what is wrong with it and nothing about the server.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { spoilLastFile, writeGoModBundle } from '../support/bundles.js';
import { filesUnder, startGodepot, type GodepotServer } from '../support/godepot-server.js';

const token = 'import-token-of-the-upload-test';

/** POSTs `file` to the server's upload endpoint; resolves to the answer's status and body. */
async function upload(server: GodepotServer, file: string): Promise<{ status: number; body: string }> {
  const { size } = await stat(file);
  const response = await request(`${server.url}/admin/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/gzip', 'content-length': String(size) },
    body: createReadStream(file),
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  return { status: response.statusCode, body: await response.body.text() };
}

describe('bundle uploads', { concurrency: false }, () => {
  let work: string;
  let server: GodepotServer;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-upload-e2e-'));
    server = await startGodepot({ upstream: 'off', args: ['--import-token', token] });
  });
  after(async () => {
    await server?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('refuses a bad bundle with 422 saying what is wrong, naming no path of the server, and imports nothing', async () => {
    const good = join(work, 'good.tar.gz');
    await writeGoModBundle(good, 50);
    const notGzip = join(work, 'not-gzip.tar.gz');
    await writeFile(notGzip, randomBytes(100_000));
    const truncated = join(work, 'truncated.tar.gz');
    await copyFile(good, truncated);
    await truncate(truncated, (await stat(good)).size - 1000);
    const spoiled = join(work, 'spoiled.tar.gz');
    await copyFile(good, spoiled);
    await spoilLastFile(spoiled);
    const cases: Array<[string, RegExp]> = [
      [notGzip, /: the upload is not a bundle: it is not a gzip file\n$/],
      [truncated, /: the upload is not in the bundle layout godepot reads in place/],
      [spoiled, /: example\.com\/many\/m00000049\/@v\/v1\.2\.3\.mod: sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}\n$/],
    ];
    for (const [file, reason] of cases) {
      const answer = await upload(server, file);
      assert.equal(answer.status, 422, answer.body);
      assert.match(answer.body, /^bundle refused, nothing imported: /);
      assert.match(answer.body, reason);
      for (const path of [server.storage, tmpdir(), work]) assert.ok(!answer.body.includes(path), `${answer.body} names ${path}`);
      assert.doesNotMatch(answer.body, /(^|[\s:'"(])\/[\w.]/, 'no absolute path at all');
    }
    assert.deepEqual((await filesUnder(server.storage)).filter((f) => !f.startsWith('.')), []);
  });
});
