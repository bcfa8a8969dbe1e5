// The tamper-evident log behind a checksum database, as golang.org/x/mod/sumdb/tlog defines it: RFC
// 6962 Merkle trees (record and node hashes, inclusion and consistency proofs), the dense "stored hash
// index" order of every node, tiles (the unit servers publish: 2^H consecutive hashes of one tree
// level, or a partial tile of fewer), the signed tree text and the record framing of lookups.
//
// Sizes and indexes are JavaScript numbers; they are only ever combined with * and / by powers of two
// (never the 32-bit bit operators), and trees are limited to MAX_TREE_SIZE so that every stored hash
// index stays an exact integer.
import { createHash } from 'node:crypto';
import { InvalidRequestError } from '../errors.js';
import { SumdbVerificationError } from './errors.js';
import { decodeStdBase64 } from './note.js';

/** A record or node hash: 32 bytes of SHA-256. */
export type Hash = Buffer;

export const HASH_SIZE = 32;

/** The largest tree this code handles (2^50 records): stored hash indexes of such a tree stay below 2^53. */
export const MAX_TREE_SIZE = 2 ** 50;

/** The hash of the empty tree: SHA-256 of nothing (RFC 6962, 2.1). */
export const EMPTY_TREE_HASH: Hash = createHash('sha256').digest();

/** A tree head: its size (number of records) and root hash. */
export interface Tree {
  n: number;
  hash: Hash;
}

/** Gives the hashes at the given stored hash indexes, in order, or throws. */
export interface HashReader {
  readHashes(indexes: readonly number[]): Promise<readonly Hash[]> | readonly Hash[];
}

const pow2 = (k: number): number => 2 ** k;
const shr = (x: number, k: number): number => Math.floor(x / pow2(k));
const shl = (x: number, k: number): number => x * pow2(k);

function trailingZeros(x: number): number {
  let z = 0;
  for (; x > 0 && x % 2 === 0; x /= 2) z++;
  return z;
}

/** k, the largest power of two smaller than n (1 for n <= 2), and l = log2 k. */
function maxPow2(n: number): [k: number, l: number] {
  let l = 0;
  while (pow2(l + 1) < n) l++;
  return [pow2(l), l];
}

function bug(what: string): Error {
  return new Error(`tlog: bad math in ${what}`);
}

/** The base64 form of a hash, as tree notes and go's messages print it. */
export function formatHash(hash: Hash): string {
  return hash.toString('base64');
}

/** Parses the base64 form of a hash; throws SumdbVerificationError (`malformed hash`). */
export function parseHash(text: string): Hash {
  const h = decodeStdBase64(text);
  if (h === null || h.length !== HASH_SIZE) throw new SumdbVerificationError('malformed hash');
  return h;
}

/** SHA-256(0x00 || data): the leaf hash of a record (RFC 6962, 2.1). */
export function recordHash(data: Uint8Array): Hash {
  return createHash('sha256').update(Buffer.of(0)).update(data).digest();
}

/** SHA-256(0x01 || left || right): the hash of an interior node. */
export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/**
 * The position of node (level, n) in the dense order hashes are stored in: level L's n'th hash comes
 * right after level L+1's (2n+1)'th (Crosby and Wallach, section 3.3).
 */
export function storedHashIndex(level: number, n: number): number {
  for (let l = level; l > 0; l--) n = 2 * n + 1;
  let i = 0;
  for (; n > 0; n = shr(n, 1)) i += n;
  return i + level;
}

/** The inverse of storedHashIndex: the (level, n) stored at `index`. */
export function splitStoredHashIndex(index: number): [level: number, n: number] {
  // storedHashIndex(0, n) < 2n, so the record is in [index/2, index/2 + log2(index)].
  let n = shr(index, 1);
  let indexN = storedHashIndex(0, n);
  if (indexN > index) throw bug('splitStoredHashIndex');
  for (;;) {
    // Record n adds 1 + trailingZeros(n+1) hashes.
    const x = indexN + 1 + trailingZeros(n + 1);
    if (x > index) break;
    n++;
    indexN = x;
  }
  const level = index - indexN;
  return [level, shr(n, level)];
}

