// The module set of an offline bundle: the hashes its manifest records for each module version, or,
// with rehash, the hashes of the files the bundle holds, held to the manifest.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { openBundle, type Bundle } from '../bundle/format.js';
import { moduleFileName, type ManifestModule } from '../bundle/manifest.js';
import { InvalidContentError } from '../errors.js';
import { streamToNewFile } from '../stream-to-new-file.js';
import { hashGoMod } from '../module/hash.js';
import { ModuleSet, type ModuleSetEntry } from './module-set.js';
import { hashZipFile } from './module-tree.js';

function disagreement(bundle: Bundle, name: string, actual: string, recorded: string): InvalidContentError {
  return new InvalidContentError(`${bundle.file}: ${name} hashes to ${actual} but the manifest says ${recorded}`);
}

// A zip is hashed from a temporary copy: the h1 needs the zip's central directory, at its end, and
// reading a bundle entry is a stream.
async function rehashModule(bundle: Bundle, module: ManifestModule, scratch: string): Promise<void> {
  const modName = moduleFileName(module.path, module.version, '.mod');
  const modHash = hashGoMod(await buffer(bundle.open(modName)));
  if (modHash !== module.modHash) throw disagreement(bundle, modName, modHash, module.modHash);
  if (module.zipHash === undefined) return;
  const zipName = moduleFileName(module.path, module.version, '.zip');
  const copy = join(scratch, 'module.zip');
  let zipHash: string;
  try {
    await streamToNewFile(copy, (out) => pipeline(bundle.open(zipName), out));
    zipHash = await hashZipFile(copy);
  } finally {
    await rm(copy, { force: true });
  }
  if (zipHash !== module.zipHash) throw disagreement(bundle, zipName, zipHash, module.zipHash);
}

/**
 * The module set of the bundle `file`: for each module version of its manifest, `modHash` as the go.mod's
 * entry and `zipHash`, when the zip travels, as the files' entry. With `rehash`, every .mod and zip in the
 * bundle is hashed and must agree with the manifest (InvalidContentError names the one that does not).
 * Throws BundleFormatError for a file that is not a bundle.
 */
export async function readBundle(file: string, options: { rehash?: boolean } = {}): Promise<ModuleSet> {
  const bundle = await openBundle(file);
  try {
    const { modules } = bundle.manifest;
    if (options.rehash === true) {
      const scratch = await mkdtemp(join(tmpdir(), 'godepot-fingerprint-'));
      try {
        for (const module of modules) await rehashModule(bundle, module, scratch);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    }
    const entries: ModuleSetEntry[] = [];
    for (const m of modules) {
      entries.push({ path: m.path, version: m.version, file: 'go.mod', hash: m.modHash });
      if (m.zipHash !== undefined) entries.push({ path: m.path, version: m.version, file: 'zip', hash: m.zipHash });
    }
    return new ModuleSet(entries);
  } finally {
    await bundle.close();
  }
}
