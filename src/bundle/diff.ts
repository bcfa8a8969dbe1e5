// `bundle diff OLD NEW`: which module versions two bundles' manifests hold, and where the same module
// version differs between them (which, for a published version, means one of the two was not what the
// origin served, or the origin changed it).

import type { Manifest, ManifestFile, ManifestModule, ManifestSumdb } from './manifest.js';
import { compare as compareSemver } from '../module/semver.js';

/** A module version both manifests hold, with what differs. */
export interface ModuleChange {
  path: string;
  version: string;
  before: ManifestModule;
  after: ManifestModule;
  /** One phrase per difference: `zipHash h1:… → h1:…`, `.zip added`, `.info sha256 changed`, … */
  differences: string[];
}

/** A checksum database whose proofs differ. */
export interface SumdbChange {
  name: string;
  /** Tree size in the old and new bundle; null where the bundle carries no proofs of that database. */
  before: number | null;
  after: number | null;
}

/** What diffManifests finds, each list sorted by module path and then version. */
export interface ManifestDiff {
  /** In the new manifest only. */
  added: ManifestModule[];
  /** In the old manifest only. */
  removed: ManifestModule[];
  changed: ModuleChange[];
  /** Module versions the same in both. */
  unchanged: number;
  sumdb: SumdbChange[];
}

const key = (m: ManifestModule): string => `${m.path}@${m.version}`;
const extension = (f: ManifestFile): string => f.name.slice(f.name.lastIndexOf('.'));

function byPathAndVersion(a: { path: string; version: string }, b: { path: string; version: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : compareSemver(a.version, b.version) || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0);
}

function differences(a: ManifestModule, b: ManifestModule): string[] {
  const out: string[] = [];
  if (a.modHash !== b.modHash) out.push(`modHash ${a.modHash} → ${b.modHash}`);
  if (a.zipHash !== undefined && b.zipHash !== undefined && a.zipHash !== b.zipHash) out.push(`zipHash ${a.zipHash} → ${b.zipHash}`);
  const before = new Map(a.files.map((f) => [extension(f), f]));
  const after = new Map(b.files.map((f) => [extension(f), f]));
  for (const ext of ['.info', '.mod', '.zip']) {
    const x = before.get(ext);
    const y = after.get(ext);
    if (x === undefined && y !== undefined) out.push(`${ext} added`);
    else if (x !== undefined && y === undefined) out.push(`${ext} removed`);
    else if (x !== undefined && y !== undefined && x.sha256 !== y.sha256) out.push(`${ext} sha256 changed`);
  }
  return out;
}

function sumdbChanges(a: readonly ManifestSumdb[], b: readonly ManifestSumdb[]): SumdbChange[] {
  const names = [...new Set([...a.map((s) => s.name), ...b.map((s) => s.name)])].sort();
  return names.flatMap((name) => {
    const x = a.find((s) => s.name === name);
    const y = b.find((s) => s.name === name);
    const same = x !== undefined && y !== undefined && x.treeSize === y.treeSize && x.verifierKey === y.verifierKey && JSON.stringify(x.files) === JSON.stringify(y.files);
    return same ? [] : [{ name, before: x?.treeSize ?? null, after: y?.treeSize ?? null }];
  });
}

/** Compares two manifests module version by module version, and their checksum-database proofs. */
export function diffManifests(a: Manifest, b: Manifest): ManifestDiff {
  const old = new Map(a.modules.map((m) => [key(m), m]));
  const next = new Map(b.modules.map((m) => [key(m), m]));
  const changed: ModuleChange[] = [];
  let unchanged = 0;
  for (const [k, after] of next) {
    const before = old.get(k);
    if (before === undefined) continue;
    const found = differences(before, after);
    if (found.length === 0) unchanged++;
    else changed.push({ path: after.path, version: after.version, before, after, differences: found });
  }
  return {
    added: b.modules.filter((m) => !old.has(key(m))).sort(byPathAndVersion),
    removed: a.modules.filter((m) => !next.has(key(m))).sort(byPathAndVersion),
    changed: changed.sort(byPathAndVersion),
    unchanged,
    sumdb: sumdbChanges(a.sumdb, b.sumdb),
  };
}

/**
 * The text of `bundle diff`: `+ path version` for each added module version, `- path version` for each
 * removed one, `! path version: differences` for each changed one, in path and version order; then a line
 * per checksum database whose proofs differ and a summary line.
 */
export function formatDiff(diff: ManifestDiff): string {
  const lines = [
    ...diff.removed.map((m) => ({ m, text: `- ${m.path} ${m.version}` })),
    ...diff.added.map((m) => ({ m, text: `+ ${m.path} ${m.version}` })),
    ...diff.changed.map((c) => ({ m: c, text: `! ${c.path} ${c.version}: ${c.differences.join('; ')}` })),
  ].sort((x, y) => byPathAndVersion(x.m, y.m));
  const size = (n: number | null): string => (n === null ? 'none' : `tree size ${n}`);
  const sumdb = diff.sumdb.map((s) => `sumdb ${s.name}: ${s.before === s.after ? `other proofs, same ${size(s.after)}` : `${size(s.before)} → ${size(s.after)}`}`);
  const summary = `${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged} unchanged`;
  return [...lines.map((l) => l.text), ...sumdb, summary].join('\n') + '\n';
}
