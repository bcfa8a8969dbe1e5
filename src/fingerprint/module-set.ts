// A module set: what a project, bundle or environment holds, reduced to go.sum entries
// (`<path> <version> <hash>` for a module's file tree, `<path> <version>/go.mod <hash>` for its go.mod),
// and its fingerprint.

import { createHash } from 'node:crypto';
import type { GoSumLine } from '../module/gosum.js';
import { sortVersions } from '../module/semver.js';

/** What an entry's hash covers: the module's files (the zip's `h1:`) or its go.mod alone. */
export type HashedFile = 'zip' | 'go.mod';

/** One entry of a module set; `version` never carries go.sum's `/go.mod` suffix (that is `file`). */
export interface ModuleSetEntry {
  path: string;
  version: string;
  file: HashedFile;
  hash: string;
}

const GO_MOD_SUFFIX = '/go.mod';

/** The entry a go.sum line stands for. */
export function entryOfLine(line: GoSumLine): ModuleSetEntry {
  const { path, version, hash } = line;
  return version.endsWith(GO_MOD_SUFFIX)
    ? { path, version: version.slice(0, -GO_MOD_SUFFIX.length), file: 'go.mod', hash }
    : { path, version, file: 'zip', hash };
}

/** The go.sum line of an entry, fields separated by one space, no newline. */
export function lineOfEntry(entry: ModuleSetEntry): string {
  return `${entry.path} ${entry.version}${entry.file === 'go.mod' ? GO_MOD_SUFFIX : ''} ${entry.hash}`;
}

/** What two entries share when they describe the same file of the same module version: `path version[/go.mod]`. */
export function keyOfEntry(entry: Pick<ModuleSetEntry, 'path' | 'version' | 'file'>): string {
  return `${entry.path} ${entry.version}${entry.file === 'go.mod' ? GO_MOD_SUFFIX : ''}`;
}

// Bytewise, as `LC_ALL=C sort` orders lines: the canonical form must not depend on JavaScript's UTF-16
// order, which differs above U+FFFF.
function compareBytes(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * An immutable set of go.sum entries. Duplicates collapse, order of arrival does not matter, and a module
 * version may hold several hashes for one file (go.sum allows it; each one counts).
 */
export class ModuleSet {
  private readonly byLine: ReadonlyMap<string, ModuleSetEntry>;
  private readonly hashesByKey: ReadonlyMap<string, readonly string[]>;
  private readonly versionsByPath: ReadonlyMap<string, readonly string[]>;
  private readonly sortedLines: readonly string[];

  constructor(entries: Iterable<ModuleSetEntry>) {
    const byLine = new Map<string, ModuleSetEntry>();
    for (const e of entries) {
      const entry: ModuleSetEntry = { path: e.path, version: e.version, file: e.file, hash: e.hash };
      byLine.set(lineOfEntry(entry), entry);
    }
    this.sortedLines = [...byLine.keys()].sort(compareBytes);
    this.byLine = new Map(this.sortedLines.map((l) => [l, byLine.get(l)!]));
    const hashesByKey = new Map<string, string[]>();
    for (const e of this.byLine.values()) {
      const k = keyOfEntry(e);
      const list = hashesByKey.get(k);
      if (list === undefined) hashesByKey.set(k, [e.hash]);
      else list.push(e.hash);
    }
    this.hashesByKey = hashesByKey;
    const versionsByPath = new Map<string, Set<string>>();
    for (const e of this.byLine.values()) {
      const versions = versionsByPath.get(e.path);
      if (versions === undefined) versionsByPath.set(e.path, new Set([e.version]));
      else versions.add(e.version);
    }
    this.versionsByPath = new Map([...versionsByPath].map(([path, versions]) => [path, sortVersions([...versions])]));
  }

  /** The set of a go.sum's lines (see parseGoSum). */
  static fromGoSumLines(lines: Iterable<GoSumLine>): ModuleSet {
    return new ModuleSet([...lines].map(entryOfLine));
  }

  /** Every entry, in canonical order. */
  entries(): ModuleSetEntry[] {
    return [...this.byLine.values()].map((e) => ({ ...e }));
  }

  /** The canonical lines: `<path> <version>[/go.mod] <hash>`, sorted bytewise, no duplicates. */
  lines(): readonly string[] {
    return this.sortedLines;
  }

  /** The canonical text the fingerprint hashes: each canonical line followed by `\n` (empty for an empty set). */
  canonicalText(): string {
    return this.sortedLines.map((l) => `${l}\n`).join('');
  }

  /** `sha256:` and the lower-case hex SHA-256 of canonicalText(). */
  fingerprint(): string {
    const h = createHash('sha256');
    for (const line of this.sortedLines) h.update(`${line}\n`);
    return `sha256:${h.digest('hex')}`;
  }

  /** How many entries (canonical lines) the set holds. */
  get size(): number {
    return this.sortedLines.length;
  }

  /** How many distinct module paths the set names. */
  moduleCount(): number {
    return this.versionsByPath.size;
  }

  /** How many distinct module versions (path and version) the set names. */
  versionCount(): number {
    let n = 0;
    for (const versions of this.versionsByPath.values()) n += versions.length;
    return n;
  }

  /** Every module path the set names, sorted bytewise. */
  paths(): string[] {
    return [...this.versionsByPath.keys()].sort(compareBytes);
  }

  /** The versions of `path` the set names, in semver order; empty when it names none. */
  versionsOf(path: string): readonly string[] {
    return this.versionsByPath.get(path) ?? [];
  }

  /** The hashes recorded for one file of a module version, sorted; empty when the set has none. */
  hashesOf(key: Pick<ModuleSetEntry, 'path' | 'version' | 'file'>): readonly string[] {
    return this.hashesByKey.get(keyOfEntry(key)) ?? [];
  }

  /** True when the set holds exactly this entry (same file, same hash). */
  has(entry: ModuleSetEntry): boolean {
    return this.byLine.has(lineOfEntry(entry));
  }

  /**
   * The entries of this set for the files `other` names (same path, version and file, whatever the
   * hash): the part of an environment that a project's go.sum speaks about. Its fingerprint equals
   * `other`'s exactly when this set holds every entry of `other` and no other hash for those files.
   */
  restrictedTo(other: ModuleSet): ModuleSet {
    return new ModuleSet([...this.byLine.values()].filter((e) => other.hashesOf(e).length > 0));
  }
}
