// Lives apart from version.ts only so that path.ts (escapeVersion, checkPathMajor) and version.ts
// (checkModule, which calls into path.ts) can both throw it without importing each other.
// Import it from './version.js'.
import { GodepotError } from '../errors.js';
import { goQuote } from './quote.js';

/**
 * A version string that is not acceptable: not semver, wrong major version for the module path, a
 * malformed pseudo-version, an undecodable escaped version. The message is go's own text for the case.
 */
export class InvalidVersionError extends GodepotError {
  readonly code = 'INVALID_VERSION';
  /** The module path the version was given for, or '' when the check did not involve one. */
  readonly path: string;
  readonly version: string;
  /** True when the version is (meant to be) a pseudo-version: go then says "invalid pseudo-version". */
  readonly pseudo: boolean;
  /** Go's reason text, such as "should be v0 or v1, not v2"; '' when an escaped version did not decode. */
  readonly reason: string;
  /** The !-escaped text the version was decoded from, when it came from a URL or a cache folder name. */
  readonly escapedVersion: string | undefined;

  constructor(
    path: string,
    version: string,
    reason: string,
    options: { pseudo?: boolean; escapedVersion?: string; cause?: unknown } = {},
  ) {
    const pseudo = options.pseudo ?? false;
    super(invalidVersionMessage(path, version, reason, pseudo, options.escapedVersion), { cause: options.cause });
    this.path = path;
    this.version = version;
    this.pseudo = pseudo;
    this.reason = reason;
    this.escapedVersion = options.escapedVersion;
  }
}

// The three shapes go prints: module.ModuleError around module.InvalidVersionError when the module
// path is known, the bare InvalidVersionError when it is not, and module.UnescapeVersion's own texts.
function invalidVersionMessage(
  path: string,
  version: string,
  reason: string,
  pseudo: boolean,
  escapedVersion: string | undefined,
): string {
  const noun = pseudo ? 'pseudo-version' : 'version';
  if (escapedVersion !== undefined) {
    // UnescapeVersion quotes the escaped text when it cannot decode it, but the decoded one otherwise.
    if (reason === '') return `invalid escaped version ${goQuote(escapedVersion)}`;
    return `invalid escaped version ${goQuote(version)}: ${reason}`;
  }
  if (path !== '') return `${path}@${version}: invalid ${noun}: ${reason}`;
  return `${noun} ${goQuote(version)} invalid: ${reason}`;
}
