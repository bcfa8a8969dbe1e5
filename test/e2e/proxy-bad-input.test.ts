// Hostile or broken input from both sides. From clients: traversal, over-long paths, bad escapes, invalid
// versions, unknown routes and methods get a 4xx with no upstream traffic and no file written anywhere.
// From the upstream: corrupt or malicious zips, a .mod that disagrees with the zip, oversized bodies and
// cross-host redirects are rejected and nothing is stored, and a good answer later is stored fine.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashGoMod, hashZip } from '../../src/module/hash.js';
import { filesUnder, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, parseJsonStream } from '../support/go.js';
import { buildModuleGraph, type ModuleGraph, type ProxyEntry } from '../support/modgraph.js';
import { writeRawZip } from '../support/rawzip.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let work: string;
let base: string;
let graph: ModuleGraph;
let upstream: Upstream;
let elsewhere: Upstream;
let godepot: GodepotServer;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-bad-'));
  graph = await buildModuleGraph(join(work, 'graph'));
  upstream = await startUpstream({ root: graph.tree });
  // Another host with the same modules: a redirect there would "work", which is why it must be refused.
  elsewhere = await startUpstream({ root: graph.tree });
  // The storage sits alone in `base`, so any file written outside it shows up as a sibling; godepot's
  // own state (the audit log it opens at start) is elsewhere.
  base = join(work, 'base');
  await mkdir(join(base, 'storage'), { recursive: true });
  godepot = await startGodepot({ upstream: upstream.url, storage: join(base, 'storage'), args: ['--state-dir', join(work, 'state')] });
});

after(async () => {
  await godepot?.dispose();
  await upstream?.stop();
  await elsewhere?.stop();
  await rm(work, { recursive: true, force: true });
});

/**
 * Sends one request with exactly `target` as the request target (no client-side normalisation of dots,
 * escapes or bytes) and returns the status code; a connection closed without a status answers 0.
 */
function rawRequest(method: string, target: string | Buffer): Promise<number> {
  const { port } = new URL(godepot.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let response = '';
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      socket.write(Buffer.concat([Buffer.from(`${method} `), Buffer.from(target), Buffer.from(' HTTP/1.1\r\nHost: godepot\r\nConnection: close\r\n\r\n')]));
    });
    socket.on('data', (text: string) => (response += text));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(response);
      resolve(status ? Number(status[1]) : 0);
    });
  });
}

describe('client input', () => {
  const traversal = [
    '/../../etc/passwd',
    '/../escape/@v/list',
    '/example.com/../../../escape/@v/v1.0.0.info',
    '/example.com/x/@v/../../../../escape.info',
    '/%2e%2e/%2e%2e/escape/@v/list',
    '/example.com/%2e%2e/%2e%2e/%2e%2e/escape/@v/list',
    '/example.com%2f..%2f..%2fescape/@v/list',
    '/example.com/x/@v/..%2f..%2f..%2fescape.info',
    '/%2fescape/@v/list',
    '/example.com\\..\\..\\escape/@v/list',
    '/example.com/x%5c..%5c..%5cescape/@v/list',
    '/example.com/x%00/@v/list',
    '/example.com/x/@v/v1.0.0%00.zip',
    Buffer.from('/example.com/x\0/@v/list'),
  ];
  const overLong = [`/example.com/${'a'.repeat(5000)}/@v/list`, `/example.com/x/@v/v1.0.0-${'a'.repeat(5000)}.info`, `/${'example.com/'.repeat(9000)}@v/list`];
  const badEscapes = [
    '/example.com/Upper/Mixed/@v/list',
    '/example.com/!!upper/@v/list',
    '/example.com/upper!/@v/list',
    '/example.com/!1/@v/list',
    '/example.com/x/@v/V1.0.0.zip',
    '/example.com/x/@v/v1.0.0!.info',
  ];
  const badVersions = [
    '/example.com/x/@v/v1.2.zip',
    '/example.com/x/@v/1.0.0.mod',
    '/example.com/x/@v/latest.zip',
    '/example.com/x/@v/v1.0.0-.mod',
    '/example.com/major/v2/@v/v1.0.0.zip',
    '/example.com/x/@v/v1.0.0+incompatible.mod',
    '/example.com/x/@v/v2.0.0.zip',
  ];

  for (const [name, targets] of Object.entries({ traversal, 'over-long paths': overLong, 'bad escapes': badEscapes, 'invalid versions': badVersions })) {
    test(`${name}: 4xx and no upstream request`, async () => {
      for (const target of targets) {
        const status = await rawRequest('GET', target);
        assert.ok(status >= 400 && status < 500, `${String(target).slice(0, 80)} answered ${status}`);
      }
      assert.deepEqual(upstream.requests, [], 'no bad request reached the upstream');
    });
  }

  test('unknown routes answer 404, other methods 405', async () => {
    for (const target of ['/index.html', '/favicon.ico', '/example.com/x']) {
      assert.equal(await rawRequest('GET', target), 404, target);
    }
    // Whether these read as unknown routes or as bad versions, they are client errors.
    for (const target of ['/example.com/x/@v/', '/example.com/x/@v/v1.0.0.tar', '/example.com/x/@latest/extra']) {
      const status = await rawRequest('GET', target);
      assert.ok(status === 400 || status === 404, `${target} answered ${status}`);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      assert.equal(await rawRequest(method, '/example.com/!upper/!mixed/@v/list'), 405, method);
    }
    assert.deepEqual(upstream.requests, []);
  });

  test('nothing was written outside the storage folder (nor inside it), and the server still serves', async () => {
    assert.deepEqual(await readdir(base), ['storage']);
    assert.deepEqual(await filesUnder(join(base, 'storage')), []);
    const mixed = graph.entry('example.com/Upper/Mixed', 'v1.0.0');
    const res = await fetch(godepot.url + mixed.urls.info);
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(await res.text()) as { Version: string }).Version, 'v1.0.0');
  });
});

