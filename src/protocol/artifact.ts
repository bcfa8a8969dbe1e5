import type { Readable } from 'node:stream';

/**
 * One answer of the proxy, ready to send: what the depot, the checksum databases and the bundle routes
 * hand to the server, which maps it to headers without knowing where it came from.
 */
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
  /** How it was got, for logs and metrics: from storage, from an origin, or from storage because every origin failed. */
  cache: 'hit' | 'miss' | 'stale';
  /** Small bodies are kept in memory and sent as they are. */
  body?: Buffer;
  /** Large bodies (zips) are streamed from storage, optionally a byte range [start, end] inclusive. */
  open?(range?: { start: number; end: number }): Promise<Readable>;
}
