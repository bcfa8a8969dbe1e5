import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { pino } from 'pino';
import { UpstreamError } from '../errors.js';
import { Breaker, UpstreamDownError } from './breaker.js';

/** Lets the promise callbacks of a probe run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Breaker', () => {
  let logs: Array<{ level: number; msg: string; origin?: string }>;
  let changes: boolean[];
  let probes: number[];
  let probeAnswers: boolean[];
  const breakers: Breaker[] = [];

  function breaker(): Breaker {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { level: number; msg: string }) });
    const b = new Breaker({
      name: 'http://upstream.example',
      probe: async () => {
        probes.push(Date.now());
        if (!probeAnswers.shift()) throw new Error('no answer');
      },
      firstProbeMs: 2000,
      maxProbeMs: 30_000,
      logger,
      onChange: (up) => changes.push(up),
    });
    breakers.push(b);
    return b;
  }

  beforeEach(() => {
    logs = [];
    changes = [];
    probes = [];
    probeAnswers = [];
    // setImmediate stays real, so that settle() lets the probes' promises run.
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  });

  afterEach(() => {
    for (const b of breakers.splice(0)) b.close();
    mock.timers.reset();
  });

  it('is up until a failure, then fails every check at once with the upstream and since when', () => {
    const b = breaker();
    b.check();
    assert.equal(b.up, true);
    mock.timers.tick(1234);
    b.failed(new Error('no response headers within 5 s'));
    assert.equal(b.up, false);
    assert.throws(
      () => b.check(),
      (err: Error) =>
        err instanceof UpstreamDownError &&
        err instanceof UpstreamError &&
        err.message === 'upstream http://upstream.example considered down since 1970-01-01T00:00:01.234Z (no response headers within 5 s); it is probed in the background',
    );
    assert.deepEqual(changes, [false]);
  });

  it('probes a few seconds after the failure, then with doubling delays up to 30 s, and recovers on an answer', async () => {
    const b = breaker();
    b.failed(new Error('connect ECONNREFUSED'));
    probeAnswers = [false, false, false, false, false, false, true];
    const expected = [2000, 6000, 14_000, 30_000, 60_000, 90_000, 120_000];
    for (const at of expected) {
      mock.timers.tick(at - Date.now() - 1);
      await settle();
      assert.equal(probes.length, expected.indexOf(at), `no probe before ${at} ms`);
      mock.timers.tick(1);
      await settle();
    }
    assert.deepEqual(probes, expected);
    assert.equal(b.up, true);
    b.check();
    mock.timers.tick(600_000);
    await settle();
    assert.equal(probes.length, expected.length, 'no probes once it is up');
    assert.deepEqual(changes, [false, true]);
  });

  it('logs each change once, however many failures and answers', async () => {
    const b = breaker();
    b.answered();
    b.failed(new Error('first'));
    b.failed(new Error('second'));
    b.answered();
    b.answered();
    assert.deepEqual(
      logs.map((l) => [l.level, l.msg, l.origin]),
      [
        [40, 'upstream considered down', 'http://upstream.example'],
        [30, 'upstream recovered', 'http://upstream.example'],
      ],
    );
    assert.deepEqual(changes, [false, true]);
    // An answer from a request stopped the probes.
    mock.timers.tick(60_000);
    await settle();
    assert.deepEqual(probes, []);
  });

  it('fails the requests waiting for an answer when it opens, and only those still waiting', () => {
    const b = breaker();
    const failed: string[] = [];
    b.watch(() => failed.push('a'));
    const unwatch = b.watch(() => failed.push('b'));
    unwatch();
    b.watch((err) => failed.push(err instanceof UpstreamDownError ? 'c' : 'not typed'));
    b.failed(new Error('down'));
    assert.deepEqual(failed, ['a', 'c']);
  });

  it('stops probing when closed', async () => {
    const b = breaker();
    b.failed(new Error('down'));
    b.close();
    mock.timers.tick(120_000);
    await settle();
    assert.deepEqual(probes, []);
    assert.equal(b.up, false);
  });
});
