// Semantic versions as the go command reads them (golang.org/x/mod/semver): a leading "v" is required,
// and "vMAJOR" and "vMAJOR.MINOR" are shorthands for "vMAJOR.0.0" and "vMAJOR.MINOR.0". Every function
// here accepts any string; an invalid version is never an error, it just has no parts and sorts first.

interface Parsed {
  major: string;
  minor: string;
  patch: string;
  /** What a shorthand leaves out (".0.0" or ".0"), so canonical() can put it back. */
  short: string;
  /** Includes the leading "-", or is ''. */
  prerelease: string;
  /** Includes the leading "+", or is ''. */
  build: string;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isIdentChar(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c === '-';
}

function isNumeric(ident: string): boolean {
  for (const c of ident) if (!isDigit(c)) return false;
  return true;
}

/** Reads a decimal number at `at`; semver forbids leading zeros, so "0" is the only number starting with 0. */
function readNumber(v: string, at: number): { value: string; end: number } | undefined {
  let end = at;
  while (isDigit(v[end])) end++;
  if (end === at || (v[at] === '0' && end - at > 1)) return undefined;
  return { value: v.slice(at, end), end };
}

/**
 * Checks a run of dot-separated identifiers ("-pre.1" or "+meta", marker included) ending at `end`.
 * Numeric prerelease identifiers may not have leading zeros; build identifiers may.
 */
function identifiersOK(v: string, start: number, end: number, numbersStrict: boolean): boolean {
  if (start + 1 >= end) return false;
  for (const ident of v.slice(start + 1, end).split('.')) {
    if (ident === '') return false;
    for (const c of ident) if (!isIdentChar(c)) return false;
    if (numbersStrict && ident.length > 1 && ident[0] === '0' && isNumeric(ident)) return false;
  }
  return true;
}

function parse(v: string): Parsed | undefined {
  if (v[0] !== 'v') return undefined;
  const major = readNumber(v, 1);
  if (major === undefined) return undefined;
  if (major.end === v.length) {
    return { major: major.value, minor: '0', patch: '0', short: '.0.0', prerelease: '', build: '' };
  }
  if (v[major.end] !== '.') return undefined;
  const minor = readNumber(v, major.end + 1);
  if (minor === undefined) return undefined;
  if (minor.end === v.length) {
    return { major: major.value, minor: minor.value, patch: '0', short: '.0', prerelease: '', build: '' };
  }
  if (v[minor.end] !== '.') return undefined;
  const patch = readNumber(v, minor.end + 1);
  if (patch === undefined) return undefined;

  // Only the full three-number form may carry a prerelease or build suffix.
  let at = patch.end;
  let prerelease = '';
  if (v[at] === '-') {
    const plus = v.indexOf('+', at);
    const end = plus < 0 ? v.length : plus;
    if (!identifiersOK(v, at, end, true)) return undefined;
    prerelease = v.slice(at, end);
    at = end;
  }
  let build = '';
  if (v[at] === '+') {
    if (!identifiersOK(v, at, v.length, false)) return undefined;
    build = v.slice(at);
    at = v.length;
  }
  if (at !== v.length) return undefined;
  return { major: major.value, minor: minor.value, patch: patch.value, short: '', prerelease, build };
}

/** Reports whether `v` is a valid semantic version string ("v1", "v1.2", "v1.2.3-pre+meta"). */
export function isValid(v: string): boolean {
  return parse(v) !== undefined;
}

/**
 * The canonical form of `v`: missing ".MINOR"/".PATCH" filled in, build metadata dropped; '' when invalid.
 * Two versions compare equal exactly when their canonical forms are the same string.
 */
export function canonical(v: string): string {
  const p = parse(v);
  if (p === undefined) return '';
  if (p.build !== '') return v.slice(0, v.length - p.build.length);
  return v + p.short;
}

/** The major version prefix ("v2" for "v2.1.0"), or '' when `v` is invalid. */
export function major(v: string): string {
  const p = parse(v);
  return p === undefined ? '' : 'v' + p.major;
}

/** The major.minor prefix ("v2.1" for "v2.1.0", "v2.0" for "v2"), or '' when `v` is invalid. */
export function majorMinor(v: string): string {
  const p = parse(v);
  return p === undefined ? '' : `v${p.major}.${p.minor}`;
}

/** The prerelease suffix with its "-" ("-pre" for "v2.1.0-pre+meta"), or '' when none or invalid. */
export function prerelease(v: string): string {
  return parse(v)?.prerelease ?? '';
}

/** The build suffix with its "+" ("+meta" for "v2.1.0+meta"), or '' when none or invalid. */
export function build(v: string): string {
  return parse(v)?.build ?? '';
}

/** Orders two decimal strings without leading zeros by value, however long they are. */
function compareNumbers(x: string, y: string): -1 | 0 | 1 {
  if (x === y) return 0;
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : 1;
}

/**
 * Semver precedence of two prereleases: a release beats any prerelease; identifiers compare left to
 * right, numbers numerically and below words, words in ASCII order; a longer list wins a tie.
 */
function comparePrereleases(x: string, y: string): -1 | 0 | 1 {
  if (x === y) return 0;
  if (x === '') return 1;
  if (y === '') return -1;
  const xs = x.slice(1).split('.');
  const ys = y.slice(1).split('.');
  for (let i = 0; i < xs.length && i < ys.length; i++) {
    const dx = xs[i]!;
    const dy = ys[i]!;
    if (dx === dy) continue;
    const nx = isNumeric(dx);
    const ny = isNumeric(dy);
    if (nx !== ny) return nx ? -1 : 1;
    if (nx) return compareNumbers(dx, dy);
    return dx < dy ? -1 : 1;
  }
  return xs.length < ys.length ? -1 : 1;
}

/**
 * Compares by semver precedence: -1, 0 or 1. Build metadata is ignored. Every invalid version sorts
 * below every valid one, and all invalid versions are equal to each other.
 */
export function compare(v: string, w: string): -1 | 0 | 1 {
  const pv = parse(v);
  const pw = parse(w);
  if (pv === undefined) return pw === undefined ? 0 : -1;
  if (pw === undefined) return 1;
  return (
    compareNumbers(pv.major, pw.major) ||
    compareNumbers(pv.minor, pw.minor) ||
    compareNumbers(pv.patch, pw.patch) ||
    comparePrereleases(pv.prerelease, pw.prerelease)
  );
}

/** Of the canonical forms of `v` and `w`, the greater one (`w`'s on a tie). Kept for parity with Go's Max. */
export function max(v: string, w: string): string {
  const cv = canonical(v);
  const cw = canonical(w);
  return compare(cv, cw) > 0 ? cv : cw;
}

/**
 * Go compares strings byte by byte in UTF-8, which is code point order; JavaScript's `<` compares UTF-16
 * code units, which disagrees above U+FFFF. Lone surrogates stand for the U+FFFD go would have decoded.
 */
function compareCodePoints(a: string, b: string): -1 | 0 | 1 {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done === true || cb.done === true) {
      if (ca.done === true && cb.done === true) return 0;
      return ca.done === true ? -1 : 1;
    }
    const pa = decodedCodePoint(ca.value);
    const pb = decodedCodePoint(cb.value);
    if (pa !== pb) return pa < pb ? -1 : 1;
  }
}

function decodedCodePoint(ch: string): number {
  const cp = ch.codePointAt(0)!;
  return cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp;
}

/**
 * A sorted copy of `list`, in the order of Go's semver.Sort: by precedence, and versions of equal
 * precedence ("v1.0", "v1.0.0+meta", or any two invalid strings) by their text.
 */
export function sortVersions(list: readonly string[]): string[] {
  return [...list].sort((a, b) => compare(a, b) || compareCodePoints(a, b));
}
