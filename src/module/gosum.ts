// go.sum files as cmd/go reads and writes them (cmd/go/internal/modfetch): lines
// `<module> <version> <hash>` and `<module> <version>/go.mod <hash>`, where only `h1:` hashes are
// checked and hashes of unknown kinds are carried along untouched.

import { GodepotError } from '../errors.js';
import { compare as compareSemver } from './semver.js';

/** One go.sum line; `version` ends in `/go.mod` for the hash of the module's go.mod alone. */
export interface GoSumLine {
  path: string;
  version: string;
  hash: string;
}

/** A go.sum line that is not three fields; the message is go's (`malformed go.sum:\ngo.sum:3: ...`). */
export class GoSumSyntaxError extends GodepotError {
  readonly code = 'GOSUM_SYNTAX';

  constructor(
    readonly filename: string,
    readonly line: number,
    readonly fields: number,
  ) {
    super(`malformed go.sum:\n${filename}:${line}: wrong number of fields ${fields}`);
  }
}

// What go prints after every go.sum mismatch.
const GO_SUM_MISMATCH_HELP = `

SECURITY ERROR
This download does NOT match an earlier download recorded in go.sum.
The bits may have been replaced on the origin server, or an attacker may
have intercepted the download attempt.

For more information, see 'go help module-auth'.
`;

/**
 * Downloaded content does not hash to what was recorded for it. By default the message is go's for a
 * go.sum mismatch; a verifier against another source (the checksum database) passes its own message.
 */
export class ChecksumMismatchError extends GodepotError {
  readonly code = 'CHECKSUM_MISMATCH';
  readonly path: string;
  /** The version as recorded, with `/go.mod` when the go.mod hash is the one that differs. */
  readonly version: string;
  readonly downloaded: string;
  readonly recorded: string;

  constructor(options: { path: string; version: string; downloaded: string; recorded: string; message?: string }) {
    super(
      options.message ??
        `verifying ${options.path}@${options.version}: checksum mismatch\n` +
          `\tdownloaded: ${options.downloaded}\n\tgo.sum:     ${options.recorded}` +
          GO_SUM_MISMATCH_HELP,
    );
    this.path = options.path;
    this.version = options.version;
    this.downloaded = options.downloaded;
    this.recorded = options.recorded;
  }
}

// An old go bug recorded this hash (a tree holding only an empty go.mod) for non-modules; go drops it on read.
const EMPTY_GO_MOD_HASH = 'h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=';

// Go splits go.sum lines with strings.Fields, i.e. at unicode.IsSpace, which is not JavaScript's \s
// (that adds U+FEFF and lacks U+0085).
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

function goFields(line: string): string[] {
  return line.split(GO_SPACE).filter((f) => f !== '');
}

function key(path: string, version: string): string {
  return `${path} ${version}`;
}

/** The hashes recorded for one module version: the zip's `h1:` and the go.mod's `h1:`, when present. */
export interface GoSumLookup {
  h1?: string;
  goModH1?: string;
}

/** The lines of a go.sum, in file order, with the lookups and checks go makes against them. */
export class GoSum {
  private readonly byKey = new Map<string, GoSumLine[]>();

  constructor(lines: Iterable<GoSumLine> = []) {
    for (const l of lines) this.add(l);
  }

  /** Records one more line; duplicates are kept here and dropped when formatting. */
  add(line: GoSumLine): void {
    const k = key(line.path, line.version);
    const list = this.byKey.get(k);
    if (list === undefined) this.byKey.set(k, [{ ...line }]);
    else list.push({ ...line });
  }

  /** Every line, grouped by module version in the order each was first seen. */
  lines(): GoSumLine[] {
    return [...this.byKey.values()].flat();
  }

  /** The first `h1:` hash recorded for the module zip and for its go.mod. */
  lookup(path: string, version: string): GoSumLookup {
    const first = (v: string): string | undefined =>
      this.byKey.get(key(path, v))?.find((l) => l.hash.startsWith('h1:'))?.hash;
    const out: GoSumLookup = {};
    const h1 = first(version);
    const goModH1 = first(`${version}/go.mod`);
    if (h1 !== undefined) out.h1 = h1;
    if (goModH1 !== undefined) out.goModH1 = goModH1;
    return out;
  }

