import { GodepotError } from '../errors.js';

/** A path given as a module source that is none of the kinds godepot reads, or that does not exist. */
export class ModuleSourceError extends GodepotError {
  readonly code = 'MODULE_SOURCE';

  constructor(
    /** The path as the user gave it. */
    readonly location: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${location}: ${reason}`, options);
  }
}
