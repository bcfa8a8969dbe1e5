import { NotFoundError } from '../errors.js';
import { failedDownload, type Download, type DownloadRequest, type Origin } from './origin.js';

/**
 * The origin of the `hosted` route: modules that exist only as published to godepot, so there is
 * nowhere to fetch them from. Every call fails with NotFoundError, which the depot takes as "the origin
 * has none": it answers from storage alone, listing and serving the published versions.
 */
export class HostedOrigin implements Origin {
  readonly name = 'hosted';

  async list(modulePath: string, signal?: AbortSignal): Promise<string[]> {
    throw notPublished(modulePath, signal);
  }

  async query(modulePath: string, query: string, signal?: AbortSignal): Promise<Buffer> {
    throw notPublished(`${modulePath}@${query}`, signal);
  }

  download(modulePath: string, version: string, request: DownloadRequest, signal?: AbortSignal): Download {
    return failedDownload(request, () => notPublished(`${modulePath}@${version}`, signal));
  }
}

function notPublished(what: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted === true) return signal.reason;
  return new NotFoundError(`${what}: not published to godepot (hosted modules are only ever published, never fetched)`);
}
