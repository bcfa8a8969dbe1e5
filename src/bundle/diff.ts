// `bundle diff OLD NEW`: which module versions two bundles' manifests hold, and where the same module
// version differs between them (which, for a published version, means one of the two was not what the
// origin served, or the origin changed it).

import type { Manifest, ManifestFile, ManifestModule, ManifestRelease, ManifestSumdb } from './manifest.js';
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

/** The release archives two manifests carry, when they differ; null where a bundle carries none. */
export interface ReleaseChange {
  before: ManifestRelease | null;
  after: ManifestRelease | null;
}

/** What diffManifests finds, each list sorted by module path and then version. */
export interface ManifestDiff {
  /** The bundle the new manifest adds to (its `since`), when it is incremental; `isOld` when that is the old one. */
  base: { manifestId: string; isOld: boolean } | null;
  /** In the new manifest only. */
  added: ManifestModule[];
  /** In the old manifest only, and gone: never when the new bundle adds to another one (see notInNew). */
  removed: ManifestModule[];
  /**
   * When the new bundle adds to another bundle than the old one: what only the old manifest holds, which
   * that base may well hold, so that it cannot be said to be gone.
   */
  notInNew: ManifestModule[];
  changed: ModuleChange[];
  /** Module versions the same in both; when the new bundle adds to the old one, also those only the old holds (they stay). */
  unchanged: number;
  sumdb: SumdbChange[];
  release: ReleaseChange | null;
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

/**
 * Compares two manifests module version by module version, and their checksum-database proofs and
 * release archives. A new manifest that adds to another (`since`) is read as what it adds: when it adds
 * to the old one (`oldId` is the old manifest's id), what only the old holds stays, as it does on the far
 * side that took in both; when it adds to a third bundle, what only the old holds may be there.
 */
export function diffManifests(a: Manifest, b: Manifest, oldId?: string): ManifestDiff {
  const old = new Map(a.modules.map((m) => [key(m), m]));
  const next = new Map(b.modules.map((m) => [key(m), m]));
  const base = b.since === undefined ? null : { manifestId: b.since.sha256, isOld: b.since.sha256 === oldId };
  const changed: ModuleChange[] = [];
  let unchanged = 0;
  for (const [k, after] of next) {
    const before = old.get(k);
    if (before === undefined) continue;
    const found = differences(before, after);
    if (found.length === 0) unchanged++;
    else changed.push({ path: after.path, version: after.version, before, after, differences: found });
  }
  const onlyOld = a.modules.filter((m) => !next.has(key(m))).sort(byPathAndVersion);
  if (base?.isOld === true) unchanged += onlyOld.length;
  return {
    base,
    added: b.modules.filter((m) => !old.has(key(m))).sort(byPathAndVersion),
    removed: base === null ? onlyOld : [],
    notInNew: base !== null && !base.isOld ? onlyOld : [],
    changed: changed.sort(byPathAndVersion),
    unchanged,
    sumdb: sumdbChanges(a.sumdb, b.sumdb),
    // An increment without a release archive leaves the one its base carries where it is.
    release: releaseChange(a.release, base?.isOld === true ? (b.release ?? a.release) : b.release),
  };
}

function releaseChange(before: ManifestRelease | undefined, after: ManifestRelease | undefined): ReleaseChange | null {
  if (before?.file.sha256 === after?.file.sha256) return null;
  return { before: before ?? null, after: after ?? null };
}

/** What the two bundles are called in formatDiff's lines. */
export interface DiffLabels {
  old: string;
  new: string;
}

/**
 * The text of `bundle diff`: for an incremental new bundle, first a line saying what it adds to; then
 * `+ path version` for each added module version, `- path version` for each removed one, `? path
 * version` for one only the old bundle holds that the new one's base may hold, `! path version:
 * differences` for each changed one, in path and version order; then a line per checksum database whose
 * proofs differ, one for the release archive when it differs, and a summary line.
 */
export function formatDiff(diff: ManifestDiff, labels: DiffLabels = { old: 'OLD', new: 'NEW' }): string {
  const intro: string[] = [];
  if (diff.base?.isOld === true) intro.push(`${labels.new} adds to ${labels.old} (manifest id ${diff.base.manifestId}): what only ${labels.old} holds stays`);
  else if (diff.base !== null) {
    intro.push(`${labels.new} adds to another bundle than ${labels.old} (manifest id ${diff.base.manifestId}): what only ${labels.old} holds (?) may be in that one`);
  }
  const lines = [
    ...diff.removed.map((m) => ({ m, text: `- ${m.path} ${m.version}` })),
    ...diff.notInNew.map((m) => ({ m, text: `? ${m.path} ${m.version}` })),
    ...diff.added.map((m) => ({ m, text: `+ ${m.path} ${m.version}` })),
    ...diff.changed.map((c) => ({ m: c, text: `! ${c.path} ${c.version}: ${c.differences.join('; ')}` })),
  ].sort((x, y) => byPathAndVersion(x.m, y.m));
  const size = (n: number | null): string => (n === null ? 'none' : `tree size ${n}`);
  const sumdb = diff.sumdb.map((s) => `sumdb ${s.name}: ${s.before === s.after ? `other proofs, same ${size(s.after)}` : `${size(s.before)} → ${size(s.after)}`}`);
  const release = diff.release === null ? [] : [`release: ${releaseText(diff.release.before)} → ${releaseText(diff.release.after)}`];
  const notInNew = diff.notInNew.length === 0 ? '' : `, ${diff.notInNew.length} only in ${labels.old}`;
  const summary = `${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged} unchanged${notInNew}`;
  return [...intro, ...lines.map((l) => l.text), ...sumdb, ...release, summary].join('\n') + '\n';
}

function releaseText(release: ManifestRelease | null): string {
  return release === null ? 'none' : `godepot ${release.version} for ${release.platform} (sha256 ${release.file.sha256})`;
}