/** How many hashes a tree of n records stores. */
export function storedHashCount(n: number): number {
  if (n === 0) return 0;
  let count = storedHashIndex(0, n - 1) + 1;
  for (let i = n - 1; i % 2 === 1; i = shr(i, 1)) count++;
  return count;
}

async function read(reader: HashReader, indexes: readonly number[]): Promise<readonly Hash[]> {
  const hashes = await reader.readHashes(indexes);
  if (hashes.length !== indexes.length) throw new SumdbVerificationError(`tlog: ReadHashes(${indexes.length} indexes) = ${hashes.length} hashes`);
  return hashes;
}

/**
 * The hashes to store, starting at storedHashIndex(0, n), when record n with leaf hash `hash` is
 * appended: the leaf and every subtree it completes, read from earlier hashes through `reader`.
 */
export async function storedHashesForRecordHash(n: number, hash: Hash, reader: HashReader): Promise<Hash[]> {
  const m = trailingZeros(n + 1);
  const indexes = new Array<number>(m);
  for (let i = 0; i < m; i++) indexes[m - 1 - i] = storedHashIndex(i, shr(n, i) - 1);
  const old = await read(reader, indexes);
  const hashes = [hash];
  let h = hash;
  for (let i = 0; i < m; i++) {
    h = nodeHash(old[m - 1 - i]!, h);
    hashes.push(h);
  }
  return hashes;
}

/** Like storedHashesForRecordHash, from the record's data. */
export function storedHashes(n: number, data: Uint8Array, reader: HashReader): Promise<Hash[]> {
  return storedHashesForRecordHash(n, recordHash(data), reader);
}

/** Reads hashes in order: what the proof builders consume as they walk the tree. */
class Cursor {
  private pos = 0;
  constructor(private readonly hashes: readonly Hash[]) {}
  take(count: number): readonly Hash[] {
    if (this.pos + count > this.hashes.length) throw bug('hash cursor');
    const out = this.hashes.slice(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }
  get done(): boolean {
    return this.pos === this.hashes.length;
  }
}

/** Appends the stored indexes needed for the hash of the subtree of records [lo, hi) (RFC 6962, 2.1). */
function subTreeIndex(lo: number, hi: number, need: number[]): number[] {
  while (lo < hi) {
    const [k, level] = maxPow2(hi - lo + 1);
    if (lo % k !== 0) throw bug('subTreeIndex');
    need.push(storedHashIndex(level, shr(lo, level)));
    lo += k;
  }
  return need;
}

/** The hash of the subtree [lo, hi) from the hashes subTreeIndex asked for: the complete left subtrees, folded from the right. */
function subTreeHash(lo: number, hi: number, cursor: Cursor): Hash {
  let numTree = 0;
  while (lo < hi) {
    const [k] = maxPow2(hi - lo + 1);
    if (lo % k !== 0) throw bug('subTreeHash');
    numTree++;
    lo += k;
  }
  const hashes = cursor.take(numTree);
  let h = hashes[numTree - 1]!;
  for (let i = numTree - 2; i >= 0; i--) h = nodeHash(hashes[i]!, h);
  return h;
}

/** The root hash of the tree of n records, from at most 1 + log2(n) stored hashes. */
export async function treeHash(n: number, reader: HashReader): Promise<Hash> {
  if (n === 0) return EMPTY_TREE_HASH;
  const indexes = subTreeIndex(0, n, []);
  const cursor = new Cursor(await read(reader, indexes));
  const h = subTreeHash(0, n, cursor);
  if (!cursor.done) throw bug('treeHash');
  return h;
}

/** A proof that a tree contains a record (RFC 6962's Merkle audit path). */
export type RecordProof = Hash[];

/** A proof that a tree contains an earlier tree as a prefix (RFC 6962's consistency proof). */
export type TreeProof = Hash[];

function leafProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
  if (!(lo <= n && n < hi)) throw bug('leafProofIndex');
  if (lo + 1 === hi) return need;
  const [k] = maxPow2(hi - lo);
  if (n < lo + k) {
    leafProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    leafProofIndex(lo + k, hi, n, need);
  }
  return need;
}

