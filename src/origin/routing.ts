// Where each module comes from, decided in one place. An ordered list of rules, each a set of
// GOPRIVATE-style globs and a route: `upstream` (the GOPROXY chain), `direct` (the module's own
// repository), `hosted` (only what was published to godepot) or `deny`; the first rule matching a
// module path decides, and a path no rule matches goes upstream. The same decision says whether the
// trusted checksum database may be asked about the module, and GOVCS which version control commands
// may fetch it, so that a private path reaches no proxy and no public database by any road.
import { ForbiddenError } from '../errors.js';
import { matchPrefixPatterns, patternCovers, patternMatchesNothing } from '../module/patterns.js';
import { govcsAllows, type GovcsRule } from './govcs.js';
import { failedDownload, type Download, type DownloadRequest, type Origin } from './origin.js';

/** The routes a rule can give, as the config file spells them. */
export const routeNames = ['upstream', 'direct', 'hosted', 'deny'] as const;
/** One of routeNames. */
export type RouteName = (typeof routeNames)[number];

/** One routing rule. */
export interface RouteRule {
  /** GOPRIVATE-style globs: the rule is for the module paths matching any of them. */
  readonly match: readonly string[];
  readonly route: RouteName;
  /**
   * False: the checksum database is never asked about these modules. True still yields to the no-sumdb
   * patterns (`--private`, `--nosumdb`), which no rule can lift.
   */
  readonly sumdb: boolean;
  /** Where the rule came from, as messages name it: `config file godepot.yaml: rule 2`, `--private`, `GONOPROXY`. */
  readonly source: string;
}

/** What the routing decided for one module path. */
export interface RouteDecision {
  readonly route: RouteName;
  /** Whether the trusted checksum database may be asked about the module (false for `deny`). */
  readonly sumdb: boolean;
  /** The rule that matched, or null when none did and the module goes upstream by default. */
  readonly rule: RouteRule | null;
}

/** What a Routing is made of; see ServeConfig for where each part comes from. */
export interface RoutingOptions {
  /** The rules in the order they are tried. */
  rules: readonly RouteRule[];
  /** GONOSUMDB-style patterns (`--private` and `--nosumdb`): never looked up, whatever their rule says. */
  noSumdb: readonly string[];
  /** GOPRIVATE-style patterns: the paths GOVCS calls `private`. */
  private: readonly string[];
  /** The GOVCS setting's rules; go's defaults follow them. */
  govcs: readonly GovcsRule[];
}

/** One line of the effective routing, as `godepot serve` logs it at start. */
export interface RouteDescription {
  /** The rule's globs, comma-separated; absent for the default. */
  match?: string;
  route: RouteName;
  /** The rule's `sumdb`; the no-sumdb patterns still apply. */
  sumdb: boolean;
  source: string;
}

/** How messages name a rule: its source and its globs. */
export function describeRule(rule: RouteRule): string {
  return `${rule.source} (match ${JSON.stringify(rule.match.join(','))})`;
}

/** The routing of module paths; built once from the configuration, then only read. */
export class Routing {
  /** True when some rule denies: only then do depots need to check every request. */
  readonly denies: boolean;

  constructor(private readonly options: RoutingOptions) {
    this.denies = options.rules.some((rule) => rule.route === 'deny');
  }

  /** The route of `modulePath`: its first matching rule's, else `upstream`; and whether it may be looked up. */
  routeOf(modulePath: string): RouteDecision {
    const rule = this.options.rules.find((r) => matchPrefixPatterns(r.match, modulePath)) ?? null;
    const route = rule?.route ?? 'upstream';
    const sumdb = route !== 'deny' && (rule?.sumdb ?? true) && !matchPrefixPatterns(this.options.noSumdb, modulePath);
    return { route, sumdb, rule };
  }

  /** Whether the trusted checksum database may be asked about `modulePath` (verification, `/sumdb/` lookups). */
  sumdbAllowed(modulePath: string): boolean {
    return this.routeOf(modulePath).sumdb;
  }

