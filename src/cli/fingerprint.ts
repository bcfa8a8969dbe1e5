import { Command } from 'commander';
import { isGodepotError } from '../errors.js';
import { compareModuleSets, isIdentical, type ModuleSetDiff } from '../fingerprint/compare.js';
import { lineOfEntry, type ModuleSet, type ModuleSetEntry } from '../fingerprint/module-set.js';
import { listsChecksums, readModuleSource, type ModuleSource } from '../fingerprint/read-module-source.js';
import { withExamples } from './examples.js';

/** Somewhere a command writes text. */
export interface TextOutput {
  write(text: string): unknown;
}

/** Where the commands of this file write: the process's own streams unless a caller passes others. */
export interface CommandStreams {
  stdout: TextOutput;
  stderr: TextOutput;
}

const SOURCES_HELP = `
A source is told apart by what is on disk; it is any of:
  a project folder (go.mod/go.sum; with a go.work: every used module's go.sum and go.work.sum),
  a go.sum file, a bundle (the .tar.gz of godepot bundle create), a module cache (GOMODCACHE, a folder
  holding cache/download), or a godepot storage folder or GOPROXY file tree
  (<escaped module>/@v/<version>.mod|.zip).
A project counts its go.sum lines. A store counts each .mod (h1: of the go.mod) and each .zip (h1: from
the .ziphash beside it, else computed from the zip); a bundle, the hashes its manifest records.`;

const CANONICAL_HELP = `
The fingerprint is "sha256:" and the lower-case hex SHA-256 of the canonical text: one line per entry,
"<module> <version> <h1 of its files>" or "<module> <version>/go.mod <h1 of its go.mod>", fields separated
by one space, each line ended by "\\n", lines sorted by their bytes (LC_ALL=C sort), duplicates removed.
Order, spacing and repeated lines of a go.sum do not change it; any other module, version or hash does.
For a go.sum with one space between fields, "LC_ALL=C sort -u go.sum | sha256sum" prints the same hex.`;

const REHASH_HELP = "hash every zip (and a bundle's go.mod files) and refuse a recorded hash (.ziphash, bundle manifest) that disagrees";

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function describe(source: ModuleSource): string {
  const { set } = source;
  const counts = [count(set.moduleCount(), 'module', 'modules'), count(set.versionCount(), 'version', 'versions'), count(set.size, 'entry', 'entries')];
  return `${counts.join(', ')} (${source.kind} ${source.location})`;
}

function sourceJson(source: ModuleSource): Record<string, unknown> {
  return {
    kind: source.kind,
    location: source.location,
    fingerprint: source.set.fingerprint(),
    modules: source.set.moduleCount(),
    versions: source.set.versionCount(),
    entries: source.set.size,
  };
}

interface FingerprintFlags {
  json?: boolean;
  canonical?: boolean;
  for?: string;
  rehash?: boolean;
}

/** `godepot fingerprint [SOURCE]`: a digest of the module set of a project, bundle or environment. */
export function fingerprintCommand(streams: CommandStreams = process): Command {
  const command = new Command('fingerprint')
    .description('print a stable digest of the modules a project, bundle or environment holds (paths, versions, hashes)')
    .argument('[source]', 'a project folder, go.sum, bundle, module cache, storage folder or GOPROXY tree (default: .)')
    .option('--json', 'print the digest, the counts and every entry as JSON')
    .option('--canonical', 'print the canonical text that is hashed instead of the digest')
    .option('--for <project>', "count only the entries for the files PROJECT's go.sum lists: the digest then equals PROJECT's exactly when SOURCE holds all of them with the same hashes")
    .option('--rehash', REHASH_HELP)
    .addHelpText('after', SOURCES_HELP + '\n' + CANONICAL_HELP);
  return withExamples(command, [
    'godepot fingerprint',
    ['godepot fingerprint deps.tar.gz --for .', 'equals the project\'s own fingerprint exactly when the bundle holds everything its go.sum lists'],
    'godepot fingerprint /var/lib/godepot --json',
  ]).action(async (location: string = '.', flags: FingerprintFlags) => {
      const source = await readModuleSource(location, { rehash: flags.rehash === true });
      const restrictTo = flags.for === undefined ? undefined : await readModuleSource(flags.for);
      const set = restrictTo === undefined ? source.set : source.set.restrictedTo(restrictTo.set);
      if (flags.canonical === true) {
        streams.stdout.write(set.canonicalText());
      } else if (flags.json === true) {
        const out: Record<string, unknown> = {
          fingerprint: set.fingerprint(),
          source: { kind: source.kind, location: source.location },
          modules: set.moduleCount(),
          versions: set.versionCount(),
          ...(restrictTo === undefined ? {} : { for: sourceJson(restrictTo) }),
          entries: set.entries(),
        };
        streams.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        const restricted = restrictTo === undefined ? '' : `, for ${restrictTo.kind} ${restrictTo.location}`;
        streams.stdout.write(`${set.fingerprint()}  ${describe({ ...source, set })}${restricted}\n`);
      }
    });
}

