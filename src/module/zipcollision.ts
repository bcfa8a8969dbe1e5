// Module zips must extract the same way on case-insensitive file systems, so two paths that differ only in
// case are an error. Go decides "differ only in case" with unicode.SimpleFold orbits, which neither
// toLowerCase nor toUpperCase reproduces (the Kelvin sign folds with k, dotted İ folds with nothing), so we
// rebuild the orbits from JavaScript's single-character case mappings.

import { goQuote } from './quote.js';

// No cased character lies above this code point (the last are Adlam, U+1E900..U+1E943).
const LAST_CASED = 0x1ffff;

// Go lists İ (U+0130) and ı (U+0131) as orbits of their own: unlike every other letter they do not fold with
// i and I, although their simple case mappings point there.
const FOLDS_ALONE = new Set([0x130, 0x131]);

let foldKeys: Map<number, number> | undefined;

function singleCodePoint(s: string): number | undefined {
  const cp = s.codePointAt(0);
  return cp !== undefined && s.length === String.fromCodePoint(cp).length ? cp : undefined;
}

// Union-find over "maps to under simple upper or lower casing": each class is one SimpleFold orbit, and
// Go's key for it is its smallest member.
function buildFoldKeys(): Map<number, number> {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let root = x;
    for (let p = parent.get(root); p !== undefined && p !== root; p = parent.get(root)) root = p;
    for (let y = x; y !== root; ) {
      const next = parent.get(y)!;
      parent.set(y, root);
      y = next;
    }
    return root;
  };
  const union = (a: number, b: number): void => {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const ra = find(a);
    const rb = find(b);
    if (ra < rb) parent.set(rb, ra);
    else if (rb < ra) parent.set(ra, rb);
  };
  for (let cp = 0x80; cp <= LAST_CASED; cp++) {
    if (FOLDS_ALONE.has(cp) || (cp >= 0xd800 && cp <= 0xdfff)) continue;
    const ch = String.fromCodePoint(cp);
    for (const mapped of [ch.toLowerCase(), ch.toUpperCase()]) {
      const other = singleCodePoint(mapped);
      if (other !== undefined && other !== cp && !FOLDS_ALONE.has(other)) union(cp, other);
    }
  }
  const keys = new Map<number, number>();
  for (const cp of parent.keys()) {
    const root = find(cp);
    // The orbit's minimum may be an ASCII capital (K for the Kelvin sign); Go then uses its lower case.
    keys.set(cp, root >= 0x41 && root <= 0x5a ? root + 0x20 : root);
  }
  return keys;
}

/** Maps `s` to a key that two strings share exactly when Go's case-folding collision check treats them as equal. */
export function foldKey(s: string): string {
  // Almost every path is lower-case ASCII: skip building the table for those.
  if (!/[^\x00-\x40\x5b-\x7f]/.test(s)) return s;
  foldKeys ??= buildFoldKeys();
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x41 && cp <= 0x5a) out += String.fromCharCode(cp + 0x20);
    else {
      const key = foldKeys.get(cp);
      out += key === undefined ? ch : String.fromCodePoint(key);
    }
  }
  return out;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SLASH = 0x2f;
const EMPTY = 0;
// Bits of a record's flags.
const DIR = 1;
// Every directory above the record was checked without a collision when it was recorded.
const COMPLETE = 2;

/**
 * Records paths (and, implicitly, their parent directories) and reports the first one that cannot coexist
 * with those seen before: a case-only difference, a file listed twice, or a name used as file and directory.
 * Paths are clean and relative (checked before they come here). A path is kept as a reference to where
 * it came from (its source and length), so a record costs BYTES_PER_RECORD bytes, not a string and a map
 * slot: a zip of a million files needs a million of them. Checking a path costs time in proportion to
 * its length, however deep it is.
 */
export class CollisionChecker {
  /** Memory per record when `expected` was right: the four record arrays and at most four table slots. */
  static readonly BYTES_PER_RECORD = 4 + 4 + 1 + 4 + 4 * 4;

  // Record r is the first `lengths[r]` UTF-16 units of source `sources[r]`, with the hash of its fold key.
  private sources: Int32Array;
  private lengths: Uint32Array;
  private flags: Uint8Array;
  private hashes: Int32Array;
  private records = 0;
  // Open addressing: record index + 1, or EMPTY.
  private table: Int32Array;
  // Paths given without a source are kept here, and their index is their source.
  private readonly own: string[] = [];
  private readonly pathOf: (source: number) => string;
  // Files of one directory come together, and each asks for the same directory record's path.
  private cachedSource = -1;
  private cachedPath = '';
  // check()'s scratch: for each directory above a path, the hash of its fold key and where it ends.
  private levelHashes = new Int32Array(64);
  private levelEnds = new Int32Array(64);

  /**
   * `expected`: how many paths and directories there may be, to size the tables once (they grow if it
   * was too few). `pathOf`: the full path of a source that check() was given, when paths come with one.
   */
  constructor(options: { expected?: number; pathOf?: (source: number) => string } = {}) {
    const capacity = Math.max(16, options.expected ?? 0);
    this.sources = new Int32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.hashes = new Int32Array(capacity);
    this.table = new Int32Array(tableSize(capacity));
    this.pathOf = options.pathOf ?? ((source) => this.own[source]!);
  }