interface Downloaded {
  Sum?: string;
  GoModSum?: string;
  Error?: string;
}

/** `go mod download -json` of `entry` through godepot from an empty module cache. */
async function goDownload(entry: ProxyEntry): Promise<Downloaded> {
  const world = await makeGoWorld(godepot.url);
  try {
    const { stdout } = await world.go(['mod', 'download', '-json', `${entry.modulePath}@${entry.version}`]).catch((err: Error) => ({
      stdout: (err.cause as { stdout?: string }).stdout ?? '',
    }));
    const [result] = parseJsonStream<Downloaded>(stdout);
    assert.ok(result, stdout);
    return result;
  } finally {
    await world.dispose();
  }
}

/** The files storage holds for `entry`'s version, by extension. */
async function storedFiles(entry: ProxyEntry): Promise<string[]> {
  const versionBase = entry.urls.zip.slice(1, -'.zip'.length);
  return (await filesUnder(godepot.storage)).filter((f) => f.startsWith(versionBase + '.')).map((f) => f.slice(versionBase.length));
}

describe('upstream answers', () => {
  /** Checks storage holds no zip for `entry`, and that any `.info`/`.mod` it holds is the upstream's true one. */
  async function assertNoBadEntry(entry: ProxyEntry): Promise<void> {
    const stored = await storedFiles(entry);
    assert.ok(!stored.includes('.zip') && !stored.includes('.ziphash'), `no zip stored for ${entry.version}: ${stored.join(' ')}`);
    for (const [ext, file] of [['.info', entry.infoFile], ['.mod', entry.modFile]] as const) {
      if (!stored.includes(ext)) continue;
      const url = ext === '.info' ? entry.urls.info : entry.urls.mod;
      assert.deepEqual(await readFile(join(godepot.storage, url.slice(1))), await readFile(file), `stored ${ext} is the upstream's`);
    }
  }

  /** After the upstream is fixed, go downloads `entry` through godepot and the good zip is stored. */
  async function storedOnceFixed(entry: ProxyEntry): Promise<void> {
    upstream.clearFaults();
    const good = await goDownload(entry);
    assert.equal(good.Error, undefined, good.Error);
    assert.equal(good.Sum, entry.zipH1);
    assert.equal(good.GoModSum, entry.modH1);
    assert.equal(await hashZip(join(godepot.storage, entry.urls.zip.slice(1))), entry.zipH1, 'the good zip is stored');
  }

  /** Makes the upstream misbehave for `entry`; go's download fails saying `why`; nothing bad is stored; then it is fixed. */
  async function rejectedThenStored(entry: ProxyEntry, misbehave: () => void, why: RegExp): Promise<void> {
    misbehave();
    const bad = await goDownload(entry);
    assert.ok(bad.Error, 'go reports an error');
    assert.match(bad.Error, why);
    await assertNoBadEntry(entry);
    await storedOnceFixed(entry);
  }

  test('a corrupt (truncated) zip', async () => {
    const e = graph.entry('example.com/deep/c', 'v1.0.0');
    const zip = await readFile(e.zipFile);
    await rejectedThenStored(e, () => upstream.fault(e.urls.zip, { status: 200, body: zip.subarray(0, zip.length >> 1) }), /not a valid zip file/);
  });

  test('a zip with a ../ entry', async () => {
    const e = graph.entry('example.com/pre', 'v1.5.0-rc.1');
    const evil = join(work, 'evil.zip');
    const prefix = `${e.modulePath}@${e.version}/`;
    await writeRawZip(evil, [
      { name: prefix + 'go.mod', data: e.goMod },
      { name: prefix + 'pre.go', data: 'package pre\n' },
      { name: prefix + '../escape.go', data: 'package escape\n' },
    ]);
    const body = await readFile(evil);
    await rejectedThenStored(e, () => upstream.fault(e.urls.zip, { status: 200, body }), /malformed file path "\.\.\/escape\.go"/);
  });

  test('a .mod that disagrees with the go.mod in the zip', async () => {
    const e = graph.entry('example.com/app/util', 'v1.0.0');
    const lie = `module ${e.modulePath}\n\ngo 1.17\n`;
    assert.notEqual(lie, e.goMod);
    upstream.fault(e.urls.mod, { status: 200, body: lie });
    // The zip asked first, as a client that has the .mod already does: the zip, its go.mod and the
    // .mod are checked together and nothing of the version is stored.
    const res = await fetch(godepot.url + e.urls.zip);
    assert.equal(res.status, 502);
    assert.match(await res.text(), /go\.mod differs from the \.mod/);
    assert.deepEqual(await storedFiles(e), []);
    await storedOnceFixed(e);
  });

  test(".mod that disagrees with the zip, asked in go's order (.info, .mod, .zip): the zip is refused and the lying .mod is not kept", async () => {
    const e = graph.entry('example.com/deep/b', 'v1.1.0');
    const lie = `module ${e.modulePath}\n\ngo 1.17\n`;
    assert.notEqual(lie, e.goMod);
    // go has the lying .mod by the time it asks for the zip; once the zip shows the lie, godepot asks
    // the upstream again, which still lies: nothing of the version but its .info may stay.
    await rejectedThenStored(e, () => upstream.fault(e.urls.mod, { status: 200, body: lie }), /go\.mod differs from the \.mod/);
  });

  test('a lying .mod already served is replaced when the upstream has fixed it by the time the zip is asked', async () => {
    const e = graph.entry('example.com/app/log', 'v1.2.0');
    const lie = `module ${e.modulePath}\n\ngo 1.12\n`;
    assert.notEqual(lie, e.goMod);
    upstream.fault(e.urls.mod, { status: 200, body: lie });
    assert.equal((await fetch(godepot.url + e.urls.info)).status, 200);
    const served = await fetch(godepot.url + e.urls.mod);
    assert.equal(await served.text(), lie);
    // Not yet checked against any zip: not announced as immutable.
    assert.doesNotMatch(served.headers.get('cache-control') ?? '', /immutable/);
    upstream.clearFaults();
    const zip = await fetch(godepot.url + e.urls.zip);
    assert.equal(zip.status, 200);
    assert.deepEqual(Buffer.from(await zip.arrayBuffer()), await readFile(e.zipFile));
    assert.deepEqual(await readFile(join(godepot.storage, e.urls.mod.slice(1))), await readFile(e.modFile), 'the stored .mod is the good one');
    const fixed = await fetch(godepot.url + e.urls.mod);
    assert.equal(await fixed.text(), e.goMod);
    assert.match(fixed.headers.get('cache-control') ?? '', /immutable/);
    const [warning] = await godepot.untilLogged((l) => l.msg === 'replaced a stored .mod that disagreed with its zip' && l.module === e.modulePath);
    assert.ok(warning, 'the replacement is logged');
    assert.equal(warning.storedModH1, hashGoMod(Buffer.from(lie)));
    assert.equal(warning.modH1, e.modH1);
    const good = await goDownload(e);
    assert.equal(good.Error, undefined, good.Error);
    assert.equal(good.Sum, e.zipH1);
    assert.equal(good.GoModSum, e.modH1);
  });

  test('a zip body larger than any module zip may be (declared length)', async () => {
    const e = graph.entry('example.com/nomod', 'v1.0.0');
    await rejectedThenStored(e, () => upstream.fault(e.urls.zip, { bodyBytes: 600 << 20, declareLength: true }), /exceeds the zip limit/);
  });

  test('an endless .mod body (no declared length)', async () => {
    const e = graph.entry('example.com/legacy', 'v2.0.0+incompatible');
    await rejectedThenStored(e, () => upstream.fault(e.urls.mod, { bodyBytes: Infinity }), /exceeds the limit/);
  });

  test('a redirect to another host', async () => {
    const e = graph.entry('example.com/pseudo', 'v0.0.0-20230102030405-0123456789ab');
    await rejectedThenStored(e, () => upstream.fault(e.urls.zip, { redirect: elsewhere.url + e.urls.zip }), /redirect to another host refused/);
    assert.deepEqual(elsewhere.requests, [], 'the other host was never contacted');
  });
});
