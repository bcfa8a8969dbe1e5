// `bundle export`: a bundle's modules and proofs written out as a folder go reads with no network, either
// a `GOPROXY=file://DIR` tree or a module cache (`GOMODCACHE`, used with GOPROXY=off). Both are the
// module-cache download layout, so the export is an import into a disk storage rooted at the right place,
// plus what go looks for besides the files: `@v/list` of each module and, for a proxy tree, each checksum
// database's `supported`.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConfigError, InvalidContentError, NotFoundError } from '../errors.js';
import { sortVersions } from '../module/semver.js';
import { storageKey } from '../protocol/keys.js';
import { DiskStorage } from '../storage/disk.js';
import { writeFileAtomically } from '../storage/atomic-file.js';
import { readStored } from '../storage/read-stored.js';
import type { Bundle } from './format.js';
import { importVerifiedBundle, type ImportOptions, type ImportReport } from './import.js';

export type ExportTarget = { dir: string } | { gomodcache: string };

/**
 * Writes an already verified bundle into the target; folders may already hold other exports (idempotent,
 * conflicts reported). An incremental bundle needs its base exported there before, as importVerifiedBundle says.
 */
export async function exportVerifiedBundle(bundle: Bundle, target: ExportTarget, options: ImportOptions = {}): Promise<ImportReport> {
  const { signal } = options;
  const root = 'dir' in target ? target.dir : join(target.gomodcache, 'cache', 'download');
  const storage = new DiskStorage({ root });
  const report = await importVerifiedBundle(bundle, storage, options);

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

/** Where exportRelease left the release archive, and whether it wrote it (false: the same file was there). */
export interface ExportedRelease {
  file: string;
  written: boolean;
}

/**
 * Writes the godepot release archive an already verified bundle carries (`bundle create --self`) into
 * `dir`, under its own name, held again to the manifest's size and sha256 as it streams: whole or not
 * at all. A file of that name with the same bytes is left as it is; one with other bytes is never
 * replaced (ConfigError). Throws NotFoundError for a bundle without a release archive.
 */
export async function exportRelease(bundle: Bundle, dir: string, signal?: AbortSignal): Promise<ExportedRelease> {
  const { release } = bundle.manifest;
  if (release === undefined) throw new NotFoundError(`${bundle.file} carries no godepot release archive (bundle create --self puts one in)`);
  const file = join(dir, basename(release.file.name));
  const held = await sha256OfFile(file);
  if (held === release.file.sha256) return { file, written: false };
  if (held !== null) throw new ConfigError(`${file} already exists with other bytes (sha256 ${held}, the bundle's ${release.file.sha256}); it was left as it is`);
  await mkdir(dir, { recursive: true });
  await writeFileAtomically(
    file,
    async (out) => {
      const hash = createHash('sha256');
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(bundle.open(release.file.name), meter, out, ...(signal === undefined ? [] : [{ signal }]));
      const sha256 = hash.digest('hex');
      if (size !== release.file.size || sha256 !== release.file.sha256) {
        throw new InvalidContentError(`${release.file.name}: read ${size} bytes with sha256 ${sha256}, the manifest says ${release.file.size} with ${release.file.sha256}: the bundle changed while it was read`);
      }
    },
    { replace: false },
  );
  return { file, written: true };
}

async function sha256OfFile(file: string): Promise<string | null> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return hash.digest('hex');
}
