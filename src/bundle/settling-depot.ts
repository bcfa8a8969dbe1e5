// What bundle create and mirror fetch through: a depot whose close() also waits for the calls made
// through it, so that a command removes (or hands back) its storage folder only once nothing writes there.
import { abortable } from '../abortable.js';
import type { Depot } from '../depot/depot.js';
import type { Artifact } from '../protocol/artifact.js';

/**
 * Wraps a depot; close() resolves once every call made through this one has ended, then once the
 * wrapped depot's close() has. A caller's signal ends only its own wait: the fetch it started runs on to
 * its end (a depot's fetches are shared and stored behind their answers, so they would run on anyway),
 * and close() waits for it. Without that, a graph that fails on one module leaves its sibling fetches
 * running, and their stores land after close() in a folder being removed.
 */
export class SettlingDepot implements Depot {
  private readonly calls = new Set<Promise<void>>();

  constructor(private readonly depot: Depot) {}

  list(modulePath: string, signal?: AbortSignal): Promise<Artifact> {
    return this.track(() => this.depot.list(modulePath), signal);
  }

  latest(modulePath: string, signal?: AbortSignal): Promise<Artifact> {
    return this.track(() => this.depot.latest(modulePath), signal);
  }

  info(modulePath: string, query: string, signal?: AbortSignal): Promise<Artifact> {
    return this.track(() => this.depot.info(modulePath, query), signal);
  }

  mod(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    return this.track(() => this.depot.mod(modulePath, version), signal);
  }

  zip(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    return this.track(() => this.depot.zip(modulePath, version), signal);
  }

  async close(): Promise<void> {
    // A call that ends may have been awaited by one that starts another: look again until none is left.
    while (this.calls.size > 0) await Promise.all(this.calls);
    await this.depot.close();
  }

  private track(call: () => Promise<Artifact>, signal: AbortSignal | undefined): Promise<Artifact> {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    // A call that throws at once is a failed call like any other.
    const answer = (async () => call())();
    const ended = answer.then(
      () => undefined,
      () => undefined,
    );
    this.calls.add(ended);
    void ended.then(() => this.calls.delete(ended));
    return abortable(answer, signal);
  }
}
