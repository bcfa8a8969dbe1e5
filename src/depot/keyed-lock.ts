/**
 * Mutual exclusion per key: a run for a key starts once every earlier run for that key has settled.
 * Unlike Flight, every caller's function runs; they just never overlap.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** The outcome of `fn`, run once no other run for `key` is under way. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const tail = new Promise<void>((resolve) => (release = resolve));
    // Chained, so that the next caller waits for this run and, through it, for every earlier one.
    const chained = previous === undefined ? tail : previous.then(() => tail);
    this.tails.set(key, chained);
    try {
      await previous;
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === chained) this.tails.delete(key);
    }
  }

  /** How many keys have a run under way or waiting. */
  get size(): number {
    return this.tails.size;
  }
}
