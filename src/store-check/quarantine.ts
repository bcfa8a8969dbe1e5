// Damaged objects are never deleted: a repair moves each out of the way of what is served, into
// godepot's own records (quarantineKey), where an operator can look at it and remove it, and where
// nothing that looks for modules in storage counts it.
import type { Storage } from '../storage/storage.js';
import { recordsPrefix } from '../store/records.js';

/** The name of a repair run's quarantine folder: its start in UTC, to the second (`20240102T030405Z`). */
export function quarantineStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Where the repair run `stamp` keeps a damaged object it took out of `key`: `godepot/quarantine/<stamp>/<key>`. */
export function quarantineKey(stamp: string, key: string): string {
  return `${recordsPrefix}/quarantine/${stamp}/${key}`;
}

/**
 * Moves the object `key` to quarantineKey(stamp, key) and returns that key: the copy is stored whole
 * before the object is removed, so that a failure at any point leaves it in one place or both.
 */
export async function quarantine(storage: Storage, stamp: string, key: string): Promise<string> {
  const kept = quarantineKey(stamp, key);
  await storage.put(kept, await storage.get(key));
  await storage.delete(key);
  return kept;
}
