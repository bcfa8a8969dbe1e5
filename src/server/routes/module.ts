import type { Artifact } from '../../protocol/artifact.js';
import type { Depot } from '../../depot/depot.js';
import type { ProxyRequest } from '../../protocol/request.js';

/** A GOPROXY endpoint request: the routes the depot answers. */
export type ModuleRequest = Extract<ProxyRequest, { route: 'list' | 'latest' | 'info' | 'mod' | 'zip' }>;

/** Asks the depot for what a GOPROXY request names; the depot decides between storage and origin. */
export function moduleArtifact(depot: Depot, request: ModuleRequest, signal: AbortSignal): Promise<Artifact> {
  switch (request.route) {
    case 'list':
      return depot.list(request.modulePath, signal);
    case 'latest':
      return depot.latest(request.modulePath, signal);
    case 'info':
      return depot.info(request.modulePath, request.version, signal);
    case 'mod':
      return depot.mod(request.modulePath, request.version, signal);
    case 'zip':
      return depot.zip(request.modulePath, request.version, signal);
  }
}
