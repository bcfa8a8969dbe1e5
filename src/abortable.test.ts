import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abortable } from './abortable.js';

test('abortable settles like the promise when nothing aborts', async () => {
  assert.equal(await abortable(Promise.resolve(7), new AbortController().signal), 7);
  await assert.rejects(abortable(Promise.reject(new Error('boom')), undefined), /boom/);
});

test('an abort stops only the waiting, not the shared work', async () => {
  let finished = false;
  const shared = new Promise<string>((resolve) => setTimeout(() => ((finished = true), resolve('done')), 20));
  const controller = new AbortController();
  const waiting = abortable(shared, controller.signal);
  controller.abort(new Error('client went away'));
  await assert.rejects(waiting, /client went away/);
  assert.equal(await shared, 'done');
  assert.ok(finished);
});

test('an already aborted signal rejects at once', async () => {
  const controller = new AbortController();
  controller.abort(new Error('gone'));
  assert.throws(() => abortable(new Promise(() => {}), controller.signal), /gone/);
});
