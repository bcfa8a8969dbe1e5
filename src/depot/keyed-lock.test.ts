import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedLock } from './keyed-lock.js';

test('runs for one key never overlap and keep their order; other keys run at once', async () => {
  const lock = new KeyedLock();
  const events: string[] = [];
  const job = (name: string, ms: number) => async () => {
    events.push(`${name} start`);
    await sleep(ms);
    events.push(`${name} end`);
    return name;
  };
  const results = await Promise.all([lock.run('a', job('a1', 30)), lock.run('a', job('a2', 1)), lock.run('b', job('b1', 1)), lock.run('a', job('a3', 1))]);
  assert.deepEqual(results, ['a1', 'a2', 'b1', 'a3']);
  assert.deepEqual(events, ['a1 start', 'b1 start', 'b1 end', 'a1 end', 'a2 start', 'a2 end', 'a3 start', 'a3 end']);
  assert.equal(lock.size, 0);
});

test('a failing run releases the key and its error reaches only its caller', async () => {
  const lock = new KeyedLock();
  const failing = lock.run('k', async () => {
    await sleep(5);
    throw new Error('boom');
  });
  const next = lock.run('k', async () => 'after');
  await assert.rejects(failing, /boom/);
  assert.equal(await next, 'after');
  assert.equal(lock.size, 0);
});
