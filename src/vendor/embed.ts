// The files a package's `//go:embed` patterns name, resolved as the go command resolves them when it
// vendors the package (cmd/go's resolveEmbed over filepath.Glob and path.Match): go copies those files
// into vendor/ beside the package, subfolders included, since the package cannot build without them.
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkFilePath } from '../module/path.js';

/** A pattern that is malformed or names no file go would embed; the message is go's. */
export class EmbedPatternError extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`pattern ${pattern}: ${reason}`);
  }
}

class BadPattern extends Error {}

/** The first code point of `s` and its length in UTF-16 units; U+FFFD for a lone surrogate, as go decodes bad UTF-8. */
function firstRune(s: string): { rune: number; length: number } {
  const cp = s.codePointAt(0)!;
  const length = cp > 0xffff ? 2 : 1;
  return { rune: cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp, length };
}

// One end of a character-class range: a character, possibly escaped; the class must go on after it.
function classChar(chunk: string): { rune: number; rest: string } {
  if (chunk === '' || chunk[0] === '-' || chunk[0] === ']') throw new BadPattern();
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk === '') throw new BadPattern();
  }
  const { rune, length } = firstRune(chunk);
  const rest = chunk.slice(length);
  if (rest === '') throw new BadPattern();
  return { rune, rest };
}

/** A run of pattern up to the next unbracketed `*`, and whether stars came before it. */
function scanChunk(pattern: string): { star: boolean; chunk: string; rest: string } {
  let star = false;
  while (pattern.startsWith('*')) {
    pattern = pattern.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        if (i + 1 < pattern.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
    }
  }
  return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) };
}

