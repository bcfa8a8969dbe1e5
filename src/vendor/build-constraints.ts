// Build constraints as `go mod vendor` reads them. go vendors every file any build could use, so it
// evaluates a file's `//go:build` or `// +build` lines with every tag satisfied except `ignore`
// (cmd/go's imports.AnyTags): only a file that cannot build under any tags but `ignore` is left out.
// The expression grammar is go/build/constraint's; the header rules are cmd/go/internal/imports'.

/** A parsed build-constraint expression. */
type Expr = { kind: 'tag'; tag: string } | { kind: 'not'; x: Expr } | { kind: 'and' | 'or'; x: Expr; y: Expr };

class ConstraintSyntaxError extends Error {}

// unicode.IsLetter and unicode.IsDigit, go's test for tag characters besides '_' and '.'.
const tagChar = /[\p{L}\p{Nd}_.]/u;

function isValidTag(word: string): boolean {
  if (word === '') return false;
  for (const c of word) if (!tagChar.test(c)) return false;
  return true;
}

// Go's strings.TrimSpace: ASCII white space plus U+0085, U+00A0 and the Unicode spaces.
const goSpace = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const leadingSpace = new RegExp(`^[${goSpace}]+`, 'u');
const trailingSpace = new RegExp(`[${goSpace}]+$`, 'u');
const spaceRun = new RegExp(`[${goSpace}]+`, 'u');

function trimSpace(s: string): string {
  return s.replace(leadingSpace, '').replace(trailingSpace, '');
}

/** The words after `// +build`, or null when `line` is not such a line. */
function splitPlusBuild(line: string): string | null {
  if (line.endsWith('\n')) line = line.slice(0, -1);
  if (line.includes('\n') || !line.startsWith('//')) return null;
  const text = trimSpace(line.slice(2));
  if (!text.startsWith('+build')) return null;
  const rest = text.slice('+build'.length);
  const trimmed = trimSpace(rest);
  if (rest.length === trimmed.length && rest !== '') return null;
  return trimmed;
}

/** Parses a `//go:build` expression: `||` below `&&` below `!`, parentheses, tags. */
function parseGoBuildExpr(text: string): Expr {
  let at = 0;
  let token = '';
  let isTag = false;
  const next = (): void => {
    isTag = false;
    while (at < text.length && (text[at] === ' ' || text[at] === '\t')) at++;
    if (at >= text.length) {
      token = '';
      return;
    }
    const c = text[at]!;
    if (c === '(' || c === ')' || c === '!') {
      token = c;
      at++;
      return;
    }
    if (c === '&' || c === '|') {
      if (text[at + 1] !== c) throw new ConstraintSyntaxError(`invalid syntax at ${c}`);
      token = c + c;
      at += 2;
      return;
    }
    let end = at;
    for (const ch of text.slice(at)) {
      if (!tagChar.test(ch)) break;
      end += ch.length;
    }
    if (end === at) throw new ConstraintSyntaxError(`invalid syntax at ${String.fromCodePoint(text.codePointAt(at)!)}`);
    token = text.slice(at, end);
    at = end;
    isTag = true;
  };
  const or = (): Expr => {
    let x = and();
    while (token === '||') x = { kind: 'or', x, y: and() };
    return x;
  };
  const and = (): Expr => {
    let x = not();
    while (token === '&&') x = { kind: 'and', x, y: not() };
    return x;
  };
  const not = (): Expr => {
    next();
    if (token !== '!') return atom();
    next();
    if (token === '!') throw new ConstraintSyntaxError('double negation not allowed');
    return { kind: 'not', x: atom() };
  };
  // The token after a nested parse (a read TypeScript would otherwise take for the one before it).
  const current = (): string => token;
  const atom = (): Expr => {
    if (token === '(') {
      const x = or();
      if (current() !== ')') throw new ConstraintSyntaxError('missing close paren');
      next();
      return x;
    }
    if (!isTag) throw new ConstraintSyntaxError(token === '' ? 'unexpected end of expression' : `unexpected token ${token}`);
    const tag = token;
    next();
    return { kind: 'tag', tag };
  };
  const x = or();
  if (token !== '') throw new ConstraintSyntaxError(`unexpected token ${token}`);
  return x;
}

/**
 * A `// +build` line's words: spaces separate alternatives, commas join conditions, `!` negates; a
 * word that is not a valid tag (`!!x`, a lone `!`, punctuation) stands for the tag `ignore`.
 */
