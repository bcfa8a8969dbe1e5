import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotFoundError } from '../errors.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import { DiskStorage } from '../storage/disk.js';
import { StorageClientStore, SumdbClient, type SumdbClientStore, type SumdbFetch } from './client.js';
import { ChecksumDatabase } from './database.js';
import { SumdbForkError } from './errors.js';
import { generateKey } from './note.js';
import { SumdbPassthrough } from './passthrough.js';
import { checkProofs, collectProofs, ProofFileError, type ProofFiles, type ProofModule } from './proofs.js';
import { recordHash } from './tlog.js';

const NAME = 'sumdb.example.test';
const key = generateKey(NAME);

const h1 = (seed: string): string => `h1:${recordHash(Buffer.from(seed)).toString('base64')}`;
const modulePath = (i: number): string => `example.com/m${i}`;
const proofModule = (i: number): ProofModule => ({ path: modulePath(i), version: 'v1.0.0', modHash: h1(`m${i}`), zipHash: h1(`z${i}`) });

class MapStore implements SumdbClientStore {
  readonly m = new Map<string, Buffer>();
  async read(k: string): Promise<Buffer | null> {
    return this.m.get(k) ?? null;
  }
  async write(k: string, data: Buffer): Promise<void> {
    this.m.set(k, Buffer.from(data));
  }
}

/** A client of `db` with a fresh store; `requests` lists what it fetched. */
function clientOf(db: ChecksumDatabase): { client: SumdbClient; requests: string[] } {
  const requests: string[] = [];
  const fetch: SumdbFetch = async (path) => {
    requests.push(path);
    return (await db.get(path)).body!;
  };
  return { client: new SumdbClient({ verifierKey: key.verifierKey, fetch, store: new MapStore() }), requests };
}

const tileNames = (proofs: ProofFiles): string[] => proofs.files.map((f) => f.name).filter((n) => n.startsWith('tile/'));

/**
 * What go does with only these files: a fresh client (no remembered head, empty cache) looks up every
 * module from them; returns the tiles it read. A file it needs and cannot find fails the lookup.
 */
async function verifyAsGo(proofs: ProofFiles, modules: readonly ProofModule[]): Promise<string[]> {
  const files = new Map(proofs.files.map((f) => [f.name, f.data]));
  const read = new Set<string>();
  const fetch: SumdbFetch = async (path) => {
    const data = files.get(path);
    if (data === undefined) throw new NotFoundError(`no ${path} among the proofs`);
    read.add(path);
    return data;
  };
  const client = new SumdbClient({ verifierKey: proofs.verifierKey, fetch, store: new MapStore() });
  for (const m of modules) {
    await client.verify(m.path, `${m.version}/go.mod`, m.modHash);
    if (m.zipHash !== undefined) await client.verify(m.path, m.version, m.zipHash);
  }
  return [...read].filter((p) => p.startsWith('tile/')).sort();
}

/** `proofs` with file `name`'s bytes changed by `edit`. */
function altered(proofs: ProofFiles, name: string, edit: (data: Buffer) => Buffer): ProofFiles {
  assert.ok(proofs.files.some((f) => f.name === name), `no ${name} among the proofs`);
  return { ...proofs, files: proofs.files.map((f) => (f.name === name ? { name, data: edit(Buffer.from(f.data)) } : f)) };
}

const flipAt =
  (at: (data: Buffer) => number) =>
  (data: Buffer): Buffer => {
    data[at(data)]! ^= 0x01;
    return data;
  };

/** Changes one base64 character of a note's last signature, keeping it base64. */
const badSignature = (data: Buffer): Buffer => {
  const at = data.length - 10;
  data[at] = data[at] === 0x41 ? 0x42 : 0x41;
  return data;
};

async function rejectsNaming(proofs: ProofFiles, file: string, why: RegExp): Promise<void> {
  await assert.rejects(checkProofs(proofs), (err: Error) => {
    assert.ok(err instanceof ProofFileError, `${err.name}: ${err.message}`);
    assert.ok(err.files.includes(file), `${err.message} does not name ${file}`);
    assert.match(err.message, why);
    return true;
  });
}

