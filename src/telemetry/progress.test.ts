import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, streamProgress } from './progress.js';

/** A stand-in for stderr: what was written, and whether it claims to be a terminal. */
function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) > 0 } as unknown as NodeJS.WriteStream };
}

test('on a terminal, one line redrawn in place at most every 100 ms, then a final line', () => {
  let now = 0;
  const { writes, stream } = sink(true);
  const progress = streamProgress(stream, 'fetching', () => now);
  progress.setTotal(3);
  now = 50;
  progress.addBytes(2_000_000);
  now = 1000;
  progress.moduleDone();
  progress.finish();
  assert.deepEqual(writes, [
    '\r\x1b[Kfetching: 0/3 modules, 0 B, 0 B/s',
    '\r\x1b[Kfetching: 1/3 modules, 2.0 MB, 2.0 MB/s',
    '\r\x1b[Kfetching: 1/3 modules, 2.0 MB, 2.0 MB/s\n',
  ]);
});

test('elsewhere, plain lines every 5 s and at the end, no carriage returns', () => {
  let now = 0;
  const { writes, stream } = sink(false);
  const progress = streamProgress(stream, 'mirroring', () => now);
  progress.setTotal(2);
  for (now = 100; now < 4000; now += 100) progress.addBytes(1000);
  progress.moduleDone();
  now = 6000;
  progress.moduleDone();
  progress.finish();
  progress.finish();
  assert.deepEqual(writes, ['mirroring: 0/2 modules, 0 B, 0 B/s\n', 'mirroring: 2/2 modules, 39.0 KB, 6.5 KB/s\n', 'mirroring: 2/2 modules, 39.0 KB, 6.5 KB/s\n']);
});

test('byte counts in decimal units', () => {
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1500), '1.5 KB');
  assert.equal(formatBytes(2.5e9), '2.5 GB');
});

test('retries are counted on the one progress line with the last reason, cut to the terminal width; notes go above it', () => {
  let now = 0;
  const { writes, stream } = sink(true);
  Object.assign(stream, { columns: 80 });
  const progress = streamProgress(stream, 'fetching', () => now);
  progress.setTotal(2);
  now = 200;
  progress.retried('reading http://127.0.0.1:1/example.com/a/@v/v1.0.0.zip: 503 Service Unavailable');
  now = 400;
  progress.note('a warning\n');
  progress.retried('short');
  now = 600;
  progress.finish();
  const cut = 'fetching: 0/2 modules, 0 B, 0 B/s, 1 retry (last: reading http://127.0.0.1:1/e…';
  assert.equal(cut.length, 79);
  assert.deepEqual(writes, [
    '\r\x1b[Kfetching: 0/2 modules, 0 B, 0 B/s',
    `\r\x1b[K${cut}`,
    `\r\x1b[Ka warning\n${cut}`,
    '\r\x1b[Kfetching: 0/2 modules, 0 B, 0 B/s, 2 retries (last: short)',
    '\r\x1b[Kfetching: 0/2 modules, 0 B, 0 B/s, 2 retries (last: short)\n',
  ]);
  assert.ok(writes.every((w) => w.split('\n').every((line) => line.replace('\r\x1b[K', '').length < 80)));
});
