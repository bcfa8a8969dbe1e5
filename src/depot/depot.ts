import type { Artifact } from '../protocol/artifact.js';

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
  /**
   * Forgets what is remembered of `modulePath@version` (its files, and its module's `list` and
   * `@latest` answers): it was removed from storage, and is fetched again (or not found) when asked for.
   */
  forget(modulePath: string, version: string): void;
  /** Resolves once nothing the depot began is under way (fetches, those of callers that stopped waiting included; stores behind answers; fetches ahead); called when it is no longer used. */
  close(): Promise<void>;
}
