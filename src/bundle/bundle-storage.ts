// Bundles as a read-only Storage, for `serve --bundle`: the depot and the checksum-database route read
// them in place, in the same layout as a disk storage, without anything being unpacked or imported.
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { storageKey } from '../protocol/keys.js';
import type { Storage, StoredObject } from '../storage/storage.js';
import type { Bundle } from './format.js';

type Entry = { bundle: Bundle; name: string; size: number; modified: Date } | { body: Buffer; size: number; modified: Date };

/** Read-only storage over opened (and verified) bundles; for a key in several, the first bundle given wins. */
export class BundleStorage implements Storage {
  private constructor(private readonly entries: ReadonlyMap<string, Entry>) {}

  static async over(bundles: readonly Bundle[]): Promise<BundleStorage> {
    const entries = new Map<string, Entry>();
    for (const bundle of bundles) {
      const modified = (await stat(bundle.file)).mtime;
      const add = (key: string, entry: Entry): void => {
        if (!entries.has(key)) entries.set(key, entry);
      };
      for (const module of bundle.manifest.modules) {
        for (const file of module.files) add(file.name, { bundle, name: file.name, size: file.size, modified });
        // The depot takes a zip with its `.ziphash` for whole; the manifest holds that h1.
        if (module.zipHash !== undefined) {
          const body = Buffer.from(`${module.zipHash}\n`);
          add(storageKey(module.path, 'ziphash', module.version), { body, size: body.length, modified });
        }
      }
      for (const db of bundle.manifest.sumdb) {
        for (const file of db.files) add(file.name, { bundle, name: file.name, size: file.size, modified });
      }
    }
    return new BundleStorage(entries);
  }

  async get(key: string, options: { signal?: AbortSignal; start?: number; end?: number } = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    const entry = this.entries.get(key);
    if (entry === undefined) throw new NotFoundError(`${key}: not found in the bundles`);
    const range = options.start === undefined && options.end === undefined ? undefined : { start: options.start ?? 0, end: options.end ?? entry.size - 1 };
    if ('body' in entry) return Readable.from([range === undefined ? entry.body : entry.body.subarray(range.start, range.end + 1)]);
    return entry.bundle.open(entry.name, range);
  }

  async stat(key: string): Promise<StoredObject | null> {
    const entry = this.entries.get(key);
    return entry === undefined ? null : { size: entry.size, modified: entry.modified };
  }

  async put(key: string): Promise<StoredObject> {
    throw new InvalidRequestError(`${key}: bundles are read-only`);
  }

  async list(prefix: string): Promise<string[]> {
    const folder = `${prefix}/`;
    return [...this.entries.keys()].filter((key) => key.startsWith(folder)).sort();
  }

  async delete(key: string): Promise<void> {
    throw new InvalidRequestError(`${key}: bundles are read-only`);
  }
}
