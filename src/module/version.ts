// Module versions as the go command treats them (golang.org/x/mod/module): module path/version pairs,
// "+incompatible", and pseudo-versions, which name untagged commits and sort them among the tags.
//
// A pseudo-version takes one of three forms, chosen by the closest tag below the commit:
//   vX.0.0-yyyymmddhhmmss-abcdef123456        no tag with major version X: sorts below every vX tag
//   vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef123456  after tag vX.Y.Z: the "0." keeps it below vX.Y.(Z+1)-rc1
//   vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef123456  after tag vX.Y.Z-pre
// The last two keep a "+incompatible" the tag had.
import { InvalidVersionError } from './invalid-version-error.js';
import { checkPath, checkPathMajor, splitPathVersion } from './path.js';
import { goQuote } from './quote.js';
import { build, canonical, isValid, major, prerelease } from './semver.js';

export { InvalidVersionError };

/**
 * Checks a module path and version pair as go's module.Check does: a valid module path, a valid semantic
 * version (not necessarily canonical), and a major version matching the path ("x.y/z/v2" needs v2.*).
 * Throws InvalidPathError or InvalidVersionError (carrying the module path).
 */
export function checkModule(modulePath: string, version: string): void {
  checkPath(modulePath);
  if (!isValid(version)) throw new InvalidVersionError(modulePath, version, 'not a semantic version');
  // checkPath has accepted the path, so it splits.
  const pathMajor = splitPathVersion(modulePath)?.pathMajor ?? '';
  try {
    checkPathMajor(version, pathMajor);
  } catch (err) {
    if (!(err instanceof InvalidVersionError)) throw err;
    throw new InvalidVersionError(modulePath, version, err.reason, { cause: err });
  }
}

/** Like semver's canonical(), but keeps a "+incompatible" suffix, which go treats as part of the version. */
export function canonicalVersion(version: string): string {
  const cv = canonical(version);
  return build(version) === '+incompatible' ? cv + '+incompatible' : cv;
}

const pseudoVersionPattern =
  /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** Reports whether `version` has the form of a pseudo-version. */
export function isPseudoVersion(version: string): boolean {
  return version.split('-').length > 2 && isValid(version) && pseudoVersionPattern.test(version);
}

interface PseudoParts {
  /** "vX.0.0", "vX.Y.(Z+1)-0" or "vX.Y.Z-pre.0". */
  base: string;
  timestamp: string;
  rev: string;
  /** With its "+", or ''. */
  build: string;
}

function parsePseudoVersion(version: string): PseudoParts {
  if (!isPseudoVersion(version)) throw new InvalidVersionError('', version, 'syntax error', { pseudo: true });
  const buildSuffix = build(version);
  const rest = version.slice(0, version.length - buildSuffix.length);
  const lastDash = rest.lastIndexOf('-');
  const rev = rest.slice(lastDash + 1);
  const head = rest.slice(0, lastDash);
  const dash = head.lastIndexOf('-');
  const dot = head.lastIndexOf('.');
  // In "vX.0.0-yyyy…" the timestamp follows a dash; in the other forms it follows the "0." after the base.
  const split = dot > dash ? dot : dash;
  return { base: head.slice(0, split), timestamp: head.slice(split + 1), rev, build: buildSuffix };
}

/**
 * The commit time recorded in a pseudo-version, in UTC. Throws InvalidVersionError (pseudo) when
 * `version` is not a pseudo-version or its timestamp is not a real time, such as month 13 or February 30.
 */
