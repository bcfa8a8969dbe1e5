// A zip can hold millions of entries, or entries with names of 64 KiB: loops over them count the work they
// do rather than the entries, so that no stretch of it keeps other requests waiting for long.

import { setImmediate as nextTurn } from 'node:timers/promises';

/** About a millisecond or two of work over a zip's entries, in Turns' units: bytes handled, plus 64 per entry. */
export const UNITS_PER_TURN = 256 << 10;

/** Counts work done on the main thread and, once a turn's worth is done, lets other work run. */
export class Turns {
  private done = 0;

  constructor(private readonly perTurn = UNITS_PER_TURN) {}

  /**
   * Counts `units` of work just done; returns a promise that settles after a turn of the event loop
   * when a turn's worth has been done since the last, else undefined (so that most calls cost no await).
   */
  spend(units: number): Promise<void> | undefined {
    this.done += units;
    if (this.done < this.perTurn) return undefined;
    this.done = 0;
    return nextTurn();
  }
}
