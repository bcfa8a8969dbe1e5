import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { garbageStrings, seededRandom } from '../../test/support/garbage.js';
import { GodepotError, NotFoundError } from '../errors.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import { DiskStorage } from '../storage/disk.js';
import { StorageClientStore, SumdbClient, type SumdbClientStore, type SumdbFetch } from './client.js';
import { ChecksumDatabase } from './database.js';
import { SumdbForkError, SumdbVerificationError } from './errors.js';
import { generateKey, newSigner, signNote } from './note.js';
import { EMPTY_TREE_HASH, formatRecord, formatTree, newTiles, readTileData, storedHashesForRecordHash, recordHash, tilePath, treeHash, type Hash } from './tlog.js';

// x/mod's sumdb client test keys.
const testName = 'localhost.localdev/sumdb';
const testVerifierKey = 'localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6';
const testSignerKey = 'PRIVATE+KEY+localhost.localdev/sumdb+00000c67+AXu6+oaVaOYuQOFrf1V59JK1owcFlJcHwwXHDfDGxSPk';

class MapStore implements SumdbClientStore {
  constructor(readonly m = new Map<string, Buffer>()) {}
  async read(key: string): Promise<Buffer | null> {
    return this.m.get(key) ?? null;
  }
  async write(key: string, data: Buffer): Promise<void> {
    this.m.set(key, Buffer.from(data));
  }
}

/**
 * x/mod's testClient, server side: a log of arbitrary records with tiles of height 2 published as
 * records are added, lookups answered with the head of the tree as it was when the record was added.
 */
class TestLog {
  getOK = true;
  getTileOK = true;
  treeSize = 0;
  hashes: Hash[] = [];
  remote = new Map<string, Buffer>();
  readonly signer = newSigner(testSignerKey);
  readonly reader = { readHashes: (xs: readonly number[]) => xs.map((x) => this.hashes[x]!) };

  async addRecord(key: string, data: string): Promise<void> {
    const id = this.treeSize++;
    const rec = formatRecord(id, Buffer.from(data));
    this.hashes.push(...(await storedHashesForRecordHash(id, recordHash(Buffer.from(data)), this.reader)));
    this.remote.set(`lookup/${key}`, Buffer.concat([rec, await this.signTree(this.treeSize)]));
    for (const t of newTiles(2, id, this.treeSize)) this.remote.set(tilePath(t), await readTileData(t, this.reader));
  }

  async signTree(size: number): Promise<Buffer> {
    return signNote({ text: formatTree({ n: size, hash: await treeHash(size, this.reader) }) }, this.signer);
  }

  readonly fetch: SumdbFetch = async (path) => {
    if (!this.getOK) throw new Error(`disallowed remote read ${path}`);
    if (path.startsWith('tile/') && !this.getTileOK) throw new Error(`disallowed remote tile read ${path}`);
    const data = this.remote.get(path);
    if (data === undefined) throw new NotFoundError(`no remote path ${path}`);
    return data;
  };

  fork(): TestLog {
    const copy = new TestLog();
    copy.treeSize = this.treeSize;
    copy.hashes = [...this.hashes];
    copy.remote = new Map([...this.remote].map(([k, v]) => [k, Buffer.from(v)]));
    return copy;
  }

  flipTileBits(): void {
    for (const [path, data] of this.remote) if (path.startsWith('tile/')) for (let i = 0; i < data.length; i++) data[i]! ^= 0x80;
  }
}

