// The tokenizer go reads `?go-get=1` pages with: encoding/xml's Decoder in its lax mode (Strict off),
// read token by token with RawToken. HTML is not XML, so which pages yield their meta tags, and which
// fail and how, is decided by that tokenizer's rules, and godepot has to follow them to agree with go:
// unquoted attribute values take only letters, digits, `_`, `:` and `-`; an attribute without a value
// is its own value; unknown entities stay as written; but a `<` that starts no name, `--` in a comment,
// bytes that are not UTF-8, or an `<?xml ... encoding=...?>` other than UTF-8 or ASCII are errors.
// Names keep only their local part (`<x:meta>` is a meta element). Element nesting is not checked.
import { goQuote } from '../module/quote.js';

/** One token, as far as the meta-tag scan needs it. */
export type XmlToken =
  | { readonly kind: 'start'; readonly name: string; readonly attrs: ReadonlyArray<{ readonly name: string; readonly value: string }> }
  | { readonly kind: 'end'; readonly name: string }
  /** Text, a comment, a processing instruction, a directive. */
  | { readonly kind: 'other' };

/** Why the input cannot be read further, in go's words (`XML syntax error on line 3: unexpected EOF`). */
export class XmlError extends Error {}

const EOF = -1;
const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const AMP = 0x26;
const SEMI = 0x3b;
const QUOTE = 0x22;
const APOS = 0x27;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const BRACKET = 0x5d;
const DASH = 0x2d;

// The five entities XML predefines; any other is kept as written in lax mode.
const ENTITIES: Readonly<Record<string, number>> = { lt: 0x3c, gt: 0x3e, amp: 0x26, apos: 0x27, quot: 0x22 };

function isNameByte(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x5f || b === 0x3a || b === 0x2e || b === 0x2d;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === RETURN || b === NEWLINE || b === 0x09;
}

// An unquoted attribute value: HTML 4's name characters (go's own choice in lax mode).
function isUnquotedValueByte(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x5f || b === 0x3a || b === 0x2d;
}

// XML's Char production: what may appear in text once decoded.
function isXmlChar(r: number): boolean {
  return r === 0x09 || r === 0x0a || r === 0x0d || (r >= 0x20 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd) || (r >= 0x10000 && r <= 0x10ffff);
}

/**
 * The rune at `bytes[i]` and its length as go's utf8.DecodeRune reads it; rune -1 (length 1) for an
 * invalid encoding: a stray byte, a truncated sequence, an overlong form, a surrogate, past U+10FFFF.
 */
function decodeRune(bytes: Uint8Array, i: number): { rune: number; size: number } {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return { rune: b0, size: 1 };
  const invalid = { rune: -1, size: 1 };
  const need = b0 >= 0xc2 && b0 <= 0xdf ? 1 : b0 >= 0xe0 && b0 <= 0xef ? 2 : b0 >= 0xf0 && b0 <= 0xf4 ? 3 : -1;
  if (need < 0 || i + need >= bytes.length) return invalid;
  // The second byte's range is narrower after some leading bytes: that is what rules out overlong
  // forms, surrogates and runes past U+10FFFF.
  const lo = b0 === 0xe0 ? 0xa0 : b0 === 0xf0 ? 0x90 : 0x80;
  const hi = b0 === 0xed ? 0x9f : b0 === 0xf4 ? 0x8f : 0xbf;
  const b1 = bytes[i + 1]!;
  if (b1 < lo || b1 > hi) return invalid;
  let rune = b0 & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
  rune = (rune << 6) | (b1 & 0x3f);
  for (let k = 2; k <= need; k++) {
    const b = bytes[i + k]!;
    if (b < 0x80 || b > 0xbf) return invalid;
    rune = (rune << 6) | (b & 0x3f);
  }
  return { rune, size: need + 1 };
}

/** The UTF-8 bytes of go's string(rune(n)): U+FFFD for a surrogate. */
function encodeRune(n: number): Uint8Array {
  return Buffer.from(String.fromCodePoint(n >= 0xd800 && n <= 0xdfff ? 0xfffd : n), 'utf8');
}

/** `U+0000`, as go's %U prints a rune. */
function formatRune(r: number): string {
  return 'U+' + r.toString(16).toUpperCase().padStart(4, '0');
}