// The two ways of comparing. `exact`: the sets must be equal. `coverage`: one side lists checksums (a
// project) and the other holds modules (a store); the store must hold every listed line, and may hold more.
type CompareMode = { kind: 'exact' } | { kind: 'coverage'; checksums: 'A' | 'B'; store: 'A' | 'B' };

function modeOf(a: ModuleSource, b: ModuleSource, exact: boolean): CompareMode {
  const la = listsChecksums(a.kind);
  if (exact || la === listsChecksums(b.kind)) return { kind: 'exact' };
  return la ? { kind: 'coverage', checksums: 'A', store: 'B' } : { kind: 'coverage', checksums: 'B', store: 'A' };
}

/** The entries of the checksum side that the store does not hold as they are. */
function uncovered(diff: ModuleSetDiff, mode: CompareMode & { kind: 'coverage' }): ModuleSetEntry[] {
  return mode.checksums === 'A' ? diff.notInB : diff.notInA;
}

function renderDiff(a: ModuleSource, b: ModuleSource, diff: ModuleSetDiff, mode: CompareMode): string {
  const out: string[] = [];
  out.push(`A: ${a.set.fingerprint()}  ${describe(a)}`, `B: ${b.set.fingerprint()}  ${describe(b)}`);
  if (diff.hashMismatches.length > 0) {
    out.push(
      '',
      `SAME VERSION, DIFFERENT CONTENT (${diff.hashMismatches.length}): these module versions hash differently on each side.`,
      'Their content was altered or republished under the same version; do not build with them until you know why.',
    );
    for (const m of diff.hashMismatches) {
      out.push(`  ${m.path} ${m.version} (${m.file === 'zip' ? 'files' : 'go.mod'})`, `    A: ${m.a.join(' ')}`, `    B: ${m.b.join(' ')}`);
    }
  }
  if (mode.kind === 'coverage') {
    renderCoverage(out, diff, mode, mode.store === 'A' ? a.set : b.set, mode.checksums === 'A' ? a.set : b.set);
    return out.map((l) => `${l}\n`).join('');
  }
  const section = (title: string, lines: string[]): void => {
    if (lines.length > 0) out.push('', `${title} (${lines.length}):`, ...lines.map((l) => `  ${l}`));
  };
  section(
    'different versions',
    diff.versionChanges.map((c) => `${c.path}  A: ${a.set.versionsOf(c.path).join(', ')}  B: ${b.set.versionsOf(c.path).join(', ')}`),
  );
  section('only in A', diff.onlyInA.map((m) => `${m.path} ${m.versions.join(', ')}`));
  section('only in B', diff.onlyInB.map((m) => `${m.path} ${m.versions.join(', ')}`));
  section(
    'hashed on one side only',
    diff.oneSided.map((o) => `${o.path} ${o.version} ${o.file === 'zip' ? 'files' : 'go.mod'}: only in ${o.side.toUpperCase()}`),
  );
  out.push('');
  if (isIdentical(diff)) {
    out.push('identical');
  } else {
    const findings = [
      count(diff.hashMismatches.length, 'hash mismatch', 'hash mismatches'),
      count(diff.versionChanges.length, 'module at other versions', 'modules at other versions'),
      count(diff.onlyInA.length, 'module only in A', 'modules only in A'),
      count(diff.onlyInB.length, 'module only in B', 'modules only in B'),
      count(diff.oneSided.length, 'file hashed on one side only', 'files hashed on one side only'),
    ];
    out.push(`differ: ${findings.filter((f) => !f.startsWith('0 ')).join(', ')}`);
  }
  return out.map((l) => `${l}\n`).join('');
}

