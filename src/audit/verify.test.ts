import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatLine, GENESIS_PREV, hashLine } from './audit-line.js';
import { verifyAuditLog } from './verify.js';

/** A well-formed log of `count` lines, chained as the writer chains them. */
function goodLog(count: number): string[] {
  const lines: string[] = [];
  let prev = GENESIS_PREV;
  for (let seq = 1; seq <= count; seq++) {
    const line = formatLine({ seq, time: '2025-03-01T12:00:00.000Z', action: 'publish', actor: 'ci', from: '10.0.0.7', target: `example.com/m@v1.0.${seq}`, outcome: 'ok', detail: { bytes: seq * 100 }, prev });
    lines.push(line);
    prev = hashLine(line);
  }
  return lines;
}

describe('verifyAuditLog', () => {
  let work: string;
  let n = 0;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-audit-verify-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  const verify = async (lines: string[], options: Parameters<typeof verifyAuditLog>[1] = {}, tail = '\n'): Promise<Awaited<ReturnType<typeof verifyAuditLog>>> => {
    const file = join(work, `log-${n++}`);
    await writeFile(file, lines.length === 0 ? '' : lines.join('\n') + tail);
    return verifyAuditLog(file, options);
  };
  const withLine = (lines: string[], k: number, change: (line: string) => string): string[] => lines.map((line, i) => (i === k - 1 ? change(line) : line));
  const badLine = async (lines: string[]): Promise<number | undefined> => (await verify(lines)).firstBad?.line;

  it('accepts a good log and reports its last hash; an empty file is a good log', async () => {
    const lines = goodLog(10);
    assert.deepEqual(await verify(lines), { ok: true, lines: 10, lastHash: hashLine(lines[9] as string) });
    assert.deepEqual(await verify([]), { ok: true, lines: 0, lastHash: GENESIS_PREV });
  });

  it('reports a line with one byte altered as that line, wherever the byte is', async () => {
    const lines = goodLog(10);
    for (const k of [1, 4, 9]) {
      const report = await verify(withLine(lines, k, (line) => line.replace('example.com/m', 'example.com/M')));
      assert.deepEqual(report.firstBad, { line: k, problem: `altered: its hash no longer matches line ${k + 1}'s prev` });
      assert.equal(await badLine(withLine(lines, k, (line) => line.replace(`"seq":${k}`, `"seq":${k + 10}`))), k, `seq of line ${k}`);
      assert.equal(await badLine(withLine(lines, k, (line) => line.replace(/"prev":"(.)/, (_, c: string) => `"prev":"${c === 'a' ? 'b' : 'a'}`))), k, `prev of line ${k}`);
      assert.equal(await badLine(withLine(lines, k, (line) => line.replace('2025-03-01', '2025-03-02'))), k, `time of line ${k}`);
      assert.equal(await badLine(withLine(lines, k, (line) => line.replace('"ci"', '"ci'))), k, `quote of line ${k}`);
    }
  });

  it('reports a deleted line at the line that now stands in its place', async () => {
    const lines = goodLog(10);
    for (const k of [1, 5, 9]) {
      assert.deepEqual((await verify(lines.filter((_, i) => i !== k - 1))).firstBad, { line: k, problem: `1 line missing before it (seq jumps from ${k - 1} to ${k + 1}): deleted or moved` });
    }
    assert.equal(await badLine([...lines.slice(0, 3), ...lines.slice(6)]), 4);
  });

  it('reports an inserted line, even one forged with the right seq and prev', async () => {
    const lines = goodLog(10);
    const forged = (k: number): string => formatLine({ seq: k, time: '2025-03-01T12:00:00.000Z', action: 'token.create', actor: 'admin', from: 'cli', target: 'backdoor', outcome: 'ok', prev: k === 1 ? GENESIS_PREV : hashLine(lines[k - 2] as string) });
    for (const k of [1, 5, 10]) {
      const report = await verify([...lines.slice(0, k - 1), forged(k), ...lines.slice(k - 1)]);
      assert.deepEqual(report.firstBad, { line: k, problem: `inserted: line ${k + 1} chains directly to ${k === 1 ? 'the start of the log' : `line ${k - 1}`}` });
    }
    const garbagePrev = formatLine({ ...(JSON.parse(forged(5)) as Parameters<typeof formatLine>[0]), prev: 'f'.repeat(64) });
    assert.deepEqual((await verify([...lines.slice(0, 4), garbagePrev, ...lines.slice(4)])).firstBad, { line: 5, problem: 'inserted: line 6 chains directly to line 4' });
    assert.deepEqual((await verify([...lines.slice(0, 5), lines[4] as string, ...lines.slice(5)])).firstBad, { line: 6, problem: 'a copy of line 5: inserted' });
  });

  it('reports reordered lines', async () => {
    const lines = goodLog(10);
    const swapped = [...lines];
    [swapped[3], swapped[4]] = [swapped[4] as string, swapped[3] as string];
    assert.deepEqual((await verify(swapped)).firstBad, { line: 4, problem: 'out of order: it belongs after line 5' });
    const moved = [...lines.slice(0, 2), ...lines.slice(3), lines[2] as string];
    assert.deepEqual((await verify(moved)).firstBad, { line: 3, problem: '1 line missing before it (seq jumps from 2 to 4): deleted or moved' });
  });

  it('names lines that are not JSON, lack a field or have one of the wrong type', async () => {
    const lines = goodLog(5);
    assert.deepEqual((await verify(withLine(lines, 3, () => 'hello'))).firstBad, { line: 3, problem: 'not JSON' });
    assert.deepEqual((await verify(withLine(lines, 3, () => ''))).firstBad, { line: 3, problem: 'not JSON' });
    assert.deepEqual((await verify(withLine(lines, 2, (line) => line.replace(/"actor":"ci",/, '')))).firstBad, { line: 2, problem: 'missing field "actor"' });
    assert.deepEqual((await verify(withLine(lines, 2, (line) => line.replace('"seq":2', '"seq":"2"')))).firstBad, { line: 2, problem: '"seq" is not a positive integer' });
    assert.deepEqual((await verify(withLine(lines, 2, (line) => line.replace('{"seq"', '{"extra":1,"seq"')))).firstBad, { line: 2, problem: 'unexpected field "extra"' });
    assert.deepEqual((await verify(withLine(lines, 2, (line) => line.replace(',"actor"', ', "actor"')))).firstBad, { line: 2, problem: 'not written as godepot writes lines (spacing, escaping or field order differ)' });
    assert.deepEqual((await verify(lines, {}, '')).firstBad, { line: 5, problem: 'unfinished (no newline at the end): a write cut short by a crash, which the next append removes' });
  });

  it('cannot see a changed or cut-off end by itself, but an anchor can', async () => {
    const lines = goodLog(10);
    const anchor = { line: 8, hash: hashLine(lines[7] as string) };
    assert.equal((await verify(lines, { anchor })).ok, true);
    // The chain alone: the last lines dropped, or the last one rewritten, still verify.
    assert.equal((await verify(lines.slice(0, 7))).ok, true);
    const rewritten = withLine(lines, 10, (line) => line.replace('"ok"', '"denied"'));
    assert.equal((await verify(rewritten)).ok, true);
    assert.notEqual((await verify(rewritten)).lastHash, hashLine(lines[9] as string));

    assert.deepEqual((await verify(lines.slice(0, 7), { anchor })).firstBad, { line: 8, problem: 'missing: the anchor names it but the log ends at line 7, so lines were cut off the end' });
    // Every line from 8 on rewritten and re-chained: only the anchor tells.
    const forgedTail = lines.slice(0, 7);
    let prev = hashLine(forgedTail[6] as string);
    for (let seq = 8; seq <= 10; seq++) {
      const line = formatLine({ seq, time: '2025-03-01T12:00:00.000Z', action: 'publish', actor: 'mallory', from: '10.0.0.9', target: 'x', outcome: 'ok', prev });
      forgedTail.push(line);
      prev = hashLine(line);
    }
    assert.equal((await verify(forgedTail)).ok, true);
    assert.deepEqual((await verify(forgedTail, { anchor })).firstBad, { line: 8, problem: `does not match the anchor ${anchor.hash}: it was altered, or the log was rewritten from there on` });
  });

  it('reads a log far larger than one read chunk line by line', async () => {
    const lines = goodLog(5000);
    assert.ok(Buffer.byteLength(lines.join('\n')) > 1024 * 1024);
    assert.deepEqual(await verify(lines), { ok: true, lines: 5000, lastHash: hashLine(lines[4999] as string) });
  });
});
