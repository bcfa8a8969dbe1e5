import type { FileStaging, StagedObject } from './staging.js';
import type { PutOptions, Storage } from './storage.js';

/** Told of every object stored in or removed from a storage, by key, once the storage has done it. */
export interface StorageWatcher {
  stored(key: string, size: number): void;
  removed(key: string): void;
}

/** One watcher telling each of `watchers`, in order. */
export function allWatchers(watchers: readonly StorageWatcher[]): StorageWatcher {
  return {
    stored: (key, size) => watchers.forEach((watcher) => watcher.stored(key, size)),
    removed: (key) => watchers.forEach((watcher) => watcher.removed(key)),
  };
}

/**
 * `storage` (with its staging) telling `watcher` of every put, commit and delete that took effect. An
 * object of a commit is told with its size as stored, which costs a stat (commits are rare: one per
 * fetched version); after a failed commit, whatever of it was stored is told all the same.
 */
export function watchedStorage<S extends Storage & FileStaging>(storage: S, watcher: StorageWatcher): Storage & FileStaging {
  const tellCommitted = async (objects: readonly StagedObject[]): Promise<void> => {
    const stats = await Promise.all(objects.map((object) => storage.stat(object.key)));
    stats.forEach((object, i) => {
      if (object !== null) watcher.stored(objects[i]!.key, object.size);
    });
  };
  return {
    get: (key, options) => storage.get(key, options),
    stat: (key) => storage.stat(key),
    list: (prefix) => storage.list(prefix),
    put: async (key, body, options?: PutOptions) => {
      const object = await storage.put(key, body, options);
      watcher.stored(key, object.size);
      return object;
    },
    delete: async (key) => {
      await storage.delete(key);
      watcher.removed(key);
    },
    stage: () => storage.stage(),
    commit: async (objects) => {
      try {
        await storage.commit(objects);
      } finally {
        // The commit's outcome stands whatever the stats say: the figures may then miss an object.
        await tellCommitted(objects).catch(() => undefined);
      }
    },
    discard: (file) => storage.discard(file),
  };
}
