// The limit on an upstream body. An idle timeout alone lets an upstream that sends one byte a second
// hold a request (and the go command behind it) for ever; a limit on the whole download would cut
// honest large zips on slow links. So the body must keep a minimum rate, judged over a sliding window
// as long as the upstream timeout: a body read whole within that window (an .info, a .mod) is never
// cut, one that trickles is cut one window after its headers, and a large zip arriving at any rate
// above the minimum is never cut however long it takes.

// The window is sampled this many times: a slow body is cut at most a tenth of a window late.
const SLOTS = 10;

/**
 * Counts the bytes of one body as they are read and calls `cut` (once) when the bytes read over the
 * last `windowMs` come to less than `minBytesPerSecond` × the window (or to nothing, when that is 0),
 * judging from the first full window after start. stop() when the body is done.
 */
export class MinRateWatch {
  private total = 0;
  private tick = 0;
  /** Bytes read by each of the last SLOTS ticks, by tick modulo SLOTS. */
  private readonly totals = new Array<number>(SLOTS).fill(0);
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(windowMs: number, minBytesPerSecond: number, cut: (read: number) => void) {
    const needed = Math.max(1, (minBytesPerSecond * windowMs) / 1000);
    this.timer = setInterval(() => {
      if (this.stopped) return;
      this.tick++;
      const slot = this.tick % SLOTS;
      // Tick N×SLOTS finds in its slot the total of a whole window before; tick 0's is 0.
      const read = this.total - this.totals[slot]!;
      this.totals[slot] = this.total;
      if (this.tick >= SLOTS && read < needed) {
        this.stop();
        cut(read);
      }
    }, windowMs / SLOTS);
    this.timer.unref();
  }

  /** Counts `bytes` more read. */
  read(bytes: number): void {
    this.total += bytes;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
