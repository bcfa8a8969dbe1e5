// The syntax layer shared by go.mod and go.work, modelled on golang.org/x/mod/modfile's read.go and
// print.go: a lexer and parser that keep every comment, and the canonical printer (modfile.Format).
// Directive meaning lives in gomod.ts and gowork.ts; nothing here knows what `require` is.

import { GodepotError } from '../errors.js';
import { goQuote, goQuoteRune } from './quote.js';

/** A place in the input: line and rune column start at 1, byte (UTF-8 offset) at 0. */
export interface Position {
  line: number;
  lineRune: number;
  byte: number;
}

/** One `//` comment, without its newline; `suffix` marks an end-of-line comment. */
export interface Comment {
  start: Position;
  token: string;
  suffix: boolean;
}

/**
 * The comments attached to a piece of syntax. A `before` entry with an empty token stands for a blank
 * line, which is how the printer keeps blank lines inside blocks.
 */
export interface Comments {
  before: Comment[];
  suffix: Comment[];
  after: Comment[];
}

/** A run of whole-line comments that belongs to no directive. */
export interface CommentBlock {
  kind: 'comments';
  comments: Comments;
  start: Position;
}

/** One line of tokens: a directive on its own (`require a v1.0.0`) or a line inside a block. */
export interface Line {
  kind: 'line';
  comments: Comments;
  start: Position;
  /** The tokens as written (quoted strings keep their quotes); empty once the line is removed. */
  token: string[];
  inBlock: boolean;
  end: Position;
}

/** The `(` or `)` of a block, kept as a node so comments can attach to it. */
export interface Paren {
  comments: Comments;
  pos: Position;
}

/** A factored block such as `require ( ... )`. */
export interface LineBlock {
  kind: 'block';
  comments: Comments;
  start: Position;
  lparen: Paren;
  token: string[];
  line: Line[];
  rparen: Paren;
}

/** A top-level statement. */
export type Stmt = CommentBlock | Line | LineBlock;

/** A whole go.mod or go.work file as written: statements and comments, no meaning attached. */
export interface FileSyntax {
  name: string;
  comments: Comments;
  stmt: Stmt[];
}

/** One problem in a go.mod or go.work file, located as go locates it. */
export interface ModFileProblem {
  filename: string;
  /** 1-based line, or 0 when go reports no position. */
  line: number;
  /** 1-based rune column; go prints it only when it is past the start of the line. */
  column: number;
  /** The directive, printed before the module path when `modulePath` is set (`require x: ...`). */
  verb: string;
  modulePath: string;
  /** The text after the position and directive prefixes. */
  reason: string;
}

/** Renders one problem exactly as modfile.Error.Error does: `go.mod:5:2: require x: reason`. */
function problemText(p: ModFileProblem): string {
  let pos = '';
  if (p.column > 1) pos = `${p.filename}:${p.line}:${p.column}: `;
  else if (p.line > 0) pos = `${p.filename}:${p.line}: `;
  else if (p.filename !== '') pos = `${p.filename}: `;
  let directive = '';
  if (p.modulePath !== '') directive = `${p.verb} ${p.modulePath}: `;
  else if (p.verb !== '') directive = `${p.verb}: `;
  return pos + directive + p.reason;
}

/**
 * A go.mod or go.work file could not be read: bad syntax, an unknown directive, or a malformed path or
 * version in a directive. `problems` lists every problem found; the message joins them with newlines,
 * word for word as go prints them.
 */
export class GoModSyntaxError extends GodepotError {
  readonly code = 'GOMOD_SYNTAX';
  readonly problems: readonly ModFileProblem[];

  constructor(problems: readonly ModFileProblem[]) {
    super(problems.map(problemText).join('\n'));
    this.problems = problems;
  }

  /** The file named in the first problem. */
  get filename(): string {
    return this.problems[0]?.filename ?? '';
  }

  /** The line of the first problem (0 when unknown). */
  get line(): number {
    return this.problems[0]?.line ?? 0;
  }

