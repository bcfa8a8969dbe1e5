import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Flight } from './flight.js';

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('callers of one key share one run; other keys run at the same time', async () => {
  const flight = new Flight<string>();
  const gates = { a: deferred<string>(), b: deferred<string>() };
  let runs = 0;
  let joins = 0;
  const fetch = (key: 'a' | 'b') => () => {
    runs++;
    return gates[key].promise;
  };
  const onJoin = (): void => void joins++;
  const as = Array.from({ length: 10 }, () => flight.run('a', fetch('a'), { onJoin }));
  const b = flight.run('b', fetch('b'), { onJoin });
  assert.equal(runs, 2);
  assert.equal(joins, 9);
  gates.b.resolve('B');
  assert.equal(await b, 'B');
  gates.a.resolve('A');
  assert.deepEqual(await Promise.all(as), Array(10).fill('A'));
  assert.equal(flight.size, 0);
  // Once settled, the next caller starts a new run.
  assert.equal(await flight.run('a', async () => 'again'), 'again');
});

test('a failure is shared by everyone waiting, and the key is free again afterwards', async () => {
  const flight = new Flight<string>();
  const gate = deferred<string>();
  const waiting = [flight.run('k', () => gate.promise), flight.run('k', () => gate.promise)];
  gate.reject(new Error('origin down'));
  for (const w of waiting) await assert.rejects(w, /origin down/);
  assert.equal(flight.size, 0);
  // A fetch that throws before returning a promise is a failed run, not a crash.
  await assert.rejects(flight.run('k', () => { throw new Error('at once'); }), /at once/);
  assert.equal(flight.size, 0);
});

test("a caller's abort ends its own wait only: the run goes on for the others", async () => {
  const flight = new Flight<string>();
  const gate = deferred<string>();
  let finished = false;
  const fetch = async (): Promise<string> => {
    const v = await gate.promise;
    finished = true;
    return v;
  };
  const leaving = new AbortController();
  const first = flight.run('k', fetch, { signal: leaving.signal });
  const second = flight.run('k', fetch);
  leaving.abort();
  await assert.rejects(first, { name: 'AbortError' });
  assert.equal(finished, false);
  gate.resolve('done');
  assert.equal(await second, 'done');
  assert.equal(finished, true);

  // Everyone leaving does not cancel the run either, and its failure is no unhandled rejection.
  const lonely = deferred<string>();
  const gone = new AbortController();
  const alone = flight.run('x', () => lonely.promise, { signal: gone.signal });
  gone.abort();
  await assert.rejects(alone, { name: 'AbortError' });
  assert.equal(flight.size, 1);
  lonely.reject(new Error('nobody listens'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(flight.size, 0);
  await assert.rejects(flight.run('y', async () => 'never', { signal: AbortSignal.abort() }), { name: 'AbortError' });
  assert.equal(flight.size, 0);
});

test('a lease given to the flight is held around each new run, not around joins', async () => {
  const held: string[] = [];
  const lease = {
    async hold<R>(key: string, fetch: () => Promise<R>): Promise<R> {
      held.push(key);
      return fetch();
    },
  };
  const flight = new Flight<string>(lease);
  const gate = deferred<string>();
  const both = [flight.run('k', () => gate.promise), flight.run('k', () => gate.promise)];
  gate.resolve('v');
  assert.deepEqual(await Promise.all(both), ['v', 'v']);
  assert.equal(await flight.run('other', async () => 'w'), 'w');
  assert.deepEqual(held, ['k', 'other']);
  // Without a lease, runs start at once.
  assert.equal(await new Flight<string>().run('k', async () => 'x'), 'x');
});
