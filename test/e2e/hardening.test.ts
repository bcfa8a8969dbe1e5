// Hostile clients against `godepot serve` as an operator runs it: request smuggling, header injection,
// oversized heads and unwanted bodies, slow clients, and a bounded fuzz of every route. The answers
// are read as raw bytes off raw sockets, so that nothing in a client library tidies them first.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { seededRandom } from '../support/garbage.js';
import { startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { addBigModule, buildModuleGraph, type ModuleGraph, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let work: string;
let graph: ModuleGraph;
let big: ProxyEntry;
let upstream: Upstream;
let godepot: GodepotServer;
let port: number;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-hardening-'));
  graph = await buildModuleGraph(join(work, 'graph'));
  big = await addBigModule(graph.tree, work, 'example.com/big', 'v1.0.0', 8 << 20);
  upstream = await startUpstream({ root: graph.tree });
  godepot = await startGodepot({ upstream: upstream.url });
  port = Number(new URL(godepot.url).port);
});

after(async () => {
  await godepot?.dispose();
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

/** What came back on one raw connection: every byte, and whether the server closed it. */
interface RawAnswer {
  bytes: Buffer;
  /** The status of every response found in the bytes, in order. */
  statuses: number[];
}

/**
 * Writes `request` (exact bytes) on a new connection, half-closes nothing, and collects what comes back
 * until the server closes the connection or `waitMs` passes.
 */
function raw(request: string | Buffer, waitMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      const statuses = [...bytes.toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ bytes, statuses });
    };
    const timer = setTimeout(done, waitMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (b: Buffer) => chunks.push(b));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? done() : reject(err)));
    socket.on('close', done);
  });
}

/** The response head of raw answer bytes, as lines. */
function headLines(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return (end < 0 ? text : text.slice(0, end)).split('\r\n');
}

/** VmRSS of a process, in bytes. */
async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
}

/** The soft limit on open files of a process. */
async function openFileLimit(pid: number): Promise<number> {
  const limits = await readFile(`/proc/${pid}/limits`, 'utf8');
  const soft = /^Max open files\s+(\S+)/m.exec(limits)![1]!;
  return soft === 'unlimited' ? Infinity : Number(soft);
}

const smuggledModule = 'example.com/smuggled';
const smuggled = `GET /${smuggledModule}/@v/list HTTP/1.1\r\nHost: godepot\r\n\r\n`;

/**
 * True when no request for a `smuggled` module was served: none reached a route (a request dropped
 * unserved is logged with its URL and no route) nor the upstream.
 */
function smuggledNeverServed(): boolean {
  return !godepot.logs.some((l) => l.route !== undefined && String(l.module ?? '').includes('smuggled')) && !upstream.requests.some((p) => p.includes('smuggled'));
}