function renderCoverage(out: string[], diff: ModuleSetDiff, mode: CompareMode & { kind: 'coverage' }, store: ModuleSet, listed: ModuleSet): void {
  const { checksums: c, store: s } = mode;
  const missing = uncovered(diff, mode);
  if (missing.length > 0) {
    out.push('', `go.sum lines of ${c} that ${s} does not hold (${missing.length}):`);
    for (const entry of missing) {
      const otherHashes = store.hashesOf(entry);
      const otherVersions = store.versionsOf(entry.path);
      const why =
        otherHashes.length > 0
          ? `${s} has ${otherHashes.join(' ')}`
          : otherVersions.length > 0
            ? `${s} has ${entry.path} ${otherVersions.join(', ')}`
            : `${s} has no version of ${entry.path}`;
      out.push(`  ${lineOfEntry(entry)}`, `      ${why}`);
    }
  }
  const extra = (mode.store === 'A' ? diff.notInB : diff.notInA).length;
  out.push('');
  if (extra > 0) out.push(`${s} also holds ${count(extra, 'entry', 'entries')} ${c}'s go.sum does not list (--exact lists them)`);
  out.push(
    missing.length === 0
      ? `${s} covers every go.sum line of ${c}`
      : `${s} does not cover ${c}: ${missing.length} of ${c}'s ${listed.size} go.sum lines missing or different`,
  );
}

function diffJson(a: ModuleSource, b: ModuleSource, diff: ModuleSetDiff, mode: CompareMode, same: boolean): string {
  const out = {
    a: sourceJson(a),
    b: sourceJson(b),
    mode: mode.kind,
    ...(mode.kind === 'coverage' ? { checksums: mode.checksums.toLowerCase(), store: mode.store.toLowerCase(), uncovered: uncovered(diff, mode) } : {}),
    same,
    ...diff,
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

interface CompareFlags {
  json?: boolean;
  exact?: boolean;
  rehash?: boolean;
}

/** A failure to read a source: godepot's own errors and the file system's, as opposed to bugs. */
function isReadFailure(err: unknown): err is Error {
  return isGodepotError(err) || (err instanceof Error && 'syscall' in err);
}

/**
 * `godepot compare A B`: what differs between two projects, bundles or environments. Exits 0 when they
 * match, 1 when they differ, 2 when a source cannot be read (as diff does).
 */
export function compareCommand(streams: CommandStreams = process): Command {
  const command = new Command('compare')
    .description('list what differs between the modules of two projects, bundles or environments; exit 0 same, 1 different, 2 trouble')
    .argument('<a>', 'a source: a project folder, go.sum, bundle, module cache, storage folder or GOPROXY tree')
    .argument('<b>', 'another source')
    .option('--json', 'print the comparison as JSON')
    .option('--exact', 'when one side is a project and the other a store, require equal sets instead of the store covering the go.sum')
    .option('--rehash', REHASH_HELP)
    .addHelpText(
      'after',
      SOURCES_HELP +
        `

Two projects, or two stores, match when they hold exactly the same entries. A project and a store match
when the store holds every go.sum line of the project with the same hash (a store may hold more; --exact
requires equal sets). A module version whose hash differs between the sides is listed first and loudly:
the same version with other content means it was altered or republished.`,
    );
  return withExamples(command, [
    ['godepot compare . deps.tar.gz', 'does the bundle hold everything the project needs, with the same hashes?'],
    'godepot compare deps-march.tar.gz deps-april.tar.gz --json',
    ['godepot compare . "$(go env GOMODCACHE)" --exact', 'the module cache holds exactly the project\'s modules'],
  ]).action(async (locationA: string, locationB: string, flags: CompareFlags) => {
      let a: ModuleSource;
      let b: ModuleSource;
      try {
        const options = { rehash: flags.rehash === true };
        [a, b] = await Promise.all([readModuleSource(locationA, options), readModuleSource(locationB, options)]);
      } catch (err) {
        if (!isReadFailure(err)) throw err;
        streams.stderr.write(`godepot: ${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      const diff = compareModuleSets(a.set, b.set);
      const mode = modeOf(a, b, flags.exact === true);
      const same = mode.kind === 'exact' ? isIdentical(diff) : uncovered(diff, mode).length === 0;
      streams.stdout.write(flags.json === true ? diffJson(a, b, diff, mode, same) : renderDiff(a, b, diff, mode));
      process.exitCode = same ? 0 : 1;
    });
}
