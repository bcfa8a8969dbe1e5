import type { Readable } from 'node:stream';

/** What storage knows about a stored object without reading it. */
export interface StoredObject {
  size: number;
  /** Last modification; for immutable objects, when they were stored. */
  modified: Date;
}

/** Options of Storage.put: what the caller knows, checked while the bytes flow. */
export interface PutOptions {
  /** When given, a body of any other length fails the put and stores nothing. */
  size?: number;
  /** Lower-case hex SHA-256; when given, a body with another digest fails the put and stores nothing. */
  sha256?: string;
  signal?: AbortSignal;
}

/**
 * A dumb keyed blob store; it knows nothing about modules. Keys are slash-separated relative paths
 * (`golang.org/x/text/@v/v0.3.2.zip`) that never contain `..`, `.` or empty segments; the caller escapes
 * module paths so that keys are the module-cache download layout, which makes a disk store's root a
 * valid `GOPROXY=file://` tree.
 */
export interface Storage {
  /** Streams the object, or the byte range [start, end] inclusive; throws NotFoundError when absent. */
  get(key: string, options?: { signal?: AbortSignal; start?: number; end?: number }): Promise<Readable>;
  /** The object's metadata, or null when absent. */
  stat(key: string): Promise<StoredObject | null>;
  /** Stores `body` under `key` all or nothing: readers see the old object or the whole new one, never a part. */
  put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<StoredObject>;
  /** Keys directly or indirectly under `prefix` (a folder: `a/b` never lists `a/bc/x`), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Removes the object; absent objects are not an error. */
  delete(key: string): Promise<void>;
}
