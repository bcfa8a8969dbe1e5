// Go prints paths in its errors with %q. Users compare our messages with go's, and the conformance
// vectors match on go's exact text, so we reproduce strconv.Quote and strconv.QuoteRune.

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function escapeRune(ch: string, quote: '"' | "'"): string {
  if (ch === quote || ch === '\\') return '\\' + ch;
  if (printable.test(ch)) return ch;
  switch (ch) {
    case '\x07': return '\\a';
    case '\b': return '\\b';
    case '\f': return '\\f';
    case '\n': return '\\n';
    case '\r': return '\\r';
    case '\t': return '\\t';
    case '\v': return '\\v';
  }
  const cp = ch.codePointAt(0)!;
  // A lone surrogate cannot be encoded as UTF-8: go would have seen an invalid byte there.
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd';
  if (cp < 0x80) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** Formats `s` as Go's `%q` verb does for a string: double-quoted, with Go escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch, '"');
  return out + '"';
}

/** Formats one character as Go's `%q` verb does for a rune: `'x'`, with `'` escaped. */
export function goQuoteRune(ch: string): string {
  return "'" + escapeRune(ch, "'") + "'";
}