function leafProof(lo: number, hi: number, n: number, cursor: Cursor): RecordProof {
  if (!(lo <= n && n < hi)) throw bug('leafProof');
  // The verifier knows the leaf hash itself.
  if (lo + 1 === hi) return [];
  const [k] = maxPow2(hi - lo);
  let p: RecordProof;
  let th: Hash;
  if (n < lo + k) {
    p = leafProof(lo, lo + k, n, cursor);
    th = subTreeHash(lo + k, hi, cursor);
  } else {
    th = subTreeHash(lo, lo + k, cursor);
    p = leafProof(lo + k, hi, n, cursor);
  }
  p.push(th);
  return p;
}

function checkSize(what: string, ok: boolean): void {
  if (!ok) throw new SumdbVerificationError(`tlog: invalid inputs in ${what}`);
}

/** The proof that the tree of t records contains record n. */
export async function proveRecord(t: number, n: number, reader: HashReader): Promise<RecordProof> {
  checkSize('ProveRecord', Number.isSafeInteger(t) && Number.isSafeInteger(n) && n >= 0 && n < t && t <= MAX_TREE_SIZE);
  const indexes = leafProofIndex(0, t, n, []);
  if (indexes.length === 0) return [];
  const cursor = new Cursor(await read(reader, indexes));
  const p = leafProof(0, t, n, cursor);
  if (!cursor.done) throw bug('proveRecord');
  return p;
}

const proofFailed = (): SumdbVerificationError => new SumdbVerificationError('invalid transparency proof');

function runRecordProof(p: readonly Hash[], lo: number, hi: number, n: number, leaf: Hash): Hash {
  if (!(lo <= n && n < hi)) throw bug('runRecordProof');
  if (lo + 1 === hi) {
    // The proof must not carry anything the verifier did not need.
    if (p.length !== 0) throw proofFailed();
    return leaf;
  }
  if (p.length === 0) throw proofFailed();
  const [k] = maxPow2(hi - lo);
  const last = p[p.length - 1]!;
  if (n < lo + k) return nodeHash(runRecordProof(p.slice(0, -1), lo, lo + k, n, leaf), last);
  return nodeHash(last, runRecordProof(p.slice(0, -1), lo + k, hi, n, leaf));
}

/** Checks that `proof` shows the tree of t records with hash th has record n with leaf hash h; throws SumdbVerificationError. */
export function checkRecord(proof: readonly Hash[], t: number, th: Hash, n: number, h: Hash): void {
  checkSize('CheckRecord', Number.isSafeInteger(t) && Number.isSafeInteger(n) && n >= 0 && n < t && t <= MAX_TREE_SIZE);
  if (proof.length > 64) throw proofFailed();
  if (!runRecordProof(proof, 0, t, n, h).equals(th)) throw proofFailed();
}

function treeProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
  if (!(lo < n && n <= hi)) throw bug('treeProofIndex');
  if (n === hi) return lo === 0 ? need : subTreeIndex(lo, hi, need);
  const [k] = maxPow2(hi - lo);
  if (n <= lo + k) {
    treeProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    treeProofIndex(lo + k, hi, n, need);
  }
  return need;
}

function treeProof(lo: number, hi: number, n: number, cursor: Cursor): TreeProof {
  if (!(lo < n && n <= hi)) throw bug('treeProof');
  if (n === hi) {
    // Common ground; the verifier knows the whole old tree's hash itself.
    return lo === 0 ? [] : [subTreeHash(lo, hi, cursor)];
  }
  const [k] = maxPow2(hi - lo);
  let p: TreeProof;
  let th: Hash;
  if (n <= lo + k) {
    p = treeProof(lo, lo + k, n, cursor);
    th = subTreeHash(lo + k, hi, cursor);
  } else {
    th = subTreeHash(lo, lo + k, cursor);
    p = treeProof(lo + k, hi, n, cursor);
  }
  p.push(th);
  return p;
}