/** True when `bytes` is an XML name: the ASCII rules exactly, and Unicode letters (and marks and digits after the first) beyond them. */
function isName(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  for (let i = 0; i < bytes.length; ) {
    const { rune, size } = decodeRune(bytes, i);
    if (rune < 0) return false;
    const ch = String.fromCodePoint(rune);
    const first = rune < 0x80 ? /[A-Za-z_:]/.test(ch) : /\p{L}/u.test(ch);
    const later = rune < 0x80 ? /[-.0-9]/.test(ch) : /[\p{M}\p{Nd}\u00b7]/u.test(ch);
    if (!first && (i === 0 || !later)) return false;
    i += size;
  }
  return true;
}

/** The local part of a name: what follows its one colon, unless it has several, or nothing on either side of it. */
function localName(name: string): string {
  const colon = name.indexOf(':');
  if (colon <= 0 || colon === name.length - 1 || name.indexOf(':', colon + 1) >= 0) return name;
  return name.slice(colon + 1);
}

/** The value of `param="..."` (or single quotes) in a processing instruction's text, or "" (go's procInst). */
function procInstParam(param: string, text: string): string {
  const at = text.indexOf(param + '=');
  if (at < 0) return '';
  const rest = text.slice(at + param.length + 1);
  const quote = rest[0];
  if (quote !== '"' && quote !== "'") return '';
  const end = rest.indexOf(quote, 1);
  return end < 0 ? '' : rest.slice(1, end);
}

/** A byte buffer that grows as text is read. */
class Bytes {
  private data = new Uint8Array(256);
  length = 0;

  push(b: number): void {
    if (this.length === this.data.length) {
      const bigger = new Uint8Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = b;
  }

  pushAll(bytes: Uint8Array): void {
    for (const b of bytes) this.push(b);
  }

  view(start = 0, end = this.length): Uint8Array {
    return this.data.subarray(start, end);
  }
}

/**
 * Reads `input` token by token as go's lax encoding/xml Decoder does with RawToken. next() returns
 * null at the end of the input and throws XmlError where go's decoder fails; after that it must not
 * be called again.
 */
export class XmlTokenizer {
  private pos = 0;
  private line = 1;
  /** The name of a self-closing element, whose end is the next token. */
  private closing: string | null = null;

  constructor(private readonly input: Uint8Array) {}

  next(): XmlToken | null {
    if (this.closing !== null) {
      const name = this.closing;
      this.closing = null;
      return { kind: 'end', name };
    }
    let b = this.getc();
    if (b === EOF) return null;
    if (b !== LT) {
      this.ungetc(b);
      this.text(-1, false);
      return { kind: 'other' };
    }
    b = this.mustgetc();
    if (b === SLASH) {
      const name = this.name();
      if (name === null) throw this.syntaxError('expected element name after </');
      this.space();
      if (this.mustgetc() !== GT) throw this.syntaxError(`invalid characters between </${localName(name)} and >`);
      return { kind: 'end', name: localName(name) };
    }
    if (b === 0x3f) {
      this.processingInstruction();
      return { kind: 'other' };
    }
    if (b === 0x21) {
      this.markupDeclaration();
      return { kind: 'other' };
    }
    this.ungetc(b);
    return this.startElement();
  }

  private getc(): number {
    if (this.pos >= this.input.length) return EOF;
    const b = this.input[this.pos++]!;
    if (b === NEWLINE) this.line++;
    return b;
  }

  private ungetc(b: number): void {
    this.pos--;
    if (b === NEWLINE) this.line--;
  }

  private mustgetc(): number {
    const b = this.getc();
    if (b === EOF) throw this.syntaxError('unexpected EOF');
    return b;
  }

  private syntaxError(message: string): XmlError {
    return new XmlError(`XML syntax error on line ${this.line}: ${message}`);
  }

  private space(): void {
    for (;;) {
      const b = this.getc();
      if (b === EOF) return;
      if (!isSpace(b)) {
        this.ungetc(b);
        return;
      }
    }
  }