export function pseudoVersionTime(version: string): Date {
  const { timestamp } = parsePseudoVersion(version);
  const field = (start: number, end: number): number => Number(timestamp.slice(start, end));
  const year = field(0, 4);
  const month = field(4, 6);
  const day = field(6, 8);
  const hour = field(8, 10);
  const minute = field(10, 12);
  const second = field(12, 14);
  if (
    month < 1 || month > 12 ||
    day < 1 || day > daysIn(year, month) ||
    hour > 23 || minute > 59 || second > 59
  ) {
    throw new InvalidVersionError('', version, `malformed time ${goQuote(timestamp)}`, { pseudo: true });
  }
  const time = new Date(0);
  // setUTCFullYear, because Date.UTC would read years 0-99 as 1900-1999.
  time.setUTCFullYear(year, month - 1, day);
  time.setUTCHours(hour, minute, second, 0);
  return time;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The revision (commit hash prefix) recorded in a pseudo-version. Throws InvalidVersionError (pseudo). */
export function pseudoVersionRev(version: string): string {
  return parsePseudoVersion(version).rev;
}

/**
 * The tagged version a pseudo-version was derived from ("v1.2.3" for "v1.2.4-0.2006…"; with
 * "+incompatible" kept), or '' for the "vX.0.0-…" form, which has none. Throws InvalidVersionError
 * (pseudo) when `version` is not a pseudo-version or names an impossible base.
 */
export function pseudoVersionBase(version: string): string {
  const parts = parsePseudoVersion(version);
  const pre = prerelease(parts.base);
  if (pre === '') {
    // "vX.0.0-…" says there is no tag below, so build metadata such as "+incompatible", which describes
    // that tag, makes no sense. The proxy.golang.org index has a few such versions; go rejects them.
    if (parts.build !== '') {
      throw new InvalidVersionError(
        '',
        version,
        `lacks base version, but has build metadata ${goQuote(parts.build)}`,
        { pseudo: true },
      );
    }
    return '';
  }
  if (pre === '-0') {
    const release = parts.base.slice(0, -pre.length);
    const lastDot = release.lastIndexOf('.');
    const patch = decrementDecimal(release.slice(lastDot + 1));
    if (patch === '') {
      // "vX.Y.0-0.…" would need a tag with patch -1. Such versions were seen in the proxy.golang.org
      // index, never explained; go rejects them.
      throw new InvalidVersionError('', version, `version before ${release} would have negative patch number`, {
        pseudo: true,
      });
    }
    return release.slice(0, lastDot + 1) + patch + parts.build;
  }
  // "vX.Y.Z-pre.0": the pattern guarantees the ".0" before the timestamp.
  return parts.base.slice(0, -'.0'.length) + parts.build;
}

/**
 * A pseudo-version for commit `rev` made at `time`, as go's module.PseudoVersion builds it. `major` ("v2";
 * '' means "v0") is used only when there is no `older` tag ('' or a version such as "v1.2.3",
 * "v1.2.3-pre", "v2.0.0+incompatible") below the commit. Throws RangeError for an invalid Date.
 */
export function pseudoVersion(majorVersion: string, older: string, time: Date, rev: string): string {
  const segment = `${formatTimestamp(time)}-${rev}`;
  const olderBuild = build(older);
  const base = canonical(older);
  if (base === '') return `${majorVersion === '' ? 'v0' : majorVersion}.0.0-${segment}`;
  if (prerelease(base) !== '') return `${base}.0.${segment}${olderBuild}`;
  const lastDot = base.lastIndexOf('.');
  return `${base.slice(0, lastDot + 1)}${incrementDecimal(base.slice(lastDot + 1))}-0.${segment}${olderBuild}`;
}

/** The placeholder pseudo-version go uses when a version is needed but none is known: zero time and hash. */
export function zeroPseudoVersion(majorVersion: string): string {
  return pseudoVersion(majorVersion, '', zeroTime(), '000000000000');
}

/** Reports whether `version` is exactly what zeroPseudoVersion returns for its major version. */
export function isZeroPseudoVersion(version: string): boolean {
  return version === zeroPseudoVersion(major(version));
}

// Go's zero time.Time is the start of year 1, UTC.
function zeroTime(): Date {
  const time = new Date(0);
  time.setUTCFullYear(1, 0, 1);
  return time;
}

// yyyymmddhhmmss in UTC, as Go's time.Format("20060102150405") writes it: a year outside 0-9999 is
// written in full, with its sign.
function formatTimestamp(time: Date): string {
  if (Number.isNaN(time.getTime())) throw new RangeError('pseudoVersion: invalid Date');
  const two = (n: number): string => String(n).padStart(2, '0');
  const year = time.getUTCFullYear();
  const yearText = (year < 0 ? '-' : '') + String(Math.abs(year)).padStart(4, '0');
  return (
    yearText +
    two(time.getUTCMonth() + 1) +
    two(time.getUTCDate()) +
    two(time.getUTCHours()) +
    two(time.getUTCMinutes()) +
    two(time.getUTCSeconds())
  );
}

// Decimal strings may exceed Number.MAX_SAFE_INTEGER ("v1.2.99999999999999999"), so count by hand.
function incrementDecimal(decimal: string): string {
  const digits = [...decimal];
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === '9') digits[i--] = '0';
  if (i < 0) return '1' + digits.join('');
  digits[i] = String(Number(digits[i]) + 1);
  return digits.join('');
}

// The decimal one less, or '' for zero. Drops the leading digit when it becomes 0 ("100" → "99").
function decrementDecimal(decimal: string): string {
  const digits = [...decimal];
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === '0') digits[i--] = '9';
  if (i < 0) return '';
  if (i === 0 && digits[0] === '1' && digits.length > 1) return digits.slice(1).join('');
  digits[i] = String(Number(digits[i]) - 1);
  return digits.join('');
}
