/**
 * A least-recently-used map bounded by the bytes its values are said to hold: the depot's in-memory
 * copy of small immutable files, so that a hit costs a map lookup and nothing else.
 */
export class MemoryCache<V> {
  // A Map iterates in insertion order; re-inserting on every hit keeps the least recent first.
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` as the most recent entry, evicting the least recent ones past the byte bound; a value larger than the bound is not kept. */
  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= entry.bytes;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
  }

  /** Bytes held, as the callers of set() counted them. */
  get bytes(): number {
    return this.total;
  }
}
