// Module, import and file paths as the go command accepts them (golang.org/x/mod/module), and the
// !-escaping that keeps module paths and versions safe on case-insensitive file systems and in URLs.
// Every rule and reason text here is go's: users compare our errors with what go printed.
import { GodepotError } from '../errors.js';
import { InvalidVersionError } from './invalid-version-error.js';
import { goQuote, goQuoteRune } from './quote.js';
import { build, major } from './semver.js';

/** Which of go's three path grammars a path was checked against. */
export type PathKind = 'module' | 'import' | 'file';

/** A path that breaks go's naming rules; the message is go's own text for the case. */
export class InvalidPathError extends GodepotError {
  readonly code = 'INVALID_PATH';
  readonly kind: PathKind;
  /** The path as checked (decoded, when it arrived escaped); '' when an escaped path did not decode. */
  readonly path: string;
  /** Go's reason text, such as "missing dot in first path element"; '' when an escaped path did not decode. */
  readonly reason: string;
  /** The !-escaped text the path was decoded from, when it came from a URL or a cache folder name. */
  readonly escapedPath: string | undefined;

  constructor(kind: PathKind, path: string, reason: string, options: { escapedPath?: string; cause?: unknown } = {}) {
    super(invalidPathMessage(kind, path, reason, options.escapedPath), { cause: options.cause });
    this.kind = kind;
    this.path = path;
    this.reason = reason;
    this.escapedPath = options.escapedPath;
  }
}

// Go's InvalidPathError text, or module.UnescapePath's texts around it.
function invalidPathMessage(kind: PathKind, path: string, reason: string, escapedPath: string | undefined): string {
  const malformed = `malformed ${kind} path ${goQuote(path)}: ${reason}`;
  if (escapedPath === undefined) return malformed;
  if (reason === '') return `invalid escaped module path ${goQuote(escapedPath)}`;
  return `invalid escaped module path ${goQuote(escapedPath)}: ${malformed}`;
}

// A JavaScript string holding a lone surrogate has no UTF-8 encoding: go would have seen invalid bytes.
const loneSurrogate = /[\uD800-\uDFFF]/u;

function isASCIIAlphanumeric(ch: string): boolean {
  return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

// Module paths stay within ASCII letters, digits and "-._~": nothing that changes meaning in a URL
// ("%20", "+") and nothing that would need an escaping rule for case-folding Unicode.
function modulePathCharOK(ch: string): boolean {
  return isASCIIAlphanumeric(ch) || ch === '-' || ch === '.' || ch === '_' || ch === '~';
}

// Import paths also allow "+", historically used in binary names such as "g++".
function importPathCharOK(ch: string): boolean {
  return modulePathCharOK(ch) || ch === '+';
}

// File names may use Unicode letters, the space, and the ASCII punctuation that no common shell or
// file system treats specially: not " ' * < > ? ` | nor the separators / \ and :.
const fileNamePunctuation = '!#$%&()+,-.=@[]^_{}~ ';
const unicodeLetter = /^\p{L}$/u;

function fileNameCharOK(ch: string): boolean {
  if (ch < '\x80') return isASCIIAlphanumeric(ch) || fileNamePunctuation.includes(ch);
  return unicodeLetter.test(ch);
}

// Names Windows reserves for devices, whatever the case and whatever follows the first dot.
const badWindowsNames = new Set([
  'CON', 'PRN', 'AUX', 'NUL',
  'COM1', 'COM2', 'COM3', 'COM4', 'COM5', 'COM6', 'COM7', 'COM8', 'COM9',
  'LPT1', 'LPT2', 'LPT3', 'LPT4', 'LPT5', 'LPT6', 'LPT7', 'LPT8', 'LPT9',
]);

// Go compares with strings.EqualFold. No non-ASCII rune folds onto a letter of these names, so upper-
// casing ASCII alone is exact; String.toUpperCase would not be ("ﬀ" becomes "FF").
function isBadWindowsName(short: string): boolean {
  // Every reserved name has three or four letters: most names are over at a glance.
  if (short.length !== 3 && short.length !== 4) return false;
  return badWindowsNames.has(short.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32)));
}