  /** The column of the first problem (0 when unknown). */
  get column(): number {
    return this.problems[0]?.column ?? 0;
  }
}

/** Fresh, empty comment lists. */
export function noComments(): Comments {
  return { before: [], suffix: [], after: [] };
}

const zeroPos: Position = { line: 0, lineRune: 0, byte: 0 };

// --- Lexer --------------------------------------------------------------------------------------

// Token kinds: the punctuation characters stand for themselves, as in go's lexer.
type TokenKind = 'eof' | 'eolcomment' | 'ident' | 'string' | 'comment' | '\n' | '(' | ')' | '[' | ']' | '{' | '}' | ',';

interface Token {
  kind: TokenKind;
  pos: Position;
  endPos: Position;
  text: string;
}

function isEOL(kind: TokenKind): boolean {
  return kind === 'eof' || kind === 'eolcomment' || kind === '\n';
}

// go treats every printable rune (unicode.IsPrint: letters, marks, numbers, punctuation, symbols) as
// part of an identifier, except the punctuation that has a meaning of its own.
const printableNonSpace = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function isIdent(ch: string): boolean {
  switch (ch) {
    case '(': case ')': case '[': case ']': case '{': case '}': case ',':
      return false;
  }
  return printableNonSpace.test(ch);
}

function utf8Len(cp: number): number {
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

// Thrown inside the parser to unwind at the first syntax error, as go's parser panics; never escapes.
class SyntaxStop {
  constructor(readonly problem: ModFileProblem) {}
}

class Parser {
  private rest = 0; // index into text of the next unread character
  private pos: Position = { line: 1, lineRune: 1, byte: 0 };
  private tokenStart = 0;
  private token: Token = { kind: 'eof', pos: zeroPos, endPos: zeroPos, text: '' };
  // End-of-line comments, attached to syntax once the whole file is parsed.
  private readonly suffixComments: Comment[] = [];
  private readonly file: FileSyntax;

  constructor(
    private readonly filename: string,
    private readonly text: string,
  ) {
    this.file = { name: filename, comments: noComments(), stmt: [] };
  }

  run(): FileSyntax {
    this.readToken();
    this.parseFile();
    this.assignComments();
    return this.file;
  }

  private fail(reason: string): never {
    throw new SyntaxStop({
      filename: this.filename,
      line: this.pos.line,
      column: this.pos.lineRune,
      verb: '',
      modulePath: '',
      reason,
    });
  }

  private eof(): boolean {
    return this.rest >= this.text.length;
  }

  private peekRune(): string {
    const cp = this.text.codePointAt(this.rest);
    return cp === undefined ? '' : String.fromCodePoint(cp);
  }

  private peekPrefix(prefix: string): boolean {
    return this.text.startsWith(prefix, this.rest);
  }

  private readRune(): string {
    const cp = this.text.codePointAt(this.rest);
    if (cp === undefined) this.fail('internal lexer error: readRune at EOF');
    const ch = String.fromCodePoint(cp);
    this.rest += ch.length;
    if (ch === '\n') {
      this.pos = { line: this.pos.line + 1, lineRune: 1, byte: this.pos.byte + 1 };
    } else {
      this.pos = { line: this.pos.line, lineRune: this.pos.lineRune + 1, byte: this.pos.byte + utf8Len(cp) };
    }
    return ch;
  }

  private startToken(): void {
    this.tokenStart = this.rest;
    this.token = { kind: 'eof', pos: this.pos, endPos: this.pos, text: '' };
  }

  private endToken(kind: TokenKind): void {
    let text = this.text.slice(this.tokenStart, this.rest);
    if (kind === 'comment' || kind === 'eolcomment') {
      // A comment token swallows its newline; only that newline (LF or CRLF) is dropped from its text.
      if (text.endsWith('\r\n')) text = text.slice(0, -2);
      else if (text.endsWith('\n')) text = text.slice(0, -1);
    }
    this.token = { kind, pos: this.token.pos, endPos: this.pos, text };
  }

  private peek(): TokenKind {
    return this.token.kind;
  }

  private lex(): Token {
    const tok = this.token;
    this.readToken();
    return tok;
  }

  private readToken(): void {
    while (!this.eof()) {
      const c = this.peekRune();
      if (c === ' ' || c === '\t' || c === '\r') {
        this.readRune();
        continue;
      }
      if (this.peekPrefix('//')) {
        this.startToken();
        // A comment is an end-of-line comment when something other than blanks precedes it on its line.
        // The lexer skips only spaces, tabs and CRs, so anything else there was a token.
        const lineStart = this.text.lastIndexOf('\n', this.rest - 1) + 1;
        const suffix = /[^ \t\r]/.test(this.text.slice(lineStart, this.rest));
        this.readRune();
        this.readRune();
        while (!this.eof() && this.readRune() !== '\n') {
          // consume the comment through its newline
        }
        if (!suffix) {
          this.endToken('comment');
          return;
        }
        this.endToken('eolcomment');
        this.suffixComments.push({ start: this.token.pos, token: this.token.text, suffix: true });
        return;
      }
      if (this.peekPrefix('/*')) this.fail('mod files must use // comments (not /* */ comments)');
      break;
    }

    this.startToken();
    if (this.eof()) {
      this.endToken('eof');
      return;
    }

    const c = this.peekRune();
    switch (c) {
      case '\n': case '(': case ')': case '[': case ']': case '{': case '}': case ',':
        this.readRune();
        this.endToken(c);
        return;
      case '"': case '`': {
        this.readRune();
        for (;;) {
          if (this.eof()) {
            this.pos = this.token.pos;
            this.fail('unexpected EOF in string');
          }
          if (this.peekRune() === '\n') this.fail('unexpected newline in string');
          const r = this.readRune();
          if (r === c) break;
          if (r === '\\' && c !== '`') {
            if (this.eof()) {
              this.pos = this.token.pos;
              this.fail('unexpected EOF in string');
            }
            this.readRune();
          }
        }
        this.endToken('string');
        return;
      }
    }

    if (!isIdent(c)) this.fail(`unexpected input character ${goQuoteRune(c)}`);
    while (!this.eof() && isIdent(this.peekRune())) {
      if (this.peekPrefix('//')) break;
      if (this.peekPrefix('/*')) this.fail('mod files must use // comments (not /* */ comments)');
      this.readRune();
    }
    this.endToken('ident');
  }

  // --- Grammar ----------------------------------------------------------------------------------

  private parseFile(): void {
    let cb: CommentBlock | null = null;
    for (;;) {
      switch (this.peek()) {
        case '\n':
          this.lex();
          if (cb !== null) {
            this.file.stmt.push(cb);
            cb = null;
          }
          break;
        case 'comment': {
          const tok = this.lex();
          cb ??= { kind: 'comments', comments: noComments(), start: tok.pos };
          cb.comments.before.push({ start: tok.pos, token: tok.text, suffix: false });
          break;
        }
        case 'eof':
          if (cb !== null) this.file.stmt.push(cb);
          return;
        default:
          this.parseStmt();
          if (cb !== null) {
            // Comments directly above a statement belong to it.
            this.file.stmt[this.file.stmt.length - 1]!.comments.before = cb.comments.before;
            cb = null;
          }
      }
    }
  }

  private parseStmt(): void {
    const first = this.lex();
    const start = first.pos;
    let end = first.endPos;
    const tokens = [first.text];
    for (;;) {
      const tok = this.lex();
      if (isEOL(tok.kind)) {
        this.file.stmt.push({ kind: 'line', comments: noComments(), start, token: tokens, inBlock: false, end });
        return;
      }
      if (tok.kind === '(') {
        const next = this.peek();
        if (isEOL(next)) {
          // `verb (` and nothing else on the line: a block starts.
          this.file.stmt.push(this.parseLineBlock(start, tokens, tok));
          return;
        }
        if (next === ')') {
          const rparen = this.lex();
          if (isEOL(this.peek())) {
            this.lex();
            this.file.stmt.push({
              kind: 'block',
              comments: noComments(),
              start,
              token: tokens,
              lparen: { comments: noComments(), pos: tok.pos },
              line: [],
              rparen: { comments: noComments(), pos: rparen.pos },
            });
            return;
          }
          // `( )` in the middle of a line is two ordinary tokens.
          tokens.push(tok.text, rparen.text);
        } else {
          tokens.push(tok.text);
        }
        continue;
      }
      tokens.push(tok.text);
      end = tok.endPos;
    }
  }

  private parseLineBlock(start: Position, token: string[], lparen: Token): LineBlock {
    const block: LineBlock = {
      kind: 'block',
      comments: noComments(),
      start,
      token,
      lparen: { comments: noComments(), pos: lparen.pos },
      line: [],
      rparen: { comments: noComments(), pos: zeroPos },
    };
    let comments: Comment[] = [];
    for (;;) {
      switch (this.peek()) {
        case 'eolcomment':
          // Attached later, with the other end-of-line comments.
          this.lex();
          break;
        case '\n': {
          this.lex();
          // A blank line becomes an empty comment so that it survives formatting; runs collapse to one,
          // and blank lines before the first line of the block are dropped.
          const last = comments[comments.length - 1];
          if ((comments.length === 0 && block.line.length > 0) || (last !== undefined && last.token !== '')) {
            comments.push({ start: zeroPos, token: '', suffix: false });
          }
          break;
        }
        case 'comment': {
          const tok = this.lex();
          comments.push({ start: tok.pos, token: tok.text, suffix: false });
          break;
        }
        case 'eof':
          this.fail(`syntax error (unterminated block started at ${this.filename}:${start.line}:${start.lineRune})`);
        case ')': {
          const rparen = this.lex();
          // A lone blank line before `)` is not kept.
          if (comments.length === 1 && comments[0]!.token === '') comments = [];
          block.rparen.comments.before = comments;
          block.rparen.pos = rparen.pos;
          if (!isEOL(this.peek())) this.fail('syntax error (expected newline after closing paren)');
          this.lex();
          return block;
        }
        default: {
          const line = this.parseLine();
          line.comments.before = comments;
          block.line.push(line);
          comments = [];
        }
      }
    }
  }

  private parseLine(): Line {
    const first = this.lex();
    if (isEOL(first.kind)) this.fail('internal parse error: parseLine at end of line');
    const start = first.pos;
    let end = first.endPos;
    const tokens = [first.text];
    for (;;) {
      const tok = this.lex();
      if (isEOL(tok.kind)) {
        return { kind: 'line', comments: noComments(), start, token: tokens, inBlock: true, end };
      }
      tokens.push(tok.text);
      end = tok.endPos;
    }
  }

  // --- Comment attachment -----------------------------------------------------------------------

  // Each end-of-line comment goes to the last node that ends before it on a single line. Whole-line
  // comments never reach here: the grammar has already placed them.
  private assignComments(): void {
    const post: { comments: Comments; start: Position; end: Position }[] = [];
    for (const stmt of this.file.stmt) {
      switch (stmt.kind) {
        case 'comments':
          post.push({ comments: stmt.comments, start: stmt.start, end: stmt.start });
          break;
        case 'line':
          post.push({ comments: stmt.comments, start: stmt.start, end: stmt.end });
          break;
        case 'block':
          post.push({ comments: stmt.lparen.comments, start: stmt.lparen.pos, end: afterParen(stmt.lparen.pos) });
          for (const line of stmt.line) post.push({ comments: line.comments, start: line.start, end: line.end });
          post.push({ comments: stmt.rparen.comments, start: stmt.rparen.pos, end: afterParen(stmt.rparen.pos) });
          post.push({ comments: stmt.comments, start: stmt.start, end: afterParen(stmt.rparen.pos) });
          break;
      }
    }

    const suffix = this.suffixComments.slice();
    for (let i = post.length - 1; i >= 0; i--) {
      const node = post[i]!;
      // A node spanning lines (a block) passes its comments to the last thing inside it.
      if (node.start.line !== node.end.line) continue;
      for (;;) {
        const last = suffix[suffix.length - 1];
        if (last === undefined || node.end.byte > last.start.byte) break;
        node.comments.suffix.unshift(last);
        suffix.pop();
      }
    }
    // Whatever is left (impossible for well-formed input) goes to the top of the file.
    this.file.comments.before.push(...suffix);
  }
}

function afterParen(pos: Position): Position {
  return { line: pos.line, lineRune: pos.lineRune + 1, byte: pos.byte + 1 };
}

// Go reads files as bytes. Keep a byte-order mark as a character (go rejects it) instead of dropping it.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Decodes file bytes the way go sees them; invalid UTF-8 becomes U+FFFD. */
function decodeModFile(data: string | Uint8Array): string {
  return typeof data === 'string' ? data : utf8.decode(data);
}

/**
 * Parses go.mod/go.work syntax (tokens, blocks, comments) without interpreting directives.
 * Throws GoModSyntaxError at the first syntax error, as go stops there.
 */
export function parseSyntax(filename: string, data: string | Uint8Array): FileSyntax {
  try {
    return new Parser(filename, decodeModFile(data)).run();
  } catch (err) {
    if (err instanceof SyntaxStop) throw new GoModSyntaxError([err.problem]);
    throw err;
  }
}

// --- Printer ------------------------------------------------------------------------------------

// unicode.IsSpace, which differs from JavaScript's \s: U+0085 is space to go, U+FEFF is not.
const goSpace = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const goTrimRe = new RegExp(`^${goSpace}+|${goSpace}+$`, 'gu');
const goSpaceRun = new RegExp(`${goSpace}+`, 'u');

/** strings.TrimSpace: trims what go calls white space. */
export function goTrimSpace(s: string): string {
  return s.replace(goTrimRe, '');
}

// The output is kept as finished lines plus the line being written, so that trimming the current
// line and looking back for a blank line stay cheap on large files.
class Printer {
  private readonly lines: string[] = [];
  private cur = '';
  private pending: Comment[] = [];
  private margin = 0;

  text(): string {
    let out = this.lines.map((l) => l + '\n').join('') + this.cur;
    // Drop trailing blank lines, keeping one final newline.
    while (out.endsWith('\n') && (out.length === 1 || out[out.length - 2] === '\n')) out = out.slice(0, -1);
    return out;
  }

  private write(s: string): void {
    this.cur += s;
  }

  private breakLine(): void {
    this.lines.push(this.cur);
    this.cur = '';
  }

  private tabs(): void {
    this.cur += '\t'.repeat(this.margin);
  }

  private trim(): void {
    let n = this.cur.length;
    while (n > 0 && (this.cur[n - 1] === ' ' || this.cur[n - 1] === '\t')) n--;
    this.cur = this.cur.slice(0, n);
  }

  // Ends the current line, flushing pending end-of-line comments; never prints two blank lines in a row
  // or one at the top of the file.
  private newline(): void {
    if (this.pending.length > 0) {
      this.write(' ');
      this.pending.forEach((com, i) => {
        if (i > 0) {
          this.trim();
          this.breakLine();
          this.tabs();
        }
        this.write(goTrimSpace(com.token));
      });
      this.pending = [];
    }
    this.trim();
    const empty = this.lines.length === 0 && this.cur === '';
    const afterBlank = this.cur === '' && this.lines.length >= 2 && this.lines[this.lines.length - 1] === '';
    if (!empty && !afterBlank) this.breakLine();
    this.tabs();
  }

  file(f: FileSyntax): void {
    for (const com of f.comments.before) {
      this.write(goTrimSpace(com.token));
      this.newline();
    }
    f.stmt.forEach((stmt, i) => {
      this.expr(stmt.comments, () => this.stmtBody(stmt));
      if (stmt.kind !== 'comments') this.newline();
      for (const com of stmt.comments.after) {
        this.write(goTrimSpace(com.token));
        this.newline();
      }
      if (i + 1 < f.stmt.length) this.newline();
    });
  }

  private stmtBody(stmt: Stmt): void {
    switch (stmt.kind) {
      case 'comments':
        break;
      case 'line':
        this.tokens(stmt.token);
        break;
      case 'block':
        this.tokens(stmt.token);
        this.write(' ');
        this.expr(stmt.lparen.comments, () => this.write('('));
        this.margin++;
        for (const line of stmt.line) {
          this.newline();
          this.expr(line.comments, () => this.tokens(line.token));
        }
        this.margin--;
        this.newline();
        this.expr(stmt.rparen.comments, () => this.write(')'));
        break;
    }
  }

  private expr(comments: Comments, body: () => void): void {
    if (comments.before.length > 0) {
      // Whole-line comments start at the margin on a line of their own.
      this.trim();
      if (this.cur.length > 0) this.breakLine();
      this.tabs();
      for (const com of comments.before) {
        this.write(goTrimSpace(com.token));
        this.newline();
      }
    }
    body();
    this.pending.push(...comments.suffix);
  }

  // Tokens are separated by one space, except inside brackets and before a comma.
  private tokens(tokens: readonly string[]): void {
    let sep = '';
    for (const t of tokens) {
      if (t === ',' || t === ')' || t === ']' || t === '}') sep = '';
      this.write(sep + t);
      sep = t === '(' || t === '[' || t === '{' ? '' : ' ';
    }
  }
}

/** Prints syntax in the canonical layout, byte for byte as modfile.Format. */
export function formatSyntax(f: FileSyntax): string {
  const p = new Printer();
  p.file(f);
  return p.text();
}

// --- Editing ------------------------------------------------------------------------------------

/** A new line holding `tokens`, with no position or comments. */
export function newLine(tokens: string[], inBlock: boolean): Line {
  return { kind: 'line', comments: noComments(), start: zeroPos, token: tokens, inBlock, end: zeroPos };
}

/**
 * Adds a line with `tokens` (verb first) as modfile's addLine does: next to `hint` (joining or forming a
 * block when the verb matches), else at the end of the last statement with the same verb, else at the
 * end of the file. Returns the new line.
 */
export function addLine(f: FileSyntax, hint: Line | LineBlock | null, tokens: string[]): Line {
  const verb = tokens[0];
  if (hint === null) {
    for (let i = f.stmt.length - 1; i >= 0; i--) {
      const stmt = f.stmt[i]!;
      if (stmt.kind !== 'comments' && stmt.token.length > 0 && stmt.token[0] === verb) {
        hint = stmt;
        break;
      }
    }
  }
  const insertAfter = (i: number): Line => {
    const line = newLine(tokens, false);
    f.stmt.splice(i + 1, 0, line);
    return line;
  };
  if (hint !== null) {
    for (let i = 0; i < f.stmt.length; i++) {
      const stmt = f.stmt[i]!;
      if (stmt.kind === 'line' && stmt === hint) {
        if (stmt.token.length === 0 || stmt.token[0] !== verb) return insertAfter(i);
        // Turn the single line into a block holding it and the new line.
        stmt.inBlock = true;
        const block: LineBlock = {
          kind: 'block',
          comments: noComments(),
          start: zeroPos,
          lparen: { comments: noComments(), pos: zeroPos },
          token: stmt.token.slice(0, 1),
          line: [stmt],
          rparen: { comments: noComments(), pos: zeroPos },
        };
        stmt.token = stmt.token.slice(1);
        f.stmt[i] = block;
        const line = newLine(tokens.slice(1), true);
        block.line.push(line);
        return line;
      }
      if (stmt.kind === 'block') {
        if (stmt === hint) {
          if (stmt.token[0] !== verb) return insertAfter(i);
          const line = newLine(tokens.slice(1), true);
          stmt.line.push(line);
          return line;
        }
        const j = stmt.line.indexOf(hint as Line);
        if (j >= 0) {
          if (stmt.token[0] !== verb) return insertAfter(i);
          const line = newLine(tokens.slice(1), true);
          stmt.line.splice(j + 1, 0, line);
          return line;
        }
      }
    }
  }
  const line = newLine(tokens, false);
  f.stmt.push(line);
  return line;
}

/** Replaces the tokens of `line` (verb first, as if it stood alone; the verb is dropped inside a block). */
export function updateLine(line: Line, tokens: string[]): void {
  line.token = line.inBlock ? tokens.slice(1) : tokens;
}

/** Marks `line` removed, with its end-of-line comment; `cleanup` then drops it. */
export function markRemoved(line: Line): void {
  line.token = [];
  line.comments.suffix = [];
}

/**
 * Drops removed lines and empty blocks, and turns a block left with one line (and no comments before
 * its `)`) back into a single line, keeping that line's object so references to it stay valid.
 */
export function cleanup(f: FileSyntax): void {
  const kept: Stmt[] = [];
  for (const stmt of f.stmt) {
    if (stmt.kind === 'line') {
      if (stmt.token.length > 0) kept.push(stmt);
      continue;
    }
    if (stmt.kind === 'comments') {
      kept.push(stmt);
      continue;
    }
    stmt.line = stmt.line.filter((l) => l.token.length > 0);
    if (stmt.line.length === 0) continue;
    const only = stmt.line[0]!;
    if (stmt.line.length === 1 && stmt.rparen.comments.before.length === 0) {
      only.comments = {
        before: [...stmt.comments.before, ...only.comments.before],
        suffix: [...only.comments.suffix, ...stmt.comments.suffix],
        after: [...only.comments.after, ...stmt.comments.after],
      };
      only.token = [...stmt.token, ...only.token];
      only.inBlock = false;
      only.start = zeroPos;
      only.end = zeroPos;
      kept.push(only);
      continue;
    }
    kept.push(stmt);
  }
  f.stmt = kept;
}

// --- Tokens as values ---------------------------------------------------------------------------

/** Reports whether `s` needs quotes to be read back as the single token `s` (modfile.MustQuote). */
export function mustQuote(s: string): boolean {
  for (const ch of s) {
    switch (ch) {
      case ' ': case '"': case "'": case '`':
        return true;
      case '(': case ')': case '[': case ']': case '{': case '}': case ',':
        // Alone, a bracket or comma is a token of its own; beside anything else it would split the token.
        if (s.length > 1) return true;
        break;
      default:
        if (!printableNonSpace.test(ch)) return true;
    }
  }
  return s === '' || s.includes('//') || s.includes('/*');
}

/** `s` as a go.mod token: bare when that reads back as `s`, else Go-quoted (modfile.AutoQuote). */
export function autoQuote(s: string): string {
  return mustQuote(s) ? goQuote(s) : s;
}

const simpleEscapes: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };
const utf8Encoder = new TextEncoder();

