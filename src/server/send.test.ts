import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRange } from './send.js';

test('parseRange: one range within the body, unsatisfiable past its end, ignored when malformed or multiple', () => {
  const cases: Array<[string, number, ReturnType<typeof parseRange>]> = [
    ['bytes=0-0', 10, { start: 0, end: 0 }],
    ['bytes=2-5', 10, { start: 2, end: 5 }],
    ['bytes=2-', 10, { start: 2, end: 9 }],
    ['bytes=2-100', 10, { start: 2, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-100', 10, { start: 0, end: 9 }],
    ['bytes= 1 - 2 ', 10, { start: 1, end: 2 }],
    ['bytes=10-', 10, 'unsatisfiable'],
    ['bytes=10-20', 10, 'unsatisfiable'],
    ['bytes=-0', 10, 'unsatisfiable'],
    ['bytes=0-', 0, 'unsatisfiable'],
    ['bytes=-5', 0, 'unsatisfiable'],
    ['bytes=5-2', 10, null],
    ['bytes=-', 10, null],
    ['bytes=0-1,3-4', 10, null],
    ['bytes=a-b', 10, null],
    ['items=0-1', 10, null],
    ['', 10, null],
  ];
  for (const [header, size, want] of cases) assert.deepEqual(parseRange(header, size), want, `${header} of ${size}`);
});
