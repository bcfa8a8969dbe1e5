import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ThrottledWarnings } from './throttled-warnings.js';

function capture(): { lines: Array<Record<string, unknown>>; warnings: (now: () => number) => ThrottledWarnings } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, warnings: (now) => new ThrottledWarnings(logger, 60_000, now) };
}

test('one line per key a minute; the next says how many it stood for', () => {
  const { lines, warnings } = capture();
  let now = 1_000_000;
  const w = warnings(() => now);
  for (let i = 0; i < 50; i++) {
    w.warn('example.com/a', { module: 'example.com/a' }, 'origin failing');
    w.warn('example.com/b', { module: 'example.com/b' }, 'origin failing');
    now += 1000;
  }
  assert.deepEqual(lines.map((l) => [l.module, l.repeats]), [['example.com/a', undefined], ['example.com/b', undefined]]);
  now += 10_000;
  w.warn('example.com/a', { module: 'example.com/a' }, 'origin failing');
  assert.deepEqual(lines.slice(2).map((l) => [l.module, l.repeats, l.msg]), [['example.com/a', 49, 'origin failing']]);
});

test('a key not met for two minutes is forgotten: its next warning is logged as a first one', () => {
  const { lines, warnings } = capture();
  let now = 0;
  const w = warnings(() => now);
  w.warn('k', {}, 'down');
  w.warn('k', {}, 'down');
  now = 130_000;
  // Another key's warning sweeps the old entry out.
  w.warn('other', {}, 'down');
  w.warn('k', {}, 'down');
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.repeats, undefined);
});