/**
 * Unquotes a double-quoted Go string literal as strconv.Unquote does; null when it is malformed.
 * `\x` and octal escapes make raw bytes; bytes that are not UTF-8 come back as U+FFFD, as go's string
 * would print.
 */
export function goUnquote(quoted: string): string | null {
  if (quoted.length < 2 || !quoted.startsWith('"') || !quoted.endsWith('"')) return null;
  const body = quoted.slice(1, -1);
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    const ch = body[i]!;
    if (ch === '"' || ch === '\n') return null;
    if (ch !== '\\') {
      const cp = body.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      bytes.push(...utf8Encoder.encode(s));
      i += s.length;
      continue;
    }
    const esc = body[i + 1];
    if (esc === undefined) return null;
    i += 2;
    const simple = simpleEscapes[esc];
    if (simple !== undefined) {
      bytes.push(simple);
      continue;
    }
    if (esc === 'x' || esc === 'u' || esc === 'U') {
      const n = esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
      const hex = body.slice(i, i + n);
      if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) return null;
      i += n;
      const v = parseInt(hex, 16);
      if (esc === 'x') {
        bytes.push(v);
        continue;
      }
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null;
      bytes.push(...utf8Encoder.encode(String.fromCodePoint(v)));
      continue;
    }
    if (esc >= '0' && esc <= '7') {
      const oct = body.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(oct)) return null;
      const v = parseInt(oct, 8);
      if (v > 255) return null;
      bytes.push(v);
      i += 2;
      continue;
    }
    return null;
  }
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes));
}

