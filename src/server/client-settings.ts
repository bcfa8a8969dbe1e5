import type { RouteRule } from '../origin/routing.js';

/** What decides the settings a go client needs: the server's checksum-database settings and routing. */
export interface ClientSettingsOptions {
  /** GONOSUMDB-style patterns of modules godepot never looks up (`--private` and `--nosumdb`). */
  noSumdb: readonly string[];
  /** The routing rules: `hosted` modules and those whose rule says `sumdb: false` are unknown to the public database too. */
  rules: readonly RouteRule[];
  /** The verifier key of godepot's own checksum database (`--sumdb-host`), when it serves one. */
  sumdbVerifierKey?: string;
}

/**
 * The environment a go client needs to use the godepot at `url`, one `NAME=value` line each:
 * `GOPROXY=<url>`; then `GOSUMDB=<verifier key>` when godepot hosts a checksum database (it vouches for
 * the private modules too), else `GONOSUMDB=<patterns>` when some modules are unknown to the public
 * database (go would refuse them otherwise). Never `GOPRIVATE`: go would then bypass the proxy.
 */
export function clientSettings(url: string, options: ClientSettingsOptions): string[] {
  const lines = [`GOPROXY=${url}`];
  if (options.sumdbVerifierKey !== undefined) {
    lines.push(`GOSUMDB=${options.sumdbVerifierKey}`);
    return lines;
  }
  const unknownToSumdb = new Set(options.noSumdb);
  for (const rule of options.rules) {
    if (rule.route === 'hosted' || (!rule.sumdb && rule.route !== 'deny')) for (const glob of rule.match) unknownToSumdb.add(glob);
  }
  if (unknownToSumdb.size > 0) lines.push(`GONOSUMDB=${[...unknownToSumdb].join(',')}`);
  return lines;
}