describe('request smuggling', () => {
  const cases: Record<string, string> = {
    'Content-Length and Transfer-Encoding: chunked together': `POST /admin/bundles HTTP/1.1\r\nHost: godepot\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    'Transfer-Encoding: chunked then Content-Length': `GET /healthz HTTP/1.1\r\nHost: godepot\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
    'two Content-Lengths that differ': `GET /healthz HTTP/1.1\r\nHost: godepot\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    'one Content-Length with two values': `GET /healthz HTTP/1.1\r\nHost: godepot\r\nContent-Length: 0, ${smuggled.length}\r\n\r\n${smuggled}`,
    'an obs-fold header line': `GET /healthz HTTP/1.1\r\nHost: godepot\r\nX-Folded: a\r\n Transfer-Encoding: chunked\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    'a bare LF ending a header line': `GET /healthz HTTP/1.1\r\nHost: godepot\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    'a bare LF ending the request line': `GET /healthz HTTP/1.1\nHost: godepot\r\n\r\n${smuggled}`,
    'a Transfer-Encoding that is not chunked last': `POST /admin/bundles HTTP/1.1\r\nHost: godepot\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
    'a space before the header colon': `GET /healthz HTTP/1.1\r\nHost: godepot\r\nContent-Length : ${smuggled.length}\r\n\r\n${smuggled}`,
  };
  for (const [name, request] of Object.entries(cases)) {
    test(`${name}: one 400, the connection closed, the request behind it never served`, async () => {
      const answer = await raw(request);
      assert.deepEqual(answer.statuses, [400], answer.bytes.toString('latin1'));
      assert.match(answer.bytes.toString('latin1'), /\r\nConnection: close\r\n/i);
      // Nothing is served after the refusal, even once the server had time to read on.
      await sleep(100);
      assert.ok(smuggledNeverServed(), 'the smuggled request was served');
    });
  }

  test('a GOPROXY GET carrying a body: refused, and its body never read as a request', async () => {
    const answer = await raw(`GET ${graph.entries[0]!.urls.list} HTTP/1.1\r\nHost: godepot\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`);
    assert.deepEqual(answer.statuses, [400]);
    assert.match(answer.bytes.toString('latin1'), /request body not allowed/);
    await sleep(100);
    assert.ok(smuggledNeverServed());
  });

  test('a chunked GOPROXY GET: refused; neither its chunks nor a request pipelined behind it are served', async () => {
    const chunk = Buffer.byteLength(smuggled).toString(16);
    const pipelined = `GET /example.com/smuggled-behind/@v/list HTTP/1.1\r\nHost: godepot\r\n\r\n`;
    const answer = await raw(`GET ${graph.entries[0]!.urls.list} HTTP/1.1\r\nHost: godepot\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}\r\n${smuggled}\r\n0\r\n\r\n${pipelined}`);
    assert.deepEqual(answer.statuses, [400]);
    await sleep(100);
    // Before godepot dropped them, the request behind was fetched from the upstream for nobody.
    assert.ok(smuggledNeverServed(), JSON.stringify(godepot.logs.filter((l) => String(l.module ?? l.url).includes('smuggled'))));
    assert.ok((await godepot.untilLogged((l) => l.url === '/example.com/smuggled-behind/@v/list' && l.status === 499)).length > 0, 'the request behind is logged as not served');
  });

  test('two pipelined honest requests are both answered (the tests above can tell one answer from two)', async () => {
    const request = `GET /healthz HTTP/1.1\r\nHost: godepot\r\n\r\nGET /healthz HTTP/1.1\r\nHost: godepot\r\nConnection: close\r\n\r\n`;
    assert.deepEqual((await raw(request)).statuses, [200, 200]);
  });
});

