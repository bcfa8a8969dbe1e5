// The `go-import` meta tags of a `?go-get=1` page, read and matched as go 1.19 reads and matches them
// in module mode (cmd/go/internal/vcs: parseMetaGoImports with PreferMod, matchGoImport).
import { goQuote } from '../module/quote.js';
import { XmlError, XmlTokenizer } from './xml-tokens.js';

/** One `<meta name="go-import" content="prefix vcs repoRoot">`. */
export interface MetaImport {
  readonly prefix: string;
  /** `git`, `hg`, ..., or `mod`: the prefix is served by the GOPROXY at repoRoot. */
  readonly vcs: string;
  readonly repoRoot: string;
}

/** The tags of a page, or why none could be read (go's words: `XML syntax error on line 1: ...`). */
export type PageImports = { readonly imports: readonly MetaImport[]; readonly error: null } | { readonly imports: readonly []; readonly error: string };

// What go's strings.Fields splits on (unicode.IsSpace); unlike JavaScript's \s, not U+FEFF.
const FIELD_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

function fields(text: string): string[] {
  return text.split(FIELD_SPACE).filter((field) => field !== '');
}

// Go compares names with strings.EqualFold; no non-ASCII rune folds onto a letter of the names asked
// for here (meta, head, body, name, content), so ASCII case folding is exact.
function sameName(a: string, b: string): boolean {
  return a.length === b.length && a.replace(/[A-Z]/g, (c) => c.toLowerCase()) === b;
}

/** The value of the first attribute called `name`, whatever its case; "" when there is none. */
function attrValue(attrs: ReadonlyArray<{ name: string; value: string }>, name: string): string {
  return attrs.find((attr) => sameName(attr.name, name))?.value ?? '';
}

/**
 * The go-import tags of `body`, up to the end of its head or the start of its body: tags whose content
 * has exactly three fields, `mod` ones first, a tag of another VCS dropped when a `mod` one has its
 * prefix. The page is read as XML as go reads it (see xml-tokens.ts): an error after a tag was found
 * ends the scan, one before any is the answer's error.
 */
export function parseMetaGoImports(body: Uint8Array): PageImports {
  const tokens = new XmlTokenizer(body);
  const found: MetaImport[] = [];
  for (;;) {
    let token;
    try {
      token = tokens.next();
    } catch (err) {
      if (!(err instanceof XmlError)) throw err;
      if (found.length === 0) return { imports: [], error: err.message };
      break;
    }
    if (token === null) break;
    if (token.kind === 'start' && sameName(token.name, 'body')) break;
    if (token.kind === 'end' && sameName(token.name, 'head')) break;
    if (token.kind !== 'start' || !sameName(token.name, 'meta') || attrValue(token.attrs, 'name') !== 'go-import') continue;
    const content = fields(attrValue(token.attrs, 'content'));
    if (content.length === 3) found.push({ prefix: content[0]!, vcs: content[1]!, repoRoot: content[2]! });
  }
  const modPrefixes = new Set(found.filter((m) => m.vcs === 'mod').map((m) => m.prefix));
  return { imports: [...found.filter((m) => m.vcs === 'mod'), ...found.filter((m) => m.vcs !== 'mod' && !modPrefixes.has(m.prefix))], error: null };
}

/** True when `prefix` is `path` or a path-element prefix of it (go's str.HasPathPrefix). */
function hasPathPrefix(path: string, prefix: string): boolean {
  if (path.length === prefix.length) return path === prefix;
  if (prefix === '') return true;
  return path.length > prefix.length && (prefix.endsWith('/') || path[prefix.length] === '/') && path.startsWith(prefix);
}

/**
 * The one tag (of parseMetaGoImports' list) whose prefix is a path prefix of `importPath`: the first
 * `mod` one when there is one, since the others do not count then. Go does no longest-prefix choice:
 * two matching tags of the same kind are an error. Otherwise `error` says which tags did not match
 * (`mismatch`: none did) or that several did, in go's words.
 */
export function matchGoImport(imports: readonly MetaImport[], importPath: string): { match: MetaImport } | { error: string; mismatch: boolean } {
  let match: MetaImport | undefined;
  const mismatches: string[] = [];
  for (const candidate of imports) {
    if (!hasPathPrefix(importPath, candidate.prefix)) {
      mismatches.push(candidate.prefix);
      continue;
    }
    if (match !== undefined) {
      if (match.vcs === 'mod' && candidate.vcs !== 'mod') break;
      return { error: `multiple meta tags match import path ${goQuote(importPath)}`, mismatch: false };
    }
    match = candidate;
  }
  if (match !== undefined) return { match };
  return { error: mismatches.map((prefix) => `meta tag ${prefix} did not match import path ${importPath}`).join(', '), mismatch: true };
}