  // cmd/go's haveModSumLocked: lines are tried in file order; a match wins, but an `h1:` line that
  // differs and comes first is a mismatch even if a later line matches.
  private verify(path: string, version: string, hash: string): boolean {
    for (const l of this.byKey.get(key(path, version)) ?? []) {
      if (l.hash === hash) return true;
      if (l.hash.startsWith('h1:')) throw new ChecksumMismatchError({ path, version, downloaded: hash, recorded: l.hash });
    }
    return false;
  }

  /**
   * Checks a module zip's `h1` against go.sum as go does: true when recorded, false when go.sum has no
   * `h1:` line for it (go would then ask the checksum database and add one); throws
   * ChecksumMismatchError when go.sum records a different `h1:`.
   */
  verifyZip(path: string, version: string, h1: string): boolean {
    return this.verify(path, version, h1);
  }

  /** As verifyZip, for the hash of the module's go.mod (see hashGoMod). */
  verifyGoMod(path: string, version: string, h1: string): boolean {
    return this.verify(path, `${version}/go.mod`, h1);
  }

  /** The file as go writes it (see formatGoSum). */
  format(): string {
    return formatGoSum(this.lines());
  }
}

/**
 * Parses go.sum text as go does: blank lines are skipped, each other line must have exactly three
 * fields, and the empty-go.mod hash of an old go bug is dropped. Go itself silently stops reading at a
 * malformed line; we throw GoSumSyntaxError (with go's message and the 1-based line number) instead.
 */
export function parseGoSum(data: string | Uint8Array, filename = 'go.sum'): GoSum {
  const text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const sum = new GoSum();
  const lines = text.split('\n');
  // A final newline ends the last line rather than starting an empty one.
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const f = goFields(line);
    if (f.length === 0) return;
    if (f.length !== 3) throw new GoSumSyntaxError(filename, i + 1, f.length);
    const [path, version, hash] = f as [string, string, string];
    if (hash === EMPTY_GO_MOD_HASH) return;
    sum.add({ path, version, hash });
  });
  return sum;
}

// Go compares strings bytewise; JavaScript's < compares UTF-16 units, which differs above U+FFFF.
function compareBytes(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

// module.Sort: by path, then by the semantic version before any "/", then by what follows it, so that
// "v1.0.0" comes before "v1.0.0/go.mod". Go's sort is not stable for versions of equal precedence
// ("v1.0.0" and "v1.0.0+meta"); we fall back to byte order so that output is always the same.
function compareModuleVersions(a: GoSumLine, b: GoSumLine): number {
  const byPath = compareBytes(a.path, b.path);
  if (byPath !== 0) return byPath;
  const split = (v: string): [string, string] => {
    const slash = v.indexOf('/');
    return slash < 0 ? [v, ''] : [v.slice(0, slash), v.slice(slash)];
  };
  const [va, fa] = split(a.version);
  const [vb, fb] = split(b.version);
  if (va !== vb) return compareSemver(va, vb) || compareBytes(va, vb);
  return compareBytes(fa, fb);
}

/**
 * Prints go.sum lines as cmd/go writes go.sum: sorted by module path, then version in semver order with
 * each `/go.mod` line after its zip line; several hashes of one module version sorted, duplicates dropped.
 */
export function formatGoSum(lines: Iterable<GoSumLine>): string {
  const sorted = [...lines].sort((a, b) => compareModuleVersions(a, b) || compareBytes(a.hash, b.hash));
  let out = '';
  let previous: GoSumLine | undefined;
  for (const l of sorted) {
    if (previous !== undefined && previous.path === l.path && previous.version === l.version && previous.hash === l.hash) continue;
    out += `${l.path} ${l.version} ${l.hash}\n`;
    previous = l;
  }
  return out;
}
