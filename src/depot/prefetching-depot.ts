import type { Logger } from 'pino';
import type { Artifact } from '../protocol/artifact.js';
import type { Depot } from './depot.js';

// Zips waiting for a turn, at most; one left out is fetched when it is asked for, as ever.
const MAX_QUEUE = 1024;

/**
 * A depot that fetches a version's zip ahead once it has had to fetch its `.info`: go asks for the zip
 * right after the `.info` and `.mod` (go mod download, go build), and by then the zip is stored (a hit)
 * or on its way (the request joins the fetch), as Athens does. At most `limit` zips are fetched ahead at
 * a time; the others wait their turn. A zip fetched ahead, and the `.mod` asked for before it, go
 * through the inner depot as requests do (single-flight, checks, commit, cache metrics); a failure is
 * only logged, and the zip's own request meets it again. No zip is fetched ahead when its `.mod` fails.
 */
export class PrefetchingDepot implements Depot {
  private readonly running = new Set<Promise<void>>();
  private readonly queue: Array<{ modulePath: string; version: string }> = [];
  /** `module@version` of every zip queued or under way: asked again, it is not fetched twice. */
  private readonly pending = new Set<string>();
  private closed = false;

  constructor(
    private readonly inner: Depot,
    private readonly options: { limit: number; logger: Logger },
  ) {}

  list(modulePath: string, signal?: AbortSignal): Promise<Artifact> {
    return this.inner.list(modulePath, signal);
  }

  latest(modulePath: string, signal?: AbortSignal): Promise<Artifact> {
    return this.inner.latest(modulePath, signal);
  }

  async info(modulePath: string, query: string, signal?: AbortSignal): Promise<Artifact> {
    const artifact = await this.inner.info(modulePath, query, signal);
    // Immutable: the query was a canonical version, whose zip exists.
    if (artifact.cache === 'miss' && artifact.immutable) this.prefetch(modulePath, query);
    return artifact;
  }

  mod(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    return this.inner.mod(modulePath, version, signal);
  }

  zip(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    return this.inner.zip(modulePath, version, signal);
  }

  forget(modulePath: string, version: string): void {
    this.inner.forget(modulePath, version);
  }

  /**
   * Fetches nothing more ahead: the zips waiting for a turn are dropped and those under way finished
   * (a graceful stop finishes the downloads in flight); resolves once they are, and the inner depot
   * has closed.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const { modulePath, version } of this.queue.splice(0)) this.pending.delete(`${modulePath}@${version}`);
    while (this.running.size > 0) await Promise.all(this.running);
    await this.inner.close();
  }

  private prefetch(modulePath: string, version: string): void {
    const key = `${modulePath}@${version}`;
    if (this.closed || this.pending.has(key)) return;
    this.pending.add(key);
    if (this.running.size >= this.options.limit) {
      if (this.queue.length < MAX_QUEUE) this.queue.push({ modulePath, version });
      else this.pending.delete(key);
      return;
    }
    this.start(modulePath, version);
  }

  private start(modulePath: string, version: string): void {
    // The .mod first: a zip fetch asks the origin for the .mod unless it is stored, and one may still be
    // on its way after the .info (it is then joined, else answered from memory). When the .mod fails,
    // so would the zip, which needs it: nothing more is fetched ahead (an upstream serving a bad .mod is
    // not read again for nothing), and the zip's own request, if any, asks again.
    const run: Promise<void> = this.inner
      .mod(modulePath, version)
      .then(() => this.inner.zip(modulePath, version))
      .then(
        () => undefined,
        (err: unknown) => this.options.logger.debug({ err, module: modulePath, version }, 'fetching the zip ahead of its request failed'),
      );
    this.running.add(run);
    void run.then(() => {
      this.running.delete(run);
      this.pending.delete(`${modulePath}@${version}`);
      const next = this.queue.shift();
      if (next !== undefined) this.start(next.modulePath, next.version);
    });
  }
}
