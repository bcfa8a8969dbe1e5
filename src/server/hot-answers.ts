import type { Artifact } from '../protocol/artifact.js';
import type { ProxyRequest } from '../protocol/request.js';

/** Largest body remembered: `.info` files are tens of bytes and go.mod files rarely pass a few KiB. */
export const maxHotBytes = 16 * 1024;

/**
 * The small immutable answers the depot gave (`.info` and `.mod` of canonical versions), remembered per
 * parsed request so that asking again is answered at once, without a round through the depot's
 * promises, which costs a sixth of serving a cached `.info`. Keys are the frozen requests parseRequest
 * remembers, held weakly: an answer lives as long as its parse does, so the parse cache's bound is this
 * one's too. Bodies are the depot's own buffers, shared, not copied. Immutable answers never change;
 * only a version removed from storage (`storage rm`, rare) makes them all forgotten at once.
 */
export class HotAnswers {
  private answers = new WeakMap<Readonly<ProxyRequest>, Artifact>();

  get(request: Readonly<ProxyRequest>): Artifact | undefined {
    return this.answers.get(request);
  }

  /** Forgets every answer: a version was removed, and which requests named it is not kept. */
  forgetAll(): void {
    this.answers = new WeakMap();
  }

  /** Remembers `artifact` for `request` when it is immutable, in memory and small. */
  remember(request: Readonly<ProxyRequest>, artifact: Artifact): void {
    if (artifact.immutable && artifact.body !== undefined && artifact.body.length <= maxHotBytes) {
      this.answers.set(request, artifact.cache === 'hit' ? artifact : { ...artifact, cache: 'hit' });
    }
  }
}
