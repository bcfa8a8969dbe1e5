// The origin recorded for a stored version, and shown for one stored before origins were recorded:
// the route its module has (routing.ts), with the upstream route named by its GOPROXY list.
import { redactUrl } from '../http/redact.js';
import { parseGoproxyList } from '../origin/chain.js';
import type { Routing } from '../origin/routing.js';

/**
 * The origin of a module path under `routing` and the `upstream` GOPROXY list: `hosted`, `direct`,
 * `deny`, or for the upstream route the list itself (`https://proxy.golang.org,direct`, passwords
 * redacted). Which element of the list answered is not known here: the list is the origin.
 */
export function routeOrigin(routing: Routing, upstream: string): (modulePath: string) => string {
  const chain = parseGoproxyList(upstream)
    .map((entry) => (entry.kind === 'proxy' ? redactUrl(new URL(entry.url)).replace(/\/$/, '') : entry.url))
    .join(',');
  return (modulePath) => {
    const { route } = routing.routeOf(modulePath);
    return route === 'upstream' ? chain : route;
  };
}
