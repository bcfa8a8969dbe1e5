// Checking an audit log: every line well-formed, seq counting up by one from 1, each prev the hash of the
// line before. The file is streamed, so a log of any size is checked in constant memory. Times are not
// required to rise: processes stamp events when record() is called and append them in lock order, so
// a line may carry a time slightly before its predecessor's.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { GENESIS_PREV, MAX_LINE_BYTES, parseLine, type AuditEntry } from './audit-line.js';

/** A line's hash the operator kept elsewhere (from an earlier `godepot audit verify`). */
export interface AuditAnchor {
  /** 1-based line number (equal to its seq). */
  line: number;
  /** Its SHA-256, as verify printed it. */
  hash: string;
}

/** What verifyAuditLog found. */
export interface VerifyReport {
  /** True when every line checked and the anchor, if given, matched. */
  ok: boolean;
  /** Lines in the file (a last one without its newline included). */
  lines: number;
  /** SHA-256 of the last line (64 zeros for an empty file): keep it elsewhere to anchor this state of the log. */
  lastHash: string;
  /** The first line found wrong: the line whose content changed, or that was inserted or moved, when that can be told. */
  firstBad?: { line: number; problem: string };
}

/** A line as read: its first bytes (enough to parse any line godepot writes), its length and hash. */
interface RawLine {
  number: number;
  head: Buffer;
  length: number;
  hash: string;
  complete: boolean;
}

interface CheckedLine extends RawLine {
  entry: AuditEntry;
}

/** Checks the audit log at `path`, and the line `anchor` names, without changing the file. */
export async function verifyAuditLog(path: string, options: { anchor?: AuditAnchor } = {}): Promise<VerifyReport> {
  let lines = 0;
  let lastHash = GENESIS_PREV;
  let firstBad: VerifyReport['firstBad'];
  let anchorBad: VerifyReport['firstBad'];
  let beforeLast: CheckedLine | undefined;
  let last: CheckedLine | undefined;
  // A line that breaks the chain waits for the next one, which tells what happened (see explainBreak).
  let broken: CheckedLine | undefined;
  const { anchor } = options;
  for await (const line of readLines(path)) {
    lines = line.number;
    lastHash = line.hash;
    if (anchor !== undefined && line.number === anchor.line && line.hash !== anchor.hash) {
      anchorBad = { line: line.number, problem: `does not match the anchor ${anchor.hash}: it was altered, or the log was rewritten from there on` };
    }
    if (firstBad !== undefined) continue;
    if (broken !== undefined) {
      firstBad = explainBreak(beforeLast, last, broken, line);
      continue;
    }
    const problem = lineProblem(line);
    if (typeof problem === 'string') {
      firstBad = { line: line.number, problem };
      continue;
    }
    const checked = { ...line, entry: problem.entry };
    if (checked.entry.seq === (last?.entry.seq ?? 0) + 1 && checked.entry.prev === (last?.hash ?? GENESIS_PREV)) {
      beforeLast = last;
      last = checked;
    } else {
      broken = checked;
    }
  }
  if (broken !== undefined && firstBad === undefined) firstBad = explainBreak(beforeLast, last, broken, undefined);
  if (anchor !== undefined && anchor.line > lines) {
    anchorBad = { line: anchor.line, problem: `missing: the anchor names it but the log ends at line ${lines}, so lines were cut off the end` };
  }
  if (anchorBad !== undefined && (firstBad === undefined || anchorBad.line < firstBad.line)) firstBad = anchorBad;
  return firstBad === undefined ? { ok: true, lines, lastHash } : { ok: false, lines, lastHash, firstBad };
}

function lineProblem(line: RawLine): string | { entry: AuditEntry } {
  if (!line.complete) return 'unfinished (no newline at the end): a write cut short by a crash, which the next append removes';
  if (line.length > MAX_LINE_BYTES) return `longer (${line.length} bytes) than any line godepot writes`;
  const parsed = parseLine(line.head);
  return parsed.problem ?? { entry: parsed.entry };
}

