// One line of the audit log: its exact bytes, how a line is checked, and the chain hash over it. The writer
// (file-audit-log.ts) and the checker (verify.ts) share this file, so what one writes is by construction
// what the other accepts. docs/audit-log.md describes the format for people.
import { createHash } from 'node:crypto';
import type { AuditEvent } from './audit.js';

/** The `prev` of the first line: there is nothing before it. */
export const GENESIS_PREV = '0'.repeat(64);

/** No line godepot writes is longer (bytes, without its newline): sanitizeEvent keeps every line under it. */
export const MAX_LINE_BYTES = 64 * 1024;

/** The longest string kept whole in a field or a detail value (UTF-16 code units); longer ones are cut and marked. */
export const MAX_STRING_CHARS = 1024;

/** A detail value, as the log keeps it. */
export type AuditDetail = Record<string, string | number | boolean>;

/** One line of the log, fields in the order they are written. */
export interface AuditEntry {
  seq: number;
  time: string;
  action: string;
  actor: string;
  from: string;
  target: string;
  outcome: string;
  detail?: AuditDetail;
  prev: string;
}

/** An entry before the log gives it its place in the chain. */
export type UnchainedEntry = Omit<AuditEntry, 'seq' | 'prev'>;

const TEXT_FIELDS = ['action', 'actor', 'from', 'target', 'outcome'] as const;
const FIELDS: ReadonlySet<string> = new Set(['seq', 'time', ...TEXT_FIELDS, 'detail', 'prev']);
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HASH = /^[0-9a-f]{64}$/;

/** The exact text of a line, without its newline: the fields in AuditEntry's order, `detail` left out when absent. */
export function formatLine(entry: AuditEntry): string {
  const { seq, time, action, actor, from, target, outcome, detail, prev } = entry;
  // JSON.stringify keeps insertion order and drops an undefined detail; it escapes control characters and
  // lone surrogates, so a line is one line of valid UTF-8 whatever the strings hold.
  return JSON.stringify({ seq, time, action, actor, from, target, outcome, detail, prev });
}

/** The chain hash of a line: lowercase hex SHA-256 of its bytes without the newline. */
export function hashLine(line: Uint8Array | string): string {
  return createHash('sha256').update(line).digest('hex');
}

/**
 * The event as the log keeps it, stamped with `time`: strings longer than MAX_STRING_CHARS are cut (a
 * refused request's path is the client's to choose), numbers JSON cannot hold are kept as text, and a
 * detail too large for MAX_LINE_BYTES is replaced by a note of its size.
 */
export function sanitizeEvent(event: AuditEvent, time: Date): UnchainedEntry {
  const entry: UnchainedEntry = {
    time: time.toISOString(),
    action: cut(event.action),
    actor: cut(event.actor),
    from: cut(event.from),
    target: cut(event.target),
    outcome: cut(event.outcome),
  };
  if (event.detail !== undefined) {
    // fromEntries defines own properties, so even a `__proto__` key stays a plain field.
    entry.detail = Object.fromEntries(
      Object.entries(event.detail).map(([key, value]) => [cut(key), typeof value === 'string' ? cut(value) : typeof value === 'number' && !Number.isFinite(value) ? String(value) : value]),
    );
    const widest = formatLine({ seq: Number.MAX_SAFE_INTEGER, ...entry, prev: GENESIS_PREV });
    const bytes = Buffer.byteLength(widest);
    if (bytes > MAX_LINE_BYTES) entry.detail = { omitted: `a detail of ${bytes} bytes, too large to keep` };
  }
  return entry;
}

function cut(text: string): string {
  if (text.length <= MAX_STRING_CHARS) return text;
  // Never split a surrogate pair: half of one would be kept as an escaped lone surrogate.
  const end = isHighSurrogate(text.charCodeAt(MAX_STRING_CHARS - 1)) ? MAX_STRING_CHARS - 1 : MAX_STRING_CHARS;
  return `${text.slice(0, end)}…[${text.length - end} more characters cut]`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** A line read back: the entry, or what is wrong with it (a phrase to follow `line N: `). */
export type ParsedLine = { entry: AuditEntry; problem?: undefined } | { entry?: undefined; problem: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Checks that `line` (without its newline) is a line exactly as formatLine writes it. */
export function parseLine(line: Uint8Array): ParsedLine {
  if (line.length > MAX_LINE_BYTES) return { problem: `longer (${line.length} bytes) than any line godepot writes` };
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(line);
  } catch {
    return { problem: 'not UTF-8' };
  }
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' };
  const fields = value as Record<string, unknown>;
  for (const name of Object.keys(fields)) if (!FIELDS.has(name)) return { problem: `unexpected field "${name}"` };
  const { seq, time, detail, prev } = fields;
  if (seq === undefined) return { problem: 'missing field "seq"' };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return { problem: '"seq" is not a positive integer' };
  if (time === undefined) return { problem: 'missing field "time"' };
  if (typeof time !== 'string' || !TIME.test(time) || Number.isNaN(Date.parse(time))) return { problem: '"time" is not an RFC 3339 UTC time with milliseconds' };
  for (const name of TEXT_FIELDS) {
    if (fields[name] === undefined) return { problem: `missing field "${name}"` };
    if (typeof fields[name] !== 'string') return { problem: `"${name}" is not a string` };
  }
  if (detail !== undefined) {
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { problem: '"detail" is not an object' };
    for (const [key, v] of Object.entries(detail)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return { problem: `"detail.${key}" is not a string, number or boolean` };
    }
  }
  if (prev === undefined) return { problem: 'missing field "prev"' };
  if (typeof prev !== 'string' || !HASH.test(prev)) return { problem: '"prev" is not a lowercase hex SHA-256' };
  const entry = fields as unknown as AuditEntry;
  // The hash covers bytes, not meaning: a line re-spaced or with its fields reordered is no line godepot wrote.
  if (formatLine(entry) !== text) return { problem: 'not written as godepot writes lines (spacing, escaping or field order differ)' };
  return { entry };
}
