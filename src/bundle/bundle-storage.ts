// Bundles as a read-only Storage, for `serve --bundle`: the depot and the checksum-database route read
// them in place, in the same layout as a disk storage, without anything being unpacked or imported.
import { stat } from 'node:fs/promises';
import { addAbortSignal, Readable } from 'node:stream';
import { GodepotError, InvalidRequestError, NotFoundError } from '../errors.js';
import { storageKey } from '../protocol/keys.js';
import type { Storage, StoredObject } from '../storage/storage.js';
import type { Bundle } from './format.js';
import { bundlePathProblem } from './manifest.js';

/** A write to a storage that only reads bundles: a bug in whoever wrote, never the client's doing. */
export class ReadOnlyStorageError extends GodepotError {
  readonly code = 'READ_ONLY_STORAGE';
}

type Entry = { bundle: Bundle; name: string; size: number; modified: Date } | { body: Buffer; size: number; modified: Date };

// A path element longer than this is no file name on any file system: no storage takes it.
const MAX_SEGMENT_BYTES = 255;

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
    checkKey(key);
    options.signal?.throwIfAborted();
    const entry = this.entries.get(key);
    if (entry === undefined) throw new NotFoundError(`${key}: not found in the bundles`);
    const range = options.start === undefined && options.end === undefined ? undefined : { start: options.start ?? 0, end: options.end ?? entry.size - 1 };
    if (range !== undefined && !(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start >= 0 && range.start <= range.end && range.end < entry.size)) {
      throw new InvalidRequestError(`bytes ${range.start}-${range.end} are outside ${key} of ${entry.size} bytes`);
    }
    const stream = 'body' in entry ? Readable.from([range === undefined ? entry.body : entry.body.subarray(range.start, range.end + 1)]) : entry.bundle.open(entry.name, range);
    return options.signal === undefined ? stream : addAbortSignal(options.signal, stream);
  }

  async stat(key: string): Promise<StoredObject | null> {
    checkKey(key);
    const entry = this.entries.get(key);
    return entry === undefined ? null : { size: entry.size, modified: entry.modified };
  }

  async put(key: string): Promise<StoredObject> {
    checkKey(key);
    throw new ReadOnlyStorageError(`${key}: bundles are read-only`);
  }

  async list(prefix: string): Promise<string[]> {
    if (prefix !== '') checkKey(prefix);
    const folder = prefix === '' ? '' : `${prefix}/`;
    return [...this.entries.keys()].filter((key) => key.startsWith(folder)).sort();
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    throw new ReadOnlyStorageError(`${key}: bundles are read-only`);
  }
}

/** Refuses what no storage takes as a key (a path that could leave a folder, an element too long to be a file name). */
function checkKey(key: string): void {
  const problem = bundlePathProblem(key) ?? (key.split('/').some((segment) => Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) ? `path element longer than ${MAX_SEGMENT_BYTES} bytes` : null);
  if (problem !== null) throw new InvalidRequestError(`invalid storage key ${JSON.stringify(key)}: ${problem}`);
}
