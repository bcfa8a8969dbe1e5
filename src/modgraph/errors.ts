import { GodepotError } from '../errors.js';
import type { ModuleVersion } from '../module/gomod.js';

/**
 * A go.mod the module graph needs could not be had or read: fetching it failed, it does not parse, or
 * it declares another module path. `cause` is the underlying error (NotFoundError, UpstreamError,
 * GoModSyntaxError, ...), so callers can still tell an absent module from an unreachable upstream.
 */
export class GraphLoadError extends GodepotError {
  readonly code = 'GRAPH_LOAD';

  constructor(
    /** The input being resolved, as given on the command line. */
    readonly input: string,
    /** The module version whose go.mod failed (before replacement). */
    readonly module: ModuleVersion,
    /** How the input reaches it: main module first, `module` last. */
    readonly chain: readonly string[],
    cause: unknown,
  ) {
    super(`${input}: ${chain.join(' requires\n\t')}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
