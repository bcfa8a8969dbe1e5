// `bundle list`: what a bundle says it holds, read from its manifest alone (nothing is verified here).

import type { Bundle } from './format.js';
import { manifestId, type ManifestModule } from './manifest.js';

/** `1234 B`, `12.1 KiB`, `3.4 MiB`, `1.2 GiB`. */
export function formatSize(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 'B';
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** Rows of cells as columns separated by two spaces, each as wide as its widest cell; no trailing blanks. */
export function formatColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`).join('');
}

function moduleSize(m: ManifestModule): number {
  return m.files.reduce((sum, f) => sum + f.size, 0);
}

// The kinds of files a module carries: info, mod, zip.
function extensions(m: ManifestModule): string[] {
  return m.files.map((f) => f.name.slice(f.name.lastIndexOf('.') + 1));
}

/**
 * The listing of `bundle list`: a header (the manifest id, format, creator, whether it is signed, the
 * incremental base, each input and checksum database, the release archive, totals), then one line per
 * module: path, version, the files it carries, their size, and the zip's `h1:` (`-` for a module whose
 * go.mod alone travels).
 */
export function listBundle(bundle: Bundle): string {
  const { manifest } = bundle;
  const withZip = manifest.modules.filter((m) => m.zipHash !== undefined).length;
  const files = manifest.modules.reduce((n, m) => n + m.files.length, 0) + manifest.sumdb.reduce((n, s) => n + s.files.length, 0);
  const total = manifest.modules.reduce((n, m) => n + moduleSize(m), 0) + manifest.sumdb.reduce((n, s) => n + s.files.reduce((t, f) => t + f.size, 0), 0);
  const header: string[][] = [
    ['bundle:', bundle.file],
    ['manifest id:', manifestId(bundle.manifestBytes)],
    ['format:', `${manifest.format}, made by ${manifest.createdBy}`],
    ['signed:', bundle.signature === null ? 'no' : 'yes (bundle verify --pubkey KEYFILE checks the signature)'],
  ];
  if (manifest.since !== undefined) {
    header.push(['adds to:', `the bundle whose manifest id is ${manifest.since.sha256} (${manifest.since.modules} module versions)`]);
  }
  for (const input of manifest.inputs) {
    const mains = input.mainModules.length === 0 ? '' : `, main module${input.mainModules.length === 1 ? '' : 's'} ${input.mainModules.join(' ')}`;
    header.push(['input:', `${input.spec} (${input.kind}${mains}, ${input.goSum.length} go.sum lines)`]);
  }
  for (const db of manifest.sumdb) header.push(['sumdb:', `${db.name}, tree size ${db.treeSize}, ${db.files.length} proof files`]);
  const { release } = manifest;
  if (release !== undefined) {
    header.push(['release:', `godepot ${release.version} for ${release.platform}, ${formatSize(release.file.size)}: ${release.file.name} (bundle export --self DIR writes it out)`]);
  }
  header.push(['modules:', `${manifest.modules.length} (${withZip} with zips), ${files} files, ${formatSize(total)}`]);
  const rows = manifest.modules.map((m) => [m.path, m.version, extensions(m).join(','), formatSize(moduleSize(m)), m.zipHash ?? '-']);
  const table = rows.length === 0 ? '' : `\n${formatColumns([['MODULE', 'VERSION', 'FILES', 'SIZE', 'ZIP HASH'], ...rows])}`;
  return formatColumns(header) + table;
}

/** What `bundle list --json` prints: the listing's facts, sizes in bytes, absent parts as null. */
export interface BundleListing {
  file: string;
  manifestId: string;
  format: number;
  createdBy: string;
  signed: boolean;
  /** The base of an incremental bundle. */
  since: { manifestId: string; modules: number } | null;
  inputs: { spec: string; kind: string; mainModules: string[]; goSumLines: number }[];
  sumdb: { name: string; treeSize: number; files: number }[];
  release: { version: string; platform: string; name: string; size: number; sha256: string } | null;
  modules: { path: string; version: string; files: string[]; size: number; modHash: string; zipHash: string | null }[];
}

/** The listing of `bundle list --json`, read from the manifest alone. */
export function bundleListing(bundle: Bundle): BundleListing {
  const { manifest } = bundle;
  const { since, release } = manifest;
  return {
    file: bundle.file,
    manifestId: manifestId(bundle.manifestBytes),
    format: manifest.format,
    createdBy: manifest.createdBy,
    signed: bundle.signature !== null,
    since: since === undefined ? null : { manifestId: since.sha256, modules: since.modules },
    inputs: manifest.inputs.map((i) => ({ spec: i.spec, kind: i.kind, mainModules: i.mainModules, goSumLines: i.goSum.length })),
    sumdb: manifest.sumdb.map((s) => ({ name: s.name, treeSize: s.treeSize, files: s.files.length })),
    release: release === undefined ? null : { version: release.version, platform: release.platform, name: release.file.name, size: release.file.size, sha256: release.file.sha256 },
    modules: manifest.modules.map((m) => ({
      path: m.path,
      version: m.version,
      files: extensions(m),
      size: moduleSize(m),
      modHash: m.modHash,
      zipHash: m.zipHash ?? null,
    })),
  };
}
