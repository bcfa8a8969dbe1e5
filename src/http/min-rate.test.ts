import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { MinRateWatch } from './min-rate.js';

describe('MinRateWatch', () => {
  let cuts: number[];
  const watches: MinRateWatch[] = [];

  /** A watch over a 1 s window at 1000 B/s. */
  function watch(minRate = 1000): MinRateWatch {
    const w = new MinRateWatch(1000, minRate, (read) => cuts.push(read));
    watches.push(w);
    return w;
  }

  /** Advances `ms`, reading `bytesPerTick` at each 100 ms tick. */
  function run(w: MinRateWatch, ms: number, bytesPerTick: number): void {
    for (let t = 0; t < ms; t += 100) {
      w.read(bytesPerTick);
      mock.timers.tick(100);
    }
  }

  beforeEach(() => {
    cuts = [];
    mock.timers.enable({ apis: ['setInterval'] });
  });

  afterEach(() => {
    for (const w of watches.splice(0)) w.stop();
    mock.timers.reset();
  });

  it('never cuts a body read at the minimum rate or above, however long it lasts', () => {
    const w = watch();
    run(w, 60_000, 100);
    run(w, 10_000, 5000);
    assert.deepEqual(cuts, []);
  });

  it('cuts a trickle one window after the start, once', () => {
    const w = watch();
    run(w, 900, 1);
    assert.deepEqual(cuts, []);
    run(w, 100, 1);
    assert.deepEqual(cuts, [10]);
    run(w, 5000, 1);
    assert.deepEqual(cuts, [10]);
  });

  it('cuts a body that slows down for a whole window after a fast start', () => {
    const w = watch();
    run(w, 3000, 10_000);
    run(w, 900, 50);
    assert.deepEqual(cuts, [], 'the fast bytes still count within the window');
    run(w, 200, 50);
    assert.equal(cuts.length, 1);
    assert.ok(cuts[0]! < 1000);
  });

  it('with no minimum rate, cuts only a body that stops for a whole window', () => {
    const w = watch(0);
    run(w, 10_000, 1);
    assert.deepEqual(cuts, []);
    run(w, 1000, 0);
    assert.deepEqual(cuts, [0]);
  });

  it('never cuts once stopped', () => {
    const w = watch();
    w.stop();
    mock.timers.tick(10_000);
    assert.deepEqual(cuts, []);
  });
});