/** Why one path element is invalid, or undefined when it is fine. */
function elementProblem(elem: string, kind: PathKind): string | undefined {
  if (elem === '') return 'empty path element';
  if (/^\.+$/.test(elem)) return `invalid path element ${goQuote(elem)}`;
  if (elem[0] === '.' && kind === 'module') return 'leading dot in path element';
  if (elem.endsWith('.')) return 'trailing dot in path element';
  const charOK = kind === 'module' ? modulePathCharOK : kind === 'import' ? importPathCharOK : fileNameCharOK;
  for (const ch of elem) {
    if (!charOK(ch)) return `invalid char ${goQuoteRune(ch)}`;
  }

  const dot = elem.indexOf('.');
  const short = dot < 0 ? elem : elem.slice(0, dot);
  if (isBadWindowsName(short)) return `${goQuote(short)} disallowed as path element component on Windows`;

  // Windows 8.3 short names look like "PROGRA~1"; an import path element must not be mistaken for one.
  // File names inside a module are exempt: they only ever live below a module's own directory.
  if (kind !== 'file' && /~[0-9]+$/.test(short)) return 'trailing tilde and digits in path element';
  return undefined;
}

// Most file paths are plain: ASCII letters, digits, "-" and "_", with single dots inside elements. Such a
// path breaks no rule unless one of its elements is a name Windows reserves; a module zip of a million
// files checks a million paths.
const plainFilePath = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:\/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)*$/;
const windowsNameElement = /(?:^|\/)(?:con|prn|aux|nul|com[1-9]|lpt[1-9])(?:[./]|$)/i;

