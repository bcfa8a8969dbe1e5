import { buffer } from 'node:stream/consumers';
import { NotFoundError } from '../errors.js';
import type { Storage } from './storage.js';

/** The whole object under `key` (small ones: metadata, proofs, hashes), or null when storage has none. */
export async function readStored(storage: Storage, key: string, signal?: AbortSignal): Promise<Buffer | null> {
  try {
    return await buffer(await storage.get(key, { signal }));
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
