/**
 * The root of every error godepot throws on purpose. Core code throws these and never mentions
 * HTTP: the server maps `code` to a status in one table at the edge, and the CLI prints `message`.
 */
export abstract class GodepotError extends Error {
  /** Stable, machine-readable identifier of the failure kind. */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** True when `err` is one of ours, as opposed to a bug or a failure from Node itself. */
export function isGodepotError(err: unknown): err is GodepotError {
  return err instanceof GodepotError;
}