/** newTestClient: three records, the remembered head of size 1, then rsc.io/Quote added. */
async function newTestClient(): Promise<{ log: TestLog; store: MapStore; client: () => SumdbClient }> {
  const log = new TestLog();
  const store = new MapStore();
  await log.addRecord(
    'rsc.io/quote@v1.5.2',
    'rsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=\nrsc.io/quote v1.5.2/go.mod h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=\nrsc.io/quote v1.5.2 h2:xyzzy\n',
  );
  await log.addRecord(
    'golang.org/x/text@v0.0.0-20170915032832-14c0d48ead0c',
    'golang.org/x/text v0.0.0-20170915032832-14c0d48ead0c h1:qgOY6WgZOaTkIIMiVjBQcw93ERBE4m30iBm00nkL0i8=\ngolang.org/x/text v0.0.0-20170915032832-14c0d48ead0c/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n',
  );
  await log.addRecord('rsc.io/sampler@v1.3.0', 'rsc.io/sampler v1.3.0 h1:7uVkIFmeBqHfdjD+gZwtXXI+RODJ2Wc4O7MPEh/QiW4=\nrsc.io/sampler v1.3.0/go.mod h1:T1hPZKmBbMNahiBKFy5HrXp6adAjACjK9JXDnKaTXpA=\n');
  store.m.set(`${testName}/latest`, await log.signTree(1));
  await log.addRecord('rsc.io/!quote@v1.5.2', 'rsc.io/Quote v1.5.2 h1:uppercase!=\n');
  return { log, store, client: () => new SumdbClient({ verifierKey: testVerifierKey, fetch: log.fetch, store, tileHeight: 2 }) };
}

/** `data` with a few bytes changed, cut or added: tile answers that are nearly right. */
function mutateBytes(data: Buffer, random: () => number): Buffer {
  const bytes = [...data];
  for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
    const at = Math.floor(random() * (bytes.length + 1));
    const op = random();
    if (op < 0.4) bytes[at] = Math.floor(random() * 256);
    else if (op < 0.7) bytes.splice(at, 1 + Math.floor(random() * 40));
    else bytes.splice(at, 0, ...Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
  }
  return Buffer.from(bytes);
}

function latestSize(store: MapStore, name = testName): number {
  return Number(store.m.get(`${name}/latest`)!.toString().split('\n')[1]);
}

async function mustLookup(client: SumdbClient, path: string, version: string, want: string): Promise<void> {
  assert.equal((await client.lookup(path, version)).join('\n'), want);
}

