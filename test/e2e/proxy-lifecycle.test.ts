// What happens to storage and clients when godepot stops: kill -9 in the middle of fetching a large zip
// leaves nothing half-written under a real name, and SIGTERM lets an in-flight download finish, refuses
// new connections and exits 0.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { hashZip } from '../../src/module/hash.js';
import { filesUnder, startGodepot } from '../support/godepot-server.js';
import { makeGoWorld, parseJsonStream } from '../support/go.js';
import { addBigModule, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let work: string;
let tree: string;
let crashBig: ProxyEntry;
let termBig: ProxyEntry;
let upstream: Upstream;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-life-'));
  tree = join(work, 'goproxy');
  crashBig = await addBigModule(tree, work, 'example.com/crash', 'v1.0.0', 16 << 20);
  termBig = await addBigModule(tree, work, 'example.com/term', 'v1.0.0', 8 << 20);
  upstream = await startUpstream({ root: tree });
});

after(async () => {
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Resolves once the upstream has received a request for `path`. */
async function requested(path: string): Promise<void> {
  for (let i = 0; i < 200 && upstream.countOf(path) === 0; i++) await sleep(25);
  assert.ok(upstream.countOf(path) > 0, `the upstream was asked for ${path}`);
}

/** Whether a new TCP connection to `url` is refused. */
function refused(url: string): Promise<boolean> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('connect', () => (socket.destroy(), resolve(false)));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

test('kill -9 in the middle of a large zip fetch leaves no entry; after a restart go downloads it intact', async () => {
  upstream.clearLog();
  // Half the zip arrives, then the upstream goes quiet: godepot is mid-download when it dies.
  upstream.fault(crashBig.urls.zip, { stallAfterBytes: 8 << 20 });
  let godepot = await startGodepot({ upstream: upstream.url });
  try {
    const client = request(godepot.url + crashBig.urls.zip).then(
      (res) => res.body.arrayBuffer(),
      (err: unknown) => err,
    );
    await requested(crashBig.urls.zip);
    await sleep(500);
    const exit = await godepot.kill();
    assert.equal(exit.signal, 'SIGKILL');
    await client;

    const versionBase = crashBig.urls.zip.slice(1, -'.zip'.length);
    const stored = (await filesUnder(godepot.storage)).filter((f) => f.startsWith(versionBase + '.'));
    assert.ok(!stored.some((f) => /\.(zip|info|ziphash)$/.test(f)), `no final-named zip or commit marker after the crash: ${stored.join(' ')}`);

    upstream.clearFaults();
    godepot = await godepot.restart();
    const world = await makeGoWorld(godepot.url);
    try {
      const { stdout } = await world.go(['mod', 'download', '-json', `${crashBig.modulePath}@${crashBig.version}`]);
      const [result] = parseJsonStream<{ Sum: string; Error?: string }>(stdout);
      assert.equal(result?.Error, undefined);
      assert.equal(result?.Sum, crashBig.zipH1);
    } finally {
      await world.dispose();
    }
    assert.equal(await hashZip(join(godepot.storage, crashBig.urls.zip.slice(1))), crashBig.zipH1, 'the stored zip is whole');
  } finally {
    await godepot.dispose();
  }
});

test('SIGTERM: the in-flight zip download completes intact, new connections are refused, exit code 0', async () => {
  upstream.clearLog();
  // The upstream takes its time, so the download is still under way when the signal arrives.
  upstream.fault(termBig.urls.zip, { delayMs: 3000 });
  const godepot = await startGodepot({ upstream: upstream.url });
  try {
    const download = request(godepot.url + termBig.urls.zip).then(async (res) => ({
      status: res.statusCode,
      body: Buffer.from(await res.body.arrayBuffer()),
    }));
    await requested(termBig.urls.zip);
    const stopped = godepot.stop();
    let isRefused = false;
    for (let i = 0; i < 80 && !isRefused; i++) {
      isRefused = await refused(godepot.url);
      if (!isRefused) await sleep(25);
    }
    assert.ok(isRefused, 'new connections are refused once SIGTERM arrived');

    const { status, body } = await download;
    assert.equal(status, 200);
    assert.equal(sha256(body), sha256(await readFile(termBig.zipFile)), 'the in-flight download got the whole zip');
    const exit = await stopped;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(await hashZip(join(godepot.storage, termBig.urls.zip.slice(1))), termBig.zipH1, 'the zip was committed to storage');
  } finally {
    await godepot.dispose();
  }
});