  /** Appends a name's bytes to `out`: false, consuming nothing, when no name starts here. */
  private readName(out: Bytes): boolean {
    let b = this.mustgetc();
    if (b < 0x80 && !isNameByte(b)) {
      this.ungetc(b);
      return false;
    }
    out.push(b);
    for (;;) {
      b = this.mustgetc();
      if (b < 0x80 && !isNameByte(b)) {
        this.ungetc(b);
        return true;
      }
      out.push(b);
    }
  }

  /** A name, or null when none starts here; throws for bytes that are no XML name. */
  private name(): string | null {
    const bytes = new Bytes();
    if (!this.readName(bytes)) return null;
    const text = Buffer.from(bytes.view()).toString('utf8');
    if (!isName(bytes.view())) throw this.syntaxError(`invalid XML name: ${text}`);
    return text;
  }

  /**
   * Text up to the next `<` (quote -1), up to `quote` (an attribute value), or up to `]]>` (cdata), with
   * entities decoded and line ends made `\n`; checked to be UTF-8 of XML characters. The end of the
   * input ends it, except in CDATA.
   */
  private text(quote: number, cdata: boolean): Uint8Array {
    const out = new Bytes();
    let b0 = 0;
    let b1 = 0;
    let trunc = 0;
    for (;;) {
      let b = this.getc();
      if (b === EOF) {
        if (cdata) throw this.syntaxError('unexpected EOF in CDATA section');
        break;
      }
      if (b0 === BRACKET && b1 === BRACKET && b === GT) {
        if (!cdata) throw this.syntaxError('unescaped ]]> not in CDATA section');
        trunc = 2;
        break;
      }
      if (b === LT && !cdata) {
        if (quote >= 0) throw this.syntaxError('unescaped < inside quoted string');
        this.ungetc(b);
        break;
      }
      if (quote >= 0 && b === quote) break;
      if (b === AMP && !cdata) {
        const before = out.length;
        out.push(AMP);
        let replacement: Uint8Array | null = null;
        b = this.mustgetc();
        if (b === 0x23) {
          out.push(b);
          b = this.mustgetc();
          let base = 10;
          if (b === 0x78) {
            base = 16;
            out.push(b);
            b = this.mustgetc();
          }
          const start = out.length;
          const digit = base === 10 ? /[0-9]/ : /[0-9a-fA-F]/;
          while (digit.test(String.fromCharCode(b))) {
            out.push(b);
            b = this.mustgetc();
          }
          if (b !== SEMI) this.ungetc(b);
          else {
            const digits = Buffer.from(out.view(start)).toString('latin1');
            out.push(SEMI);
            const n = digits === '' ? NaN : parseInt(digits, base);
            if (n <= 0x10ffff) replacement = encodeRune(n);
          }
        } else {
          this.ungetc(b);
          this.readName(out);
          b = this.mustgetc();
          if (b !== SEMI) this.ungetc(b);
          else {
            const name = out.view(before + 1);
            out.push(SEMI);
            const known = isName(name) ? ENTITIES[Buffer.from(name).toString('utf8')] : undefined;
            if (known !== undefined) replacement = Uint8Array.of(known);
          }
        }
        if (replacement !== null) {
          out.length = before;
          out.pushAll(replacement);
        }
        // Lax mode: an entity that is not one is kept as written.
        b0 = 0;
        b1 = 0;
        continue;
      }
      if (b === RETURN) out.push(NEWLINE);
      else if (!(b1 === RETURN && b === NEWLINE)) out.push(b);
      b0 = b1;
      b1 = b;
    }
    const data = out.view(0, out.length - trunc);
    for (let i = 0; i < data.length; ) {
      const { rune, size } = decodeRune(data, i);
      if (rune < 0) throw this.syntaxError('invalid UTF-8');
      if (!isXmlChar(rune)) throw this.syntaxError(`illegal character code ${formatRune(rune)}`);
      i += size;
    }
    return data;
  }

