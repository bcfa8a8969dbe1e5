// The pins of retention (`--keep`, `gc.keep`): module versions a project or a bundle names, which no
// retention run removes. Read with the fingerprint's reader, which already tells a go.sum, a project, a
// workspace and a bundle apart by what is on disk.
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { ConfigError, isGodepotError } from '../errors.js';
import { parseGoMod } from '../module/gomod.js';
import { parseGoWork } from '../module/gowork.js';
import { readModuleSource } from '../fingerprint/read-module-source.js';
import { pinKey } from './retention.js';

/**
 * Every module version the go.sum files, project folders (go.mod or go.sum; a go.work's modules) and
 * bundles at `paths` name: each go.sum line's version (a `/go.mod` line pins its version, whose `.mod`
 * it needs), each version a go.mod requires or replaces a module with, each module a bundle holds.
 * Throws ConfigError naming `setting` and the path for anything else: a path that does not exist, a
 * storage folder or module cache (which would pin all it holds), a file that does not parse.
 */
export async function readPins(paths: readonly string[], setting: string): Promise<Set<string>> {
  const pins = new Set<string>();
  for (const path of paths) {
    if (await isStoreFolder(path)) {
      throw new ConfigError(`${setting}: ${path}: a folder without go.mod, go.sum or go.work: not a project; a module store or cache as a pin would keep everything it holds`);
    }
    try {
      const source = await readModuleSource(path);
      for (const entry of source.set.entries()) pins.add(pinKey(entry.path, entry.version));
      if (source.kind === 'project') await pinRequirements(join(source.location, 'go.mod'), pins);
      if (source.kind === 'workspace') await pinWorkspaceRequirements(source.location, pins);
    } catch (err) {
      // The reader's messages name the file at fault.
      if (isGodepotError(err)) throw new ConfigError(`${setting}: ${err.message}`, { cause: err });
      throw err;
    }
  }
  return pins;
}

/** The versions the go.mod at `file` requires, and those it replaces modules with; nothing when there is no go.mod. */
async function pinRequirements(file: string, pins: Set<string>): Promise<void> {
  if (!(await isFile(file))) return;
  const goMod = parseGoMod(file, await readFile(file));
  for (const { mod } of goMod.require) pins.add(pinKey(mod.path, mod.version));
  // A replacement by a folder has no version, and nothing of it is stored.
  for (const { new: replacement } of goMod.replace) if (replacement.version !== '') pins.add(pinKey(replacement.path, replacement.version));
}

async function pinWorkspaceRequirements(dir: string, pins: Set<string>): Promise<void> {
  const file = join(dir, 'go.work');
  const goWork = parseGoWork(file, await readFile(file));
  for (const use of goWork.use) await pinRequirements(join(isAbsolute(use.path) ? use.path : join(dir, use.path), 'go.mod'), pins);
  for (const { new: replacement } of goWork.replace) if (replacement.version !== '') pins.add(pinKey(replacement.path, replacement.version));
}

/** A folder that holds no go.mod, go.sum or go.work: what the reader would take for a module store and read whole. */
async function isStoreFolder(path: string): Promise<boolean> {
  if ((await stat(path).catch(() => null))?.isDirectory() !== true) return false;
  for (const name of ['go.mod', 'go.sum', 'go.work']) if (await isFile(join(path, name))) return false;
  return true;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() === true;
}