describe('header injection', () => {
  const marker = 'X-Injected: godepot-hardening';
  const targets = [
    `/example.com/a%0d%0a${encodeURIComponent(marker)}/@v/list`,
    `/example.com/a/@v/v1.0.0%0d%0a${encodeURIComponent(marker)}.info`,
    `/example.com/a/@v/v1.0.0%0A${encodeURIComponent(marker)}.mod`,
    `/example.com/a%0d%0a%0d%0a<html>/@latest`,
    `/sumdb/sum.golang.org/lookup/example.com/a%0d%0a${encodeURIComponent(marker)}@v1.0.0`,
    `/admin/modules/example.com/a%0d%0a${encodeURIComponent(marker)}/@v/v1.0.0.zip`,
    `/example.com/a%E2%80%A8${encodeURIComponent(marker)}/@v/list`,
  ];

  test('an escaped CR/LF in a module path or version splits neither a response header nor a log line', async () => {
    for (const target of targets) {
      for (const method of ['GET', 'HEAD', 'PUT']) {
        const answer = await raw(`${method} ${target} HTTP/1.1\r\nHost: godepot\r\nConnection: close\r\n\r\n`);
        assert.equal(answer.statuses.length, 1, target);
        assert.ok(answer.statuses[0]! >= 400 && answer.statuses[0]! < 500, `${method} ${target}: ${answer.statuses[0]}`);
        for (const line of headLines(answer.bytes).slice(1)) {
          assert.match(line, /^[A-Za-z0-9-]+: [\x20-\x7e]*$/, `${method} ${target}: header line ${JSON.stringify(line)}`);
          assert.ok(!/^x-injected/i.test(line), `${method} ${target}: injected header`);
        }
      }
    }
  });

  test('raw CR or LF bytes inside the request target: one 4xx, the connection closed, nothing echoed', async () => {
    // A CR is refused by the parser (400). An LF ends the request line: Node reads what precedes it as
    // an HTTP/0.9 request for /example.com/a (404) and closes the connection, so the rest is never a header.
    for (const target of ['/example.com/a\r' + marker + '/@v/list', '/example.com/a\n' + marker + '/@v/list']) {
      const answer = await raw(`GET ${target} HTTP/1.1\r\nHost: godepot\r\n\r\n`);
      assert.equal(answer.statuses.length, 1, JSON.stringify(target));
      assert.ok(answer.statuses[0]! >= 400 && answer.statuses[0]! < 500, `${JSON.stringify(target)}: ${answer.statuses[0]}`);
      assert.match(answer.bytes.toString('latin1'), /\r\nConnection: close\r\n/i);
      assert.ok(!/x-injected/i.test(answer.bytes.toString('latin1')), 'the marker came back');
    }
  });

  test('a client request id with CR/LF is not echoed; every log line is one JSON object', async () => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\nHost: godepot\r\nX-Request-Id: a\u2028${marker}\r\nConnection: close\r\n\r\n`);
    assert.deepEqual(answer.statuses, [200]);
    assert.ok(!answer.bytes.toString('latin1').includes('godepot-hardening'), 'the request id came back');
    // A split line would reach stdout as text that is not JSON: the support collects those as stderr.
    assert.ok(!godepot.stderr.includes('godepot-hardening') && !godepot.stderr.includes('<html>'), godepot.stderr);
    const injected = await godepot.untilLogged((l) => JSON.stringify(l).includes('godepot-hardening'), targets.length);
    assert.ok(injected.length >= targets.length, `${injected.length} log lines carry the marker inside a JSON string`);
    for (const l of godepot.logs) assert.ok(typeof l.msg === 'string' && typeof l.level === 'number', JSON.stringify(l));
  });
});

describe('oversized heads, bodies and URLs', () => {
  test('a head larger than 16 KiB: 431', async () => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\nHost: godepot\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.deepEqual(answer.statuses, [431]);
  });

  test('many small headers adding up past 16 KiB: 431', async () => {
    // Node counts names and values only (not ": " and CRLF): 4000 of about 8 bytes.
    const headers = Array.from({ length: 4000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    assert.deepEqual((await raw(`GET /healthz HTTP/1.1\r\nHost: godepot\r\n${headers}\r\n`)).statuses, [431]);
  });

  test('a URL of 64 KiB: 431; one of 1 MiB: 431 or the connection cut, never an answer past the limit', async () => {
    assert.deepEqual((await raw(`GET /example.com/${'a'.repeat(64 << 10)}/@v/list HTTP/1.1\r\nHost: godepot\r\n\r\n`)).statuses, [431]);
    const huge = await raw(`GET /${'a'.repeat(1 << 20)} HTTP/1.1\r\nHost: godepot\r\n\r\n`);
    assert.ok(huge.statuses.length === 0 || (huge.statuses.length === 1 && huge.statuses[0] === 431), String(huge.statuses));
  });

  test('a URL just under the limit: a 4xx about the path, no upstream request', async () => {
    const before = upstream.requests.length;
    const answer = await raw(`GET /example.com/${'a'.repeat(15_000)}/@v/list HTTP/1.1\r\nHost: godepot\r\nConnection: close\r\n\r\n`);
    assert.equal(answer.statuses.length, 1);
    assert.ok(answer.statuses[0]! >= 400 && answer.statuses[0]! < 500, String(answer.statuses[0]));
    assert.equal(upstream.requests.length, before);
  });

  test('a GOPROXY GET with a body: 400 "request body not allowed" and the connection not reused', async () => {
    const body = 'x'.repeat(1000);
    const answer = await raw(`GET ${graph.entries[0]!.urls.info} HTTP/1.1\r\nHost: godepot\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    assert.deepEqual(answer.statuses, [400]);
    assert.match(answer.bytes.toString('latin1'), /\r\nConnection: close\r\n[\s\S]*request body not allowed/i);
  });

  test('a body announced but never sent on an upload route does not hold the connection for ever', async () => {
    // POST /admin/bundles without a bundle import configured is an unknown endpoint: answered at once.
    const answer = await raw(`POST /admin/bundles HTTP/1.1\r\nHost: godepot\r\nContent-Length: 1000000\r\n\r\npartial`, 20_000);
    assert.equal(answer.statuses.length, 1);
    assert.ok(answer.statuses[0]! >= 400 && answer.statuses[0]! < 500, String(answer.statuses[0]));
  });
});

