import type { Readable } from 'node:stream';
import type { Counter } from 'prom-client';
import { NotFoundError } from '../errors.js';
import { stagesFiles, type FileStaging, type StagedObject } from '../storage/staging.js';
import type { PutOptions, Storage, StoredObject } from '../storage/storage.js';

type Operation = 'get' | 'stat' | 'put' | 'list' | 'delete';

/**
 * A Storage (with the FileStaging of the one it wraps, when that one stages files) that counts every
 * failed operation in `errors` by operation, a read that breaks off midway included. An absent object
 * is an answer, not a failure. A commit counts as a put.
 */
export function meteredStorage(storage: Storage, errors: Counter<'operation'>): Storage {
  const counters = Object.fromEntries((['get', 'stat', 'put', 'list', 'delete'] as const).map((op) => [op, errors.labels({ operation: op })])) as Record<Operation, Counter.Internal>;
  const counted = async <T>(operation: Operation, pending: Promise<T>): Promise<T> => {
    try {
      return await pending;
    } catch (err) {
      if (!(err instanceof NotFoundError)) counters[operation].inc();
      throw err;
    }
  };
  const metered: Storage = {
    get: async (key, options) => {
      const stream: Readable = await counted('get', storage.get(key, options));
      stream.once('error', () => counters.get.inc());
      return stream;
    },
    stat: (key): Promise<StoredObject | null> => counted('stat', storage.stat(key)),
    put: (key, body, options?: PutOptions) => counted('put', storage.put(key, body, options)),
    list: (prefix) => counted('list', storage.list(prefix)),
    delete: (key) => counted('delete', storage.delete(key)),
  };
  if (!stagesFiles(storage)) return metered;
  const staging: FileStaging = {
    stage: () => storage.stage(),
    commit: (objects: readonly StagedObject[]) => counted('put', storage.commit(objects)),
    discard: (file) => storage.discard(file),
  };
  return Object.assign(metered, staging);
}
