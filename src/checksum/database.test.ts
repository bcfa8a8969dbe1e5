import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { garbageStrings } from '../../test/support/garbage.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import { DiskStorage } from '../storage/disk.js';
import type { PutOptions, Storage, StoredObject } from '../storage/storage.js';
import { ChecksumDatabase } from './database.js';
import { SumdbStateError } from './errors.js';
import { generateKey, newVerifier, openNote } from './note.js';
import { EMPTY_TREE_HASH, formatHash, newTiles, parseTree, readTileData, recordHash, storedHashesForRecordHash, tilePath, treeHash, type Hash } from './tlog.js';

const key = generateKey('sumdb.example.test');

/** A valid h1 that differs per seed. */
function fakeH1(seed: string): string {
  return `h1:${recordHash(Buffer.from(seed)).toString('base64')}`;
}

async function body(db: ChecksumDatabase, path: string): Promise<Buffer> {
  return (await db.get(path)).body!;
}

/** Storage that fails the put calls its test chooses, to cut appends short. */
class FailingStorage implements Storage {
  failPut: (key: string) => boolean = () => false;
  constructor(private readonly inner: Storage) {}
  get(k: string, o?: { signal?: AbortSignal; start?: number; end?: number }): Promise<Readable> {
    return this.inner.get(k, o);
  }
  stat(k: string): Promise<StoredObject | null> {
    return this.inner.stat(k);
  }
  put(k: string, b: Readable | Uint8Array, o?: PutOptions): Promise<StoredObject> {
    if (this.failPut(k)) return Promise.reject(new Error(`injected failure storing ${k}`));
    return this.inner.put(k, b, o);
  }
  list(p: string): Promise<string[]> {
    return this.inner.list(p);
  }
  delete(k: string): Promise<void> {
    return this.inner.delete(k);
  }
}