/** Matches `chunk` at the start of `s`: the rest of `s`, or null. The whole chunk is checked for syntax either way. */
function matchChunk(chunk: string, s: string): string | null {
  let failed = false;
  while (chunk !== '') {
    if (!failed && s === '') failed = true;
    const c = chunk[0]!;
    if (c === '[') {
      let rune = -1;
      if (!failed) {
        const first = firstRune(s);
        rune = first.rune;
        s = s.slice(first.length);
      }
      chunk = chunk.slice(1);
      const negated = chunk.startsWith('^');
      if (negated) chunk = chunk.slice(1);
      let match = false;
      for (let ranges = 0; ; ranges++) {
        if (chunk.startsWith(']') && ranges > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = classChar(chunk);
        let hi = lo;
        if (lo.rest[0] === '-') hi = classChar(lo.rest.slice(1));
        chunk = hi.rest;
        if (lo.rune <= rune && rune <= hi.rune) match = true;
      }
      if (match === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(firstRune(s).length);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === '\\') {
        chunk = chunk.slice(1);
        if (chunk === '') throw new BadPattern();
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  return failed ? null : s;
}

/**
 * go's path.Match: `*` any run of characters but `/`, `?` one such character, `[...]` a class (with
 * `^` and ranges), `\` escapes. Throws BadPattern for a malformed pattern.
 */
function pathMatch(pattern: string, name: string): boolean {
  chunks: while (pattern !== '') {
    const scanned = scanChunk(pattern);
    pattern = scanned.rest;
    if (scanned.star && scanned.chunk === '') return !name.includes('/');
    const rest = matchChunk(scanned.chunk, name);
    if (rest !== null && (rest === '' || pattern !== '')) {
      name = rest;
      continue;
    }
    if (scanned.star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const t = matchChunk(scanned.chunk, name.slice(i + 1));
        if (t === null || (pattern === '' && t !== '')) continue;
        name = t;
        continue chunks;
      }
    }
    // No match; what is left of the pattern must still be well formed.
    while (pattern !== '') {
      const next = scanChunk(pattern);
      pattern = next.rest;
      matchChunk(next.chunk, '');
    }
    return false;
  }
  return name === '';
}

/** Whether `pattern` is well formed for path.Match. */
export function isGlobPattern(pattern: string): boolean {
  try {
    pathMatch(pattern, '');
    return true;
  } catch (err) {
    if (err instanceof BadPattern) return false;
    throw err;
  }
}

const hasMeta = (p: string): boolean => /[*?[\\]/.test(p);

async function statOrNull(path: string, follow: boolean): Promise<Stats | null> {
  try {
    return await (follow ? stat(path) : lstat(path));
  } catch {
    return null;
  }
}

// Byte order, as go's sort.Strings orders names (UTF-16 order differs above U+FFFF).
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** filepath.Glob below `base`: the paths (relative, `/`-separated) matching `pattern`, in go's order. */
async function glob(base: string, pattern: string): Promise<string[]> {
  if (!hasMeta(pattern)) return (await statOrNull(join(base, pattern), false)) === null ? [] : [pattern];
  const slash = pattern.lastIndexOf('/');
  const dirPattern = slash < 0 ? '' : pattern.slice(0, slash);
  const filePattern = pattern.slice(slash + 1);
  const dirs = dirPattern === '' ? [''] : hasMeta(dirPattern) ? await glob(base, dirPattern) : [dirPattern];
  const matches: string[] = [];
  for (const dir of dirs) {
    const at = join(base, dir);
    if ((await statOrNull(at, true))?.isDirectory() !== true) continue;
    const names = (await readdir(at).catch(() => [] as string[])).sort(compareBytes);
    for (const name of names) if (pathMatch(filePattern, name)) matches.push(dir === '' ? name : `${dir}/${name}`);
  }
  return matches;
}

/** io/fs.ValidPath, less "." itself: unrooted, no empty, `.` or `..` elements. */
function isValidEmbedPath(pattern: string): boolean {
  return pattern !== '.' && pattern.split('/').every((elem) => elem !== '' && elem !== '.' && elem !== '..');
}

/** A name no module zip holds (go's isBadEmbedName): a file path go refuses, or a version-control folder. */
function isBadEmbedName(name: string): boolean {
  if (['', '.bzr', '.hg', '.git', '.svn'].includes(name)) return true;
  try {
    checkFilePath(name);
    return false;
  } catch {
    return true;
  }
}

async function hasGoMod(dir: string): Promise<boolean> {
  return (await statOrNull(join(dir, 'go.mod'), true)) !== null;
}

/**
 * The files (relative to `pkgDir`, `/`-separated, sorted) that `patterns` embed, as go resolves them:
 * a pattern naming a folder takes every file below it but those whose names start with `.` or `_`
 * (unless the pattern starts with `all:`), version-control folders and nested modules. Throws
 * EmbedPatternError (go's text) for a malformed pattern, one that matches nothing, a file in another
 * module, an irregular file or a folder with nothing to embed.
 */
export async function resolveEmbeds(pkgDir: string, patterns: readonly string[]): Promise<string[]> {
  const files = new Set<string>();
  const checkedDirs = new Set<string>();
  for (const pattern of patterns) {
    const all = pattern.startsWith('all:');
    const globPattern = all ? pattern.slice(4) : pattern;
    if (!isGlobPattern(globPattern) || !isValidEmbedPath(globPattern)) throw new EmbedPatternError(pattern, 'invalid pattern syntax');
    const list = new Set<string>();
    let matched: string[];
    try {
      matched = await glob(pkgDir, globPattern);
    } catch (err) {
      // A pattern well formed as a whole whose folder part alone is not (`[/]`).
      if (err instanceof BadPattern) throw new EmbedPatternError(pattern, 'syntax error in pattern');
      throw err;
    }
    for (const rel of matched) {
      const info = await lstat(join(pkgDir, rel));
      const what = info.isDirectory() ? 'directory' : 'file';
      // Each folder on the way down must be one a module can hold, and of this module.
      const elems = rel.split('/');
      for (let n = elems.length; n > 0; n--) {
        const dir = elems.slice(0, n).join('/');
        if (checkedDirs.has(dir)) break;
        if (await hasGoMod(join(pkgDir, dir))) throw new EmbedPatternError(pattern, `cannot embed ${what} ${rel}: in different module`);
        if (dir !== rel && (await statOrNull(join(pkgDir, dir), false))?.isDirectory() !== true) {
          throw new EmbedPatternError(pattern, `cannot embed ${what} ${rel}: in non-directory ${dir}`);
        }
        checkedDirs.add(dir);
        const elem = elems[n - 1]!;
        if (isBadEmbedName(elem)) {
          throw new EmbedPatternError(pattern, dir === rel ? `cannot embed ${what} ${rel}: invalid name ${elem}` : `cannot embed ${what} ${rel}: in invalid directory ${elem}`);
        }
      }
      if (info.isFile()) {
        list.add(rel);
      } else if (info.isDirectory()) {
        if ((await addTree(pkgDir, rel, all, list)) === 0) throw new EmbedPatternError(pattern, `cannot embed directory ${rel}: contains no embeddable files`);
      } else {
        throw new EmbedPatternError(pattern, `cannot embed irregular file ${rel}`);
      }
    }
    if (list.size === 0) throw new EmbedPatternError(pattern, 'no matching files found');
    for (const f of list) files.add(f);
  }
  return [...files].sort(compareBytes);
}

// Adds the regular files below folder `rel` to `list`, skipping hidden and `_` names (unless `all`),
// bad names and nested modules; returns how many it met.
async function addTree(pkgDir: string, rel: string, all: boolean, list: Set<string>): Promise<number> {
  let count = 0;
  const entries: Dirent[] = (await readdir(join(pkgDir, rel), { withFileTypes: true })).sort((a, b) => compareBytes(a.name, b.name));
  for (const entry of entries) {
    const name = entry.name;
    if (isBadEmbedName(name) || ((name.startsWith('.') || name.startsWith('_')) && !all)) continue;
    const child = `${rel}/${name}`;
    if (entry.isDirectory()) {
      if (!(await hasGoMod(join(pkgDir, child)))) count += await addTree(pkgDir, child, all, list);
    } else if (entry.isFile()) {
      count++;
      list.add(child);
    }
  }
  return count;
}
