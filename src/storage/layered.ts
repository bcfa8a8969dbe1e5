// Storage seen through read-only layers (bundles served with `serve --bundle`): reads find a key in the
// first layer holding it, else in the writable storage below, which takes every write. The layers are
// never written, so serving a bundle never imports it.
import type { FileStaging, StagedObject } from './staging.js';
import type { PutOptions, Storage, StoredObject } from './storage.js';
import type { Readable } from 'node:stream';

export class LayeredStorage implements Storage, FileStaging {
  constructor(
    private readonly layers: readonly Storage[],
    private readonly writable: Storage & FileStaging,
  ) {}

  async get(key: string, options?: { signal?: AbortSignal; start?: number; end?: number }): Promise<Readable> {
    for (const layer of this.layers) {
      if ((await layer.stat(key)) !== null) return layer.get(key, options);
    }
    return this.writable.get(key, options);
  }

  async stat(key: string): Promise<StoredObject | null> {
    for (const layer of this.layers) {
      const found = await layer.stat(key);
      if (found !== null) return found;
    }
    return this.writable.stat(key);
  }

  put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<StoredObject> {
    return this.writable.put(key, body, options);
  }

  async list(prefix: string): Promise<string[]> {
    const all = await Promise.all([...this.layers, this.writable].map((s) => s.list(prefix)));
    return [...new Set(all.flat())].sort();
  }

  /** Removes the writable copy only: what a layer holds cannot be deleted. */
  delete(key: string): Promise<void> {
    return this.writable.delete(key);
  }

  stage(): Promise<string> {
    return this.writable.stage();
  }

  commit(objects: readonly StagedObject[]): Promise<void> {
    return this.writable.commit(objects);
  }

  discard(file: string): Promise<void> {
    return this.writable.discard(file);
  }
}