function parsePlusBuildExpr(text: string): Expr {
  let x: Expr | null = null;
  for (const clause of text.split(spaceRun).filter((w) => w !== '')) {
    let y: Expr | null = null;
    for (let lit of clause.split(',')) {
      let z: Expr;
      if (lit.startsWith('!!') || lit === '!') {
        z = { kind: 'tag', tag: 'ignore' };
      } else {
        const negated = lit.startsWith('!');
        if (negated) lit = lit.slice(1);
        z = { kind: 'tag', tag: isValidTag(lit) ? lit : 'ignore' };
        if (negated) z = { kind: 'not', x: z };
      }
      y = y === null ? z : { kind: 'and', x: y, y: z };
    }
    if (y !== null) x = x === null ? y : { kind: 'or', x, y };
  }
  return x ?? { kind: 'tag', tag: 'ignore' };
}

/**
 * cmd/go's eval under AnyTags: a tag other than `ignore` takes whichever value lets the file build
 * (`prefer`, flipped under each `!`), so `linux && !linux` builds and only `ignore` can exclude.
 */
function evalAnyTags(x: Expr, prefer: boolean): boolean {
  switch (x.kind) {
    case 'tag':
      return isValidTag(x.tag) && x.tag !== 'ignore' ? prefer : false;
    case 'not':
      return !evalAnyTags(x.x, !prefer);
    case 'and':
      return evalAnyTags(x.x, prefer) && evalAnyTags(x.y, prefer);
    case 'or':
      return evalAnyTags(x.x, prefer) || evalAnyTags(x.y, prefer);
  }
}

/** Whether a trimmed line is a `//go:build` comment: the word followed by space or nothing (then the rest is the expression). */
function isGoBuildComment(line: string): boolean {
  if (!line.startsWith('//go:build')) return false;
  const rest = line.slice('//go:build'.length);
  return rest.length === 0 || trimSpace(rest).length < rest.length;
}

/**
 * The leading part of a Go file that may hold `// +build` lines (up to the last blank line before the
 * first line that is not a `//` comment) and its `//go:build` line; null when it has two of those.
 */
function fileHeader(text: string): { plusBuildPart: string; goBuild: string | null } | null {
  let end = 0;
  let goBuild: string | null = null;
  let ended = false;
  let inBlockComment = false;
  let offset = 0;
  lines: while (offset < text.length) {
    const newline = text.indexOf('\n', offset);
    const raw = newline < 0 ? text.slice(offset) : text.slice(offset, newline);
    offset = newline < 0 ? text.length : newline + 1;
    let line = trimSpace(raw);
    if (line === '' && !ended) {
      end = offset;
      continue;
    }
    if (!line.startsWith('//')) ended = true;
    if (!inBlockComment && isGoBuildComment(line)) {
      if (goBuild !== null) return null;
      goBuild = line;
    }
    // What follows comments on this line decides whether the header goes on.
    while (line.length > 0) {
      if (inBlockComment) {
        const close = line.indexOf('*/');
        if (close < 0) continue lines;
        inBlockComment = false;
        line = trimSpace(line.slice(close + 2));
        continue;
      }
      if (line.startsWith('//')) continue lines;
      if (line.startsWith('/*')) {
        inBlockComment = true;
        line = trimSpace(line.slice(2));
        continue;
      }
      break lines;
    }
  }
  return { plusBuildPart: text.slice(0, end), goBuild };
}

/**
 * Whether `go mod vendor` keeps a Go file with this header (the text up to the end of its imports):
 * false only when its build constraints need the tag `ignore` under every choice of the other tags,
 * when its `//go:build` line does not parse, or when it has two `//go:build` lines.
 */
export function buildsWithAnyTags(header: Uint8Array): boolean {
  const text = Buffer.from(header.buffer, header.byteOffset, header.byteLength).toString('utf8');
  const parsed = fileHeader(text);
  if (parsed === null) return false;
  if (parsed.goBuild !== null) {
    try {
      return evalAnyTags(parseGoBuildExpr(trimSpace(parsed.goBuild.slice('//go:build'.length))), true);
    } catch (err) {
      if (err instanceof ConstraintSyntaxError) return false;
      throw err;
    }
  }
  for (const raw of parsed.plusBuildPart.split('\n')) {
    const line = trimSpace(raw);
    if (!line.startsWith('//') || !line.includes('+build')) continue;
    const words = splitPlusBuild(line);
    if (words !== null && !evalAnyTags(parsePlusBuildExpr(words), true)) return false;
  }
  return true;
}
