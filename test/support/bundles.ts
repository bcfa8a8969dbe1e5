// Bundles made for their size rather than their modules: many module versions that each carry only a
// go.mod, so that the manifest is as large as it gets for the bundle's bytes (what the memory tests and
// bench/bundle-memory read), and ways to spoil one.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { compressedOffset } from '../../src/bundle/gzip.js';
import { openBundle, writeBundle } from '../../src/bundle/format.js';
import { BUNDLE_FORMAT, moduleFileName, type Manifest, type ManifestModule } from '../../src/bundle/manifest.js';
import { hashGoMod } from '../../src/module/hash.js';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** What writeGoModBundle wrote. */
export interface WrittenGoModBundle {
  modules: number;
  manifestBytes: number;
  size: number;
}

/**
 * Writes to `file` a bundle of `count` module versions `example.com/many/mNNNNNNN@v1.2.3`, each with
 * its go.mod alone (the entry of a module whose go.mod only the graph reads), and one input whose
 * go.sum lists them: about 500 manifest bytes a module version.
 */
export async function writeGoModBundle(file: string, count: number): Promise<WrittenGoModBundle> {
  const contents = new Map<string, Buffer>();
  const modules: ManifestModule[] = [];
  const goSum: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = `example.com/many/m${String(i).padStart(8, '0')}`;
    const data = Buffer.from(`module ${path}\n\ngo 1.17\n`);
    const name = moduleFileName(path, 'v1.2.3', '.mod');
    const modHash = hashGoMod(data);
    contents.set(name, data);
    modules.push({ path, version: 'v1.2.3', files: [{ name, size: data.length, sha256: sha256(data) }], modHash });
    goSum.push(`${path} v1.2.3/go.mod ${modHash}`);
  }
  const manifest: Manifest = { format: BUNDLE_FORMAT, createdBy: 'godepot test', inputs: [{ spec: 'go.mod', kind: 'gomod', mainModules: ['example.com/many'], goSum }], modules, sumdb: [] };
  const written = await writeBundle(file, manifest, async (f) => Readable.from([contents.get(f.name)!]));
  const bundle = await openBundle(file);
  const manifestBytes = bundle.manifestBytes.length;
  await bundle.close();
  return { modules: count, manifestBytes, size: written.size };
}

/** Flips one bit of the last file of the bundle at `file`, in place: verify reads it all before it notices. */
export async function spoilLastFile(file: string): Promise<void> {
  const bundle = await openBundle(file);
  const last = [...bundle.entries.values()].at(-1)!;
  await bundle.close();
  const handle = await open(file, 'r+');
  try {
    const at = compressedOffset(last.offset);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0]! ^= 0x01;
    await handle.write(byte, 0, 1, at);
  } finally {
    await handle.close();
  }
}
