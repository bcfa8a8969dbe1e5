// GOPRIVATE-style patterns: a comma-separated list of globs (go's path.Match syntax), each matched
// against as many leading path elements of a module path as the glob has (x/mod's MatchPrefixPatterns).
// So `*.corp.example.com` matches `git.corp.example.com/x/y`, and `example.com/priv` matches
// `example.com/priv/sub` but not `example.com/private`.
import { ConfigError } from '../errors.js';

const BAD = Symbol('bad pattern');
type Bad = typeof BAD;

/** The globs of a pattern list: items split on commas, a trailing slash dropped, empty ones skipped. */
function globsOf(patterns: string | readonly string[]): string[] {
  const list = typeof patterns === 'string' ? patterns : patterns.join(',');
  return list
    .split(',')
    .map((glob) => (glob.endsWith('/') ? glob.slice(0, -1) : glob))
    .filter((glob) => glob !== '');
}

/**
 * Whether `modulePath` matches any of `patterns` (GOPRIVATE syntax: comma-separated globs, in a string
 * or an array of strings that may themselves hold commas). A malformed glob matches nothing, as in go;
 * checkPrefixPatterns rejects those up front.
 */
export function matchPrefixPatterns(patterns: string | readonly string[], modulePath: string): boolean {
  for (const glob of globsOf(patterns)) {
    // A glob with N slashes is matched against the first N+1 path elements of the target.
    let slashes = glob.split('/').length - 1;
    let prefix = modulePath;
    for (let i = 0; i < modulePath.length; i++) {
      if (modulePath[i] === '/') {
        if (slashes === 0) {
          prefix = modulePath.slice(0, i);
          break;
        }
        slashes--;
      }
    }
    if (slashes > 0) continue;
    if (pathMatch(glob, prefix) === true) return true;
  }
  return false;
}

/** Throws ConfigError naming `key` and the first glob of `patterns` that go's path.Match would call malformed. */
export function checkPrefixPatterns(patterns: string | readonly string[], key = 'private'): void {
  for (const glob of globsOf(patterns)) {
    if (pathMatch(glob, '') === BAD) throw new ConfigError(`${key}: malformed pattern ${JSON.stringify(glob)}: syntax error in pattern`);
  }
}

/**
 * True when every module path the glob `specific` matches is matched by the glob `general` too (both
 * GOPRIVATE-style: `general` matched against as many leading elements as it has). Decided element by
 * element, and only where that is sound: a `general` element made of stars covers any element, one
 * covers a literal element it matches, and equal elements cover each other. False means "not shown",
 * never "shown not to": it finds rules that can never match, and must never condemn one that can.
 */
export function patternCovers(general: string, specific: string): boolean {
  const g = elementsOf(general);
  const s = elementsOf(specific);
  // A glob of N elements only matches paths of N elements or more.
  if (g.length > s.length) return false;
  // When every element of `specific` is a pattern by itself, no class or escape spans a slash, so its
  // elements line up with a path's; otherwise only a literal element is known to.
  const aligned = s.every((element) => pathMatch(element, '') !== BAD);
  return g.every((element, i) => elementCovers(element, s[i]!, aligned));
}

/**
 * True when `glob` matches no module path at all: it has an empty element (`a//b`, `/a`), and module
 * paths have none. Conservative as patternCovers is.
 */
export function patternMatchesNothing(glob: string): boolean {
  const elements = elementsOf(glob);
  return elements.every((element) => pathMatch(element, '') !== BAD) && elements.includes('');
}

// The trailing slash is dropped as MatchPrefixPatterns drops it; every slash counts, as go counts them.
function elementsOf(glob: string): string[] {
  return (glob.endsWith('/') ? glob.slice(0, -1) : glob).split('/');
}

const META = /[*?[\\\]]/;

function elementCovers(general: string, specific: string, aligned: boolean): boolean {
  // An element that is not a pattern by itself belongs to a class or escape spanning a slash.
  if (pathMatch(general, '') === BAD) return false;
  // Stars match any element: a path's elements hold no slash.
  if (/^\*+$/.test(general)) return true;
  if (!META.test(specific)) return pathMatch(general, specific) === true;
  return aligned && general === specific;
}

/** Go's path.Match: `*` and `?` never match `/`, `[...]` classes with ranges and `^`, `\` escapes. */
export function pathMatch(pattern: string, name: string): boolean | Bad {
  outer: while (pattern.length > 0) {
    const scanned = scanChunk(pattern);
    const { star, chunk } = scanned;
    pattern = scanned.rest;
    // A trailing * matches the rest of the name unless it has a slash.
    if (star && chunk === '') return !name.includes('/');
    const here = matchChunk(chunk, name);
    if (here === BAD) return BAD;
    // The last chunk must use up the name, else a star may still find a later match.
    if (here !== null && (here.length === 0 || pattern.length > 0)) {
      name = here;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const later = matchChunk(chunk, name.slice(i + 1));
        if (later === BAD) return BAD;
        if (later !== null) {
          if (pattern.length === 0 && later.length > 0) continue;
          name = later;
          continue outer;
        }
      }
    }
    // No match: still report a syntax error anywhere in the rest of the pattern.
    while (pattern.length > 0) {
      const next = scanChunk(pattern);
      pattern = next.rest;
      if (matchChunk(next.chunk, '') === BAD) return BAD;
    }
    return false;
  }
  return name.length === 0;
}

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
        break;
    }
  }
  return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) };
}

/** The rest of `s` after `chunk` matched its start, null when it does not match, BAD for a malformed chunk. */
function matchChunk(chunk: string, s: string): string | null | Bad {
  // Once the match has failed, the chunk is still parsed to the end to find syntax errors.
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0];
    if (c === '[') {
      let r = -1;
      if (!failed) {
        r = s.codePointAt(0)!;
        s = s.slice(r > 0xffff ? 2 : 1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk.startsWith('^')) {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      for (let ranges = 0; ; ranges++) {
        if (chunk.startsWith(']') && ranges > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = getEsc(chunk);
        if (lo === BAD) return BAD;
        chunk = lo.rest;
        let hi = lo.rune;
        if (chunk[0] === '-') {
          const h = getEsc(chunk.slice(1));
          if (h === BAD) return BAD;
          chunk = h.rest;
          hi = h.rune;
        }
        if (lo.rune <= r && r <= hi) match = true;
      }
      if (match === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(s.codePointAt(0)! > 0xffff ? 2 : 1);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === '\\') {
        chunk = chunk.slice(1);
        if (chunk.length === 0) return BAD;
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

function getEsc(chunk: string): { rune: number; rest: string } | Bad {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') return BAD;
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) return BAD;
  }
  const rune = chunk.codePointAt(0)!;
  const rest = chunk.slice(rune > 0xffff ? 2 : 1);
  // Go reports a class that runs off the end of the pattern as malformed here.
  if (rest.length === 0) return BAD;
  return { rune, rest };
}
