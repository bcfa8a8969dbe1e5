import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import test from 'node:test';
import { ZipBudget } from './zipbudget.js';

// Runs `cost`-sized jobs through `budget`, recording the bytes and jobs running at their busiest.
async function runJobs(budget: ZipBudget, costs: number[], turns: (i: number) => number): Promise<{ peakBytes: number; peakJobs: number; order: number[] }> {
  let bytes = 0;
  let jobs = 0;
  let peakBytes = 0;
  let peakJobs = 0;
  const order: number[] = [];
  await Promise.all(
    costs.map(async (cost, i) => {
      const release = await budget.reserve(cost);
      order.push(i);
      bytes += Math.min(cost, budget.capacity);
      jobs++;
      peakBytes = Math.max(peakBytes, bytes);
      peakJobs = Math.max(peakJobs, jobs);
      for (let t = turns(i); t > 0; t--) await nextTurn();
      bytes -= Math.min(cost, budget.capacity);
      jobs--;
      release();
    }),
  );
  return { peakBytes, peakJobs, order };
}

test('ZipBudget never lets the checks running at once cost more than it holds, and runs every one', async () => {
  const budget = new ZipBudget(100);
  const costs = Array.from({ length: 40 }, (_, i) => 10 + ((i * 37) % 41));
  const { peakBytes, peakJobs, order } = await runJobs(budget, costs, (i) => 1 + (i % 5));
  assert.ok(peakBytes <= 100, `peak ${peakBytes} bytes`);
  assert.ok(peakJobs >= 2, `checks did run side by side (${peakJobs} at most)`);
  assert.deepEqual([...order].sort((a, b) => a - b), costs.map((_, i) => i));
  assert.equal(budget.reserved, 0);
  assert.equal(budget.active, 0);
  assert.equal(budget.queued, 0);
});

test('ZipBudget runs a check costing more than all of it alone, once the running ones are done, and in turn', async () => {
  const budget = new ZipBudget(100);
  // 1 and 2 start at once; the oversized 3 waits for both; 4, although it would fit, waits behind 3.
  const { peakBytes, order } = await runJobs(budget, [40, 40, 1_000, 10], (i) => (i === 2 ? 5 : 1));
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.equal(peakBytes, 100);

  const release = await budget.reserve(1_000);
  assert.equal(budget.reserved, 100);
  let started = false;
  const next = budget.reserve(1).then((r) => {
    started = true;
    return r;
  });
  for (let t = 0; t < 5; t++) await nextTurn();
  assert.equal(started, false, 'nothing runs beside the oversized check');
  assert.equal(budget.queued, 1);
  release();
  (await next)();
  assert.equal(started, true);
  assert.equal(budget.reserved, 0);
});

test('ZipBudget: a release given twice counts once, and a failed check that releases frees its share', async () => {
  const budget = new ZipBudget(100);
  const release = await budget.reserve(60);
  const failing = async (): Promise<void> => {
    const mine = await budget.reserve(30);
    try {
      throw new Error('bad zip');
    } finally {
      mine();
    }
  };
  await assert.rejects(failing(), /bad zip/);
  release();
  release();
  assert.equal(budget.reserved, 0);
  assert.equal(budget.active, 0);
  const a = await budget.reserve(60);
  const b = await budget.reserve(40);
  assert.equal(budget.reserved, 100, 'the double release did not free room that is not there');
  a();
  b();
});
