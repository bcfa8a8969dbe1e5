// What the go command reads of a Go source file without parsing it: the package clause, the import
// declarations and the header they end (cmd/go/internal/imports' ReadImports, go/build's readGoInfo),
// and the `//go:embed` patterns further down. It is a small tokenizer that must agree with go byte
// for byte: which imports it sees decides which packages are vendored, and where it stops decides
// which comment lines count as build constraints.
import { goUnquote } from '../module/modsyntax.js';

/** What the start of a Go file says. */
export interface GoFileHeader {
  /** The name in the package clause; '' when the file does not start with one. */
  packageName: string;
  /** The import paths, unquoted, in file order (those that do not unquote are left out, as go does). */
  imports: string[];
  /**
   * The bytes read: up to the end of the imports, or the whole file when they do not parse. The build
   * constraints are read from here.
   */
  header: Buffer;
  /** True when the package clause or the imports do not parse (go then reads the whole file as header). */
  syntaxError: boolean;
  /** True when a NUL byte was met: go refuses such a file outright. */
  nul: boolean;
}

const NL = 0x0a;
const SLASH = 0x2f;
const STAR = 0x2a;
const BACKQUOTE = 0x60;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const BACKSLASH = 0x5c;

function isIdent(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c >= 0x80;
}

function bomLength(data: Uint8Array): number {
  return data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
}

/**
 * A byte cursor with go's import reader's rules: a NUL byte is an error, semicolons are spaces, `peek`
 * holds the last byte read and not yet taken (0 for none), and after the first error every read
 * answers 0.
 */
class ImportReader {
  pos: number;
  peeked = 0;
  error: 'syntax' | 'nul' | null = null;
  eof = false;

  constructor(readonly data: Uint8Array) {
    this.pos = bomLength(data);
  }

  syntaxError(): void {
    this.error ??= 'syntax';
  }

  readByte(): number {
    if (this.pos >= this.data.length) {
      this.eof = true;
      return 0;
    }
    const c = this.data[this.pos++]!;
    if (c === 0) this.error ??= 'nul';
    return c;
  }

  /** The next byte, after spaces and comments when `skipSpace`; it stays the next until taken. */
  peekByte(skipSpace: boolean): number {
    if (this.error !== null) return 0;
    let c = this.peeked === 0 ? this.readByte() : this.peeked;
    while (this.error === null && !this.eof && skipSpace) {
      if (c === 0x20 || c === 0x0c || c === 0x09 || c === 0x0d || c === NL || c === 0x3b) {
        c = this.readByte();
        continue;
      }
      if (c !== SLASH) break;
      c = this.readByte();
      if (c === SLASH) {
        while (c !== NL && this.error === null && !this.eof) c = this.readByte();
      } else if (c === STAR) {
        let c1 = 0;
        while ((c !== STAR || c1 !== SLASH) && this.error === null) {
          if (this.eof) this.syntaxError();
          c = c1;
          c1 = this.readByte();
        }
      } else {
        this.syntaxError();
      }
      c = this.readByte();
    }
    this.peeked = c;
    return c;
  }

  nextByte(skipSpace: boolean): number {
    const c = this.peekByte(skipSpace);
    this.peeked = 0;
    return c;
  }

  readKeyword(keyword: string): void {
    this.peekByte(true);
    for (let i = 0; i < keyword.length; i++) {
      if (this.nextByte(false) !== keyword.charCodeAt(i)) {
        this.syntaxError();
        return;
      }
    }
    if (isIdent(this.peekByte(false))) this.syntaxError();
  }

  /** Reads an identifier and returns it ('' after an error). */
  readIdent(): string {
    if (!isIdent(this.peekByte(true))) {
      this.syntaxError();
      return '';
    }
    const start = this.pos - 1;
    while (isIdent(this.peekByte(false))) this.peeked = 0;
    // The byte that ended it was read too, unless the file ended.
    const end = this.eof ? this.pos : this.pos - 1;
    return Buffer.from(this.data.buffer, this.data.byteOffset + start, end - start).toString('utf8');
  }

  /** Reads a quoted string and returns it with its quotes, or null after a syntax error. */
  readString(): string | null {
    const open = this.nextByte(true);
    if (open !== BACKQUOTE && open !== QUOTE) {
      this.syntaxError();
      return null;
    }
    const start = this.pos - 1;
    while (this.error === null) {
      const c = this.nextByte(false);
      if (c === open) return Buffer.from(this.data.buffer, this.data.byteOffset + start, this.pos - start).toString('utf8');
      if (this.eof || (open === QUOTE && c === NL)) this.syntaxError();
      if (open === QUOTE && c === BACKSLASH) this.nextByte(false);
    }
    return null;
  }

  /** An import spec: an optional name or `.`, then the quoted path. */
  readImport(quoted: string[]): void {
    const c = this.peekByte(true);
    if (c === 0x2e) this.peeked = 0;
    else if (isIdent(c)) this.readIdent();
    const path = this.readString();
    if (path !== null) quoted.push(path);
  }
}

/** strconv.Unquote of an import path: a raw string loses its carriage returns; null when malformed. */
function unquote(quoted: string): string | null {
  if (quoted.startsWith('`')) return quoted.slice(1, -1).replaceAll('\r', '');
  return goUnquote(quoted);
}

/**
 * Reads the package clause and imports of a Go file as go does before it decides anything about the
 * file. A syntax error is not fatal: the imports read so far count and the whole file is the header.
 */
