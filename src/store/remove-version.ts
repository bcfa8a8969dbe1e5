// Taking one module version out of the store: `storage rm`, retention and quotas all remove this way.
import { storageKey } from '../protocol/keys.js';
import type { Storage } from '../storage/storage.js';
import { forgetCatalogued } from './catalog.js';
import { downloadedKey } from './download-times.js';
import { keepRemovedHashes } from './removed-versions.js';

/**
 * Removes the files of `modulePath@version`, its last-download record and its catalog entry; absent
 * files are no error. The hashes of its zip and go.mod are recorded first (removed-versions.ts), so
 * that it never comes back with other content. The `.ziphash` goes first and the `.info` last, so that
 * a removal cut short leaves what a reader already takes for a version it must fetch again (a zip
 * without `.ziphash` is an interrupted commit, a `.mod` alone is what go stores of a module it does not
 * build), never a zip served without its hash. Returns the bytes of the `.info`, `.mod` and `.zip` removed.
 */
export async function removeVersion(storage: Storage, modulePath: string, version: string, now = new Date()): Promise<number> {
  await keepRemovedHashes(storage, modulePath, version, now);
  let bytes = 0;
  for (const file of ['ziphash', 'zip', 'mod', 'info'] as const) {
    const key = storageKey(modulePath, file, version);
    const object = await storage.stat(key);
    if (object === null) continue;
    await storage.delete(key);
    if (file !== 'ziphash') bytes += object.size;
  }
  await storage.delete(downloadedKey(modulePath, version));
  await forgetCatalogued(storage, modulePath, version);
  return bytes;
}
