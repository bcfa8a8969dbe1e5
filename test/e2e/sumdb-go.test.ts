// The independent check of godepot's checksum database: the real go command verifies modules against
// it (records, tiles and signed heads godepot produced, served on loopback), across growing trees and
// tile boundaries, and refuses every kind of tampering that godepot's own client refuses too.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { StorageClientStore, SumdbClient, type SumdbFetch } from '../../src/checksum/client.js';
import { ChecksumDatabase } from '../../src/checksum/database.js';
import { SumdbForkError, SumdbVerificationError } from '../../src/checksum/errors.js';
import { generateKey } from '../../src/checksum/note.js';
import { recordHash } from '../../src/checksum/tlog.js';
import { InvalidRequestError, NotFoundError } from '../../src/errors.js';
import { ChecksumMismatchError } from '../../src/module/gosum.js';
import { DiskStorage } from '../../src/storage/disk.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { addModule, type ProxyEntry } from '../support/modgraph.js';

const NAME = 'sumdb.godepot.test';

type Tamper = (path: string, body: Buffer) => Buffer;

/** A loopback HTTP front for a checksum database, with a switchable database and answer tampering. */
class SumdbFront {
  db!: ChecksumDatabase;
  tamper: Tamper | null = null;
  readonly requests: string[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
      this.requests.push(path);
      this.db.get(path).then(
        (a) => {
          const body = this.tamper ? this.tamper(path, a.body!) : a.body!;
          res.writeHead(200, { 'content-type': a.contentType, 'content-length': body.length }).end(body);
        },
        (err: unknown) => {
          const status = err instanceof NotFoundError ? 404 : err instanceof InvalidRequestError ? 400 : 500;
          res.writeHead(status, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
        },
      );
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** What godepot's client fetches through: the same server, tampering included. */
  readonly fetch: SumdbFetch = async (path, signal) => {
    const res = await fetch(`${this.url}/${path}`, { signal: signal ?? null });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status === 404 || res.status === 410) throw new NotFoundError(`${path}: ${res.status}`);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.toString()}`);
    return body;
  };
}

/** Flips one bit of every tile answer. */
const badTiles: Tamper = (path, body) => {
  if (!path.startsWith('tile/')) return body;
  const bad = Buffer.from(body);
  bad[bad.length - 1]! ^= 1;
  return bad;
};

/** Breaks the signature of every signed note (a lookup's or latest's). */
const badSignatures: Tamper = (path, body) => {
  if (!(path === 'latest' || path.startsWith('lookup/'))) return body;
  const text = body.toString();
  const at = text.lastIndexOf(' ') + 12;
  return Buffer.from(text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1));
};

/** go's error for a failed command: its stderr. */
async function goFails(world: GoWorld, args: string[]): Promise<string> {
  try {
    await world.go(args);
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail(`go ${args.join(' ')} succeeded`);
}

describe('go verifies modules against a godepot checksum database', () => {
  let work: string;
  let tree: string;
  let world: GoWorld;
  let client: SumdbClient;
  const front = new SumdbFront();
  const key = generateKey(NAME);
  const entries = new Map<string, ProxyEntry>();
  let next = 0;

  /** Adds `count` modules to the GOPROXY tree and, unless told otherwise, their records to the database. */
  async function addModules(count: number, record = true): Promise<ProxyEntry[]> {
    const added: ProxyEntry[] = [];
    for (let i = 0; i < count; i++) {
      const modulePath = `example.com/sumdb/m${next++}`;
      const e = await addModule(tree, work, modulePath, 'v1.0.0', {
        'go.mod': `module ${modulePath}\n\ngo 1.17\n`,
        'm.go': `package m\n\n// Name names the module.\nconst Name = "${modulePath}"\n`,
      });
      entries.set(modulePath, e);
      if (record) await front.db.add(modulePath, 'v1.0.0', { zip: e.zipH1, mod: e.modH1 });
      added.push(e);
    }
    return added;
  }

  /** Records for modules nobody downloads: they only make the tree grow. */
  async function addFiller(count: number): Promise<void> {
    const h1 = (s: string) => `h1:${recordHash(Buffer.from(s)).toString('base64')}`;
    await Promise.all(Array.from({ length: count }, (_, i) => front.db.add(`example.com/filler/f${next}x${i}`, 'v1.0.0', { zip: h1(`z${next}/${i}`), mod: h1(`m${next}/${i}`) })));
    next++;
  }

  const download = (e: ProxyEntry) => world.go(['mod', 'download', '-json', `${e.modulePath}@${e.version}`]);

  /** The size of the tree go remembers for the database ($GOPATH/pkg/sumdb/<name>/latest). */
  async function goLatestSize(): Promise<number> {
    const latest = await readFile(join(world.env.GOPATH!, 'pkg', 'sumdb', NAME, 'latest'), 'utf8');
    return Number(latest.split('\n')[1]);
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-e2e-sumdb-'));
    tree = join(work, 'goproxy');
    front.db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(work, 'db') }), signerKey: key.signerKey });
    await front.start();
    world = await makeGoWorld(pathToFileURL(tree).href, { GOSUMDB: `${key.verifierKey} ${front.url}`, GONOSUMDB: '', GOPRIVATE: '' });
    client = new SumdbClient({ verifierKey: key.verifierKey, fetch: front.fetch, store: new StorageClientStore(new DiskStorage({ root: join(work, 'client') })) });
  });

  after(async () => {
    await front.stop();
    await world.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('go accepts an http:// database URL in GOSUMDB and verifies modules against it', async () => {
    const [a, b, c] = await addModules(3);
    for (const e of [a!, b!, c!]) {
      const [out] = JSON.parse(`[${(await download(e)).stdout.replace(/}\s*{/g, '},{')}]`) as Array<{ Sum: string; GoModSum: string; Error?: string }>;
      assert.equal(out!.Error, undefined);
      assert.equal(out!.Sum, e.zipH1);
      assert.equal(out!.GoModSum, e.modH1);
      await client.verify(e.modulePath, e.version, e.zipH1);
      await client.verify(e.modulePath, `${e.version}/go.mod`, e.modH1);
    }
    assert.equal(await goLatestSize(), 3);
    assert.ok(front.requests.some((p) => p.startsWith('lookup/example.com/sumdb/m0@')), 'go asked the database');
    assert.ok(front.requests.some((p) => p.startsWith('tile/8/0/000.p/')), 'go read hash tiles');
  });

  it('go follows the tree as it grows, across full tiles and a second tile level, checking each new tree extends the one it saw', async () => {
    for (const grow of [2, 250, 7, 300]) {
      await addFiller(grow);
      const [e] = await addModules(1);
      await download(e!);
      await client.verify(e!.modulePath, e!.version, e!.zipH1);
      assert.equal(await goLatestSize(), front.db.size);
      assert.equal((await client.remembered()).n, front.db.size);
    }
    assert.ok(front.db.size > 512);
    assert.ok(front.requests.includes('tile/8/0/001'), 'go read a full tile');
    assert.ok(front.requests.some((p) => p.startsWith('tile/8/1/000.p/')), 'go read a level-1 tile');
    // An earlier module again: go and the client prove an old record in the new tree.
    const first = entries.get('example.com/sumdb/m1')!;
    await rm(join(world.env.GOMODCACHE!, 'cache', 'download', 'example.com', 'sumdb', 'm1'), { recursive: true, force: true });
    await rm(join(world.env.GOMODCACHE!, 'example.com', 'sumdb', 'm1@v1.0.0'), { recursive: true, force: true });
    await download(first);
  });

  it('go goes on verifying across a restart of the database (the same log, reopened from storage)', async () => {
    const before = front.db.size;
    const head = (await front.db.get('latest')).body!;
    front.db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(work, 'db') }), signerKey: key.signerKey });
    assert.equal(front.db.size, before);
    assert.ok((await front.db.get('latest')).body!.equals(head));
    await addFiller(40);
    const [e] = await addModules(1);
    await download(e!);
    await client.verify(e!.modulePath, e!.version, e!.zipH1);
    assert.equal(await goLatestSize(), front.db.size);
  });

  it('a database record whose hash disagrees with the module is refused by both: checksum mismatch', async () => {
    const [e] = await addModules(1, false);
    const evil = `h1:${recordHash(Buffer.from('evil')).toString('base64')}`;
    await front.db.add(e!.modulePath, e!.version, { zip: evil, mod: e!.modH1 });
    const message = await goFails(world, ['mod', 'download', `${e!.modulePath}@${e!.version}`]);
    assert.match(message, new RegExp(`verifying module: checksum mismatch\\n\\s+downloaded: ${escape(e!.zipH1)}\\n\\s+${escape(NAME)}: ${escape(evil)}`));
    assert.match(message, /This download does NOT match the one reported by the checksum server/);
    await assert.rejects(client.verify(e!.modulePath, e!.version, e!.zipH1), (err: Error) => err instanceof ChecksumMismatchError && err.message.includes(`${NAME}: ${evil}`));
  });

  it('a lookup answer with another hash in its record is refused by both', async () => {
    const [e] = await addModules(1);
    const evil = `h1:${recordHash(Buffer.from('evil2')).toString('base64')}`;
    front.tamper = (path, body) => (path.startsWith('lookup/') ? Buffer.from(body.toString().replace(e!.zipH1, evil)) : body);
    try {
      assert.match(await goFails(world, ['mod', 'download', `${e!.modulePath}@${e!.version}`]), /cannot authenticate record data in server response/);
      await assert.rejects(client.lookup(e!.modulePath, e!.version), (err: Error) => err instanceof SumdbVerificationError && /cannot authenticate record data/.test(err.message));
    } finally {
      front.tamper = null;
    }
  });

  it('tiles that do not match the signed tree are refused by both', async () => {
    const [e] = await addModules(1);
    front.tamper = badTiles;
    try {
      assert.match(await goFails(world, ['mod', 'download', `${e!.modulePath}@${e!.version}`]), /downloaded inconsistent tile/);
      await assert.rejects(client.lookup(e!.modulePath, e!.version), (err: Error) => err instanceof SumdbVerificationError && /downloaded inconsistent tile/.test(err.message));
    } finally {
      front.tamper = null;
    }
    // Untampered, both accept it.
    await download(e!);
    await client.verify(e!.modulePath, e!.version, e!.zipH1);
  });

  it('a bad signature on the tree head is refused by both', async () => {
    const [e] = await addModules(1);
    front.tamper = badSignatures;
    try {
      assert.match(await goFails(world, ['mod', 'download', `${e!.modulePath}@${e!.version}`]), new RegExp(`invalid signature for key ${escape(NAME)}\\+`));
      await assert.rejects(client.lookup(e!.modulePath, e!.version), (err: Error) => err instanceof SumdbVerificationError && /invalid signature for key/.test(err.message));
      await assert.rejects(client.latest(), (err: Error) => err instanceof SumdbVerificationError && /invalid signature for key/.test(err.message));
    } finally {
      front.tamper = null;
    }
  });

  it('a database that shrank (rebuilt with fewer, different records) is refused by both as misbehavior', async () => {
    const honest = front.db;
    const remembered = await goLatestSize();
    const [e] = await addModules(1, false);
    const shrunk = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(work, 'shrunk') }), signerKey: key.signerKey });
    // The modules go has seen, then the new one, and nothing else: a smaller tree with another history.
    for (const seen of entries.values()) {
      const h = honest.record(seen.modulePath, seen.version);
      if (h !== null) await shrunk.add(seen.modulePath, seen.version, { zip: seen.zipH1, mod: seen.modH1 });
    }
    await shrunk.add(e!.modulePath, e!.version, { zip: e!.zipH1, mod: e!.modH1 });
    assert.ok(shrunk.size < remembered);
    front.db = shrunk;
    try {
      const message = await goFails(world, ['mod', 'download', `${e!.modulePath}@${e!.version}`]);
      assert.match(message, /SECURITY ERROR\ngo\.sum database server misbehavior detected!/);
      assert.match(message, new RegExp(`old database:\\n\\tgo.sum database tree\\n\\t${shrunk.size}\\n`));
      assert.match(message, new RegExp(`new database:\\n\\tgo.sum database tree\\n\\t${remembered}\\n`));
      await assert.rejects(client.lookup(e!.modulePath, e!.version), (err: Error) => err instanceof SumdbForkError && err.rollback && err.served.size === shrunk.size && err.remembered.size === remembered);
      await assert.rejects(client.latest(), SumdbForkError);
    } finally {
      front.db = honest;
    }
    assert.equal(await goLatestSize(), remembered);
  });

  /** Opens a database with the same key whose log is the honest one's first `keep` records, then `others` of its own. */
  async function forkOf(dir: string, keep: number, others: number): Promise<ChecksumDatabase> {
    const forked = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(work, dir) }), signerKey: key.signerKey });
    for (const r of (await recordsOf(front.db)).slice(0, keep)) await forked.add(r.modulePath, r.version, { zip: r.zip, mod: r.mod });
    const h1 = (s: string) => `h1:${recordHash(Buffer.from(s)).toString('base64')}`;
    for (let i = 0; i < others; i++) await forked.add(`example.com/${dir}/f${i}`, 'v1.0.0', { zip: h1(`${dir}${i}`), mod: h1(`${dir}m${i}`) });
    return forked;
  }

  it('a database that forked in its latest records is refused by both as misbehavior', async () => {
    const honest = front.db;
    const remembered = await goLatestSize();
    // The same history but for the last two records, rewritten, and grown past the remembered size.
    const forked = await forkOf('forked-late', remembered - 2, 4);
    const [e] = await addModules(1, false);
    await forked.add(e!.modulePath, e!.version, { zip: e!.zipH1, mod: e!.modH1 });
    front.db = forked;
    try {
      const message = await goFails(world, ['mod', 'download', `${e!.modulePath}@${e!.version}`]);
      assert.match(message, /SECURITY ERROR\ngo\.sum database server misbehavior detected!/);
      assert.match(message, new RegExp(`old database:\\n\\tgo.sum database tree\\n\\t${remembered}\\n`));
      assert.match(message, new RegExp(`new database:\\n\\tgo.sum database tree\\n\\t${forked.size}\\n`));
      assert.match(message, /proof of misbehavior:\n\t/);
      await assert.rejects(client.lookup(e!.modulePath, e!.version), (err: Error) => {
        return err instanceof SumdbForkError && !err.rollback && err.remembered.size === remembered && err.served.size === forked.size;
      });
    } finally {
      front.db = honest;
    }
    assert.equal(await goLatestSize(), remembered);
  });

  it('a database that forked from its first record is refused by both', async () => {
    const honest = front.db;
    const remembered = await goLatestSize();
    const forked = await forkOf('forked-early', 0, remembered + 1);
    const [e] = await addModules(1, false);
    await forked.add(e!.modulePath, e!.version, { zip: e!.zipH1, mod: e!.modH1 });
    front.db = forked;
    try {
      // go's cached full tiles are the honest ones, so the forked tree's tiles do not add up for it.
      const message = await goFails(world, ['mod', 'download', `${e!.modulePath}@${e!.version}`]);
      assert.match(message, new RegExp(`checking tree#${remembered} against tree#${forked.size}: downloaded inconsistent tile`));
      // godepot's client reads the tiles again from the database and proves the fork.
      await assert.rejects(client.lookup(e!.modulePath, e!.version), (err: Error) => err instanceof SumdbForkError && !err.rollback && err.remembered.size === remembered);
    } finally {
      front.db = honest;
    }
    // The honest database still works for both afterwards: nothing of the forks was remembered.
    await front.db.add(e!.modulePath, e!.version, { zip: e!.zipH1, mod: e!.modH1 });
    await download(e!);
    await client.verify(e!.modulePath, e!.version, e!.zipH1);
    assert.equal(await goLatestSize(), front.db.size);
    assert.equal((await client.remembered()).n, front.db.size);
  });
});

/** Every record of `db` in id order, from its data tiles. */
async function recordsOf(db: ChecksumDatabase): Promise<Array<{ modulePath: string; version: string; zip: string; mod: string }>> {
  const out = [];
  for (let n = 0; n * 256 < db.size; n++) {
    const width = Math.min(256, db.size - n * 256);
    const data = (await db.get(`tile/8/data/${String(n).padStart(3, '0')}${width === 256 ? '' : `.p/${width}`}`)).body!.toString();
    for (const record of data.split('\n\n').filter(Boolean)) {
      const [zipLine = '', modLine = ''] = record.split('\n');
      const [modulePath = '', version = '', zip = ''] = zipLine.split(' ');
      out.push({ modulePath, version, zip, mod: modLine.split(' ')[2] ?? '' });
    }
  }
  return out;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