  /** Throws ForbiddenError naming the rule when a `deny` rule is the one that takes `modulePath`. */
  checkAllowed(modulePath: string): void {
    const { route, rule } = this.routeOf(modulePath);
    if (route === 'deny') throw denied(modulePath, rule!);
  }

  /**
   * Throws ForbiddenError with go's text (`GOVCS disallows using git for public example.com/repo; see
   * 'go help vcs'`) unless GOVCS lets the `vcs` command fetch the repository at `root` (a repository
   * root or module path, as go checks the root). `mod` (a `go-import` of the GOPROXY protocol) is always
   * allowed, as in go.
   */
  checkVcs(root: string, vcs: string): void {
    if (vcs === 'mod') return;
    const isPrivate = matchPrefixPatterns(this.options.private, root);
    if (!govcsAllows(this.options.govcs, root, isPrivate, vcs)) {
      throw new ForbiddenError(`GOVCS disallows using ${vcs} for ${isPrivate ? 'private' : 'public'} ${root}; see 'go help vcs'`);
    }
  }

  /** Every rule in order, then the default. */
  describe(): RouteDescription[] {
    return [
      ...this.options.rules.map((rule) => ({ match: rule.match.join(','), route: rule.route, sumdb: rule.sumdb, source: rule.source })),
      { route: 'upstream', sumdb: true, source: 'default' },
    ];
  }
}

/** A rule that can never match, and why: the earlier rules that take all its paths (none: it matches no path at all). */
export interface DeadRule {
  rule: RouteRule;
  shadowedBy: RouteRule[];
}

/**
 * The first rule of `rules` that can never match a module path: each of its globs matches nothing (an
 * empty path element) or takes only paths that one glob of an earlier rule already takes (the same glob,
 * or a broader one: `corp.example.com/*` before `corp.example.com/x/*`, `*` before anything). A glob
 * that only the globs of earlier rules together cover is not found: the check never condemns a rule
 * that can match.
 */
export function deadRule(rules: readonly RouteRule[]): DeadRule | null {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const earlier = rules.slice(0, i);
    const shadowedBy = new Set<RouteRule>();
    const dead = rule.match.every((glob) => {
      if (patternMatchesNothing(glob)) return true;
      const by = earlier.find((e) => e.match.some((general) => patternCovers(general, glob)));
      if (by !== undefined) shadowedBy.add(by);
      return by !== undefined;
    });
    if (dead) return { rule, shadowedBy: earlier.filter((e) => shadowedBy.has(e)) };
  }
  return null;
}

/** The origins of the routes that fetch or hold modules. */
export interface RouteOrigins {
  /** The GOPROXY chain. */
  upstream: Origin;
  /** The module's own repository. */
  direct: Origin;
  /** Nothing to fetch: only what was published to godepot exists (HostedOrigin). */
  hosted: Origin;
}

/**
 * An Origin that hands each call to its module's route (Routing.routeOf): the chain, direct or hosted;
 * a denied module fails with ForbiddenError naming the rule, without any origin being asked.
 */
export class RoutingOrigin implements Origin {
  readonly name = 'routing';

  constructor(
    private readonly routing: Routing,
    private readonly origins: RouteOrigins,
  ) {}

  async list(modulePath: string, signal?: AbortSignal): Promise<string[]> {
    return this.originOf(modulePath).list(modulePath, signal);
  }

  async query(modulePath: string, query: string, signal?: AbortSignal): Promise<Buffer> {
    return this.originOf(modulePath).query(modulePath, query, signal);
  }

  download(modulePath: string, version: string, request: DownloadRequest, signal?: AbortSignal): Download {
    let origin: Origin;
    try {
      origin = this.originOf(modulePath);
    } catch (err) {
      return failedDownload(request, () => err);
    }
    return origin.download(modulePath, version, request, signal);
  }

  private originOf(modulePath: string): Origin {
    const { route, rule } = this.routing.routeOf(modulePath);
    if (route === 'deny') throw denied(modulePath, rule!);
    return this.origins[route];
  }
}

function denied(modulePath: string, rule: RouteRule): ForbiddenError {
  return new ForbiddenError(`${modulePath}: denied by ${describeRule(rule)}`);
}
