// `bundle list`: what a bundle says it holds, read from its manifest alone (nothing is verified here).

import type { Bundle } from './format.js';
import type { ManifestModule } from './manifest.js';

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

function kinds(m: ManifestModule): string {
  return m.files.map((f) => f.name.slice(f.name.lastIndexOf('.') + 1)).join(',');
}

/**
 * The listing of `bundle list`: a header (format, creator, whether it is signed, the incremental base,
 * each input and checksum database, totals), then one line per module: path, version, the files it
 * carries, their size, and the zip's `h1:` (`-` for a module whose go.mod alone travels).
 */
export function listBundle(bundle: Bundle): string {
  const { manifest } = bundle;
  const withZip = manifest.modules.filter((m) => m.zipHash !== undefined).length;
  const files = manifest.modules.reduce((n, m) => n + m.files.length, 0) + manifest.sumdb.reduce((n, s) => n + s.files.length, 0);
  const total = manifest.modules.reduce((n, m) => n + moduleSize(m), 0) + manifest.sumdb.reduce((n, s) => n + s.files.reduce((t, f) => t + f.size, 0), 0);
  const header: string[][] = [
    ['bundle:', bundle.file],
    ['format:', `${manifest.format}, made by ${manifest.createdBy}`],
    ['signed:', bundle.signature === null ? 'no' : 'yes (bundle verify --pubkey KEYFILE checks the signature)'],
  ];
  if (manifest.since !== undefined) {
    header.push(['incremental:', `adds to a bundle of ${manifest.since.modules} modules (its manifest.json has sha256 ${manifest.since.sha256})`]);
  }
  for (const input of manifest.inputs) {
    const mains = input.mainModules.length === 0 ? '' : `, main module${input.mainModules.length === 1 ? '' : 's'} ${input.mainModules.join(' ')}`;
    header.push(['input:', `${input.spec} (${input.kind}${mains}, ${input.goSum.length} go.sum lines)`]);
  }
  for (const db of manifest.sumdb) header.push(['sumdb:', `${db.name}, tree size ${db.treeSize}, ${db.files.length} proof files`]);
  header.push(['modules:', `${manifest.modules.length} (${withZip} with zips), ${files} files, ${formatSize(total)}`]);
  const rows = manifest.modules.map((m) => [m.path, m.version, kinds(m), formatSize(moduleSize(m)), m.zipHash ?? '-']);
  const table = rows.length === 0 ? '' : `\n${formatColumns([['MODULE', 'VERSION', 'FILES', 'SIZE', 'ZIP HASH'], ...rows])}`;
  return formatColumns(header) + table;
}