  /**
   * Returns Go's description of the collision, or null when `path` fits with everything seen so far.
   * `source` says where `path` can be had again (see the constructor); without it the path is kept.
   */
  check(path: string, isDir: boolean, source?: number): string | null {
    // The hashes of the fold keys of the path and of each directory above it, in one pass: a fold key
    // keeps every slash where the path has it.
    const fold = foldKey(path);
    let levels = 0;
    let hash = FNV_OFFSET;
    for (let i = 0; i < fold.length; i++) {
      const c = fold.charCodeAt(i);
      if (c === SLASH && i > 0) {
        if (levels === this.levelHashes.length) this.growLevels();
        this.levelHashes[levels++] = hash;
      }
      hash = Math.imul(hash ^ c, FNV_PRIME);
    }
    for (let k = 0, at = 0; k < levels; k++) {
      at = path.indexOf('/', at + 1);
      this.levelEnds[k] = at;
    }
    // As go checks them: the path, then each directory up to the top, recording those not seen yet.
    const firstNew = this.records;
    let from = source;
    for (let k = levels; k >= 0; k--) {
      const end = k === levels ? path.length : this.levelEnds[k]!;
      const dir = k === levels ? isDir : true;
      const p = end === path.length ? path : path.slice(0, end);
      const h = k === levels ? hash : this.levelHashes[k]!;
      const found = this.find(h, p);
      if (found < 0) {
        if (from === undefined) {
          from = this.own.length;
          this.own.push(path);
        }
        this.insert(from, end, dir, h);
        continue;
      }
      if (!this.isPath(found, p)) return `case-insensitive file name collision: ${goQuote(this.pathOfRecord(found))} and ${goQuote(p)}`;
      if (((this.flags[found]! & DIR) !== 0) !== dir) return `entry ${goQuote(p)} is both a file and a directory`;
      if (!dir) return `multiple entries for file ${goQuote(p)}`;
      // Seeing a directory again is normal: every file below it names it. Go goes on checking the
      // directories above it, which can only find again what they found when it was recorded.
      if ((this.flags[found]! & COMPLETE) !== 0) break;
    }
    for (let r = firstNew; r < this.records; r++) this.flags[r]! |= COMPLETE;
    return null;
  }

  // The full path of record r's source.
  private sourcePath(r: number): string {
    const source = this.sources[r]!;
    if (source !== this.cachedSource) {
      this.cachedPath = this.pathOf(source);
      this.cachedSource = source;
    }
    return this.cachedPath;
  }

  private pathOfRecord(r: number): string {
    const length = this.lengths[r]!;
    const source = this.sourcePath(r);
    return length === source.length ? source : source.slice(0, length);
  }

  // Whether record r is path `p`, without making its string.
  private isPath(r: number, p: string): boolean {
    return this.lengths[r] === p.length && this.sourcePath(r).startsWith(p);
  }

  // The record whose fold key is p's (its path being `p`, or differing in case only), or -1.
  private find(hash: number, p: string): number {
    const mask = this.table.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot]!;
      if (entry === EMPTY) return -1;
      const r = entry - 1;
      if (this.hashes[r] !== hash) continue;
      if (this.isPath(r, p) || foldKey(this.pathOfRecord(r)) === foldKey(p)) return r;
    }
  }

  private insert(source: number, length: number, dir: boolean, hash: number): void {
    if (this.records === this.sources.length) this.growRecords();
    const r = this.records++;
    this.sources[r] = source;
    this.lengths[r] = length;
    this.flags[r] = dir ? DIR : 0;
    this.hashes[r] = hash;
    if (this.records * 2 > this.table.length) this.table = new Int32Array(this.table.length * 2);
    else {
      this.place(r);
      return;
    }
    for (let i = 0; i < this.records; i++) this.place(i);
  }

  private place(r: number): void {
    const mask = this.table.length - 1;
    let slot = this.hashes[r]! & mask;
    while (this.table[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.table[slot] = r + 1;
  }

  private growRecords(): void {
    const capacity = this.sources.length * 2;
    const grown = <T extends Int32Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.sources = grown(this.sources, (n) => new Int32Array(n));
    this.lengths = grown(this.lengths, (n) => new Uint32Array(n));
    this.flags = grown(this.flags, (n) => new Uint8Array(n));
    this.hashes = grown(this.hashes, (n) => new Int32Array(n));
  }

  private growLevels(): void {
    const hashes = new Int32Array(this.levelHashes.length * 2);
    hashes.set(this.levelHashes);
    this.levelHashes = hashes;
    this.levelEnds = new Int32Array(hashes.length);
  }
}

// A power of two at least twice `capacity`, so that the table is at most half full.
function tableSize(capacity: number): number {
  let size = 16;
  while (size < capacity * 2) size *= 2;
  return size;
}