/** The proof that the tree of t records contains the tree of its first n records. */
export async function proveTree(t: number, n: number, reader: HashReader): Promise<TreeProof> {
  checkSize('ProveTree', Number.isSafeInteger(t) && Number.isSafeInteger(n) && n >= 1 && n <= t && t <= MAX_TREE_SIZE);
  const indexes = treeProofIndex(0, t, n, []);
  if (indexes.length === 0) return [];
  const cursor = new Cursor(await read(reader, indexes));
  const p = treeProof(0, t, n, cursor);
  if (!cursor.done) throw bug('proveTree');
  return p;
}

/** Returns [old subtree hash, new subtree hash] implied by the proof for records [lo, hi). */
function runTreeProof(p: readonly Hash[], lo: number, hi: number, n: number, old: Hash): [Hash, Hash] {
  if (!(lo < n && n <= hi)) throw bug('runTreeProof');
  if (n === hi) {
    if (lo === 0) {
      if (p.length !== 0) throw proofFailed();
      return [old, old];
    }
    if (p.length !== 1) throw proofFailed();
    return [p[0]!, p[0]!];
  }
  if (p.length === 0) throw proofFailed();
  const [k] = maxPow2(hi - lo);
  const last = p[p.length - 1]!;
  if (n <= lo + k) {
    const [oh, th] = runTreeProof(p.slice(0, -1), lo, lo + k, n, old);
    return [oh, nodeHash(th, last)];
  }
  const [oh, th] = runTreeProof(p.slice(0, -1), lo + k, hi, n, old);
  return [nodeHash(last, oh), nodeHash(last, th)];
}

/** Checks that `proof` shows the tree of t records with hash th extends the tree of n records with hash h; throws SumdbVerificationError. */
export function checkTree(proof: readonly Hash[], t: number, th: Hash, n: number, h: Hash): void {
  checkSize('CheckTree', Number.isSafeInteger(t) && Number.isSafeInteger(n) && n >= 1 && n <= t && t <= MAX_TREE_SIZE);
  if (proof.length > 128) throw proofFailed();
  const [h2, th2] = runTreeProof(proof, 0, t, n, h);
  if (!th2.equals(th) || !h2.equals(h)) throw proofFailed();
}

/**
 * A tile: `width` consecutive hashes of tree level height*level starting at hash number n*2^height (or,
 * at level -1, the data of records n*2^height ... as a data tile). A full tile has width 2^height.
 */
export interface Tile {
  height: number;
  level: number;
  n: number;
  width: number;
}

// Tile numbers are written three digits per path element (at most 3000 names in any folder).
const PATH_BASE = 1000;

/** The tile's path: `tile/H/L/NNN[.p/W]`, every NNN element but the last prefixed with x, L `data` for level -1. */
export function tilePath(t: Tile): string {
  let n = t.n;
  let nStr = String(n % PATH_BASE).padStart(3, '0');
  while (n >= PATH_BASE) {
    n = Math.floor(n / PATH_BASE);
    nStr = `x${String(n % PATH_BASE).padStart(3, '0')}/${nStr}`;
  }
  const p = t.width !== pow2(t.height) ? `.p/${t.width}` : '';
  return `tile/${t.height}/${t.level === -1 ? 'data' : t.level}/${nStr}${p}`;
}

/** Parses a tile path, accepting only the exact form tilePath writes; throws InvalidRequestError. */
export function parseTilePath(path: string): Tile {
  const bad = (): InvalidRequestError => new InvalidRequestError(`malformed tile path ${JSON.stringify(path)}`);
  let f = path.split('/');
  if (f.length < 4 || f.length > 12 || f[0] !== 'tile') throw bad();
  const isData = f[2] === 'data';
  const decimal = /^[0-9]{1,3}$/;
  if (!decimal.test(f[1]!) || !(isData || decimal.test(f[2]!))) throw bad();
  const height = Number(f[1]);
  const level = isData ? -1 : Number(f[2]);
  if (height < 1 || height > 30) throw bad();
  let width = pow2(height);
  const dotP = f[f.length - 2]!;
  if (dotP.endsWith('.p')) {
    const w = f[f.length - 1]!;
    if (!/^[0-9]{1,10}$/.test(w) || Number(w) <= 0 || Number(w) >= width) throw bad();
    width = Number(w);
    f = [...f.slice(0, -2), dotP.slice(0, -2)];
  }
  let n = 0;
  for (const s of f.slice(3)) {
    const digits = s.startsWith('x') ? s.slice(1) : s;
    if (!/^[0-9]{3}$/.test(digits)) throw bad();
    n = n * PATH_BASE + Number(digits);
  }
  if (!Number.isSafeInteger(n)) throw bad();
  const tile = { height, level, n, width };
  if (tilePath(tile) !== path) throw bad();
  return tile;
}