/** strings.Fields: the words of `s` between runs of what go calls white space. */
export function goFields(s: string): string[] {
  return s.split(goSpaceRun).filter((w) => w !== '');
}

// --- Reading directives -------------------------------------------------------------------------
// Plumbing shared by the go.mod and go.work readers.

/**
 * The arguments of a directive: a window onto its line's tokens. Writing an argument writes the token,
 * which is how parsing removes needless quotes and canonicalises versions in the syntax tree.
 */
export class Args {
  constructor(
    private readonly tokens: string[],
    private base: number,
  ) {}

  get length(): number {
    return this.tokens.length - this.base;
  }

  /** The argument at `i` (0-based). */
  at(i: number): string {
    return this.tokens[this.base + i] ?? '';
  }

  /** Rewrites the argument at `i` in the syntax tree. */
  set(i: number, value: string): void {
    this.tokens[this.base + i] = value;
  }

  /** Drops the first `n` arguments from this view. */
  shift(n: number): void {
    this.base += n;
  }
}

/** Collects the problems of one file, positioned at their directive's line, as modfile.ErrorList. */
export class Problems {
  private readonly list: ModFileProblem[] = [];

  constructor(private readonly filename: string) {}

  /** Records a problem at `at`, the start of the offending directive or block. */
  add(at: Position, reason: string, verb = '', modulePath = ''): void {
    this.list.push({ filename: this.filename, line: at.line, column: at.lineRune, verb, modulePath, reason });
  }

