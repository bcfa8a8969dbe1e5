import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { unescapePath, unescapeVersion } from '../module/path.js';
import { readOnlyStorageContract } from '../storage/storage.contract.js';
import { BundleStorage, ReadOnlyStorageError } from './bundle-storage.js';
import { sha256Hex } from '../../test/support/bundle-fixtures.js';
import { openBundle, writeBundle } from './format.js';
import { BUNDLE_FORMAT, compareModules, type Manifest, type ManifestModule } from './manifest.js';

const EXTENSIONS = ['.info', '.mod', '.zip'];

/**
 * A bundle holding `objects` (module-cache keys): each key's module version gets the file, and a
 * `.ziphash` becomes its module's zipHash, which BundleStorage serves back as that key.
 */
function manifestModules(objects: ReadonlyMap<string, Buffer>): ManifestModule[] {
  const byVersion = new Map<string, ManifestModule>();
  for (const [key, data] of objects) {
    const [, escapedPath, escapedVersion, ext] = /^(.+)\/@v\/(.+)(\.info|\.mod|\.zip|\.ziphash)$/.exec(key)!;
    const path = unescapePath(escapedPath!);
    const version = unescapeVersion(escapedVersion!);
    let module = byVersion.get(`${path}@${version}`);
    if (module === undefined) {
      module = { path, version, files: [], modHash: `h1:${'M'.repeat(43)}=` };
      byVersion.set(`${path}@${version}`, module);
    }
    if (ext === '.ziphash') module.zipHash = data.toString('utf8').trim();
    else module.files.push({ name: key, size: data.length, sha256: sha256Hex(data) });
  }
  const modules = [...byVersion.values()].sort(compareModules);
  for (const m of modules) m.files.sort((a, b) => EXTENSIONS.findIndex((e) => a.name.endsWith(e)) - EXTENSIONS.findIndex((e) => b.name.endsWith(e)));
  return modules;
}

readOnlyStorageContract(
  'BundleStorage',
  async (objects) => {
    const dir = await mkdtemp(join(tmpdir(), 'godepot-bundle-storage-contract-'));
    const file = join(dir, 'b.tar.gz');
    const manifest: Manifest = { format: BUNDLE_FORMAT, createdBy: 'godepot test', inputs: [], modules: manifestModules(objects), sumdb: [] };
    await writeBundle(file, manifest, async (f) => Readable.from([objects.get(f.name)!]));
    const bundle = await openBundle(file);
    return {
      storage: await BundleStorage.over([bundle]),
      dispose: async () => {
        await bundle.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  ReadOnlyStorageError,
);