  /** After `<?`: the instruction, and for `<?xml ...?>` go's checks of its version and encoding. */
  private processingInstruction(): void {
    const target = this.name();
    if (target === null) throw this.syntaxError('expected target name after <?');
    this.space();
    const content = new Bytes();
    let b0 = 0;
    for (;;) {
      const b = this.mustgetc();
      content.push(b);
      if (b0 === 0x3f && b === GT) break;
      b0 = b;
    }
    if (target !== 'xml') return;
    const text = Buffer.from(content.view(0, content.length - 2)).toString('utf8');
    const version = procInstParam('version', text);
    if (version !== '' && version !== '1.0') throw new XmlError(`xml: unsupported version ${goQuote(version)}; only version 1.0 is supported`);
    const encoding = procInstParam('encoding', text);
    // go reads on only in UTF-8, or ASCII taken as UTF-8 (its CharsetReader for go-get pages).
    if (encoding !== '' && encoding.toLowerCase() !== 'utf-8' && encoding.toLowerCase() !== 'ascii') {
      throw new XmlError(`xml: opening charset ${goQuote(encoding)}: can't decode XML document using charset ${goQuote(encoding)}`);
    }
  }

  /** After `<!`: a comment, a CDATA section, or a directive (`<!DOCTYPE html>`), with its quotes and nested brackets. */
  private markupDeclaration(): void {
    let b = this.mustgetc();
    if (b === DASH) {
      if (this.mustgetc() !== DASH) throw this.syntaxError('invalid sequence <!- not part of <!--');
      let b0 = 0;
      let b1 = 0;
      for (;;) {
        b = this.mustgetc();
        if (b0 === DASH && b1 === DASH) {
          if (b !== GT) throw this.syntaxError('invalid sequence "--" not allowed in comments');
          return;
        }
        b0 = b1;
        b1 = b;
      }
    }
    if (b === 0x5b) {
      for (const expected of Buffer.from('CDATA[')) {
        if (this.mustgetc() !== expected) throw this.syntaxError('invalid <![ sequence');
      }
      this.text(-1, true);
      return;
    }
    let inQuote = 0;
    let depth = 0;
    for (;;) {
      b = this.mustgetc();
      if (inQuote === 0 && b === GT && depth === 0) return;
      // A `<` that turns out not to open a comment is handled again as the byte after it.
      for (let again = true; again; ) {
        again = false;
        if (b === inQuote) inQuote = 0;
        else if (inQuote !== 0) {
          // Quoted: nothing counts.
        } else if (b === APOS || b === QUOTE) inQuote = b;
        else if (b === GT) depth--;
        else if (b === LT) {
          let comment = true;
          for (const expected of Buffer.from('!--')) {
            b = this.mustgetc();
            if (b !== expected) {
              depth++;
              again = true;
              comment = false;
              break;
            }
          }
          if (comment) this.skipDirectiveComment();
        }
      }
    }
  }

  /** A comment inside a directive, after its `<!--`: everything up to `-->`. */
  private skipDirectiveComment(): void {
    let b0 = 0;
    let b1 = 0;
    for (;;) {
      const b = this.mustgetc();
      if (b0 === DASH && b1 === DASH && b === GT) return;
      b0 = b1;
      b1 = b;
    }
  }

  /** After `<`: the name and attributes of an element (`<meta name=go-import content="...">`, `<br/>`). */
  private startElement(): XmlToken {
    const name = this.name();
    if (name === null) throw this.syntaxError('expected element name after <');
    const attrs: Array<{ name: string; value: string }> = [];
    for (;;) {
      this.space();
      let b = this.mustgetc();
      if (b === SLASH) {
        if (this.mustgetc() !== GT) throw this.syntaxError('expected /> in element');
        this.closing = localName(name);
        break;
      }
      if (b === GT) break;
      this.ungetc(b);
      const attr = this.name();
      if (attr === null) throw this.syntaxError('expected attribute name in element');
      this.space();
      b = this.mustgetc();
      if (b !== 0x3d) {
        // Lax mode: `<option selected>` is `selected="selected"`.
        this.ungetc(b);
        attrs.push({ name: localName(attr), value: localName(attr) });
        continue;
      }
      this.space();
      attrs.push({ name: localName(attr), value: this.attributeValue() });
    }
    return { kind: 'start', name: localName(name), attrs };
  }

  private attributeValue(): string {
    const b = this.mustgetc();
    if (b === QUOTE || b === APOS) return Buffer.from(this.text(b, false)).toString('utf8');
    this.ungetc(b);
    const value = new Bytes();
    for (;;) {
      const c = this.mustgetc();
      if (!isUnquotedValueByte(c)) {
        this.ungetc(c);
        return Buffer.from(value.view()).toString('latin1');
      }
      value.push(c);
    }
  }
}