/** The tile of height h and least width holding stored hash `index`, and the byte range [start, end) of its tile data that hashes to it. */
function tileForIndexRange(h: number, index: number): { tile: Tile; start: number; end: number } {
  const [lvl, idx] = splitStoredHashIndex(index);
  const level = Math.floor(lvl / h);
  const within = lvl - level * h; // the level inside the tile
  const n = shr(shl(idx, within), h);
  const offset = idx - shr(shl(n, h), within); // hash number inside the tile, at that level
  return {
    tile: { height: h, level, n, width: shl(offset + 1, within) },
    start: shl(offset, within) * HASH_SIZE,
    end: shl(offset + 1, within) * HASH_SIZE,
  };
}

/** The tile of height h and least width that holds stored hash `index`. */
export function tileForIndex(h: number, index: number): Tile {
  return tileForIndexRange(h, index).tile;
}

/** The subtree hash of the 2^k hashes in `data`. */
function tileHash(data: Buffer): Hash {
  if (data.length === 0) throw bug('tileHash');
  if (data.length === HASH_SIZE) return data;
  const half = data.length / 2;
  return nodeHash(tileHash(data.subarray(0, half)), tileHash(data.subarray(half)));
}

/**
 * The hash at stored index `index`, from the data of tile t, which must be the tile tileForIndex
 * names or a wider one. Throws SumdbVerificationError.
 */
export function hashFromTile(t: Tile, data: Buffer, index: number): Hash {
  if (t.height < 1 || t.height > 30 || t.level < 0 || t.level >= 64 || t.width < 1 || t.width > pow2(t.height)) {
    throw new SumdbVerificationError(`invalid tile ${tilePath(t)}`);
  }
  if (data.length < t.width * HASH_SIZE) throw new SumdbVerificationError(`data len ${data.length} too short for tile ${tilePath(t)}`);
  const { tile, start, end } = tileForIndexRange(t.height, index);
  if (t.level !== tile.level || t.n !== tile.n || t.width < tile.width) {
    throw new SumdbVerificationError(`index ${index} is in ${tilePath(tile)} not ${tilePath(t)}`);
  }
  // A copy: the caller may keep the hash, and the tile's buffer is not ours.
  return Buffer.from(tileHash(data.subarray(start, end)));
}

/** The tiles of height h to publish when a tree of oldSize records grows to newSize (none for an empty tree). */
export function newTiles(h: number, oldSize: number, newSize: number): Tile[] {
  const tiles: Tile[] = [];
  for (let level = 0; shr(newSize, h * level) > 0; level++) {
    const oldN = shr(oldSize, h * level);
    const newN = shr(newSize, h * level);
    if (oldN === newN) continue;
    for (let n = shr(oldN, h); n < shr(newN, h); n++) tiles.push({ height: h, level, n, width: pow2(h) });
    const n = shr(newN, h);
    const width = newN - shl(n, h);
    if (width > 0) tiles.push({ height: h, level, n, width });
  }
  return tiles;
}

/** The data of hash tile t: its hashes read through `reader`, concatenated. */
export async function readTileData(t: Tile, reader: HashReader): Promise<Buffer> {
  const start = shl(t.n, t.height);
  const indexes: number[] = [];
  for (let i = 0; i < t.width; i++) indexes.push(storedHashIndex(t.height * t.level, start + i));
  return Buffer.concat(await read(reader, indexes));
}

