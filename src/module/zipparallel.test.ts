import assert from 'node:assert/strict';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eachConcurrently } from './zipparallel.js';

test('eachConcurrently keeps to its limit and visits every item once', async () => {
  let running = 0;
  let most = 0;
  const seen: number[] = [];
  await eachConcurrently([...Array(20).keys()], 3, async (item, index) => {
    assert.equal(item, index);
    running++;
    most = Math.max(most, running);
    await sleep(item % 4);
    seen.push(item);
    running--;
  });
  assert.equal(most, 3);
  assert.deepEqual(seen.sort((a, b) => a - b), [...Array(20).keys()]);
});

test('eachConcurrently starts nothing after a failure and waits for what is running', async () => {
  const started: number[] = [];
  let finished = 0;
  await assert.rejects(
    eachConcurrently([...Array(10).keys()], 3, async (item) => {
      started.push(item);
      if (item === 1) throw new Error('first');
      await sleep(20);
      finished++;
      if (item === 2) throw new Error('second');
    }),
    /^Error: first$/,
  );
  assert.deepEqual(started, [0, 1, 2]);
  // The two still running when item 1 failed ran to their end before the promise settled.
  assert.equal(finished, 2);
});
