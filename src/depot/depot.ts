import type { Readable } from 'node:stream';

/** One answer of the proxy, ready to send; the server maps it to headers without knowing where it came from. */
export interface Artifact {
  contentType: string;
  size: number;
  /**
   * Immutable content (`.info`, `.mod`, `.zip` of a canonical version, full sumdb tiles) gets a strong
   * ETag and a long Cache-Control; mutable content (`list`, `@latest`, a query's `.info`) neither.
   */
  immutable: boolean;
  /** Strong validator for immutable content, quoted as HTTP wants it (`"sha256-…"`); null otherwise. */
  etag: string | null;
  /** How the depot got it, for logs and metrics: from storage, from an origin, or from storage because every origin failed. */
  cache: 'hit' | 'miss' | 'stale';
  /** Small bodies are kept in memory and sent as they are. */
  body?: Buffer;
  /** Large bodies (zips) are streamed from storage, optionally a byte range [start, end] inclusive. */
  open?(range?: { start: number; end: number }): Promise<Readable>;
}

/**
 * The proxy's one method per GOPROXY endpoint (Athens' Protocol): storage first; on a miss the origin,
 * then verification, then an all-or-nothing commit to storage, then the answer. Inputs are validated,
 * unescaped module paths and versions; errors are the typed ones from src/errors.ts.
 */
export interface Depot {
  list(modulePath: string, signal?: AbortSignal): Promise<Artifact>;
  latest(modulePath: string, signal?: AbortSignal): Promise<Artifact>;
  /** `.info` of a canonical version (immutable) or of any other query (resolved through the origin, never stored under the query). */
  info(modulePath: string, query: string, signal?: AbortSignal): Promise<Artifact>;
  mod(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact>;
  zip(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact>;
  /** Resolves once nothing the depot began on its own is under way (stores behind answers, fetches ahead); called when it is no longer used. */
  close(): Promise<void>;
}
