// Bundle uploads to a running `godepot serve --import-token` (POST /admin/bundles), as an operator's
// clients send them: a bad bundle is refused saying what is wrong with it and nothing about the server,
// and uploads are received one at a time, the others told at once to come back, so that the server's
// memory stays bounded however many arrive together.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, truncate, copyFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { IMPORT_RETRY_AFTER_SECONDS } from '../../src/server/routes/bundle-import.js';
import { spoilLastFile, writeGoModBundle } from '../support/bundles.js';
import { filesUnder, startGodepot, type GodepotServer } from '../support/godepot-server.js';

const token = 'import-token-of-the-upload-test';

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** POSTs `file` to the server's upload endpoint; with `gate`, the body stops after its first chunk until the gate opens. */
async function upload(server: GodepotServer, file: string, gate?: Promise<void>): Promise<Answer> {
  const { size } = await stat(file);
  async function* held(): AsyncGenerator<Buffer> {
    let first = true;
    for await (const chunk of createReadStream(file)) {
      yield chunk as Buffer;
      if (first && gate !== undefined) await gate;
      first = false;
    }
  }
  const response = await request(`${server.url}/admin/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/gzip', 'content-length': String(size) },
    body: Readable.from(held()),
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const retryAfter = response.headers['retry-after'];
  return { status: response.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, body: await response.body.text() };
}

/**
 * Sends `count` uploads of `file` at once, each holding back the rest of its body until all but one
 * were answered (those refused at once): whichever the server took first is then the one receiving.
 */
async function uploadsAtOnce(server: GodepotServer, file: string, count: number): Promise<Answer[]> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let answered = 0;
  const uploads = Array.from({ length: count }, () =>
    upload(server, file, gate).then((answer) => {
      if (++answered === count - 1) open();
      return answer;
    }),
  );
  return Promise.all(uploads);
}

/** The most resident memory the process has had, in MB (Linux). */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)![1]) / 1024;
}

describe('bundle uploads', { concurrency: false }, () => {
  let work: string;
  let server: GodepotServer;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-upload-e2e-'));
    // Since Node.js 22 V8 sizes its young generation by the machine's memory (16 MiB semi-spaces under
    // Node 20; 64 MiB under Node 24 on a 24 GB machine, some 130 MB more at the peak of a large upload):
    // fixed at Node 20's, the peak below measures what godepot holds, not the GC's sizing of this machine.
    server = await startGodepot({ upstream: 'off', args: ['--import-token', token], nodeArgs: ['--max-semi-space-size=16'] });
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

  it('receives one upload at a time: the others are answered 503 with Retry-After at once, and succeed when sent again', async () => {
    const bundle = join(work, 'one-at-a-time.tar.gz');
    const { modules } = await writeGoModBundle(bundle, 200);
    const answers = await uploadsAtOnce(server, bundle, 3);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 503, 503], answers.map((a) => a.body).join(''));
    for (const busy of answers.filter((a) => a.status === 503)) {
      assert.equal(busy.retryAfter, String(IMPORT_RETRY_AFTER_SECONDS));
      assert.equal(busy.body, `busy: another bundle is being imported; send this one again in ${IMPORT_RETRY_AFTER_SECONDS} s\n`);
    }
    assert.equal((JSON.parse(answers.find((a) => a.status === 200)!.body) as { added: string[] }).added.length, modules);
    const again = await upload(server, bundle);
    assert.equal(again.status, 200, again.body);
    assert.deepEqual(JSON.parse(again.body), { added: [], unchanged: modules, conflicts: [], sumdbWritten: 0, notes: [] });
  });

  it('keeps the memory of four large uploads at once to what one takes', async () => {
    // 32,000 module versions: a 15 MB manifest, read whole before the last file is found spoiled. One
    // such upload peaks near 210 MB; four received together went past 390 MB.
    const bundle = join(work, 'large.tar.gz');
    const written = await writeGoModBundle(bundle, 32_000);
    assert.ok(written.manifestBytes > 14_000_000, String(written.manifestBytes));
    await spoilLastFile(bundle);
    const answers = await uploadsAtOnce(server, bundle, 4);
    assert.deepEqual(answers.map((a) => a.status).sort(), [422, 503, 503, 503], answers.map((a) => a.body).join(''));
    assert.match(answers.find((a) => a.status === 422)!.body, /m00031999\/@v\/v1\.2\.3\.mod: sha256 is /);
    const peak = await peakRssMb(server.pid);
    assert.ok(peak < 300, `the server's resident memory peaked at ${peak.toFixed(0)} MB`);
  });
});
