import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { garbageStrings } from '../../test/support/garbage.js';
import { InvalidRequestError } from '../errors.js';
import { SumdbVerificationError } from './errors.js';
import {
  checkRecord,
  checkTree,
  EMPTY_TREE_HASH,
  formatRecord,
  formatTree,
  hashFromTile,
  newTiles,
  parseRecord,
  parseTilePath,
  parseTree,
  proveRecord,
  proveTree,
  readTileData,
  recordHash,
  splitStoredHashIndex,
  storedHashCount,
  storedHashes,
  storedHashIndex,
  tileForIndex,
  tileHashReader,
  tilePath,
  treeHash,
  type Hash,
  type HashReader,
  type Tile,
  type TileReader,
} from './tlog.js';

/** Hashes in stored order, read in increasing index order only (as x/mod's test storage insists). */
function hashStorage(hashes: Hash[]): HashReader {
  return {
    readHashes(indexes) {
      for (let i = 1; i < indexes.length; i++) assert.ok(indexes[i - 1]! < indexes[i]!, 'indexes out of order');
      return indexes.map((x) => hashes[x]!);
    },
  };
}

/** x/mod's testTilesStorage: tiles from a map, counting reads that were never saved. */
class TileStorage implements TileReader {
  unsaved = 0;
  readonly height = 2;
  constructor(private readonly m: Map<string, Buffer>) {}
  async readTiles(tiles: readonly Tile[]): Promise<Buffer[]> {
    this.unsaved += tiles.length;
    return tiles.map((t) => this.m.get(tilePath(t)) ?? Buffer.alloc(0));
  }
  async saveTiles(tiles: readonly Tile[]): Promise<void> {
    this.unsaved -= tiles.length;
  }
}

const flip = (h: Hash): void => {
  h[0]! ^= 1;
};

