import assert from 'node:assert/strict';
import test from 'node:test';
import { sortIndices } from './sortindices.js';

function seededRandom(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

test('sortIndices sorts like Array.prototype.sort, stably, whatever the input order and length', async () => {
  const random = seededRandom(7);
  for (const n of [0, 1, 2, 31, 32, 33, 100, 1000, 4097, 70_000]) {
    // Few distinct keys, so that stability shows.
    const keys = Array.from({ length: n }, () => Math.floor(random() * (n / 3 + 1)));
    const byKey = (a: number, b: number): number => keys[a]! - keys[b]!;
    const items = Uint32Array.from(keys.keys());
    const want = [...keys.keys()].sort(byKey);
    assert.deepEqual([...(await sortIndices(items, byKey))], want, `n=${n}`);
    // Already sorted, and reversed.
    assert.deepEqual([...(await sortIndices(Uint32Array.from(want), byKey))], want, `sorted n=${n}`);
    const reversed = Uint32Array.from(want).reverse();
    const wantReversed = [...reversed].sort(byKey);
    assert.deepEqual([...(await sortIndices(reversed, byKey))], wantReversed, `reversed n=${n}`);
  }
});

test('sortIndices compares input already in order about once per item', async () => {
  let comparisons = 0;
  const n = 100_000;
  await sortIndices(Uint32Array.from({ length: n }, (_, i) => i), (a, b) => {
    comparisons++;
    return a - b;
  });
  assert.ok(comparisons < 1.1 * n, `${comparisons} comparisons`);
});

test('sortIndices lets other work run while it sorts many items', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  const random = seededRandom(11);
  const keys = Float64Array.from({ length: 300_000 }, () => random());
  await sortIndices(Uint32Array.from(keys.keys()), (a, b) => keys[a]! - keys[b]!);
  clearInterval(timer);
  assert.ok(ticks > 0, 'a timer fired during the sort');
});