/**
 * Names the line to blame when `b` does not follow `a` (its seq is not a's plus one, or its prev is not
 * a's hash), looking one line back (`z`) and one ahead (`c`): an altered line leaves its successor's prev
 * wrong, while the line after that still chains; an inserted line is skipped over by the chain; a deleted
 * one leaves a gap in seq; two swapped lines each chain to the other.
 */
function explainBreak(z: CheckedLine | undefined, a: CheckedLine | undefined, b: CheckedLine, next: RawLine | undefined): { line: number; problem: string } {
  const j = b.number;
  const name = (n: number): string => (n === 0 ? 'the start of the log' : `line ${n}`);
  const before = { seq: a?.entry.seq ?? 0, hash: a?.hash ?? GENESIS_PREV };
  // Two back exists when b has a predecessor; behind line 1 is the start of the log.
  const twoBack = a === undefined ? undefined : { seq: z?.entry.seq ?? 0, hash: z?.hash ?? GENESIS_PREV };
  const nextChecked = next === undefined ? undefined : lineProblem(next);
  const c = next === undefined || nextChecked === undefined || typeof nextChecked === 'string' ? undefined : { seq: nextChecked.entry.seq, prev: nextChecked.entry.prev, hash: next.hash };

  if (a !== undefined && a.hash === b.hash) return { line: j, problem: `a copy of line ${j - 1}: inserted` };
  if (twoBack !== undefined && b.entry.prev === twoBack.hash && b.entry.seq === twoBack.seq + 1) {
    return { line: j - 1, problem: `inserted: line ${j} chains directly to ${name(j - 2)}` };
  }
  if (c !== undefined && c.prev === before.hash && c.seq === before.seq + 1) {
    if (b.entry.prev === c.hash && b.entry.seq === c.seq + 1) return { line: j, problem: `out of order: it belongs after line ${j + 1}` };
    return { line: j, problem: `inserted: line ${j + 1} chains directly to ${name(j - 1)}` };
  }
  if (b.entry.seq === before.seq + 1) {
    // Only the prev is off. If the next line still chains to b, b is intact and its predecessor changed.
    if (c !== undefined && c.prev !== b.hash) return { line: j, problem: `altered: its prev does not match ${name(j - 1)} and its hash does not match line ${j + 1}'s prev` };
    if (a === undefined) return { line: j, problem: 'altered: the first line\'s prev is not 64 zeros (or lines before it were removed)' };
    return { line: j - 1, problem: `altered: its hash no longer matches line ${j}'s prev` };
  }
  if (b.entry.prev === before.hash) return { line: j, problem: `altered: seq ${b.entry.seq} where ${before.seq + 1} is due, though its prev matches ${name(j - 1)}` };
  if (b.entry.seq > before.seq + 1) {
    const missing = b.entry.seq - before.seq - 1;
    return { line: j, problem: `${missing} line${missing === 1 ? '' : 's'} missing before it (seq jumps from ${before.seq} to ${b.entry.seq}): deleted or moved` };
  }
  return { line: j, problem: `seq ${b.entry.seq} after ${before.seq}: inserted or moved` };
}

/** The file's lines, split on '\n' as bytes (a line's hash is over its exact bytes), in constant memory. */
async function* readLines(path: string): AsyncGenerator<RawLine> {
  let number = 0;
  let head: Buffer[] = [];
  let headLength = 0;
  let length = 0;
  let hash = createHash('sha256');
  const take = (piece: Buffer): void => {
    hash.update(piece);
    length += piece.length;
    // Keep only what parsing needs: a longer line is reported by its length.
    if (headLength <= MAX_LINE_BYTES) {
      const kept = piece.subarray(0, MAX_LINE_BYTES + 1 - headLength);
      head.push(kept);
      headLength += kept.length;
    }
  };
  const finish = (complete: boolean): RawLine => {
    const line = { number: ++number, head: Buffer.concat(head), length, hash: hash.digest('hex'), complete };
    head = [];
    headLength = 0;
    length = 0;
    hash = createHash('sha256');
    return line;
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, from)) {
      take(chunk.subarray(from, newline));
      yield finish(true);
      from = newline + 1;
    }
    if (from < chunk.length) take(chunk.subarray(from));
  }
  if (length > 0) yield finish(false);
}