describe("SumdbClient on x/mod's client tests", () => {
  it('looks up, caches, unescapes and moves the remembered head forward (TestClientLookup)', async () => {
    const { log, store, client } = await newTestClient();
    const c = client();
    assert.equal(latestSize(store), 1);
    await mustLookup(c, 'rsc.io/sampler', 'v1.3.0', 'rsc.io/sampler v1.3.0 h1:7uVkIFmeBqHfdjD+gZwtXXI+RODJ2Wc4O7MPEh/QiW4=');
    assert.equal(latestSize(store), 3);

    // Everything is stored now, for the zip line and the go.mod line.
    log.getOK = false;
    await mustLookup(c, 'rsc.io/sampler', 'v1.3.0', 'rsc.io/sampler v1.3.0 h1:7uVkIFmeBqHfdjD+gZwtXXI+RODJ2Wc4O7MPEh/QiW4=');
    await mustLookup(c, 'rsc.io/sampler', 'v1.3.0/go.mod', 'rsc.io/sampler v1.3.0/go.mod h1:T1hPZKmBbMNahiBKFy5HrXp6adAjACjK9JXDnKaTXpA=');
    assert.equal(latestSize(store), 3);
    log.getOK = true;
    log.getTileOK = false; // the store has the tiles needed

    await mustLookup(c, 'rsc.io/quote', 'v1.5.2', 'rsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=\nrsc.io/quote v1.5.2 h2:xyzzy');
    assert.equal(latestSize(store), 3);

    log.getTileOK = true;
    await mustLookup(c, 'rsc.io/Quote', 'v1.5.2', 'rsc.io/Quote v1.5.2 h1:uppercase!=');
    assert.equal(latestSize(store), 4);
  });

  it('refuses tiles that do not match, before and after the first download (TestClientBadTiles)', async () => {
    const { log, store, client } = await newTestClient();
    log.flipTileBits();
    await assert.rejects(client().lookup('rsc.io/sampler', 'v1.3.0'), (err: Error) => {
      return err instanceof SumdbVerificationError && err.message === 'rsc.io/sampler@v1.3.0: checking tree#1 against tree#3: downloaded inconsistent tile';
    });
    log.flipTileBits();
    await mustLookup(client(), 'rsc.io/sampler', 'v1.3.0', 'rsc.io/sampler v1.3.0 h1:7uVkIFmeBqHfdjD+gZwtXXI+RODJ2Wc4O7MPEh/QiW4=');

    log.flipTileBits();
    await assert.rejects(client().lookup('rsc.io/Quote', 'v1.5.2'), (err: Error) => {
      return err instanceof SumdbVerificationError && err.message === 'rsc.io/Quote@v1.5.2: checking tree#3 against tree#4: downloaded inconsistent tile';
    });
    log.flipTileBits();
    await mustLookup(client(), 'rsc.io/Quote', 'v1.5.2', 'rsc.io/Quote v1.5.2 h1:uppercase!=');

    // A remembered head with a bad hash: the database's tree does not extend it.
    store.m.set(`${testName}/latest`, signNote({ text: formatTree({ n: 1, hash: Buffer.alloc(32) }) }, log.signer));
    await assert.rejects(client().lookup('rsc.io/sampler', 'v1.3.0'), SumdbForkError);
  });

  it("reports a fork with go's security report (TestClientFork)", async () => {
    const tc = await newTestClient();
    const tc2 = { log: tc.log.fork(), store: new MapStore(new Map(tc.store.m)) };
    const c1 = tc.client();
    const c2 = new SumdbClient({ verifierKey: testVerifierKey, fetch: tc2.log.fetch, store: tc2.store, tileHeight: 2 });

    await tc.log.addRecord('rsc.io/pkg1@v1.5.2', 'rsc.io/pkg1 v1.5.2 h1:hash!=\n');
    await tc.log.addRecord('rsc.io/pkg1@v1.5.4', 'rsc.io/pkg1 v1.5.4 h1:hash!=\n');
    await mustLookup(c1, 'rsc.io/pkg1', 'v1.5.2', 'rsc.io/pkg1 v1.5.2 h1:hash!=');

    await tc2.log.addRecord('rsc.io/pkg1@v1.5.3', 'rsc.io/pkg1 v1.5.3 h1:hash!=\n');
    await tc2.log.addRecord('rsc.io/pkg1@v1.5.4', 'rsc.io/pkg1 v1.5.4 h1:hash!=\n');
    await mustLookup(c2, 'rsc.io/pkg1', 'v1.5.4', 'rsc.io/pkg1 v1.5.4 h1:hash!=');

    tc2.log.remote.set('lookup/rsc.io/pkg1@v1.5.2', tc.log.remote.get('lookup/rsc.io/pkg1@v1.5.2')!);
    const err = await c2.lookup('rsc.io/pkg1', 'v1.5.2').then(
      () => assert.fail('fork accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SumdbForkError);
    // The same signatures and proof as x/mod's test: our trees, notes and proofs are go's, bit for bit.
    for (const want of [
      'SECURITY ERROR',
      'go.sum database server misbehavior detected!',
      'old database:\n\tgo.sum database tree\n\t5\n',
      '\u2014 localhost.localdev/sumdb AAAMZ5/2FVAd',
      'new database:\n\tgo.sum database tree\n\t6\n',
      '\u2014 localhost.localdev/sumdb AAAMZ6oRNswl',
      'proof of misbehavior:\n\tT7i+H/8ER4nXOiw4Bj0k',
    ]) {
      assert.ok(err.message.includes(want), `cannot find ${JSON.stringify(want)} in:\n${err.message}`);
    }
    assert.equal(err.served.size, 5);
    assert.equal(err.remembered.size, 6);
    assert.ok(err.rollback);
  });
});

describe('SumdbClient against ChecksumDatabase', () => {
  let root: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'godepot-sumdb-client-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const h1 = (seed: string): string => `h1:${recordHash(Buffer.from(seed)).toString('base64')}`;

  /** A database in its own storage, the client's store in another, and a fetch that can be tampered with. */
  async function world(name = 'sumdb.example.test') {
    const key = generateKey(name);
    const db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(root, `db${n}`) }), signerKey: key.signerKey });
    const storage = new DiskStorage({ root: join(root, `client${n++}`) });
    const store = new StorageClientStore(storage);
    let tamper: (path: string, body: Buffer) => Buffer = (_p, b) => b;
    const requests: string[] = [];
    const fetch: SumdbFetch = async (path) => {
      requests.push(path);
      return tamper(path, (await db.get(path)).body!);
    };
    const client = () => new SumdbClient({ verifierKey: key.verifierKey, fetch, store });
    const add = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) await db.add(`example.com/m${i}`, 'v1.0.0', { zip: h1(`z${i}`), mod: h1(`m${i}`) });
    };
    return { key, db, storage, store, client, add, requests, setTamper: (t: typeof tamper) => (tamper = t) };
  }

  it('verifies lookups while the tree grows across tile boundaries, and keeps what it verified in the module-cache layout', async () => {
    const w = await world();
    const c = w.client();
    let size = 0;
    for (const grow of [1, 2, 5, 250, 3, 300, 1]) {
      await w.add(size, size + grow);
      size += grow;
      for (const i of [0, size - 1, Math.floor(size / 2)]) {
        assert.deepEqual(await c.lookup(`example.com/m${i}`, 'v1.0.0'), [`example.com/m${i} v1.0.0 ${h1(`z${i}`)}`]);
        assert.deepEqual(await c.lookup(`example.com/m${i}`, 'v1.0.0/go.mod'), [`example.com/m${i} v1.0.0/go.mod ${h1(`m${i}`)}`]);
      }
      assert.equal((await c.latest()).n, size);
    }
    const keys = await w.storage.list('sumdb');
    assert.ok(keys.includes('sumdb/sumdb.example.test/latest'));
    assert.ok(keys.includes('sumdb/sumdb.example.test/lookup/example.com/m0@v1.0.0'));
    assert.ok(keys.includes('sumdb/sumdb.example.test/tile/8/0/000'));
    assert.ok(keys.includes('sumdb/sumdb.example.test/tile/8/1/000.p/2'));
    // A new client on the same store remembers the head and answers stored lookups without the database.
    w.requests.length = 0;
    const again = w.client();
    assert.equal((await again.remembered()).n, size);
    await again.lookup('example.com/m0', 'v1.0.0');
    assert.deepEqual(w.requests, []);
  });

  it('verifies module hashes as go does, with go\'s mismatch message', async () => {
    const w = await world();
    await w.add(0, 3);
    const c = w.client();
    await c.verify('example.com/m1', 'v1.0.0', h1('z1'));
    await c.verify('example.com/m1', 'v1.0.0/go.mod', h1('m1'));
    await assert.rejects(c.verify('example.com/m1', 'v1.0.0', h1('evil')), (err: Error) => {
      return (
        err instanceof ChecksumMismatchError &&
        err.message.startsWith(`example.com/m1@v1.0.0: verifying module: checksum mismatch\n\tdownloaded: ${h1('evil')}\n\tsumdb.example.test: ${h1('z1')}\n\nSECURITY ERROR\n`)
      );
    });
    await assert.rejects(c.verify('example.com/m1', 'v1.0.0/go.mod', h1('evil')), (err: Error) => err instanceof ChecksumMismatchError && err.message.includes('verifying go.mod: checksum mismatch'));
    await assert.rejects(c.verify('example.com/absent', 'v1.0.0', h1('x')), NotFoundError);
  });

  it('refuses tampered answers: a record, a tile, a signature, a shrunken or forked tree', async () => {
    const w = await world();
    await w.add(0, 10);
    const c = w.client();
    await c.lookup('example.com/m0', 'v1.0.0');
    await w.add(10, 20);

    // A record with another hash.
    w.setTamper((p, b) => (p.startsWith('lookup/') ? Buffer.from(b.toString().replace(h1('z12'), h1('evil'))) : b));
    await assert.rejects(c.lookup('example.com/m12', 'v1.0.0'), (err: Error) => err instanceof SumdbVerificationError && /cannot authenticate record data/.test(err.message));

    // A tile that does not match the signed tree (of a new size: the tiles of the last one are stored).
    await w.add(20, 30);
    w.setTamper((p, b) => {
      if (!p.startsWith('tile/')) return b;
      const bad = Buffer.from(b);
      bad[0]! ^= 1;
      return bad;
    });
    await assert.rejects(c.lookup('example.com/m25', 'v1.0.0'), (err: Error) => err instanceof SumdbVerificationError && /downloaded inconsistent tile/.test(err.message));

    // A head signed by another key, and one whose signature is broken.
    const other = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(root, `other${n++}`) }), signerKey: generateKey('sumdb.example.test').signerKey });
    const foreign = (await other.get('latest')).body!;
    w.setTamper((p, b) => (p === 'latest' ? foreign : b));
    await assert.rejects(c.latest(), (err: Error) => err instanceof SumdbVerificationError && /note has no verifiable signatures/.test(err.message));
    w.setTamper((p, b) => {
      if (p !== 'latest') return b;
      const s = b.toString();
      const at = s.lastIndexOf(' ') + 10;
      return Buffer.from(s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1));
    });
    await assert.rejects(c.latest(), (err: Error) => err instanceof SumdbVerificationError && /invalid signature for key/.test(err.message));
    w.setTamper((_p, b) => b);
    assert.equal((await c.latest()).n, 30);

    // The database rebuilt with fewer, different records: a smaller tree that is not a prefix.
    const shrunk = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(root, `shrunk${n++}`) }), signerKey: w.key.signerKey });
    for (let i = 0; i < 25; i++) await shrunk.add(`example.com/m${i === 3 ? 'X' : i}`, 'v1.0.0', { zip: h1(`z${i}`), mod: h1(`m${i}`) });
    const shrunkLatest = (await shrunk.get('latest')).body!;
    w.setTamper((p, b) => (p === 'latest' ? shrunkLatest : b));
    await assert.rejects(c.latest(), (err: Error) => {
      return err instanceof SumdbForkError && err.rollback && err.served.size === 25 && err.remembered.size === 30 && err.message.startsWith('SECURITY ERROR\n');
    });

    // A fork that grows: same size plus more, different history.
    const forked = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(root, `forked${n++}`) }), signerKey: w.key.signerKey });
    for (let i = 0; i < 35; i++) await forked.add(`example.com/m${i === 15 ? 'Y' : i}`, 'v1.0.0', { zip: h1(`z${i}`), mod: h1(`m${i}`) });
    w.setTamper((_p, b) => b);
    const forkedFetch: SumdbFetch = async (path) => (await forked.get(path)).body!;
    const victim = new SumdbClient({ verifierKey: w.key.verifierKey, fetch: forkedFetch, store: w.store });
    await assert.rejects(victim.latest(), (err: Error) => err instanceof SumdbForkError && !err.rollback && err.served.size === 35 && err.remembered.size === 30);
    // Nothing of the fork was remembered.
    assert.equal((await w.client().remembered()).n, 30);
  });

  it('checks every tile against its parent, also when right-edge subtrees share a tile', async () => {
    const w = await world();
    // 300 = 256 + 32 + 8 + 4: three of the four subtree hashes of the tree hash are in tile/8/0/001.p/44.
    await w.add(0, 300);
    const forgedText = `example.com/m2 v1.0.0 ${h1('evil')}\nexample.com/m2 v1.0.0/go.mod ${h1('m2')}\n`;
    w.setTamper((p, b) => {
      if (p === 'lookup/example.com/m2@v1.0.0') return Buffer.concat([Buffer.from(`2\n${forgedText}\n`), b.subarray(b.indexOf('\n\n') + 2)]);
      if (p !== 'tile/8/0/000') return b;
      const forged = Buffer.from(b);
      recordHash(Buffer.from(forgedText)).copy(forged, 2 * 32);
      return forged;
    });
    await assert.rejects(w.client().lookup('example.com/m2', 'v1.0.0'), (err: Error) => err instanceof SumdbVerificationError && /downloaded inconsistent tile/.test(err.message));
    w.setTamper((_p, b) => b);
    assert.deepEqual(await w.client().lookup('example.com/m2', 'v1.0.0'), [`example.com/m2 v1.0.0 ${h1('z2')}`]);
  });

  it('accepts an older head of the same tree (a stale proxy) without moving back', async () => {
    const w = await world();
    await w.add(0, 5);
    const old = (await w.db.get('latest')).body!;
    await w.add(5, 9);
    const c = w.client();
    assert.equal((await c.latest()).n, 9);
    w.setTamper((p, b) => (p === 'latest' ? old : b));
    assert.equal((await c.latest()).n, 9);
  });

  it('reads tiles again from the database when stored ones do not add up', async () => {
    const w = await world();
    await w.add(0, 300);
    const c = w.client();
    await c.lookup('example.com/m1', 'v1.0.0');
    // A cache poisoned with a wrong full tile (as an unverified passthrough copy could be).
    await w.storage.put('sumdb/sumdb.example.test/tile/8/0/000', Buffer.alloc(8192, 7));
    const fresh = w.client();
    assert.equal((await fresh.lookup('example.com/m2', 'v1.0.0')).length, 1);
    const repaired = await w.store.read('sumdb.example.test/tile/8/0/000');
    assert.ok(repaired !== null && !repaired.equals(Buffer.alloc(8192, 7)));
  });

  it('throws only typed errors, and accepts nothing false, whatever the database answers (seeded garbage)', async () => {
    const w = await world();
    await w.add(0, 40);
    const honest = new Map<string, Buffer>();
    const keep = w.client();
    for (const i of [0, 5]) await keep.lookup(`example.com/m${i}`, 'v1.0.0');
    await w.add(40, 45);
    for (const path of ['latest', 'lookup/example.com/m41@v1.0.0', 'tile/8/0/000.p/45', 'tile/8/0/000.p/40']) honest.set(path, (await w.db.get(path)).body!);
    const random = seededRandom(42);
    const strings = garbageStrings(43, 400, [...honest.values()].slice(0, 2).map((b) => b.toString()));
    for (let i = 0; i < strings.length; i++) {
      const target = [...honest.keys()][i % honest.size]!;
      const garbage = target.startsWith('tile/') ? mutateBytes(honest.get(target)!, random) : Buffer.from(strings[i]!);
      w.setTamper((p, b) => (p === target ? garbage : b));
      const c = w.client();
      try {
        const lines = target === 'latest' ? [] : await c.lookup('example.com/m41', 'v1.0.0');
        if (target === 'latest') await c.latest();
        // Whatever was accepted is the truth.
        for (const line of lines) assert.ok([`example.com/m41 v1.0.0 ${h1('z41')}`].includes(line), line);
      } catch (err) {
        assert.ok(err instanceof GodepotError, `garbage #${i} for ${target}: ${String(err)}`);
      }
      assert.ok((await c.remembered()).n === 40 || (await c.remembered()).n === 45);
    }
  });

  it('lets a caller stop waiting without failing the others sharing its lookup', async () => {
    const w = await world();
    await w.add(0, 3);
    const c = w.client();
    const controller = new AbortController();
    const first = c.lookup('example.com/m1', 'v1.0.0', controller.signal);
    const second = c.lookup('example.com/m1', 'v1.0.0');
    controller.abort(new Error('client went away'));
    await assert.rejects(first, /client went away/);
    assert.deepEqual(await second, [`example.com/m1 v1.0.0 ${h1('z1')}`]);
    assert.equal(w.requests.filter((p) => p.startsWith('lookup/')).length, 1);
  });

  it('starts from the empty tree and is not fooled by an unsigned empty answer', async () => {
    const w = await world();
    const c = w.client();
    const empty = await c.latest();
    assert.equal(empty.n, 0);
    assert.ok(empty.hash.equals(EMPTY_TREE_HASH));
    w.setTamper(() => Buffer.alloc(0));
    await assert.rejects(c.latest(), SumdbVerificationError);
  });
});
