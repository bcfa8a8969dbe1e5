// Checking a zip needs memory in proportion to its entries (their directory, the collision table, one
// digest each), and nothing else bounds how many checks run at once: a burst of cold requests for zips
// of many small files would otherwise hold them all in memory together.

/**
 * A process-wide memory budget for zip checks, a weighted semaphore in bytes: a check starts once its
 * cost fits beside those running, in order of arrival; one costing more than the whole budget starts
 * once nothing else runs, and runs alone.
 */
export class ZipBudget {
  private used = 0;
  private running = 0;
  private readonly waiting: { cost: number; start: () => void }[] = [];

  constructor(
    /** Bytes the checks running at once may cost together. */
    readonly capacity: number,
  ) {}

  /** Waits until `cost` bytes fit (see the class), then returns the function that gives them back (once). */
  async reserve(cost: number): Promise<() => void> {
    const taken = Math.min(Math.max(0, cost), this.capacity);
    if (this.waiting.length > 0 || !this.fits(taken)) {
      // First come, first served: a large check is not overtaken for ever by a stream of small ones.
      await new Promise<void>((start) => this.waiting.push({ cost: taken, start }));
    } else {
      this.take(taken);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= taken;
      this.running--;
      this.startWaiting();
    };
  }

  /** Bytes reserved by the checks running now. */
  get reserved(): number {
    return this.used;
  }

  /** How many checks run now. */
  get active(): number {
    return this.running;
  }

  /** How many checks wait for their turn. */
  get queued(): number {
    return this.waiting.length;
  }

  // A cost clamped to the capacity fits an idle budget, so the oversized check waits only for quiet.
  private fits(cost: number): boolean {
    return this.running === 0 || this.used + cost <= this.capacity;
  }

  private take(cost: number): void {
    this.used += cost;
    this.running++;
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.cost)) {
      const next = this.waiting.shift()!;
      this.take(next.cost);
      next.start();
    }
  }
}

/**
 * The budget every zip check of this process shares unless given another: 256 MiB, which README's
 * section on verification justifies with measured costs.
 */
export const defaultZipBudget = new ZipBudget(256 << 20);
