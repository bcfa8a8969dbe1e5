/** Which files of a module version Origin.download is asked for. */
export interface DownloadRequest {
  info?: boolean;
  mod?: boolean;
  /**
   * Where to write the zip: a path where no file exists yet, in a folder that does (a file the depot
   * staged in its storage, so that storing the zip is a rename). The origin creates it; should the zip
   * part fail, no file is left there.
   */
  zipTo?: string;
}

/**
 * The files asked for, each settling on its own, so that a slow or failing zip holds up neither the
 * `.info` nor the `.mod`. A part the caller never awaits does not count as an unhandled rejection.
 */
export interface Download {
  /** The `.info` JSON body. */
  info?: Promise<Buffer>;
  /** The `.mod` body. */
  mod?: Promise<Buffer>;
  /** The zip's size, once it is whole in `zipTo`; the caller checks and hashes it before storing it. */
  zip?: Promise<number>;
}

/**
 * Where modules come from: one upstream GOPROXY, the chain of them, or git itself (goproxy's Fetcher:
 * list, query, download). Every call fails with NotFoundError / GoneError (the origin does not have it:
 * 404 / 410), UpstreamError, TimeoutError or OriginUnavailableError, or with the signal's reason once it
 * aborts. Module paths and versions are unescaped; the origin escapes them for its own use. An origin
 * checks nothing of what it hands over: the depot does.
 */
export interface Origin {
  /** Short name for logs and metrics, e.g. the upstream URL or `direct`. */
  readonly name: string;
  /** The module's versions as the origin lists them (tags; may hold junk, the caller filters). */
  list(modulePath: string, signal?: AbortSignal): Promise<string[]>;
  /**
   * The `.info` JSON of the version a query names: `latest` (go's `@latest`), a canonical or partial
   * version, a branch, a tag or a commit hash.
   */
  query(modulePath: string, query: string, signal?: AbortSignal): Promise<Buffer>;
  /** Starts fetching the requested files of a canonical version (one checkout gives a VCS origin all three). */
  download(modulePath: string, version: string, request: DownloadRequest, signal?: AbortSignal): Download;
}

/** `part`, marked as handled: a Download part the caller ignores must not be an unhandled rejection. */
export function downloadPart<T>(part: Promise<T>): Promise<T> {
  part.catch(() => undefined);
  return part;
}

/** A Download whose every requested part rejects with `reason()`, as an origin that can fetch nothing answers. */
export function failedDownload(request: DownloadRequest, reason: () => unknown): Download {
  const fail = (): Promise<never> => downloadPart(Promise.reject(reason()));
  return {
    ...(request.info === true ? { info: fail() } : {}),
    ...(request.mod === true ? { mod: fail() } : {}),
    ...(request.zipTo !== undefined ? { zip: fail() } : {}),
  };
}