describe('tlog tree', () => {
  it("passes x/mod's TestTree: stored hashes, tiles, record and tree proofs, tile-backed reads, for 100 records", async () => {
    const testH = 2;
    const storage: Hash[] = [];
    const reader = hashStorage(storage);
    const trees: Hash[] = [];
    const leaves: Hash[] = [];
    const tiles = new Map<string, Buffer>();
    for (let i = 0; i < 100; i++) {
      const data = Buffer.from(`leaf ${i}`);
      const hashes = await storedHashes(i, data, reader);
      leaves.push(recordHash(data));
      const oldStorage = storage.length;
      storage.push(...hashes);
      assert.equal(storedHashCount(i + 1), storage.length, `StoredHashCount(${i + 1})`);
      const th = await treeHash(i + 1, reader);

      for (const tile of newTiles(testH, i, i + 1)) {
        const data = await readTileData(tile, reader);
        const old = tilePath({ ...tile, width: tile.width - 1 });
        const oldData = tiles.get(old) ?? Buffer.alloc(0);
        assert.ok(oldData.length === data.length - 32 && oldData.equals(data.subarray(0, oldData.length)), `tile ${tilePath(tile)} not extending ${old}`);
        tiles.set(tilePath(tile), data);
      }
      for (const tile of [...newTiles(testH, 0, i + 1), ...newTiles(testH, Math.floor(i / 2), i + 1)]) {
        assert.ok(tiles.get(tilePath(tile))!.equals(await readTileData(tile, reader)), `mismatch at ${tilePath(tile)}`);
      }
      for (let j = oldStorage; j < storage.length; j++) {
        const tile = tileForIndex(testH, j);
        const data = tiles.get(tilePath(tile));
        assert.ok(data, `TileForIndex(${testH}, ${j}) = ${tilePath(tile)}, not yet stored`);
        assert.ok(hashFromTile(tile, data, j).equals(storage[j]!), `HashFromTile(${tilePath(tile)}, ${j})`);
      }
      trees.push(th);

      for (let j = 0; j <= i; j++) {
        const p = await proveRecord(i + 1, j, reader);
        checkRecord(p, i + 1, th, j, leaves[j]!);
        for (const h of p) {
          flip(h);
          assert.throws(() => checkRecord(p, i + 1, th, j, leaves[j]!), SumdbVerificationError, `corrupt record proof ${i + 1} ${j}`);
          flip(h);
        }
      }

      const ts = new TileStorage(tiles);
      const thr = tileHashReader({ n: i + 1, hash: th }, ts);
      for (let j = 0; j <= i; j++) {
        const [h] = await thr.readHashes([storedHashIndex(0, j)]);
        assert.ok(h!.equals(leaves[j]!), `TileHashReader(${i + 1}).ReadHashes(${j})`);
        checkRecord(await proveRecord(i + 1, j, thr), i + 1, th, j, leaves[j]!);
      }
      assert.equal(ts.unsaved, 0);
      await assert.rejects(Promise.resolve(thr.readHashes([(i + 1) * 2])), SumdbVerificationError);
      assert.equal(ts.unsaved, 0);

      for (let j = 0; j <= i; j++) {
        assert.ok((await treeHash(j + 1, thr)).equals(trees[j]!), `TreeHash(${j + 1}, TileHashReader(${i + 1}))`);
        const p = await proveTree(i + 1, j + 1, thr);
        checkTree(p, i + 1, th, j + 1, trees[j]!);
        for (const h of p) {
          flip(h);
          assert.throws(() => checkTree(p, i + 1, th, j + 1, trees[j]!), SumdbVerificationError, `corrupt tree proof ${i + 1} ${j + 1}`);
          flip(h);
        }
      }
      assert.equal(ts.unsaved, 0);
    }
  });

  it('refuses tiles that do not add up to the tree hash, and saves nothing then', async () => {
    const storage: Hash[] = [];
    const reader = hashStorage(storage);
    for (let i = 0; i < 20; i++) storage.push(...(await storedHashes(i, Buffer.from(`leaf ${i}`), reader)));
    const tree = { n: 20, hash: await treeHash(20, reader) };
    const tiles = new Map<string, Buffer>();
    for (const t of newTiles(2, 0, 20)) tiles.set(tilePath(t), await readTileData(t, reader));
    for (const [path, data] of tiles) {
      const bad = new Map(tiles);
      const copy = Buffer.from(data);
      copy[copy.length - 1]! ^= 0x80;
      bad.set(path, copy);
      const ts = new TileStorage(bad);
      // Every tile is on the path of some record's proof or of the tree hash.
      let refused = false;
      for (let j = 0; j < 20 && !refused; j++) {
        try {
          await tileHashReader(tree, ts).readHashes([storedHashIndex(0, j)]);
        } catch (err) {
          assert.ok(err instanceof SumdbVerificationError && err.message === 'downloaded inconsistent tile', String(err));
          refused = true;
        }
      }
      assert.ok(refused, `a corrupt ${path} was accepted`);
      assert.ok(ts.unsaved > 0);
    }
  });

  it('maps stored hash indexes both ways', () => {
    for (let l = 0; l < 10; l++) {
      for (let n = 0; n < 100; n++) assert.deepEqual(splitStoredHashIndex(storedHashIndex(l, n)), [l, n]);
    }
    // Large indexes stay exact: no 32-bit arithmetic anywhere.
    for (const n of [2 ** 31, 2 ** 32 + 5, 2 ** 40 - 1]) assert.deepEqual(splitStoredHashIndex(storedHashIndex(3, n)), [3, n]);
  });

  it('hashes the empty tree to SHA-256 of nothing', async () => {
    assert.ok((await treeHash(0, hashStorage([]))).equals(createHash('sha256').digest()));
    assert.ok(EMPTY_TREE_HASH.equals(createHash('sha256').digest()));
  });

  it("counts new tiles as x/mod's TestNewTilesForSize", () => {
    const cases: Array<[number, number, number]> = [
      [1, 1, 0],
      [100, 101, 1],
      [1023, 1025, 3],
      [1024, 1030, 1],
      [1030, 2000, 1],
      [1030, 10000, 10],
      [49516517, 49516586, 3],
    ];
    for (const [oldSize, newSize, want] of cases) assert.equal(newTiles(10, oldSize, newSize).length, want, `${oldSize}-${newSize}`);
  });
});