/** Why a path is invalid under the grammar of `kind`, before the extra rules for module paths. */
function pathProblem(path: string, kind: PathKind): string | undefined {
  if (kind === 'file' && plainFilePath.test(path) && !windowsNameElement.test(path)) return undefined;
  if (loneSurrogate.test(path)) return 'invalid UTF-8';
  if (path === '') return 'empty string';
  if (path[0] === '-' && kind !== 'file') return 'leading dash';
  if (path.includes('//')) return 'double slash';
  if (path.endsWith('/')) return 'trailing slash';
  for (const elem of path.split('/')) {
    const problem = elementProblem(elem, kind);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

// The first element of a module path is a domain name, in lower case so that it has one spelling.
function firstElementCharOK(ch: string): boolean {
  return ch === '-' || ch === '.' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z');
}

// Module paths found valid. One request checks its path many times over (parsing, storage keys, origin
// URLs), so that after the first check each costs a look-up; the set is emptied when full.
const validModulePaths = new Set<string>();
const MAX_VALID_MODULE_PATHS = 4096;

function modulePathProblem(modulePath: string): string | undefined {
  if (validModulePaths.has(modulePath)) return undefined;
  const problem = uncachedModulePathProblem(modulePath);
  if (problem === undefined) {
    if (validModulePaths.size >= MAX_VALID_MODULE_PATHS) validModulePaths.clear();
    validModulePaths.add(modulePath);
  }
  return problem;
}

function uncachedModulePathProblem(modulePath: string): string | undefined {
  const problem = pathProblem(modulePath, 'module');
  if (problem !== undefined) return problem;
  const slash = modulePath.indexOf('/');
  const first = slash < 0 ? modulePath : modulePath.slice(0, slash);
  if (!first.includes('.')) return 'missing dot in first path element';
  for (const ch of first) {
    if (!firstElementCharOK(ch)) return `invalid char ${goQuoteRune(ch)} in first path element`;
  }
  if (splitPathVersion(modulePath) === null) return 'invalid version';
  return undefined;
}

/**
 * Checks a module path as go's module.CheckPath does: an import path whose first element is a lower-case
 * domain name with a dot, with no element starting with a dot, and a well-formed major version suffix.
 * Throws InvalidPathError.
 */
export function checkPath(modulePath: string): void {
  const problem = modulePathProblem(modulePath);
  if (problem !== undefined) throw new InvalidPathError('module', modulePath, problem);
}

/**
 * Checks an import path as go's module.CheckImportPath does: slash-separated non-empty elements of
 * ASCII letters, digits and "-._~+", none all dots or ending in a dot, none a reserved Windows name or
 * Windows short name. Throws InvalidPathError.
 */
export function checkImportPath(importPath: string): void {
  const problem = pathProblem(importPath, 'import');
  if (problem !== undefined) throw new InvalidPathError('import', importPath, problem);
}

/**
 * Checks a slash-separated file path inside a module as go's module.CheckFilePath does: like an import
 * path, but allowing Unicode letters, spaces and more punctuation. Throws InvalidPathError.
 */
export function checkFilePath(filePath: string): void {
  const problem = pathProblem(filePath, 'file');
  if (problem !== undefined) throw new InvalidPathError('file', filePath, problem);
}

// Replaces each upper-case letter with "!" and its lower case. Callers have already checked that the
// text is ASCII and has no "!", which is what makes the encoding reversible.
function escapeString(s: string): string {
  return s.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase());
}

// The inverse of escapeString, or undefined when `escaped` is not something it could have produced.
function unescapeString(escaped: string): string | undefined {
  let out = '';
  let bang = false;
  for (const ch of escaped) {
    if (ch >= '\x80') return undefined;
    if (bang) {
      if (ch < 'a' || ch > 'z') return undefined;
      out += ch.toUpperCase();
      bang = false;
    } else if (ch === '!') {
      bang = true;
    } else if (ch >= 'A' && ch <= 'Z') {
      return undefined;
    } else {
      out += ch;
    }
  }
  return bang ? undefined : out;
}

/**
 * The escaped form of a module path, as used in proxy URLs and the module cache: each upper-case letter
 * becomes "!" and its lower case ("github.com/!azure/…"). Throws InvalidPathError for an invalid path.
 */
export function escapePath(modulePath: string): string {
  checkPath(modulePath);
  return escapeString(modulePath);
}

/**
 * The module path an escaped path stands for. Throws InvalidPathError (with `escapedPath` set) when the
 * text is not a valid escaping, such as one with an upper-case letter or a dangling "!", or when the
 * path it decodes to is invalid.
 */
export function unescapePath(escapedPath: string): string {
  const modulePath = unescapeString(escapedPath);
  if (modulePath === undefined) throw new InvalidPathError('module', '', '', { escapedPath });
  const problem = modulePathProblem(modulePath);
  if (problem !== undefined) throw new InvalidPathError('module', modulePath, problem, { escapedPath });
  return modulePath;
}

/**
 * The escaped form of a version for proxy URLs and the module cache. Versions need not be semver but
 * must be valid file names without "!". Throws InvalidVersionError ("disallowed version string").
 */
export function escapeVersion(version: string): string {
  // Go's check lets non-ASCII letters through to its escaper, which then fails with an internal error;
  // we reject them up front with the ordinary reason.
  if (elementProblem(version, 'file') !== undefined || version.includes('!') || /[^\x00-\x7f]/.test(version)) {
    throw new InvalidVersionError('', version, 'disallowed version string');
  }
  return escapeString(version);
}

/**
 * The version an escaped version stands for. Throws InvalidVersionError (with `escapedVersion` set) when
 * the escaping is invalid or the result is not a valid file name.
 */
export function unescapeVersion(escapedVersion: string): string {
  const version = unescapeString(escapedVersion);
  if (version === undefined) throw new InvalidVersionError('', '', '', { escapedVersion });
  const problem = elementProblem(version, 'file');
  if (problem !== undefined) throw new InvalidVersionError('', version, problem, { escapedVersion });
  return version;
}

/**
 * Splits a module path into its prefix and major version suffix, as go's module.SplitPathVersion does:
 * "x.y/z/v2" → {prefix: "x.y/z", pathMajor: "/v2"}, "x.y/z" → {prefix: "x.y/z", pathMajor: ""}, and
 * gopkg.in paths by their ".vN" ("gopkg.in/yaml.v2" → ".v2"). Null for a suffix CheckPath would reject,
 * such as "/v1", "/v0", "/v2.0", "/v02", or a gopkg.in path without ".vN".
 */
export function splitPathVersion(modulePath: string): { prefix: string; pathMajor: string } | null {
  if (modulePath.startsWith('gopkg.in/')) return splitGopkgIn(modulePath);

  let i = modulePath.length;
  let dot = false;
  while (i > 0 && (isDigitAt(modulePath, i - 1) || modulePath[i - 1] === '.')) {
    if (modulePath[i - 1] === '.') dot = true;
    i--;
  }
  // No "/v" right before a trailing run of digits and dots: the path has no major version suffix.
  if (i <= 1 || i === modulePath.length || modulePath[i - 1] !== 'v' || modulePath[i - 2] !== '/') {
    return { prefix: modulePath, pathMajor: '' };
  }
  const pathMajor = modulePath.slice(i - 2);
  if (dot || pathMajor[2] === '0' || pathMajor === '/v1') return null;
  return { prefix: modulePath.slice(0, i - 2), pathMajor };
}

function isDigitAt(s: string, i: number): boolean {
  const c = s[i];
  return c !== undefined && c >= '0' && c <= '9';
}

// gopkg.in paths always end in ".vN" (maybe followed by "-unstable"), and ".v0" and ".v1" are real.
function splitGopkgIn(modulePath: string): { prefix: string; pathMajor: string } | null {
  let i = modulePath.length;
  if (modulePath.endsWith('-unstable')) i -= '-unstable'.length;
  while (i > 0 && isDigitAt(modulePath, i - 1)) i--;
  if (i <= 1 || modulePath[i - 1] !== 'v' || modulePath[i - 2] !== '.') return null;
  const pathMajor = modulePath.slice(i - 2);
  if (pathMajor.length <= 2 || (pathMajor[2] === '0' && pathMajor !== '.v0')) return null;
  return { prefix: modulePath.slice(0, i - 2), pathMajor };
}

/** Reports whether `version` may be used with a module path whose major version suffix is `pathMajor`. */
export function matchPathMajor(version: string, pathMajor: string): boolean {
  return pathMajorProblem(version, pathMajor) === undefined;
}

/**
 * Checks that `version` belongs with the major version suffix `pathMajor` ("", "/v2", ".v1",
 * ".v1-unstable"), as go's module.CheckPathMajor does. Throws InvalidVersionError, e.g. with reason
 * "should be v0 or v1, not v2".
 */
export function checkPathMajor(version: string, pathMajor: string): void {
  const problem = pathMajorProblem(version, pathMajor);
  if (problem !== undefined) throw new InvalidVersionError('', version, problem);
}

function pathMajorProblem(version: string, pathMajor: string): string | undefined {
  let wanted = pathMajor;
  if (wanted.startsWith('.v') && wanted.endsWith('-unstable')) wanted = wanted.slice(0, -'-unstable'.length);
  // Early vgo wrote v0.0.0 pseudo-versions for gopkg.in ".v1" modules, and published go.mod files still
  // require them (gopkg.in/yaml.v2 requires gopkg.in/check.v1 at one), so go accepts them.
  if (version.startsWith('v0.0.0-') && wanted === '.v1') return undefined;
  const versionMajor = major(version);
  if (wanted === '') {
    // Before modules a repository could tag v2+ without a /vN path; "+incompatible" marks such versions.
    if (versionMajor === 'v0' || versionMajor === 'v1' || build(version) === '+incompatible') return undefined;
    wanted = 'v0 or v1';
  } else if (wanted[0] === '/' || wanted[0] === '.') {
    if (versionMajor === wanted.slice(1)) return undefined;
    wanted = wanted.slice(1);
  }
  return `should be ${wanted}, not ${versionMajor}`;
}
