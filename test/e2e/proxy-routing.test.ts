// Routing rules as go sees them through `godepot serve`, with an upstream proxy and a checksum database
// on loopback whose request logs are the proof: GOPRIVATE modules never reach either, while public ones
// still do; `deny` answers 403 (go prints why), a module stored before the rule included; `hosted`
// serves what was published and never asks the upstream; `sumdb: false` keeps a module from the
// database; the effective routing is logged at start, and a rule that can never match stops the start.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChecksumDatabase } from '../../src/checksum/database.js';
import { generateKey } from '../../src/checksum/note.js';
import { NotFoundError } from '../../src/errors.js';
import { DiskStorage } from '../../src/storage/disk.js';
import { runGodepot } from '../support/cli.js';
import { startGodepot, urlWithToken, type GodepotServer } from '../support/godepot-server.js';
import { makeTlsServing, type TlsServing } from '../support/tls-serving.js';
import { makeGoWorld, parseJsonStream, type GoWorld } from '../support/go.js';
import { addModule, buildModuleGraph, type ModuleGraph, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const NAME = 'sum.trusted.test';

/** A checksum database on loopback that logs every request path. */
async function serveDatabase(db: ChecksumDatabase): Promise<{ url: string; requests: string[]; stop(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    requests.push(path);
    db.get(path).then(
      (a) => res.writeHead(200, { 'content-type': a.contentType, 'content-length': a.body!.length }).end(a.body),
      (err: unknown) => res.writeHead(err instanceof NotFoundError ? 404 : 400, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Downloaded {
  Path: string;
  Version: string;
  Sum?: string;
  Error?: string;
}

describe('routing rules seen by go through godepot serve', () => {
  let work: string;
  let graph: ModuleGraph;
  let upstream: Upstream;
  let database: Awaited<ReturnType<typeof serveDatabase>>;
  let godepot: GodepotServer;
  let configFile: string;
  let secret: ProxyEntry;
  let evil: ProxyEntry;
  let published: ProxyEntry;
  let unpublished: ProxyEntry;
  let unchecked: ProxyEntry;
  const key = generateKey(NAME);
  const worlds: GoWorld[] = [];
  // go reads GOPRIVATE and hosted modules with a token only, which it sends over https only: the
  // server has a certificate, and the URL carries a token.
  let readerUrl: string;
  let readerToken: string;
  let tls: TlsServing;

  async function world(env: NodeJS.ProcessEnv = {}): Promise<GoWorld> {
    const w = await makeGoWorld(readerUrl, { GOSUMDB: key.verifierKey, SSL_CERT_FILE: tls.caFile, ...env });
    worlds.push(w);
    return w;
  }

  /** `go mod download -json` of one module version in a fresh module cache; go's report, error included. */
  async function download(entry: ProxyEntry, env: NodeJS.ProcessEnv = {}): Promise<Downloaded> {
    const w = await world(env);
    let stdout: string;
    try {
      ({ stdout } = await w.go(['mod', 'download', '-json', `${entry.modulePath}@${entry.version}`]));
    } catch (err) {
      stdout = (err as { cause?: { stdout?: string } }).cause?.stdout ?? '';
    }
    const [result] = parseJsonStream<Downloaded>(stdout);
    assert.ok(result, `go mod download -json printed a result:\n${stdout}`);
    return result;
  }

  async function get(path: string): Promise<{ status: number; body: string }> {
    const res = godepot.url.startsWith('https:') ? await tls.fetch(godepot.url + path, { headers: { authorization: `Bearer ${readerToken}` } }) : await fetch(godepot.url + path);
    return { status: res.status, body: await res.text() };
  }

  const upstreamAsked = (modulePath: string): string[] => upstream.requests.filter((p) => p.startsWith(`/${modulePath}/`));
  const databaseAsked = (modulePath: string): string[] => database.requests.filter((p) => p.startsWith(`lookup/${modulePath}`));

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-e2e-routing-'));
    graph = await buildModuleGraph(work);
    // The upstream has the private, denied and hosted modules too: only godepot's routing keeps them apart.
    secret = await addModule(graph.tree, work, 'corp.example.com/secret', 'v1.0.0', { 'go.mod': 'module corp.example.com/secret\n', 's.go': 'package secret\n' });
    evil = await addModule(graph.tree, work, 'evil.example.com/bad', 'v1.0.0', { 'go.mod': 'module evil.example.com/bad\n', 'b.go': 'package bad\n' });
    published = await addModule(graph.tree, work, 'corp.example.com/published/lib', 'v1.0.0', { 'go.mod': 'module corp.example.com/published/lib\n', 'l.go': 'package lib\n' });
    unpublished = await addModule(graph.tree, work, 'corp.example.com/published/lib', 'v1.1.0', { 'go.mod': 'module corp.example.com/published/lib\n', 'l.go': 'package lib\n\n// Later.\n' });
    unchecked = await addModule(graph.tree, work, 'example.com/unchecked', 'v1.0.0', { 'go.mod': 'module example.com/unchecked\n', 'u.go': 'package unchecked\n' });
    // The database would answer for every module but `unchecked`: were godepot to ask, the logs would show it.
    const db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(work, 'database') }), signerKey: key.signerKey });
    for (const e of [...graph.entries, secret, evil, published, unpublished]) await db.add(e.modulePath, e.version, { zip: e.zipH1, mod: e.modH1 });
    database = await serveDatabase(db);
    upstream = await startUpstream({ root: graph.tree });

    // Before any rule: the evil module and the version to publish are fetched, verified and stored.
    tls = await makeTlsServing(join(work, 'tls'));
    godepot = await startGodepot({ upstream: upstream.url, sumdb: `${key.verifierKey} ${database.url}` });
    for (const e of [evil, published]) for (const url of [e.urls.info, e.urls.mod, e.urls.zip]) assert.equal((await get(url)).status, 200, url);
    await godepot.stop();

    configFile = join(work, 'godepot.yaml');
    await writeFile(
      configFile,
      [
        'rules:',
        '  - match: corp.example.com/published',
        '    route: hosted',
        '  - match: evil.example.com',
        '    route: deny',
        '  - match: example.com/unchecked',
        '    route: upstream',
        '    sumdb: false',
        '',
      ].join('\n'),
    );
    godepot = await startGodepot({
      storage: godepot.storage,
      upstream: upstream.url,
      sumdb: `${key.verifierKey} ${database.url}`,
      config: configFile,
      env: { GOPRIVATE: 'corp.example.com' },
      args: tls.args,
    });
    ({ url: readerUrl, token: readerToken } = await urlWithToken(godepot, 'reader', ['read']));
    upstream.clearLog();
    database.requests.length = 0;
  });

  after(async () => {
    await godepot?.dispose();
    await upstream?.stop();
    await database?.stop();
    await tls?.close();
    for (const w of worlds) await w.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('logs the effective routing once at start: the rules with their sources, GOPRIVATE, then the default', () => {
    const listening = godepot.logs.filter((l) => l.msg === 'listening');
    assert.equal(listening.length, 1);
    const file = `config file ${configFile}`;
    assert.deepEqual(listening[0]!.routing, [
      { match: 'corp.example.com/published', route: 'hosted', sumdb: false, source: `${file}: rule 1` },
      { match: 'evil.example.com', route: 'deny', sumdb: false, source: `${file}: rule 2` },
      { match: 'example.com/unchecked', route: 'upstream', sumdb: false, source: `${file}: rule 3` },
      { match: 'corp.example.com', route: 'direct', sumdb: false, source: 'GOPRIVATE' },
      { route: 'upstream', sumdb: true, source: 'default' },
    ]);
  });

  it('a public module still comes from the upstream, verified against the database', async () => {
    const pre = graph.entry('example.com/pre', 'v1.5.0-rc.1');
    const result = await download(pre);
    assert.equal(result.Error, undefined, result.Error);
    assert.equal(result.Sum, pre.zipH1);
    assert.ok(upstreamAsked('example.com/pre').length > 0, 'the upstream served it');
    assert.ok(databaseAsked('example.com/pre').length > 0, 'the database was asked about it');
  });

  it('a GOPRIVATE module never reaches the upstream proxy nor the checksum database, by any road', async () => {
    const result = await download(secret);
    // It went direct: to its own go-get page, which the test's closed outbound proxy refuses.
    assert.match(result.Error ?? '', /https:\/\/corp\.example\.com\/secret\?go-get=1/);
    // go's own checksum lookup, through godepot's /sumdb/, is answered without asking the database.
    const lookup = await get(`/sumdb/${NAME}/lookup/corp.example.com/secret@v1.0.0`);
    assert.equal(lookup.status, 404);
    assert.match(lookup.body, /corp\.example\.com\/secret is private here/);
    assert.deepEqual(upstream.requests.filter((p) => p.includes('corp.example.com')), []);
    assert.deepEqual(database.requests.filter((p) => p.includes('corp.example.com')), []);
  });

  it('deny: go gets 403 and prints the rule, even for a module stored before the rule; nothing is asked of anyone', async () => {
    const file = `config file ${configFile}`;
    const result = await download(evil);
    assert.match(result.Error ?? '', /403 Forbidden/);
    assert.ok(
      (result.Error ?? '').includes(`server response: forbidden: evil.example.com/bad: denied by ${file}: rule 2 (match "evil.example.com")`),
      result.Error,
    );
    for (const url of [evil.urls.list, evil.urls.info, evil.urls.mod, evil.urls.zip, '/evil.example.com/bad/@latest']) {
      const answer = await get(url);
      assert.equal(answer.status, 403, url);
      assert.equal(answer.body, `forbidden: evil.example.com/bad: denied by ${file}: rule 2 (match "evil.example.com")\n`);
    }
    assert.deepEqual(upstreamAsked('evil.example.com'), []);
    assert.deepEqual(databaseAsked('evil.example.com'), []);
  });

  it('hosted: what was published is served and listed alone; the upstream, which has more, is never asked', async () => {
    // The client keeps its own checksum lookups away from the database too (GONOSUMDB, as for any private module).
    const served = await download(published, { GONOSUMDB: 'corp.example.com' });
    assert.equal(served.Error, undefined, served.Error);
    assert.equal(served.Sum, published.zipH1);
    assert.deepEqual(await get(published.urls.list), { status: 200, body: 'v1.0.0\n' });
    const latest = await get('/corp.example.com/published/lib/@latest');
    assert.equal(latest.status, 200);
    assert.equal((JSON.parse(latest.body) as { Version: string }).Version, 'v1.0.0');
    const missing = await get(unpublished.urls.info);
    assert.equal(missing.status, 404);
    assert.match(missing.body, /corp\.example\.com\/published\/lib@v1\.1\.0: not published to godepot/);
    // A client that does ask is refused by godepot's /sumdb/, not answered by the database.
    const asking = await download(published);
    assert.match(asking.Error ?? '', /verifying .*corp\.example\.com\/published\/lib@v1\.0\.0.*404 Not Found/s);
    assert.deepEqual(upstreamAsked('corp.example.com/published/lib'), []);
    assert.deepEqual(databaseAsked('corp.example.com'), []);
  });

  it('sumdb: false: the module comes from the upstream and is stored without asking the database', async () => {
    const result = await download(unchecked, { GONOSUMDB: 'example.com/unchecked' });
    assert.equal(result.Error, undefined, result.Error);
    assert.equal(result.Sum, unchecked.zipH1);
    assert.ok(upstreamAsked('example.com/unchecked').length > 0);
    assert.deepEqual(databaseAsked('example.com/unchecked'), []);
  });

  it('a rule that can never match stops the start, naming it and the rule that takes its modules', async () => {
    const shadowed = join(work, 'shadowed.yaml');
    await writeFile(shadowed, ['rules:', '  - match: "corp.example.com/*"', '    route: direct', '    sumdb: false', '  - match: "corp.example.com/published/*"', '    route: hosted', ''].join('\n'));
    const refused = await runGodepot(['serve', '--listen', '127.0.0.1:0', '--storage', join(work, 'unused'), '--config', shadowed]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `godepot: config file ${shadowed}: rule 2 (match "corp.example.com/published/*"): can never match: every module path it matches is taken first by config file ${shadowed}: rule 1 (match "corp.example.com/*"); move it before, or remove it\n`,
    );
  });
});
