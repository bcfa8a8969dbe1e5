import type { Artifact } from '../protocol/artifact.js';
import type { Depot } from './depot.js';

/** What DenyingDepot asks before each request (Routing.checkAllowed). */
export interface DenyCheck {
  /** Throws (ForbiddenError naming the rule) when `modulePath` must not be served. */
  checkAllowed(modulePath: string): void;
}

/**
 * A Depot that refuses a denied module before the depot it wraps is asked. The check sits in front of
 * storage, not in the origin: a module stored before a `deny` rule was added (or imported from a
 * bundle) must not be served either.
 */
export class DenyingDepot implements Depot {
  constructor(
    private readonly inner: Depot,
    private readonly rules: DenyCheck,
  ) {}

  async list(modulePath: string, signal?: AbortSignal): Promise<Artifact> {
    this.rules.checkAllowed(modulePath);
    return this.inner.list(modulePath, signal);
  }

  async latest(modulePath: string, signal?: AbortSignal): Promise<Artifact> {
    this.rules.checkAllowed(modulePath);
    return this.inner.latest(modulePath, signal);
  }

  async info(modulePath: string, query: string, signal?: AbortSignal): Promise<Artifact> {
    this.rules.checkAllowed(modulePath);
    return this.inner.info(modulePath, query, signal);
  }

  async mod(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    this.rules.checkAllowed(modulePath);
    return this.inner.mod(modulePath, version, signal);
  }

  async zip(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact> {
    this.rules.checkAllowed(modulePath);
    return this.inner.zip(modulePath, version, signal);
  }

  forget(modulePath: string, version: string): void {
    this.inner.forget(modulePath, version);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
