import type { Artifact } from '../protocol/artifact.js';
import { MemoryCache } from './memory-cache.js';

/** The depot's endpoints, as answers are remembered and counted by them. */
export type Route = 'list' | 'latest' | 'info' | 'mod' | 'zip';

// What one entry costs besides its body: the key, the artifact object, the map slot.
const ENTRY_OVERHEAD = 256;

/**
 * Answers kept in memory, ready to send as hits: the small immutable files (until evicted) and the
 * mutable `list`/`@latest` answers (until they expire). Bounded by the bytes of their bodies.
 */
export class RememberedAnswers {
  private readonly cache: MemoryCache<{ artifact: Artifact; expires: number }>;

  constructor(maxBytes: number) {
    this.cache = new MemoryCache(maxBytes);
  }

  /** The answer remembered for the route, module and version (`''` for list and @latest), unless expired. */
  get(route: Route, modulePath: string, version: string): Artifact | undefined {
    const entry = this.cache.get(key(route, modulePath, version));
    if (entry === undefined || (entry.expires !== Infinity && entry.expires <= Date.now())) return undefined;
    return entry.artifact;
  }

  /** Remembers `artifact` until `expires` (a Date.now() time; Infinity for immutable content). */
  set(route: Route, modulePath: string, version: string, artifact: Artifact, expires = Infinity): void {
    this.cache.set(key(route, modulePath, version), { artifact, expires }, (artifact.body?.length ?? 0) + ENTRY_OVERHEAD);
  }

  delete(route: Route, modulePath: string, version: string): void {
    this.cache.delete(key(route, modulePath, version));
  }
}

function key(route: Route, modulePath: string, version: string): string {
  return `${route} ${modulePath}@${version}`;
}