describe('tile paths', () => {
  // x/mod's tilePaths table; a width of 0 marks a path that must be refused.
  const table: Array<[string, Tile | null]> = [
    ['tile/4/0/001', { height: 4, level: 0, n: 1, width: 16 }],
    ['tile/4/0/001.p/5', { height: 4, level: 0, n: 1, width: 5 }],
    ['tile/3/5/x123/x456/078', { height: 3, level: 5, n: 123456078, width: 8 }],
    ['tile/3/5/x123/x456/078.p/2', { height: 3, level: 5, n: 123456078, width: 2 }],
    ['tile/1/0/x003/x057/500', { height: 1, level: 0, n: 3057500, width: 2 }],
    ['tile/3/5/123/456/078', null],
    ['tile/3/-1/123/456/078', null],
    ['tile/1/data/x003/x057/500', { height: 1, level: -1, n: 3057500, width: 2 }],
  ];

  it("formats and parses x/mod's table", () => {
    for (const [path, tile] of table) {
      if (tile === null) {
        assert.throws(() => parseTilePath(path), InvalidRequestError, path);
        continue;
      }
      assert.equal(tilePath(tile), path);
      assert.deepEqual(parseTilePath(path), tile);
    }
  });

  it('refuses every non-canonical spelling', () => {
    const bad = [
      'tile/8/0/1',
      'tile/8/0/0001',
      'tile/08/0/001',
      'tile/8/00/001',
      'tile/8/0/x000/001',
      'tile/8/0/001.p/0',
      'tile/8/0/001.p/256',
      'tile/8/0/001.p/01',
      'tile/8/0/001.p',
      'tile/8/0/001/',
      'tile/0/0/001',
      'tile/31/0/001',
      'tile/8/data/x001',
      'tiles/8/0/001',
      'tile/8/0/+01',
      'tile/8/0/x1000/000',
    ];
    for (const path of bad) assert.throws(() => parseTilePath(path), InvalidRequestError, path);
  });

  it('only ever throws InvalidRequestError, and parses only what it would write (seeded garbage)', () => {
    const valid = table.map(([p]) => p);
    for (const [i, path] of garbageStrings(8, 5000, valid).entries()) {
      try {
        assert.equal(tilePath(parseTilePath(path)), path);
      } catch (err) {
        assert.ok(err instanceof InvalidRequestError, `input #${i} ${JSON.stringify(path)}: ${String(err)}`);
      }
    }
  });
});

describe('tree notes and records', () => {
  const golden = 'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n';
  const h = recordHash(Buffer.from('hello world'));

  it("formats and parses x/mod's tree", () => {
    assert.equal(formatTree({ n: 123456789012, hash: h }), golden);
    const tree = parseTree(golden);
    assert.equal(tree.n, 123456789012);
    assert.ok(tree.hash.equals(h));
    for (const good of [golden + 'JOE', golden + 'JOE\n', golden + 'JOE\n'.repeat(1000)]) assert.equal(parseTree(good).n, 123456789012);
    const bad = [
      'not-' + golden,
      'go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
      'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n',
      'go.sum database tree\n0123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
      'go.sum database tree\n-1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n',
      'go.sum database tree\n123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=',
    ];
    for (const text of bad) assert.throws(() => parseTree(text), SumdbVerificationError, text);
  });

  it("formats and parses x/mod's records", () => {
    assert.equal(formatRecord(123456789012, Buffer.from('hello, world\n')).toString(), '123456789012\nhello, world\n\n');
    for (const bad of ['', 'hello\nworld', 'hello\n\nworld\n', 'hello\x01world\n']) {
      assert.throws(() => formatRecord(1, Buffer.from(bad)), SumdbVerificationError, JSON.stringify(bad));
    }
    const parsed = parseRecord(Buffer.from('123456789012\nhello, world\n\njunk on end\x01\xff', 'latin1'));
    assert.equal(parsed.id, 123456789012);
    assert.equal(parsed.text.toString(), 'hello, world\n');
    assert.equal(parsed.rest.toString('latin1'), 'junk on end\x01\xff');
    assert.equal(parseRecord(Buffer.from('123456789012\nhello, world\n\n')).rest.length, 0);
    const badRecords = [
      Buffer.from('not-123456789012\nhello, world\n\n'),
      Buffer.from('123\nhello\x01world\n\n'),
      Buffer.from('123\nhello\xffworld\n\n', 'latin1'),
      Buffer.from('123\nhello world\n'),
      Buffer.from('0x123\nhello world\n\n'),
      Buffer.from('-1\nhello world\n\n'),
    ];
    for (const bad of badRecords) assert.throws(() => parseRecord(bad), SumdbVerificationError, bad.toString('latin1'));
  });

  it('only ever throws SumdbVerificationError on garbage trees and records (seeded garbage)', () => {
    for (const [i, text] of garbageStrings(15, 3000, [golden]).entries()) {
      try {
        // base64 with stray trailing bits decodes as in Go, so only the size must read back.
        const tree = parseTree(text);
        assert.ok(text.startsWith(`go.sum database tree\n${tree.n}\n`) && tree.hash.length === 32);
      } catch (err) {
        assert.ok(err instanceof SumdbVerificationError, `tree input #${i} ${JSON.stringify(text)}: ${String(err)}`);
      }
    }
    for (const [i, text] of garbageStrings(16, 3000, ['12345\nhello\n\n', '7\na b h1:x\na b/go.mod h1:y\n\ngo.sum database tree\n']).entries()) {
      try {
        const r = parseRecord(Buffer.from(text));
        assert.ok(r.text.length > 0 && r.id >= 0);
      } catch (err) {
        assert.ok(err instanceof SumdbVerificationError, `record input #${i} ${JSON.stringify(text)}: ${String(err)}`);
      }
    }
  });
});
