/**
 * A counting semaphore: at most `capacity` holders at once, served in order of arrival. The git runner
 * takes one slot per git process, so that a burst of requests never starts more than `--vcs-concurrency`
 * of them on the machine.
 */
export class ProcessSlots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`process slots: capacity must be a positive integer, not ${capacity}`);
  }

  /** Waits for a free slot, then returns the function that frees it (once). */
  async take(): Promise<() => void> {
    if (this.used < this.capacity && this.waiting.length === 0) this.used++;
    // The slot is handed over by the releaser, so `used` already counts it when this resumes.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.used--;
    };
  }

  /** Slots held now. */
  get inUse(): number {
    return this.used;
  }
}
