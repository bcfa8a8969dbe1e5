// `bundle export`: a bundle's modules and proofs written out as a folder go reads with no network, either
// a `GOPROXY=file://DIR` tree or a module cache (`GOMODCACHE`, used with GOPROXY=off). Both are the
// module-cache download layout, so the export is an import into a disk storage rooted at the right place,
// plus what go looks for besides the files: `@v/list` of each module and, for a proxy tree, each checksum
// database's `supported`.
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sortVersions } from '../module/semver.js';
import { storageKey } from '../protocol/keys.js';
import { DiskStorage } from '../storage/disk.js';
import { readStored } from '../storage/read-stored.js';
import type { Bundle } from './format.js';
import { importVerifiedBundle, type ImportReport } from './import.js';

export type ExportTarget = { dir: string } | { gomodcache: string };

/** Writes an already verified bundle into the target; folders may already hold other exports (idempotent, conflicts reported). */
export async function exportVerifiedBundle(bundle: Bundle, target: ExportTarget, signal?: AbortSignal): Promise<ImportReport> {
  const root = 'dir' in target ? target.dir : join(target.gomodcache, 'cache', 'download');
  const storage = new DiskStorage({ root });
  const report = await importVerifiedBundle(bundle, storage, signal);

  const versions = new Map<string, string[]>();
  for (const m of bundle.manifest.modules) {
    // go lists versions it can download whole: those with an .info.
    if (!m.files.some((f) => f.name.endsWith('.info'))) continue;
    versions.set(m.path, [...(versions.get(m.path) ?? []), m.version]);
  }
  for (const [modulePath, bundled] of versions) {
    const key = storageKey(modulePath, 'list');
    const held = (await readStored(storage, key))?.toString('utf8') ?? '';
    const all = sortVersions([...new Set([...held.split('\n').filter((v) => v !== ''), ...bundled])]);
    const body = Buffer.from(all.map((v) => `${v}\n`).join(''));
    if (held !== body.toString('utf8')) await storage.put(key, body, { signal });
  }
  if ('dir' in target) {
    for (const db of bundle.manifest.sumdb) {
      const key = `sumdb/${db.name}/supported`;
      if ((await storage.stat(key)) === null) await storage.put(key, Buffer.alloc(0), { signal });
    }
  }
  // The storage's scratch folder has no place in a tree go reads; it is empty once every put is done.
  await rmdir(join(root, '.tmp')).catch(() => undefined);
  return report;
}
