// Module zips must extract the same way on case-insensitive file systems, so two paths that differ only in
// case are an error. Go decides "differ only in case" with unicode.SimpleFold orbits, which neither
// toLowerCase nor toUpperCase reproduces (the Kelvin sign folds with k, dotted İ folds with nothing), so we
// rebuild the orbits from JavaScript's single-character case mappings.

import { posix } from 'node:path';
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

/**
 * Records paths (and, implicitly, their parent directories) and reports the first one that cannot coexist
 * with those seen before: a case-only difference, a file listed twice, or a name used as file and directory.
 */
export class CollisionChecker {
  private readonly seen = new Map<string, { path: string; isDir: boolean }>();

  /** Returns Go's description of the collision, or null when `path` fits with everything seen so far. */
  check(path: string, isDir: boolean): string | null {
    for (let p = path, dir = isDir; ; p = posix.dirname(p), dir = true) {
      const key = foldKey(p);
      const other = this.seen.get(key);
      if (other === undefined) this.seen.set(key, { path: p, isDir: dir });
      else if (other.path !== p) return `case-insensitive file name collision: ${goQuote(other.path)} and ${goQuote(p)}`;
      else if (other.isDir !== dir) return `entry ${goQuote(p)} is both a file and a directory`;
      else if (!dir) return `multiple entries for file ${goQuote(p)}`;
      // Seeing a directory again is normal: every file below it names it.
      if (posix.dirname(p) === '.') return null;
    }
  }
}
