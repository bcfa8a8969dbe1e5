// A full disk under the storage folder: the module that does not fit is refused with 507 and nothing
// of it is kept, what is stored is still served, /readyz says degraded while it lasts, and once the
// volume grows everything works again. The storage is a small tmpfs (mounting one needs root).
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { filesUnder, sha256, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld } from '../support/go.js';
import { addBigModule, addModule, type ProxyEntry } from '../support/modgraph.js';
import { mountTmpfs, tmpfsUnavailable, type Tmpfs } from '../support/tmpfs.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const unavailable = tmpfsUnavailable();
let work: string;
let small: ProxyEntry;
let big: ProxyEntry;
let upstream: Upstream;
let disk: Tmpfs;
let godepot: GodepotServer;

before(async () => {
  if (unavailable !== null) return;
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-full-'));
  const tree = join(work, 'goproxy');
  small = await addModule(tree, work, 'example.com/small', 'v1.0.0', { 'go.mod': 'module example.com/small\n\ngo 1.17\n', 'small.go': 'package small\n' });
  // Random bytes do not compress: the zip is as large as its content, and larger than the disk.
  big = await addBigModule(tree, work, 'example.com/big', 'v1.0.0', 6 << 20);
  upstream = await startUpstream({ root: tree });
  disk = await mountTmpfs(4 << 20);
  godepot = await startGodepot({ upstream: upstream.url, storage: disk.dir });
});

after(async () => {
  await godepot?.dispose();
  await disk?.dispose();
  await upstream?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: Buffer }> {
  const res = await request(godepot.url + path);
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
}

test('a module that does not fit is refused with 507 and nothing of it kept; stored modules are served; /readyz says degraded until the volume grows', { skip: unavailable ?? false }, async () => {
  const smallZip = await get(small.urls.zip);
  assert.equal(smallZip.status, 200);
  assert.equal((await get('/readyz')).body.toString(), 'ready\n');

  const refused = await get(big.urls.zip);
  assert.equal(refused.status, 507);
  assert.match(refused.body.toString(), /^insufficient storage: storage is full \(no space left on device\): new modules cannot be stored\n$/);
  assert.ok(!refused.body.toString().includes(disk.dir), 'the answer shows no server path');
  // go stops on it and says why.
  const world = await makeGoWorld(godepot.url);
  try {
    await assert.rejects(world.go(['mod', 'download', `${big.modulePath}@${big.version}`]), /507 Insufficient Storage.*\n.*storage is full/s);
  } finally {
    await world.dispose();
  }

  const ready = await get('/readyz');
  assert.equal(ready.status, 200);
  assert.match(ready.body.toString(), new RegExp(`^degraded: storage ${disk.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is full since \\d{4}-\\d\\d-\\d\\dT`));
  // What is stored is still served, and nothing of the refused module is kept, not even a temporary.
  const again = await get(small.urls.zip);
  assert.equal(again.status, 200);
  assert.equal(sha256(again.body), sha256(smallZip.body));
  assert.equal((await get('/healthz')).status, 200);
  const kept = await filesUnder(disk.dir);
  assert.deepEqual(kept.filter((f) => f.startsWith('example.com/big/@v/') && !f.endsWith('.mod') && !f.endsWith('.info')), []);
  assert.deepEqual(await readdir(join(disk.dir, '.tmp')), []);

  await disk.resize(256 << 20);
  assert.equal((await get('/readyz')).body.toString(), 'ready\n');
  const stored = await get(big.urls.zip);
  assert.equal(stored.status, 200);
  assert.equal(sha256(stored.body), sha256(await readFile(big.zipFile)));
});