export function readGoHeader(data: Uint8Array): GoFileHeader {
  const r = new ImportReader(data);
  const start = r.pos;
  const quoted: string[] = [];
  r.readKeyword('package');
  const packageName = r.readIdent();
  while (r.peekByte(true) === 0x69) {
    r.readKeyword('import');
    if (r.peekByte(true) === 0x28) {
      r.nextByte(false);
      while (r.peekByte(true) !== 0x29 && r.error === null) r.readImport(quoted);
      r.nextByte(false);
    } else {
      r.readImport(quoted);
    }
  }
  let end = r.pos;
  let syntaxError = false;
  if (r.error === null && !r.eof) {
    // The byte that ended the imports belongs to what follows them.
    end = r.pos - 1;
  } else if (r.error === 'syntax') {
    syntaxError = true;
    r.error = null;
    while (r.error === null && !r.eof) r.readByte();
    end = r.pos;
  }
  const imports: string[] = [];
  for (const q of quoted) {
    const path = unquote(q);
    if (path !== null) imports.push(path);
  }
  return {
    packageName,
    imports,
    header: Buffer.from(data.buffer, data.byteOffset + start, end - start),
    syntaxError,
    nul: r.error === 'nul',
  };
}

// unicode.IsSpace.
const goSpace = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const leadingSpace = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/**
 * The patterns of one `//go:embed` line (the text after the directive): space-separated words,
 * double-quoted or back-quoted Go strings. null when the line is malformed: go then ignores it and
 * leaves the compiler to complain.
 */
export function parseEmbedLine(args: string): string[] | null {
  const patterns: string[] = [];
  for (args = args.replace(leadingSpace, ''); args !== ''; args = args.replace(leadingSpace, '')) {
    let pattern: string;
    if (args[0] === '`') {
      const close = args.indexOf('`', 1);
      if (close < 0) return null;
      pattern = args.slice(1, close);
      args = args.slice(close + 1);
    } else if (args[0] === '"') {
      let i = 1;
      for (; i < args.length; i++) {
        if (args[i] === '\\') {
          i++;
          continue;
        }
        if (args[i] === '"') break;
      }
      if (i >= args.length) return null;
      const value = goUnquote(args.slice(0, i + 1));
      if (value === null) return null;
      pattern = value;
      args = args.slice(i + 1);
    } else {
      const space = args.search(goSpace);
      const end = space < 0 ? args.length : space;
      pattern = args.slice(0, end);
      args = args.slice(end);
    }
    if (args !== '' && !goSpace.test(String.fromCodePoint(args.codePointAt(0)!))) return null;
    patterns.push(pattern);
  }
  return patterns;
}

const GO_EMBED = Buffer.from('go:embed');

/**
 * Every pattern of the `//go:embed` lines of a Go file, in order, as go/build finds them in a file that
 * imports "embed": a `//go:embed` comment that starts a line (after spaces or tabs only) and is followed
 * by a space or tab, outside strings, runes and block comments. Scanning stops at a NUL byte or at an
 * unterminated string or comment; malformed lines are skipped.
 */
export function findEmbedPatterns(data: Uint8Array): string[] {
  const patterns: string[] = [];
  let pos = bomLength(data);
  let failed = false;
  let eof = false;
  const read = (): number => {
    if (pos >= data.length) {
      eof = true;
      return 0;
    }
    const c = data[pos++]!;
    if (c === 0) failed = true;
    return c;
  };
  // Skips a quoted string or rune whose opening quote was read; false when it never ends.
  const skipQuoted = (quote: number, escapes: boolean): boolean => {
    for (;;) {
      if (eof || failed) return false;
      const c = read();
      if (eof || failed) return false;
      if (escapes && c === BACKSLASH) {
        read();
        if (eof || failed) return false;
        continue;
      }
      if (c === quote) return true;
    }
  };
  // go/build starts this scan where the import scan stopped, which is mid-line.
  let startLine = false;
  let c = read();
  while (!failed && !eof) {
    switch (c) {
      case NL:
        startLine = true;
        break;
      case 0x20:
      case 0x09:
        break;
      case QUOTE:
      case APOSTROPHE:
      case BACKQUOTE:
        startLine = false;
        if (!skipQuoted(c, c !== BACKQUOTE)) return patterns;
        break;
      case SLASH: {
        c = read();
        if (c === STAR) {
          let c1 = 0;
          while ((c !== STAR || c1 !== SLASH) && !failed) {
            if (eof) return patterns;
            c = c1;
            c1 = read();
          }
          startLine = false;
          break;
        }
        if (c !== SLASH) {
          // Not a comment: look at this byte again.
          startLine = false;
          continue;
        }
        let directive = startLine;
        for (let i = 0; directive && i < GO_EMBED.length; i++) {
          c = read();
          if (c !== GO_EMBED[i]) directive = false;
        }
        if (directive) {
          c = read();
          if (c === 0x20 || c === 0x09) {
            const lineStart = pos;
            while (!failed && !eof && data[pos] !== NL) read();
            // A NUL byte ends the line without joining it.
            const end = failed ? pos - 1 : pos;
            const line = Buffer.from(data.buffer, data.byteOffset + lineStart, end - lineStart).toString('utf8');
            patterns.push(...(parseEmbedLine(line) ?? []));
            if (!eof && !failed) read();
            startLine = true;
            c = read();
            continue;
          }
        }
        while (c !== NL && !failed && !eof) c = read();
        startLine = true;
        break;
      }
      default:
        startLine = false;
    }
    c = read();
  }
  return patterns;
}
