import { InvalidContentError, OriginUnavailableError, TimeoutError, UpstreamError } from '../errors.js';

/**
 * True for the failures of an origin that say nothing about the module: it is down, slow, unreachable
 * or not usable here, or it answered with something broken. What storage holds is answered instead
 * (stale). A 404/410 is an answer, a bad request or an abort is the caller's, and anything else (a
 * TypeError: a bug) must surface rather than hide behind a stale answer.
 */
export function isOriginFailure(err: unknown): boolean {
  return err instanceof UpstreamError || err instanceof TimeoutError || err instanceof OriginUnavailableError || err instanceof InvalidContentError;
}