describe('slow clients', () => {
  test('500 slowloris heads and 50 stalled zip readers leave a normal client served, and the slow heads are cut', { timeout: 120_000 }, async () => {
    const slowHeads = 500;
    const slowReaders = 50;
    // Each connection costs the server one descriptor and this process one: both must have room.
    const needed = slowHeads + slowReaders + 200;
    const limits = [await openFileLimit(godepot.pid), await openFileLimit(process.pid)];
    assert.ok(limits.every((l) => l >= needed), `open file limits ${limits} below the ${needed} this test needs`);

    // The zip and an .info in storage first: the normal client's answers are cached ones.
    const info = graph.entries[0]!.urls.info;
    assert.deepEqual((await raw(`GET ${big.urls.zip} HTTP/1.1\r\nHost: godepot\r\nConnection: close\r\n\r\n`, 30_000)).statuses, [200]);
    assert.deepEqual((await raw(`GET ${info} HTTP/1.1\r\nHost: godepot\r\nConnection: close\r\n\r\n`)).statuses, [200]);

    const sockets: Socket[] = [];
    // Destroyed in finally too: a failed assertion must not leave 50 paused sockets and their intervals
    // holding this file's process open for ever (the whole suite then never ends).
    const readers: Socket[] = [];
    const closedAt: Array<number | undefined> = [];
    const answers: string[] = [];
    const opened = Date.now();
    const head = `GET ${info} HTTP/1.1\r\nHost: godepot\r\nX-Slow: ${'s'.repeat(64)}\r\n\r\n`;
    try {
      for (let i = 0; i < slowHeads; i++) {
        const socket = connect(port, '127.0.0.1');
        const at = sockets.length;
        answers[at] = '';
        socket.setEncoding('latin1');
        socket.on('data', (text: string) => (answers[at] += text));
        socket.on('error', () => undefined);
        socket.on('close', () => (closedAt[at] = Date.now()));
        let sent = 0;
        const drip = setInterval(() => {
          if (socket.destroyed || sent >= head.length) return clearInterval(drip);
          socket.write(head[sent++]!);
        }, 1000);
        socket.on('close', () => clearInterval(drip));
        sockets.push(socket);
      }
      let readerBytes = 0;
      for (let i = 0; i < slowReaders; i++) {
        const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${big.urls.zip} HTTP/1.1\r\nHost: godepot\r\n\r\n`));
        socket.on('error', () => undefined);
        // A trickle: one read a second, the rest left in the kernel's buffers.
        socket.pause();
        const trickle = setInterval(() => {
          const chunk = socket.read(1024) as Buffer | null;
          if (chunk !== null) readerBytes += chunk.length;
        }, 1000);
        socket.on('close', () => clearInterval(trickle));
        readers.push(socket);
      }
      await sleep(2000);

      // A normal client meanwhile: 20 cached .info requests, one after another, each on a new connection.
      const started = Date.now();
      for (let i = 0; i < 20; i++) {
        const answer = await raw(`GET ${info} HTTP/1.1\r\nHost: godepot\r\nConnection: close\r\n\r\n`, 5000);
        assert.deepEqual(answer.statuses, [200], `request ${i}`);
      }
      const took = Date.now() - started;
      assert.ok(took < 5000, `20 cached .info took ${took} ms beside the slow clients`);
      assert.ok(readers.every((r) => !r.destroyed), 'the zip readers are still connected');
      // They read once a second; on a loaded machine their first bytes may come after the 20 requests.
      for (const deadline = Date.now() + 10_000; readerBytes === 0 && Date.now() < deadline; ) await sleep(250);
      assert.ok(readerBytes > 0, 'the zip readers got bytes');

      // headersTimeout (10 s) cuts the slow heads, checked every second: all gone well before 30 s.
      const deadline = opened + 30_000;
      while (closedAt.filter((t) => t !== undefined).length < slowHeads && Date.now() < deadline) await sleep(250);
      const cut = closedAt.filter((t) => t !== undefined).length;
      assert.equal(cut, slowHeads, `${cut} of ${slowHeads} slow heads cut within 30 s`);
      const latest = Math.max(...closedAt.map((t) => t! - opened));
      assert.ok(latest >= 9000, `a slow head was cut after ${latest} ms, before headersTimeout`);
      assert.ok(answers.every((a) => /^HTTP\/1\.1 408 /.test(a)), 'every slow head was answered 408');
      for (const r of readers) r.destroy();
    } finally {
      for (const s of [...sockets, ...readers]) s.destroy();
    }
    // The server is still whole.
    assert.deepEqual((await raw(`GET /healthz HTTP/1.1\r\nHost: godepot\r\nConnection: close\r\n\r\n`)).statuses, [200]);
  });
});

describe('route fuzzing', () => {
  const seed = 13;
  const count = 3000;
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'get', 'G\x01T', 'CONNECT'];

  /** The routes godepot has, each as a valid request target, for the mutations to start from. */
  function routes(): string[] {
    const e = graph.entries[0]!;
    return [
      e.urls.list,
      e.urls.info,
      e.urls.mod,
      e.urls.zip,
      e.urls.list.replace('/@v/list', '/@latest'),
      '/sumdb/sum.golang.org/supported',
      '/sumdb/sum.golang.org/latest',
      `/sumdb/sum.golang.org/lookup/${e.modulePath}@${e.version}`,
      '/sumdb/sum.golang.org/tile/8/0/000',
      '/sumdb/sum.golang.org/tile/8/1/x001/002.p/5',
      '/admin/bundles',
      `/admin/modules/${e.modulePath}/@v/${e.version}.zip`,
      '/healthz',
      '/readyz',
      '/metrics',
      '/example.com/!upper/x/@v/v1.0.0.info',
    ];
  }

  /** A seeded corpus of raw requests: mutated route targets under every method, some with bodies or odd headers. */
  function corpus(): Buffer[] {
    const random = seededRandom(seed);
    const below = (n: number): number => Math.floor(random() * n);
    const pick = <T>(list: readonly T[]): T => list[below(list.length)]!;
    const pieces = ['..', '%2e%2e', '%2E.', '%00', '\x00', '//', '/', '%2f', '%5c', '\\', '!', '!!', '%21', '@v', '@latest', '.zip', '.info', '%', '%zz', '%c0%ae', '?', '?a=b', '#x', ';', ' ', '\t', 'é', '%C3%A9', '😀', '%F0%9F%98%80', '\uFFFD', '~', '*', 'v1.0.0', 'v2', '+incompatible'];
    const bases = routes();
    const requests: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const segments = pick(bases).split('/');
      for (let edits = 1 + below(4); edits > 0; edits--) {
        const at = below(segments.length);
        const op = random();
        if (op < 0.3) segments.splice(at, 0, pick(pieces));
        else if (op < 0.5) segments[at] = segments[at]! + pick(pieces);
        else if (op < 0.6) segments[at] = 'x'.repeat(1 + below(4000));
        else if (op < 0.7) segments.splice(at, 1);
        else if (op < 0.8) segments[at] = Buffer.from(Array.from({ length: 1 + below(12) }, () => below(256))).toString('latin1');
        else segments[at] = [...segments[at]!].map((c) => (random() < 0.3 ? `%${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c)).join('');
      }
      const target = segments.join('/');
      const method = pick(methods);
      let head = `${method} ${target} HTTP/1.1\r\nHost: godepot\r\nConnection: close\r\n`;
      let body = '';
      const extra = random();
      if (extra < 0.1) {
        body = 'x'.repeat(below(200));
        head += `Content-Length: ${body.length}\r\n`;
      } else if (extra < 0.15) {
        head += 'Authorization: Bearer not-a-token\r\n';
      } else if (extra < 0.2) {
        head += 'Accept-Encoding: gzip, br, zstd\r\nRange: bytes=0-10,5-1\r\n';
      }
      // Latin-1 so that the random bytes go out as single bytes; the rest is ASCII or already escaped.
      requests.push(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), Buffer.from(body)]));
    }
    return requests;
  }

  /** Sends every request, a few connections at a time; returns the statuses seen (0: closed without an answer). */
  async function run(requests: readonly Buffer[]): Promise<Map<number, Buffer[]>> {
    const byStatus = new Map<number, Buffer[]>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const request = requests[next++]!;
        const answer = await raw(request, 10_000);
        const status = answer.statuses[0] ?? 0;
        byStatus.set(status, [...(byStatus.get(status) ?? []), request]);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return byStatus;
  }

  test(`${count} seeded (seed ${seed}) mutated requests on every route: no 5xx, no crash, no memory growth`, { timeout: 600_000 }, async (t) => {
    const requests = corpus();
    const describe = (list: Buffer[] | undefined): string =>
      (list ?? []).slice(0, 5).map((r) => JSON.stringify(r.toString('latin1').split('\r\n')[0]!.slice(0, 200))).join('\n');

    // A warm-up pass of the same corpus: caches and pools reach their size.
    const warm = await run(requests);
    const before = await rss(godepot.pid);
    const second = await run(requests);
    const afterRss = await rss(godepot.pid);

    for (const byStatus of [warm, second]) {
      for (const [status, list] of byStatus) {
        assert.ok(status < 500, `${list.length} requests answered ${status}, e.g.:\n${describe(list)}`);
        // Only CONNECT, which godepot does not take, is closed without an answer.
        if (status === 0) assert.ok(list.every((r) => r.toString('latin1').startsWith('CONNECT ')), `closed without an answer:\n${describe(list)}`);
      }
    }
    const counts = [...second].map(([status, list]) => `${status}: ${list.length}`).join(', ');
    t.diagnostic(`statuses ${counts}; RSS ${(before / 2 ** 20).toFixed(1)} MiB before the second pass, ${(afterRss / 2 ** 20).toFixed(1)} MiB after`);
    // The corpus gets past the parser into the routes, not only into Node's 400s.
    for (const status of [200, 400, 404, 405]) assert.ok(second.has(status), `no request answered ${status}: ${counts}`);
    assert.ok(godepot.logs.every((l) => l.level !== 50), `errors logged: ${JSON.stringify(godepot.logs.filter((l) => l.level === 50).slice(0, 3))}`);
    assert.deepEqual((await raw(`GET /healthz HTTP/1.1\r\nHost: godepot\r\nConnection: close\r\n\r\n`)).statuses, [200]);
    assert.ok(afterRss - before < 64 << 20, `RSS grew from ${before >> 20} MiB to ${afterRss >> 20} MiB over the second pass`);
  });
});