/** Where tileHashReader gets tiles: a cache, a server, or both. */
export interface TileReader {
  readonly height: number;
  /**
   * The data of each tile, each exactly width*32 bytes. Tiles from a server are unproven until
   * saveTiles is called with them.
   */
  readTiles(tiles: readonly Tile[]): Promise<Buffer[]>;
  /** The tiles were checked against the signed tree: they may now be kept. */
  saveTiles(tiles: readonly Tile[], data: readonly Buffer[]): Promise<void>;
}

/** The k'th parent of tile t in the tiles of a tree of n records, or null when the tree has none. */
function tileParent(t: Tile, k: number, n: number): Tile | null {
  const level = t.level + k;
  const tn = shr(t.n, k * t.height);
  let width = pow2(t.height);
  const max = shr(n, level * t.height);
  if (shl(tn, t.height) + width >= max) {
    if (shl(tn, t.height) >= max) return null;
    width = max - shl(tn, t.height);
  }
  return { height: t.height, level, n: tn, width };
}

/**
 * A HashReader over the tiles of the tree `tree` that trusts nothing it reads: every tile is checked
 * against the tree hash (the tiles covering the whole tree) or against its checked parent tile
 * before any hash from it is returned, and only then saved. Throws SumdbVerificationError
 * (`downloaded inconsistent tile`) when the tiles do not add up to the tree hash.
 */
export function tileHashReader(tree: Tree, tr: TileReader): HashReader {
  return {
    async readHashes(indexes) {
      const h = tr.height;
      const order = new Map<string, number>();
      const tiles: Tile[] = [];
      const add = (t: Tile): number => {
        order.set(tilePath(t), tiles.length);
        tiles.push(t);
        return tiles.length - 1;
      };

      // First the tiles whose hashes make up the tree hash: when they add up, they are authentic.
      const stx = subTreeIndex(0, tree.n, []);
      const stxOrder = stx.map((x) => {
        const t = tileParent(tileForIndex(h, x), 0, tree.n);
        if (t === null) throw bug('tileHashReader');
        return order.get(tilePath(t)) ?? add(t);
      });
      // Several subtree hashes of the tree's right edge often share one tile: count tiles, not indexes.
      const stxTiles = tiles.length;

      // Then the tiles holding the wanted hashes, each after the parents that authenticate it.
      const end = storedHashIndex(0, tree.n);
      const indexOrder = indexes.map((x) => {
        if (!Number.isSafeInteger(x) || x < 0 || x >= end) throw new SumdbVerificationError('indexes not in tree');
        const tile = tileForIndex(h, x);
        let k = 0;
        let found: number | undefined;
        for (; ; k++) {
          const p = tileParent(tile, k, tree.n);
          if (p !== null) found = order.get(tilePath(p));
          if (found !== undefined) break;
          if (k > 64) throw bug('tileHashReader: no parent');
        }
        if (k === 0) return found;
        for (k--; k >= 0; k--) {
          const p = tileParent(tile, k, tree.n);
          // A tile with a parent is full.
          if (p === null || p.width !== pow2(p.height)) throw bug('tileHashReader: partial parent');
          found = add(p);
        }
        return found;
      });

      const data = await tr.readTiles(tiles);
      if (data.length !== tiles.length) throw new SumdbVerificationError(`TileReader returned bad result slice (len=${data.length}, want ${tiles.length})`);
      tiles.forEach((t, i) => {
        if (data[i]!.length !== t.width * HASH_SIZE) {
          throw new SumdbVerificationError(`TileReader returned bad result slice (${tilePath(t)} len=${data[i]!.length}, want ${t.width * HASH_SIZE})`);
        }
      });

      let th = hashFromTile(tiles[stxOrder.at(-1)!]!, data[stxOrder.at(-1)!]!, stx.at(-1)!);
      for (let i = stx.length - 2; i >= 0; i--) th = nodeHash(hashFromTile(tiles[stxOrder[i]!]!, data[stxOrder[i]!]!, stx[i]!), th);
      // The tiles do not support the tree hash: at least one is wrong, we cannot tell which.
      if (!th.equals(tree.hash)) throw new SumdbVerificationError('downloaded inconsistent tile');

      // Every other tile is checked against its parent, starting with the first tile after the ones
      // that hold the tree-hash subtrees (several subtrees can share one tile).
      for (let i = stxTiles; i < tiles.length; i++) {
        const t = tiles[i]!;
        const p = tileParent(t, 1, tree.n);
        const j = p === null ? undefined : order.get(tilePath(p));
        if (p === null || j === undefined) throw bug('tileHashReader: lost parent');
        const want = hashFromTile(p, data[j]!, storedHashIndex(p.level * p.height, t.n));
        if (!want.equals(tileHash(data[i]!))) throw new SumdbVerificationError('downloaded inconsistent tile');
      }

      await tr.saveTiles(tiles, data);
      return indexes.map((x, i) => hashFromTile(tiles[indexOrder[i]!]!, data[indexOrder[i]!]!, x));
    },
  };
}

