// `--max-storage` as a wrapper: the storage refuses new module files past the quota, whoever writes them
// (a fetch, a publish, a bundle upload), before any byte of them is stored.
import { stat } from 'node:fs/promises';
import type { FileStaging, StagedObject } from '../storage/staging.js';
import type { PutOptions, Storage } from '../storage/storage.js';
import { countedFileOf } from './records.js';
import type { StorageQuota } from './storage-quota.js';

/**
 * `storage` whose puts and commits of version files (`.info`, `.mod`, `.zip`: what the quota counts)
 * first reserve their bytes with `quota`, and fail with its StorageQuotaError, storing nothing, when they
 * do not fit. A commit is refused whole: a zip is never stored without the files that go with it. Other
 * keys (lists, checksum-database records, godepot's records) are small and are never refused.
 */
export function quotaStorage<S extends Storage & FileStaging>(storage: S, quota: StorageQuota): Storage & FileStaging {
  return {
    get: (key, options) => storage.get(key, options),
    stat: (key) => storage.stat(key),
    list: (prefix) => storage.list(prefix),
    delete: (key) => storage.delete(key),
    put: async (key, body, options?: PutOptions) => {
      if (countedFileOf(key) === null) return storage.put(key, body, options);
      // A stream of unknown length counts as nothing: at the limit it is refused all the same.
      const release = await quota.reserve(body instanceof Uint8Array ? body.length : (options?.size ?? 0));
      try {
        return await storage.put(key, body, options);
      } finally {
        release();
      }
    },
    stage: () => storage.stage(),
    commit: async (objects) => {
      const counted = objects.filter((object) => countedFileOf(object.key) !== null);
      if (counted.length === 0) return storage.commit(objects);
      const release = await quota.reserve((await Promise.all(counted.map(sizeOf))).reduce((sum, size) => sum + size, 0));
      try {
        await storage.commit(objects);
      } finally {
        release();
      }
    },
    discard: (file) => storage.discard(file),
  };
}

async function sizeOf(object: StagedObject): Promise<number> {
  return 'body' in object ? object.body.length : (await stat(object.file)).size;
}
