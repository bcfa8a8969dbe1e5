// Sorting the entries of a zip by name or by offset: millions of numbers, compared through the listing.
// Array.prototype.sort would hold the main thread for seconds on a zip of millions of entries and needs
// an 8-byte array slot per number; this keeps them in a Uint32Array and lets other work run as it goes.

import { setImmediate as nextTurn } from 'node:timers/promises';

// Runs this short are insertion-sorted first: cheap, and one comparison per element when already sorted.
const RUN = 32;
// Other work gets a turn after about this many comparisons.
const COMPARISONS_PER_TURN = 1 << 16;

/**
 * Sorts `items` in place by `compare` and returns it; stable. A merge sort that skips merging runs
 * already in order, so input already sorted (as most zips list their entries) costs about one
 * comparison per item, and that yields to the event loop every few thousand comparisons.
 */
export async function sortIndices(items: Uint32Array, compare: (a: number, b: number) => number): Promise<Uint32Array> {
  const n = items.length;
  let work = 0;
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const item = items[i]!;
      let j = i - 1;
      for (; j >= lo; j--) {
        work++;
        if (compare(items[j]!, item) <= 0) break;
        items[j + 1] = items[j]!;
      }
      items[j + 1] = item;
    }
    if (work >= COMPARISONS_PER_TURN) {
      work = 0;
      await nextTurn();
    }
  }
  if (n <= RUN) return items;
  let from: Uint32Array = items;
  let to: Uint32Array = new Uint32Array(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      work++;
      if (mid >= hi || compare(from[mid - 1]!, from[mid]!) <= 0) {
        to.set(from.subarray(lo, hi), lo);
        continue;
      }
      let a = lo;
      let b = mid;
      let k = lo;
      while (a < mid && b < hi) {
        if (compare(from[a]!, from[b]!) <= 0) to[k++] = from[a++]!;
        else to[k++] = from[b++]!;
        if (++work >= COMPARISONS_PER_TURN) {
          work = 0;
          await nextTurn();
        }
      }
      if (a < mid) to.set(from.subarray(a, mid), k);
      else to.set(from.subarray(b, hi), k);
    }
    [from, to] = [to, from];
  }
  if (from !== items) items.set(from);
  return items;
}
