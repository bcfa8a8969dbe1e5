// What differs between two module sets, grouped the way a person reviews it: the same file of the same
// version with other content first (tampering or a republished tag), then modules at other versions,
// then modules one side lacks.

import type { HashedFile, ModuleSet, ModuleSetEntry } from './module-set.js';

/** One file of one module version that both sides hash, with different hashes. */
export interface HashMismatch {
  path: string;
  version: string;
  file: HashedFile;
  a: readonly string[];
  b: readonly string[];
}

/** A module both sides name, at versions only one of them has. */
export interface VersionChange {
  path: string;
  /** The versions only A has, and those only B has, in semver order (either may be empty). */
  a: readonly string[];
  b: readonly string[];
}

/** A module one side names and the other does not name at all. */
export interface ModuleVersions {
  path: string;
  versions: readonly string[];
}

/** A module version both sides name, where only one side has a hash for this file (often the zip). */
export interface OneSidedFile {
  path: string;
  version: string;
  file: HashedFile;
  side: 'a' | 'b';
}

/** Everything that differs between module sets A and B; nothing differs when notInA and notInB are empty. */
export interface ModuleSetDiff {
  hashMismatches: HashMismatch[];
  versionChanges: VersionChange[];
  onlyInA: ModuleVersions[];
  onlyInB: ModuleVersions[];
  oneSided: OneSidedFile[];
  /** The entries of A that B does not hold as they are (absent, or with another hash), in canonical order. */
  notInB: ModuleSetEntry[];
  notInA: ModuleSetEntry[];
}

const FILES: readonly HashedFile[] = ['zip', 'go.mod'];

function sameList(x: readonly string[], y: readonly string[]): boolean {
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Compares two module sets entry by entry. */
export function compareModuleSets(a: ModuleSet, b: ModuleSet): ModuleSetDiff {
  const diff: ModuleSetDiff = {
    hashMismatches: [],
    versionChanges: [],
    onlyInA: [],
    onlyInB: [],
    oneSided: [],
    notInB: a.entries().filter((e) => !b.has(e)),
    notInA: b.entries().filter((e) => !a.has(e)),
  };
  const paths = [...new Set([...a.paths(), ...b.paths()])].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  for (const path of paths) {
    const va = a.versionsOf(path);
    const vb = b.versionsOf(path);
    if (vb.length === 0) {
      diff.onlyInA.push({ path, versions: va });
      continue;
    }
    if (va.length === 0) {
      diff.onlyInB.push({ path, versions: vb });
      continue;
    }
    const inB = new Set(vb);
    const inA = new Set(va);
    const change: VersionChange = { path, a: va.filter((v) => !inB.has(v)), b: vb.filter((v) => !inA.has(v)) };
    if (change.a.length > 0 || change.b.length > 0) diff.versionChanges.push(change);
    for (const version of va.filter((v) => inB.has(v))) {
      for (const file of FILES) {
        const ha = a.hashesOf({ path, version, file });
        const hb = b.hashesOf({ path, version, file });
        if (ha.length > 0 && hb.length > 0) {
          if (!sameList(ha, hb)) diff.hashMismatches.push({ path, version, file, a: ha, b: hb });
        } else if (ha.length > 0 || hb.length > 0) {
          diff.oneSided.push({ path, version, file, side: ha.length > 0 ? 'a' : 'b' });
        }
      }
    }
  }
  return diff;
}

/** True when the two sets compared hold exactly the same entries. */
export function isIdentical(diff: ModuleSetDiff): boolean {
  return diff.notInA.length === 0 && diff.notInB.length === 0;
}