  /** Throws GoModSyntaxError when anything was recorded. */
  throwIfAny(): void {
    if (this.list.length > 0) throw new GoModSyntaxError(this.list);
  }
}

/** Thrown by the directive readers: one problem, recorded by `readDirective` at the directive's line. */
export class DirectiveProblem {
  constructor(
    readonly reason: string,
    readonly verb = '',
    readonly modulePath = '',
  ) {}
}

/**
 * Runs `apply` (which reads one directive) and records a DirectiveProblem it throws as a problem at the
 * directive's line, so that one bad directive does not hide the next.
 */
export function readDirective(problems: Problems, line: Line, apply: () => void): void {
  try {
    apply();
  } catch (err) {
    if (!(err instanceof DirectiveProblem)) throw err;
    problems.add(line.start, err.reason, err.verb, err.modulePath);
  }
}

/**
 * The value of a token as modfile's parseString reads it: a double-quoted token is unquoted, a bare one
 * is taken as is. Returns go's reason text instead when the token is malformed.
 */
export function tokenValue(token: string): { value: string } | { reason: string } {
  if (token.startsWith('"')) {
    const value = goUnquote(token);
    return value === null ? { reason: 'invalid syntax' } : { value };
  }
  // Other quote characters are reserved, so that 'x' is an error rather than a path with quotes in it.
  if (/["'`]/.test(token)) return { reason: 'unquoted string cannot contain quote' };
  return { value: token };
}

/** Reads the argument at `i` as a path: unquotes it, and rewrites its token quoted only if needed. */
export function parseQuotedArg(args: Args, i: number): string {
  const read = tokenValue(args.at(i));
  if ('reason' in read) throw new DirectiveProblem(`invalid quoted string: ${read.reason}`);
  args.set(i, autoQuote(read.value));
  return read.value;
}