const TREE_PREFIX = 'go.sum database tree\n';

/** The text of a tree head as the database signs it: `go.sum database tree\n<n>\n<base64 hash>\n`. */
export function formatTree(tree: Tree): string {
  return `${TREE_PREFIX}${tree.n}\n${formatHash(tree.hash)}\n`;
}

/**
 * Parses a signed tree text; lines after the third are ignored, as go does for forward compatibility.
 * Throws SumdbVerificationError (`malformed tree note`).
 */
export function parseTree(text: string): Tree {
  const malformed = (): SumdbVerificationError => new SumdbVerificationError('malformed tree note');
  if (!text.startsWith(TREE_PREFIX) || Buffer.byteLength(text) > 1e6) throw malformed();
  const lines = text.split('\n', 4);
  if (lines.length < 4) throw malformed();
  const [, size = '', hash = ''] = lines;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size) || Number(size) > MAX_TREE_SIZE) throw malformed();
  const h = decodeStdBase64(hash);
  if (h === null || h.length !== HASH_SIZE) throw malformed();
  return { n: Number(size), hash: h };
}

const recordText = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Record text as tlog requires it: valid UTF-8, no control characters but newline, no blank line, ending in a newline. */
export function isValidRecordText(text: Uint8Array): boolean {
  if (text.length === 0 || text[text.length - 1] !== 0x0a) return false;
  for (let i = 0; i < text.length; i++) {
    const b = text[i]!;
    if ((b < 0x20 && b !== 0x0a) || (b === 0x0a && i > 0 && text[i - 1] === 0x0a)) return false;
  }
  try {
    recordText.decode(text);
  } catch {
    return false;
  }
  return true;
}

/** A lookup answer's record part: the id, the record text, and the blank line. Throws SumdbVerificationError for invalid text. */
export function formatRecord(id: number, text: Uint8Array): Buffer {
  if (!isValidRecordText(text)) throw new SumdbVerificationError('malformed record data');
  return Buffer.concat([Buffer.from(`${id}\n`), text, Buffer.from('\n')]);
}

/**
 * Parses the record at the start of a lookup answer: the id line, the record text up to and including
 * the blank line; `rest` is what follows (the signed tree note). Throws SumdbVerificationError.
 */
export function parseRecord(msg: Uint8Array): { id: number; text: Buffer; rest: Buffer } {
  const malformed = (): SumdbVerificationError => new SumdbVerificationError('malformed record data');
  const b = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  const nl = b.indexOf(0x0a);
  if (nl < 0) throw malformed();
  // strconv.ParseInt's syntax; a negative id is refused too, as no record has one.
  const idText = b.subarray(0, nl).toString('latin1');
  if (!/^\+?[0-9]{1,19}$/.test(idText) || !Number.isSafeInteger(Number(idText))) throw malformed();
  const body = b.subarray(nl + 1);
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw malformed();
  const text = body.subarray(0, blank + 1);
  if (!isValidRecordText(text)) throw malformed();
  return { id: Number(idText), text, rest: body.subarray(blank + 2) };
}
