// A large JSON document read a piece at a time. JSON.parse of a whole manifest.json (up to MAX_MANIFEST)
// holds its text as one string and every value twice while a schema checks it (the parsed tree and the
// checked copy): several times the bytes. Walking the bytes instead finds where each member of an
// object or element of an array lies, so that each is parsed and checked on its own and only what is
// kept stays in memory. The walk only finds boundaries: JSON.parse still judges every value.

/** Where a value's bytes lie: [start, end). */
export interface Span {
  start: number;
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

function skipSpace(bytes: Uint8Array, at: number, end: number): number {
  while (at < end && isSpace(bytes[at])) at++;
  return at;
}

function syntax(message: string, at: number): SyntaxError {
  return new SyntaxError(`${message} at byte ${at}`);
}

// The end of the string whose opening quote is at `at`. UTF-8 continuation bytes are never ASCII, so
// a byte-wise walk cannot mistake part of a character for a quote or a backslash.
function stringEnd(bytes: Uint8Array, at: number, end: number): number {
  for (let i = at + 1; i < end; i++) {
    if (bytes[i] === BACKSLASH) i++;
    else if (bytes[i] === QUOTE) return i + 1;
  }
  throw syntax('unterminated string', at);
}

// The end of the value that starts at `at` (not space): strings and nesting are followed; a number or
// literal runs to the next delimiter.
function valueEnd(bytes: Uint8Array, at: number, end: number): number {
  const first = bytes[at];
  if (first === QUOTE) return stringEnd(bytes, at, end);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let i = at;
    while (i < end && !isSpace(bytes[i]) && bytes[i] !== COMMA && bytes[i] !== CLOSE_BRACE && bytes[i] !== CLOSE_BRACKET) i++;
    if (i === at) throw syntax('a value was expected', at);
    return i;
  }
  let depth = 0;
  for (let i = at; i < end; i++) {
    const b = bytes[i];
    if (b === QUOTE) i = stringEnd(bytes, i, end) - 1;
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
    else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw syntax(`unterminated ${first === OPEN_BRACE ? 'object' : 'array'}`, at);
}

/** The one value `bytes` holds, between optional white space; throws SyntaxError for anything else. */
export function documentSpan(bytes: Uint8Array): Span {
  const start = skipSpace(bytes, 0, bytes.length);
  if (start === bytes.length) throw syntax('no value', start);
  const end = valueEnd(bytes, start, bytes.length);
  const after = skipSpace(bytes, end, bytes.length);
  if (after !== bytes.length) throw syntax('more data after the value', after);
  return { start, end };
}

/** True when the value at `span` is an object; false for any other value. */
export function isObjectSpan(bytes: Uint8Array, span: Span): boolean {
  return bytes[span.start] === OPEN_BRACE;
}

/** True when the value at `span` is an array; false for any other value. */
export function isArraySpan(bytes: Uint8Array, span: Span): boolean {
  return bytes[span.start] === OPEN_BRACKET;
}

// The spans between `open` and `close` of a container, separated by commas; each item is read by `item`,
// which returns where it ends.
function* items<T>(bytes: Uint8Array, span: Span, item: (at: number) => { value: T; end: number }): Generator<T> {
  let at = skipSpace(bytes, span.start + 1, span.end - 1);
  if (at === span.end - 1) return;
  for (;;) {
    const { value, end } = item(at);
    yield value;
    at = skipSpace(bytes, end, span.end - 1);
    if (at === span.end - 1) return;
    if (bytes[at] !== COMMA) throw syntax('a comma was expected', at);
    at = skipSpace(bytes, at + 1, span.end - 1);
    if (at === span.end - 1) throw syntax('a value was expected after the comma', at);
  }
}

/** The spans of the elements of the array at `span` (isArraySpan), in order. */
export function arrayElements(bytes: Uint8Array, span: Span): Generator<Span> {
  return items(bytes, span, (at) => {
    const end = valueEnd(bytes, at, span.end - 1);
    return { value: { start: at, end }, end };
  });
}

/** The names and value spans of the members of the object at `span` (isObjectSpan), in order. */
export function objectMembers(bytes: Uint8Array, span: Span): Generator<{ name: string; value: Span }> {
  return items(bytes, span, (at) => {
    if (bytes[at] !== QUOTE) throw syntax('a member name was expected', at);
    const nameEnd = stringEnd(bytes, at, span.end - 1);
    const name = parseSpan(bytes, { start: at, end: nameEnd }) as string;
    const colon = skipSpace(bytes, nameEnd, span.end - 1);
    if (bytes[colon] !== COLON) throw syntax('a colon was expected', colon);
    const start = skipSpace(bytes, colon + 1, span.end - 1);
    if (start === span.end - 1) throw syntax('a value was expected after the colon', start);
    const end = valueEnd(bytes, start, span.end - 1);
    return { value: { name, value: { start, end } }, end };
  });
}

/** JSON.parse of the bytes at `span` (UTF-8); a SyntaxError says at which byte of `bytes` the value starts. */
export function parseSpan(bytes: Uint8Array, span: Span): unknown {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', span.start, span.end);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`${(err as Error).message} (in the value at byte ${span.start})`, { cause: err });
  }
}
