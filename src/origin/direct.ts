import type { Readable } from 'node:stream';
import { OriginUnavailableError } from '../errors.js';
import type { Origin } from './origin.js';

/**
 * The `direct` element of a GOPROXY list: fetching from the module's version control repository. Until
 * the git origin exists, every call throws OriginUnavailableError (`direct mode not available: ...`), so
 * that a chain ending in `direct` reports why the module could not be fetched rather than a bare 404.
 */
export class DirectOrigin implements Origin {
  readonly name = 'direct';

  list(modulePath: string, signal?: AbortSignal): Promise<string> {
    return this.unavailable(modulePath, signal);
  }

  latest(modulePath: string, signal?: AbortSignal): Promise<Buffer> {
    return this.unavailable(modulePath, signal);
  }

  info(modulePath: string, _query: string, signal?: AbortSignal): Promise<Buffer> {
    return this.unavailable(modulePath, signal);
  }

  mod(modulePath: string, _version: string, signal?: AbortSignal): Promise<Buffer> {
    return this.unavailable(modulePath, signal);
  }

  zip(modulePath: string, _version: string, signal?: AbortSignal): Promise<Readable> {
    return this.unavailable(modulePath, signal);
  }

  private async unavailable(modulePath: string, signal: AbortSignal | undefined): Promise<never> {
    signal?.throwIfAborted();
    throw new OriginUnavailableError(
      `direct mode not available: godepot cannot fetch ${modulePath} from its version control repository yet; list an upstream proxy that has it`,
    );
  }
}
