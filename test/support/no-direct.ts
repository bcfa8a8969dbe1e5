// `direct` for tests of chains that never reach a repository: every call fails as a direct origin
// that cannot fetch the module does, with OriginUnavailableError.
import { OriginUnavailableError } from '../../src/errors.js';
import { failedDownload, type Download, type DownloadRequest, type Origin } from '../../src/origin/origin.js';

function unavailable(modulePath: string, signal: AbortSignal | undefined): unknown {
  return signal?.aborted === true ? signal.reason : new OriginUnavailableError(`direct mode not available: ${modulePath} has no repository in this test`);
}

/** An origin for `direct` that has nothing; subclass it to count or observe calls. */
export class NoDirect implements Origin {
  readonly name = 'direct';

  async list(modulePath: string, signal?: AbortSignal): Promise<string[]> {
    throw unavailable(modulePath, signal);
  }

  async query(modulePath: string, _query: string, signal?: AbortSignal): Promise<Buffer> {
    throw unavailable(modulePath, signal);
  }

  download(modulePath: string, _version: string, request: DownloadRequest, signal?: AbortSignal): Download {
    return failedDownload(request, () => unavailable(modulePath, signal));
  }
}
