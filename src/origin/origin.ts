import type { Readable } from 'node:stream';

/**
 * Where modules come from: one upstream GOPROXY, the chain of them, or (later) git itself. Methods
 * answer what the GOPROXY protocol answers and throw NotFoundError / GoneError (the origin does not have
 * it: 404 / 410), UpstreamError, TimeoutError or OriginUnavailableError. Module paths and versions are
 * unescaped; the origin escapes them for its own URLs.
 */
export interface Origin {
  /** Short name for logs and metrics, e.g. the upstream URL or `direct`. */
  readonly name: string;
  /** The `@v/list` body as the origin sent it (one version a line; may hold junk, the caller filters). */
  list(modulePath: string, signal?: AbortSignal): Promise<string>;
  /** The `@latest` JSON body. */
  latest(modulePath: string, signal?: AbortSignal): Promise<Buffer>;
  /** The `.info` JSON body for a version or any other query (`master`, `v1.2`, a commit hash). */
  info(modulePath: string, query: string, signal?: AbortSignal): Promise<Buffer>;
  /** The `.mod` body of a canonical version. */
  mod(modulePath: string, version: string, signal?: AbortSignal): Promise<Buffer>;
  /** The `.zip` of a canonical version, streamed; the caller checks and hashes it while storing it. */
  zip(modulePath: string, version: string, signal?: AbortSignal): Promise<Readable>;
}
