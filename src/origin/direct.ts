import { OriginUnavailableError } from '../errors.js';
import { failedDownload, type Download, type DownloadRequest, type Origin } from './origin.js';

/**
 * The `direct` element of a GOPROXY list: fetching from the module's version control repository. Until
 * the git origin exists, every call throws OriginUnavailableError (`direct mode not available: ...`), so
 * that a chain ending in `direct` reports why the module could not be fetched rather than a bare 404.
 */
export class DirectOrigin implements Origin {
  readonly name = 'direct';

  async list(modulePath: string, signal?: AbortSignal): Promise<string[]> {
    throw this.unavailable(modulePath, signal);
  }

  async query(modulePath: string, _query: string, signal?: AbortSignal): Promise<Buffer> {
    throw this.unavailable(modulePath, signal);
  }

  download(modulePath: string, _version: string, request: DownloadRequest, signal?: AbortSignal): Download {
    return failedDownload(request, () => this.unavailable(modulePath, signal));
  }

  private unavailable(modulePath: string, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted === true) return signal.reason;
    return new OriginUnavailableError(
      `direct mode not available: godepot cannot fetch ${modulePath} from its version control repository yet; list an upstream proxy that has it`,
    );
  }
}