describe('ChecksumDatabase', () => {
  let root: string;
  let n = 0;
  const fresh = async (): Promise<DiskStorage> => new DiskStorage({ root: join(root, `db${n++}`) });
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'godepot-sumdb-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('starts empty: a signed empty tree, no lookups, no tiles', async () => {
    const db = await ChecksumDatabase.open({ storage: await fresh(), signerKey: key.signerKey });
    assert.equal(db.name, 'sumdb.example.test');
    assert.equal(db.verifierKey, key.verifierKey);
    assert.equal(db.size, 0);
    const note = openNote(await body(db, 'latest'), [newVerifier(key.verifierKey)]);
    assert.equal(note.text, `go.sum database tree\n0\n${formatHash(EMPTY_TREE_HASH)}\n`);
    assert.equal((await db.get('supported')).size, 0);
    await assert.rejects(db.get('lookup/example.com/a@v1.0.0'), NotFoundError);
    await assert.rejects(db.get('tile/8/0/000.p/1'), NotFoundError);
    await assert.rejects(db.get('tile/8/data/000.p/1'), NotFoundError);
  });

  it('appends records as go.sum lines and answers lookups as go\'s server does', async () => {
    const db = await ChecksumDatabase.open({ storage: await fresh(), signerKey: key.signerKey });
    const zip = fakeH1('zip');
    const mod = fakeH1('mod');
    assert.equal(await db.add('example.com/Upper/x/v2', 'v2.0.0-rc.1', { zip, mod }), 0);
    assert.equal(await db.add('example.com/b', 'v1.0.0', { zip: fakeH1('b'), mod: fakeH1('bm') }), 1);
    // The same hashes again: the same record.
    assert.equal(await db.add('example.com/Upper/x/v2', 'v2.0.0-rc.1', { zip, mod }), 0);
    assert.equal(db.size, 2);
    const text = `example.com/Upper/x/v2 v2.0.0-rc.1 ${zip}\nexample.com/Upper/x/v2 v2.0.0-rc.1/go.mod ${mod}\n`;
    assert.deepEqual(db.record('example.com/Upper/x/v2', 'v2.0.0-rc.1'), { id: 0, text });
    const lookup = await body(db, 'lookup/example.com/!upper/x/v2@v2.0.0-rc.1');
    const latest = await body(db, 'latest');
    assert.equal(lookup.toString(), `0\n${text}\n${latest.toString()}`);
    const tree = parseTree(openNote(latest, [newVerifier(key.verifierKey)]).text);
    assert.equal(tree.n, 2);
    assert.equal(formatHash(tree.hash), formatHash(await treeOf([Buffer.from(text), Buffer.from(db.record('example.com/b', 'v1.0.0')!.text)])));
  });

  it('refuses what it cannot record, and never changes a record', async () => {
    const db = await ChecksumDatabase.open({ storage: await fresh(), signerKey: key.signerKey });
    await db.add('example.com/a', 'v1.0.0', { zip: fakeH1('a'), mod: fakeH1('am') });
    await assert.rejects(db.add('example.com/a', 'v1.0.0', { zip: fakeH1('evil'), mod: fakeH1('am') }), (err: Error) => {
      return err instanceof ChecksumMismatchError && err.version === 'v1.0.0' && err.recorded === fakeH1('a') && err.downloaded === fakeH1('evil');
    });
    await assert.rejects(db.add('example.com/a', 'v1.0.0', { zip: fakeH1('a'), mod: fakeH1('evil') }), (err: Error) => {
      return err instanceof ChecksumMismatchError && err.version === 'v1.0.0/go.mod';
    });
    const bad: Array<[string, string, string]> = [
      ['not a path', 'v1.0.0', fakeH1('x')],
      ['example.com/a', 'v1.0', fakeH1('x')],
      ['example.com/a', 'v1.0.0+build', fakeH1('x')],
      ['example.com/a/v2', 'v1.0.0', fakeH1('x')],
      ['example.com/a', 'v1.0.1', 'h1:short='],
      ['example.com/a', 'v1.0.1', 'h2:' + fakeH1('x').slice(3)],
    ];
    for (const [p, v, h] of bad) await assert.rejects(db.add(p, v, { zip: h, mod: fakeH1('m') }), InvalidRequestError, `${p}@${v} ${h}`);
    assert.equal(db.size, 1);
  });

  it('commits concurrent appends together, across tile boundaries, and serves every tile as tlog computes it', async () => {
    const storage = await fresh();
    const db = await ChecksumDatabase.open({ storage, signerKey: key.signerKey });
    const ids = await Promise.all(Array.from({ length: 300 }, (_, i) => db.add(`example.com/m${i}`, 'v1.0.0', { zip: fakeH1(`z${i}`), mod: fakeH1(`m${i}`) })));
    assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i));
    // A duplicate inside one batch gets the first one's id; a conflicting one is refused.
    const [a, b, c] = await Promise.allSettled([
      db.add('example.com/dup', 'v1.0.0', { zip: fakeH1('d'), mod: fakeH1('dm') }),
      db.add('example.com/dup', 'v1.0.0', { zip: fakeH1('d'), mod: fakeH1('dm') }),
      db.add('example.com/dup', 'v1.0.0', { zip: fakeH1('other'), mod: fakeH1('dm') }),
    ]);
    assert.ok(a.status === 'fulfilled' && b.status === 'fulfilled' && a.value === 300 && b.value === 300);
    assert.ok(c.status === 'rejected' && c.reason instanceof ChecksumMismatchError);

    assert.deepEqual(await storage.list('sumdb/sumdb.example.test/tile'), ['sumdb/sumdb.example.test/tile/8/data/000', 'sumdb/sumdb.example.test/tile/8/data/001.p/45']);
    const records = Array.from({ length: db.size }, (_, id) => recordText(db, id));
    const hashes: Hash[] = [];
    const reader = { readHashes: (xs: readonly number[]) => xs.map((x) => hashes[x]!) };
    for (const [id, r] of records.entries()) hashes.push(...(await storedHashesForRecordHash(id, recordHash(r), reader)));
    for (const t of newTiles(8, 0, db.size)) assert.ok((await body(db, tilePath(t))).equals(await readTileData(t, reader)), tilePath(t));
    // Any narrower tile of the tree is served too, as go asks for the width of the head it knows.
    assert.ok((await body(db, 'tile/8/0/001.p/3')).equals(await readTileData({ height: 8, level: 0, n: 1, width: 3 }, reader)));
    assert.equal((await body(db, 'tile/8/data/001.p/2')).toString(), `${records[256]}\n${records[257]}\n`);
    assert.ok((await body(db, 'tile/8/data/000')).equals(Buffer.concat(records.slice(0, 256).flatMap((r) => [r, Buffer.from('\n')]))));
    assert.equal((await db.get('tile/8/0/000')).immutable, true);
    assert.equal((await db.get('tile/8/0/001.p/45')).immutable, false);
    await assert.rejects(db.get('tile/8/0/001.p/46'), NotFoundError);
    await assert.rejects(db.get('tile/8/1/000'), NotFoundError);
    assert.equal((await body(db, 'tile/8/1/000.p/1')).length, 32);
    await assert.rejects(db.get('tile/4/0/000'), NotFoundError);
  });

  it('reopens to the same tree and signed head, and keeps appending without forking', async () => {
    const storage = await fresh();
    const db = await ChecksumDatabase.open({ storage, signerKey: key.signerKey });
    for (let i = 0; i < 5; i++) await db.add(`example.com/r${i}`, 'v1.0.0', { zip: fakeH1(`z${i}`), mod: fakeH1(`m${i}`) });
    const head = await body(db, 'latest');
    const again = await ChecksumDatabase.open({ storage, signerKey: key.signerKey });
    assert.equal(again.size, 5);
    assert.ok((await body(again, 'latest')).equals(head), 'Ed25519 signatures are deterministic: the same tree signs the same');
    await again.add('example.com/r5', 'v1.0.0', { zip: fakeH1('z5'), mod: fakeH1('m5') });
    const tree = parseTree(openNote(await body(again, 'latest'), [newVerifier(key.verifierKey)]).text);
    assert.equal(tree.n, 6);
    assert.deepEqual(await storage.list('sumdb/sumdb.example.test/tile'), ['sumdb/sumdb.example.test/tile/8/data/000.p/6']);
  });

  it('refuses to open storage whose records do not extend the head it signed', async () => {
    const storage = await fresh();
    const db = await ChecksumDatabase.open({ storage, signerKey: key.signerKey });
    for (let i = 0; i < 3; i++) await db.add(`example.com/r${i}`, 'v1.0.0', { zip: fakeH1(`z${i}`), mod: fakeH1(`m${i}`) });
    await db.signedTree();
    const tile = 'sumdb/sumdb.example.test/tile/8/data/000.p/3';
    const saved = await readAll(storage, tile);

    // Records lost: a tile of two records where three were signed.
    await storage.delete(tile);
    await storage.put('sumdb/sumdb.example.test/tile/8/data/000.p/2', saved.subarray(0, saved.indexOf('\n\n', saved.indexOf('\n\n') + 2) + 2));
    await assert.rejects(ChecksumDatabase.open({ storage, signerKey: key.signerKey }), (err: Error) => err instanceof SumdbStateError && /signed a tree of 3 records but storage holds only 2/.test(err.message));

    // Records rewritten: three records, not the three signed.
    await storage.delete('sumdb/sumdb.example.test/tile/8/data/000.p/2');
    await storage.put(tile, Buffer.from(saved.toString().replace(fakeH1('z1'), fakeH1('other'))));
    await assert.rejects(ChecksumDatabase.open({ storage, signerKey: key.signerKey }), (err: Error) => err instanceof SumdbStateError && /would fork/.test(err.message));

    // Not records at all.
    await storage.put(tile, Buffer.from('garbage'));
    await assert.rejects(ChecksumDatabase.open({ storage, signerKey: key.signerKey }), SumdbStateError);

    // A head signed by another key.
    await storage.put(tile, saved);
    await storage.put('sumdb/sumdb.example.test/latest', await body(await ChecksumDatabase.open({ storage: await fresh(), signerKey: generateKey('sumdb.example.test').signerKey }), 'latest'));
    await assert.rejects(ChecksumDatabase.open({ storage, signerKey: key.signerKey }), (err: Error) => err instanceof SumdbStateError && /cannot be read with this key/.test(err.message));
  });

  it('after a failed write, takes from storage what was stored and carries on without forking', async () => {
    const disk = await fresh();
    const storage = new FailingStorage(disk);
    const db = await ChecksumDatabase.open({ storage, signerKey: key.signerKey });
    for (let i = 0; i < 254; i++) await db.add(`example.com/r${i}`, 'v1.0.0', { zip: fakeH1(`z${i}`), mod: fakeH1(`m${i}`) });
    await db.signedTree();
    // A batch crossing the tile boundary: the full tile is stored, the next partial fails.
    storage.failPut = (k) => k.endsWith('/001.p/1');
    const batch = ['x', 'y', 'z'].map((s) => db.add(`example.com/${s}`, 'v1.0.0', { zip: fakeH1(s), mod: fakeH1(`${s}m`) }));
    const settled = await Promise.allSettled(batch);
    assert.ok(settled.every((s) => s.status === 'rejected'));
    storage.failPut = () => false;
    // Storage now holds x and y (in the full tile 000): they stay, and the next record follows them.
    assert.equal(await db.add('example.com/w', 'v1.0.0', { zip: fakeH1('w'), mod: fakeH1('wm') }), 256);
    assert.equal(db.record('example.com/x', 'v1.0.0')?.id, 254);
    assert.equal(db.record('example.com/y', 'v1.0.0')?.id, 255);
    assert.equal(db.record('example.com/z', 'v1.0.0'), null);
    const reopened = await ChecksumDatabase.open({ storage: disk, signerKey: key.signerKey });
    assert.equal(reopened.size, 257);
    assert.ok((await body(reopened, 'latest')).equals(await body(db, 'latest')));
  });

  it('answers only InvalidRequestError or NotFoundError to garbage paths (seeded garbage)', async () => {
    const db = await ChecksumDatabase.open({ storage: await fresh(), signerKey: key.signerKey });
    await db.add('example.com/a', 'v1.0.0', { zip: fakeH1('a'), mod: fakeH1('am') });
    const valid = ['latest', 'supported', 'lookup/example.com/a@v1.0.0', 'tile/8/0/000.p/1', 'tile/8/data/000.p/1', 'lookup/example.com/!a@v1.0.0-pre+incompatible'];
    for (const [i, path] of garbageStrings(23, 3000, valid).entries()) {
      try {
        await db.get(path);
      } catch (err) {
        assert.ok(err instanceof InvalidRequestError || err instanceof NotFoundError, `input #${i} ${JSON.stringify(path)}: ${String(err)}`);
      }
    }
  });
});

function recordText(db: ChecksumDatabase, id: number): Buffer {
  const path = `example.com/m${id}`;
  const r = db.record(path, 'v1.0.0') ?? db.record('example.com/dup', 'v1.0.0')!;
  assert.equal(r.id, id);
  return Buffer.from(r.text);
}

async function treeOf(records: Buffer[]): Promise<Hash> {
  const hashes: Hash[] = [];
  const reader = { readHashes: (xs: readonly number[]) => xs.map((x) => hashes[x]!) };
  for (const [id, r] of records.entries()) hashes.push(...(await storedHashesForRecordHash(id, recordHash(r), reader)));
  return treeHash(records.length, reader);
}

async function readAll(storage: Storage, k: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.get(k)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
