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

/** A request that can never succeed as written: a malformed path, version or route. Never forwarded. */
export class InvalidRequestError extends GodepotError {
  readonly code = 'INVALID_REQUEST';
}

/** The module, version or file does not exist here or at any origin that was asked. */
export class NotFoundError extends GodepotError {
  readonly code = 'NOT_FOUND';
}

/** The module or version existed once and is gone for good (an origin answered 410). */
export class GoneError extends GodepotError {
  readonly code = 'GONE';
}

/** An origin failed in a way that says nothing about whether the module exists (5xx, reset, bad data). */
export class UpstreamError extends GodepotError {
  readonly code = 'UPSTREAM';
  constructor(
    message: string,
    /** The status the origin answered with, when it answered at all. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An origin did not answer in time. */
export class TimeoutError extends GodepotError {
  readonly code = 'TIMEOUT';
}

/** Fetching this module needs an origin godepot cannot use here (`direct` before the git origin exists, or `off`). */
export class OriginUnavailableError extends GodepotError {
  readonly code = 'ORIGIN_UNAVAILABLE';
}

/** Content from an origin broke the module rules (bad zip, go.mod that disagrees with .mod, oversized body). */
export class InvalidContentError extends GodepotError {
  readonly code = 'INVALID_CONTENT';
}

/** A request that needs credentials came without valid ones. */
export class UnauthorizedError extends GodepotError {
  readonly code = 'UNAUTHORIZED';
}

/**
 * godepot's policy refuses the module: a routing rule denies it, or GOVCS forbids the version control
 * system it needs. The message names the rule or setting; asking again elsewhere is the operator's call.
 */
export class ForbiddenError extends GodepotError {
  readonly code = 'FORBIDDEN';
}

/** A write to storage failed for lack of space (or quota): nothing partial was kept, and stored modules are still served. */
export class StorageFullError extends GodepotError {
  readonly code = 'STORAGE_FULL';
}

/**
 * A new module version would pass `max-storage`: nothing of it was stored, and stored modules are still
 * served. The message names the limit and the setting.
 */
export class StorageQuotaError extends GodepotError {
  readonly code = 'STORAGE_QUOTA';
}

/** The storage folder cannot be used at all: missing, not a folder, or not writable; the message says which. */
export class StorageUnusableError extends GodepotError {
  readonly code = 'STORAGE_UNUSABLE';
}

/** Configuration that cannot be used; the message names the offending key. */
export class ConfigError extends GodepotError {
  readonly code = 'CONFIG';
}