describe('checksum-database proofs that travel', () => {
  let root: string;
  let dbs = 0;
  const databases = new Map<number, ChecksumDatabase>();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'godepot-proofs-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A database of `size` records, example.com/m<i> for i < size (one per size, shared by the tests). */
  async function database(size: number): Promise<ChecksumDatabase> {
    let db = databases.get(size);
    if (db === undefined) {
      db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(root, `db${dbs++}`) }), signerKey: key.signerKey });
      for (let from = 0; from < size; from += 5000) {
        await Promise.all(Array.from({ length: Math.min(5000, size - from) }, (_, k) => db!.add(modulePath(from + k), 'v1.0.0', { zip: h1(`z${from + k}`), mod: h1(`m${from + k}`) })));
      }
      databases.set(size, db);
    }
    return db;
  }

  // The tiles go reads to prove these records in a tree of this size: the right-edge tiles that add up
  // to the tree hash, each as wide as the tree makes it, and the full tiles from each record up to them.
  const cases: Array<{ size: number; ids: number[]; tiles: string[] }> = [
    { size: 1, ids: [0], tiles: ['tile/8/0/000.p/1'] },
    { size: 7, ids: [0, 6, 3], tiles: ['tile/8/0/000.p/7'] },
    { size: 256, ids: [3], tiles: ['tile/8/0/000', 'tile/8/1/000.p/1'] },
    { size: 300, ids: [299], tiles: ['tile/8/0/001.p/44', 'tile/8/1/000.p/1'] },
    { size: 300, ids: [5, 299, 256], tiles: ['tile/8/0/000', 'tile/8/0/001.p/44', 'tile/8/1/000.p/1'] },
    { size: 512, ids: [511, 0], tiles: ['tile/8/0/000', 'tile/8/0/001', 'tile/8/1/000.p/2'] },
    // 70000 = 2^16 + 17*256 + 112: partial tiles at three levels, and full ones at two below them.
    { size: 70000, ids: [69999], tiles: ['tile/8/0/273.p/112', 'tile/8/1/001.p/17', 'tile/8/2/000.p/1'] },
    {
      size: 70000,
      ids: [0, 66000, 69999, 1],
      tiles: ['tile/8/0/000', 'tile/8/0/257', 'tile/8/0/273.p/112', 'tile/8/1/000', 'tile/8/1/001.p/17', 'tile/8/2/000.p/1'],
    },
  ];

  for (const c of cases) {
    it(`proves records ${JSON.stringify(c.ids)} of a tree of ${c.size} with exactly the tiles go reads`, async () => {
      const db = await database(c.size);
      const { client } = clientOf(db);
      const modules = c.ids.map(proofModule);
      const proofs = await collectProofs(client, modules, { concurrency: 3 });
      assert.equal(proofs.name, NAME);
      assert.equal(proofs.verifierKey, key.verifierKey);
      assert.equal(proofs.treeSize, c.size);
      const names = proofs.files.map((f) => f.name);
      assert.deepEqual(names, [...names].sort(), 'sorted by name');
      const lookups = c.ids.map((i) => `lookup/${modulePath(i)}@v1.0.0`).sort();
      assert.deepEqual(names, [...(c.ids.length > 0 ? ['latest'] : []), ...lookups, ...c.tiles]);
      if (c.ids.length === 0) return;

      const latest = (await db.get('latest')).body!;
      assert.ok(proofs.files.find((f) => f.name === 'latest')!.data.equals(latest));
      for (const i of c.ids) {
        const lookup = proofs.files.find((f) => f.name === `lookup/${modulePath(i)}@v1.0.0`)!.data;
        assert.ok(lookup.equals((await db.get(`lookup/${modulePath(i)}@v1.0.0`)).body!), `lookup of m${i}`);
      }
      // go, with these files alone, reads every tile and needs no other.
      assert.deepEqual(await verifyAsGo(proofs, modules), c.tiles);
      const sums = await checkProofs(proofs);
      assert.deepEqual(
        [...sums].sort(),
        c.ids.flatMap((i) => [[`${modulePath(i)} v1.0.0`, h1(`z${i}`)], [`${modulePath(i)} v1.0.0/go.mod`, h1(`m${i}`)]]).sort(),
      );
    });
  }

  it('carries one head when the database grows between lookups: the newest the client verified', async () => {
    const db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(root, `db${dbs++}`) }), signerKey: key.signerKey });
    const { client } = clientOf(db);
    const modules: ProofModule[] = [];
    let size = 0;
    for (const grow of [3, 260, 1, 40]) {
      for (let i = size; i < size + grow; i++) await db.add(modulePath(i), 'v1.0.0', { zip: h1(`z${i}`), mod: h1(`m${i}`) });
      size += grow;
      // Each module looked up while the tree has this size: its lookup is signed at this size.
      await client.lookup(modulePath(size - 1), 'v1.0.0');
      modules.push(proofModule(size - 1));
    }
    await db.add('example.com/late', 'v1.0.0', { zip: h1('late'), mod: h1('late/m') });
    await client.latest();
    modules.push(proofModule(0));
    const proofs = await collectProofs(client, modules);
    assert.equal(proofs.treeSize, size + 1);
    const head = proofs.files.find((f) => f.name === 'latest')!.data;
    assert.ok(head.equals((await db.get('latest')).body!));
    for (const f of proofs.files.filter((f) => f.name.startsWith('lookup/'))) assert.ok(f.data.subarray(f.data.length - head.length).equals(head), `${f.name} carries the head`);
    assert.deepEqual(tileNames(proofs), ['tile/8/0/000', 'tile/8/0/001.p/49', 'tile/8/1/000.p/1']);
    assert.deepEqual(await verifyAsGo(proofs, modules), tileNames(proofs));
    assert.equal((await checkProofs(proofs)).size, modules.length * 2);
  });

  it('proves nothing for no modules: an empty set, which checks', async () => {
    const { client } = clientOf(await database(7));
    const proofs = await collectProofs(client, []);
    assert.deepEqual({ ...proofs, verifierKey: '' }, { name: NAME, verifierKey: '', treeSize: 0, files: [] });
    assert.equal((await checkProofs(proofs)).size, 0);
  });

  it('carries the tiles that prove its head extends older ones a go command may remember', async () => {
    const db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(root, `db${dbs++}`) }), signerKey: key.signerKey });
    const add = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) await db.add(modulePath(i), 'v1.0.0', { zip: h1(`z${i}`), mod: h1(`m${i}`) });
    };
    await add(0, 258);
    const first = await collectProofs(clientOf(db).client, [proofModule(257)]);
    const older = first.files.find((f) => f.name === 'latest')!.data;
    await add(258, 600);
    // The newer set proves only newer records: alone, it lacks what shows tree#600 extends tree#258.
    const newer = [proofModule(599)];
    const bare = await collectProofs(clientOf(db).client, newer);
    const since = await collectProofs(clientOf(db).client, newer, { olderHeads: [older] });
    assert.deepEqual(tileNames(bare), ['tile/8/0/002.p/88', 'tile/8/1/000.p/2']);
    assert.deepEqual(tileNames(since), ['tile/8/0/001', 'tile/8/0/002.p/88', 'tile/8/1/000.p/2']);
    await checkProofs(since);
    await checkProofs(bare);
    // A go that verified the first set remembers its head.
    const remembering = async (proofs: ProofFiles): Promise<string[]> => {
      const files = new Map(proofs.files.map((f) => [f.name, f.data]));
      const read: string[] = [];
      const fetch: SumdbFetch = async (path) => {
        const data = files.get(path);
        if (data === undefined) throw new NotFoundError(`no ${path} among the proofs`);
        read.push(path);
        return data;
      };
      const store = new MapStore();
      await store.write(`${NAME}/latest`, older);
      await new SumdbClient({ verifierKey: key.verifierKey, fetch, store }).verify(modulePath(599), 'v1.0.0', h1('z599'));
      return read.filter((p) => p.startsWith('tile/')).sort();
    };
    await assert.rejects(remembering(bare), (err: Error) => err instanceof NotFoundError && /no tile\/8\/0\/001 among the proofs/.test(err.message));
    assert.deepEqual(await remembering(since), tileNames(since));
    // A head the database does not extend is refused.
    const stranger = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(root, `db${dbs++}`) }), signerKey: key.signerKey });
    await stranger.add('example.com/other', 'v1.0.0', { zip: h1('o'), mod: h1('om') });
    const forked = (await stranger.get('latest')).body!;
    await assert.rejects(collectProofs(clientOf(db).client, newer, { olderHeads: [forked] }), SumdbForkError);
  });

  it('verifies every hash it is given: a go.mod or zip the database disagrees with is a checksum mismatch', async () => {
    const db = await database(300);
    const { client } = clientOf(db);
    await assert.rejects(collectProofs(client, [proofModule(1), { ...proofModule(2), zipHash: h1('evil') }]), (err: Error) => {
      return err instanceof ChecksumMismatchError && err.recorded === h1('z2') && err.downloaded === h1('evil');
    });
    await assert.rejects(collectProofs(client, [{ ...proofModule(3), modHash: h1('evil') }]), (err: Error) => err instanceof ChecksumMismatchError && err.version === 'v1.0.0/go.mod');
    await assert.rejects(collectProofs(client, [proofModule(300)]), NotFoundError);
    // A go.mod-only version (no zip hash) is proven by its go.mod line.
    const proofs = await collectProofs(client, [{ path: modulePath(4), version: 'v1.0.0', modHash: h1('m4') }]);
    assert.equal((await checkProofs(proofs)).get(`${modulePath(4)} v1.0.0/go.mod`), h1('m4'));
  });

  it('stops at the caller\'s abort', async () => {
    const db = await database(300);
    const { client } = clientOf(db);
    const abort = new AbortController();
    abort.abort(new Error('enough'));
    await assert.rejects(collectProofs(client, [proofModule(7)], { signal: abort.signal }), /enough/);
  });

  describe('checkProofs refuses what go would refuse, naming the file', () => {
    let proofs: ProofFiles;
    const lookup5 = `lookup/${modulePath(5)}@v1.0.0`;
    before(async () => {
      const db = await database(70000);
      proofs = await collectProofs(clientOf(db).client, [0, 5, 66000, 69999].map(proofModule));
      await checkProofs(proofs);
    });

    it('a record with another hash', async () => {
      const evil = altered(proofs, lookup5, (d) => Buffer.from(d.toString().replace(h1('z5'), h1('evil'))));
      await rejectsNaming(evil, lookup5, /record 5 does not hash to its place in tree#70000/);
    });

    it('a record cut short or an id that is not its own', async () => {
      await rejectsNaming(altered(proofs, lookup5, (d) => d.subarray(0, 20)), lookup5, /malformed record data/);
      await rejectsNaming(altered(proofs, lookup5, (d) => Buffer.from(d.toString().replace(/^5\n/, '6\n'))), lookup5, /cannot authenticate record data/);
      await rejectsNaming(altered(proofs, lookup5, (d) => Buffer.from(d.toString().replace(/^5\n/, '70000\n'))), lookup5, /cannot validate record 70000/);
    });

    it('a bad signature on a lookup\'s head or on latest', async () => {
      await rejectsNaming(altered(proofs, lookup5, badSignature), lookup5, /invalid signature for key sumdb\.example\.test\+/);
      await rejectsNaming(altered(proofs, 'latest', badSignature), 'latest', /invalid signature for key/);
    });

    it('a flipped byte in any tile', async () => {
      for (const tile of tileNames(proofs)) {
        for (const at of [0, 32 * 5 + 7]) {
          const bad = altered(proofs, tile, flipAt((d) => Math.min(at, d.length - 1)));
          await rejectsNaming(bad, tile, /inconsistent tile/);
        }
      }
      // A full tile below the right edge is blamed alone: its parent was proven first.
      await assert.rejects(checkProofs(altered(proofs, 'tile/8/0/257', flipAt(() => 100))), (err: Error) => {
        return err instanceof ProofFileError && err.files.length === 1 && /does not match its parent tile\/8\/1\/001\.p\/17/.test(err.message);
      });
    });

    it('a missing tile, a tile no proof needs, a file that is no proof', async () => {
      await rejectsNaming({ ...proofs, files: proofs.files.filter((f) => f.name !== 'tile/8/1/000') }, 'tile/8/1/000', /missing: needed to prove lookup\/example\.com\/m0@v1\.0\.0/);
      await rejectsNaming({ ...proofs, files: proofs.files.filter((f) => f.name !== 'tile/8/2/000.p/1') }, 'tile/8/2/000.p/1', /missing: needed to prove tree#70000/);
      const extra = { ...proofs, files: [...proofs.files, { name: 'tile/8/0/100', data: Buffer.alloc(8192) }] };
      await rejectsNaming(extra, 'tile/8/0/100', /does not match its parent tile\/8\/1\/000/);
      const beyond = { ...proofs, files: [...proofs.files, { name: 'tile/8/0/273', data: Buffer.alloc(8192) }] };
      await rejectsNaming(beyond, 'tile/8/0/273', /not a tile of tree#70000/);
      const stray = { ...proofs, files: [...proofs.files, { name: 'supported', data: Buffer.alloc(0) }] };
      await rejectsNaming(stray, 'supported', /not a checksum database file/);
      await rejectsNaming(altered(proofs, 'tile/8/0/000', (d) => d.subarray(1)), 'tile/8/0/000', /8191 bytes in a tile of 256 hashes/);
      await rejectsNaming({ ...proofs, files: proofs.files.filter((f) => f.name !== 'latest') }, 'latest', /missing/);
      await rejectsNaming({ ...proofs, treeSize: 69999 }, 'latest', /signs a tree of 70000 records, not the 69999/);
    });

    it('a lookup under another module\'s name, or signed at another size', async () => {
      const other = `lookup/${modulePath(66000)}@v1.0.0`;
      const swapped = altered(proofs, lookup5, () => Buffer.from(proofs.files.find((f) => f.name === other)!.data));
      await rejectsNaming(swapped, lookup5, /holds no go\.sum line for example\.com\/m5@v1\.0\.0/);
      const older = await database(300);
      const olderLookup = (await older.get(`lookup/${modulePath(5)}@v1.0.0`)).body!;
      await rejectsNaming(altered(proofs, lookup5, () => olderLookup), lookup5, /carries tree#300, not tree#70000 of latest/);
    });

    it('a set whose verifier key is not the database\'s', async () => {
      const stranger = generateKey(NAME);
      await rejectsNaming({ ...proofs, verifierKey: stranger.verifierKey }, 'latest', /note has no verifiable signatures/);
      await assert.rejects(checkProofs({ ...proofs, name: 'other.example' }), /come with a verifier key of sumdb\.example\.test/);
    });
  });

  it('imported into a proxy\'s storage, the proofs are served by the passthrough with no route to the database, and verify', async () => {
    const db = await database(300);
    const modules = [3, 256, 299].map(proofModule);
    const proofs = await collectProofs(clientOf(db).client, modules);
    // What `bundle import` writes: the files under sumdb/<name>/ in the module-cache download layout.
    const storage = new DiskStorage({ root: join(root, 'proxy') });
    for (const f of proofs.files) await storage.put(`sumdb/${NAME}/${f.name}`, f.data, { size: f.data.length });
    const passthrough = new SumdbPassthrough({ upstreams: [], sumdb: null, storage });
    try {
      assert.equal((await passthrough.get(NAME, 'supported')).size, 0, 'supported answers 200 once a head is stored');
      const requests: string[] = [];
      const fetch: SumdbFetch = async (path) => {
        requests.push(path);
        return (await passthrough.get(NAME, path)).body!;
      };
      const client = new SumdbClient({ verifierKey: key.verifierKey, fetch, store: new StorageClientStore(new DiskStorage({ root: join(root, 'go') })) });
      for (const m of modules) {
        await client.verify(m.path, m.version, m.zipHash!);
        await client.verify(m.path, `${m.version}/go.mod`, m.modHash);
      }
      assert.deepEqual(requests.filter((p) => p.startsWith('tile/')).sort(), tileNames(proofs));
      // A narrower partial tile (a client that knows an older head of the same tree) is cut from the stored one.
      assert.ok((await passthrough.get(NAME, 'tile/8/0/001.p/10')).body!.equals(proofs.files.find((f) => f.name === 'tile/8/0/001.p/44')!.data.subarray(0, 320)));
      await assert.rejects(passthrough.get(NAME, `lookup/${modulePath(4)}@v1.0.0`), NotFoundError);
    } finally {
      await passthrough.close();
    }
  });
});
