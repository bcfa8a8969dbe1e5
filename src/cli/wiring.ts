// The parts every online command assembles the same way (serve, bundle create, mirror): the routing of
// modules to the upstream chain, direct or hosted, the checksum-database route and godepot's verifying
// client of the trusted database (both asking only about what the routing allows), and a depot that
// refuses denied modules, fetches, checks, verifies and stores into a storage.
import type { Logger } from 'pino';
import { StorageClientStore, SumdbClient } from '../checksum/client.js';
import { ChecksumDatabase } from '../checksum/database.js';
import { parseGosumdb } from '../checksum/gosumdb.js';
import { SumdbPassthrough } from '../checksum/passthrough.js';
import { readSignerKey } from '../checksum/signer-key.js';
import { RecordingVerifier, SumdbVerifier, type Verifier } from '../checksum/verifier.js';
import type { ServeConfig } from '../config/schema.js';
import { CachingDepot } from '../depot/caching-depot.js';
import type { Depot } from '../depot/depot.js';
import { DenyingDepot } from '../depot/denying-depot.js';
import type { OutboundProxySettings } from '../http/outbound-proxy.js';
import { Transport } from '../http/transport.js';
import type { RunLease } from '../depot/flight.js';
import { createChain } from '../origin/chain.js';
import { DirectOrigin } from '../origin/direct.js';
import { GitOrigin } from '../origin/git.js';
import { HostedOrigin } from '../origin/hosted.js';
import type { Origin } from '../origin/origin.js';
import { ProxyOrigin } from '../origin/proxy.js';
import { Routing, RoutingOrigin, type RoutingOptions } from '../origin/routing.js';
import type { Storage } from '../storage/storage.js';
import { RepoDiscovery } from '../vcs/discovery.js';
import type { Metrics } from '../telemetry/metrics.js';

// Upstream requests that fail on the network or with a 5xx are tried this many more times.
export const upstreamRetries = 2;

/** What the upstream side is made of; the same names and meanings as `godepot serve`'s settings. */
export interface UpstreamSettings {
  /** GOPROXY syntax. */
  upstream: string;
  /** Where each module goes, and whether the checksum database may be asked about it. */
  routing: RoutingOptions;
  /** GOSUMDB syntax, or `off`. */
  sumdb: string;
  timeoutMs: number;
  /** Bytes per second an upstream body must keep (`--upstream-min-rate`). */
  minRate: number;
  /** The outbound proxies every upstream request honours. */
  proxy: OutboundProxySettings;
  /** The certificates https upstreams are checked against (SSL_CERT_FILE); null: Node's own. */
  trustedRoots: readonly string[] | null;
  /** How modules are fetched straight from their repositories (`direct`). */
  direct: DirectSettings;
}

/** The settings of `direct`: repository discovery and the git origin. */
export interface DirectSettings {
  /** godepot's own state (`--state-dir`): git mirrors under vcs/. */
  stateDir: string;
  vcsConcurrency: number;
  /** Limit of one git command. */
  vcsTimeoutMs: number;
  /** GOINSECURE-style patterns (`--insecure`): go-get pages and repositories that may be reached over http or git://. */
  insecure: readonly string[];
  /** The environment git runs in: it configures git itself (insteadOf, credential helpers, GIT_SSH_COMMAND, proxies). */
  gitEnv: Readonly<Record<string, string | undefined>>;
}

/** The upstream settings of a loaded configuration. */
export function upstreamSettingsOf(config: ServeConfig): UpstreamSettings {
  return {
    upstream: config.upstream,
    routing: { rules: config.routes, noSumdb: [...config.private, ...config.noSumdb], private: config.private, govcs: config.govcs },
    sumdb: config.sumdb,
    timeoutMs: config.upstreamTimeout * 1000,
    minRate: config.upstreamMinRate,
    proxy: config.outboundProxy,
    trustedRoots: config.trustedRoots,
    direct: {
      stateDir: config.stateDir,
      vcsConcurrency: config.vcsConcurrency,
      vcsTimeoutMs: config.vcsTimeout * 1000,
      insecure: config.insecure,
      gitEnv: process.env,
    },
  };
}

/** The assembled upstream side; close() releases its connections. */
export interface Upstream {
  routing: Routing;
  /** Every module's origin: its route's (RoutingOrigin). */
  origin: Origin;
  passthrough: SumdbPassthrough;
  /** godepot's client of the trusted checksum database, or null for `off`. */
  client: SumdbClient | null;
  verifier: Verifier;
  close(): Promise<void>;
}

/**
 * Assembles the routing over the chain, direct and hosted origins, the `/sumdb/` route and the verifying
 * client over `storage`. The client reaches the trusted database the way go clients reach it through
 * godepot, and keeps what it verified where the passthrough serves it from when the database is down.
 */
export function assembleUpstream(settings: UpstreamSettings, storage: Storage, logger: Logger, metrics: Metrics): Upstream {
  // One set of connections and breakers: the chain and the checksum route ask the same hosts.
  const transport = new Transport({ proxy: settings.proxy, ca: settings.trustedRoots ?? undefined, timeoutMs: settings.timeoutMs, logger, metrics });
  const http = { timeoutMs: settings.timeoutMs, minRate: settings.minRate, retries: upstreamRetries, transport };
  const routing = new Routing(settings.routing);
  // One direct origin: the `direct` route's and the `direct` element of the GOPROXY list.
  const { direct, close: closeDirect } = directOrigin(settings.direct, routing, transport, http, logger, metrics);
  const chain = createChain({ upstream: settings.upstream, direct, ...http, logger, metrics });
  const origin = new RoutingOrigin(routing, { upstream: chain, direct, hosted: new HostedOrigin() });
  const trusted = parseGosumdb(settings.sumdb);
  const passthrough = new SumdbPassthrough({
    upstreams: chain.entries.filter((entry) => entry.kind === 'proxy').map((entry) => entry.url),
    sumdb: trusted,
    storage,
    lookedUp: (modulePath) => routing.sumdbAllowed(modulePath),
    logger,
    metrics,
    ...http,
  });
  const client =
    trusted === null
      ? null
      : new SumdbClient({
          verifierKey: trusted.verifierKey,
          fetch: async (path, signal) => (await passthrough.get(trusted.name, path, signal)).body!,
          store: new StorageClientStore(storage),
          onStoreError: (key, err) => logger.warn({ key, err: (err as Error).message }, 'verified checksum database answer not kept'),
        });
  const verifier = new SumdbVerifier({ client, lookedUp: (modulePath) => routing.sumdbAllowed(modulePath) });
  return {
    routing,
    origin,
    passthrough,
    client,
    verifier,
    close: async () => {
      await Promise.all([chain.close(), passthrough.close(), closeDirect()]);
      await transport.close();
    },
  };
}

/**
 * `direct`: repositories found as go finds them (over the upstream side's transport: its outbound
 * proxies and trusted roots), git ones read by the git origin, `mod` meta tags' proxies asked as the
 * chain's proxies are (one origin per proxy URL), GOVCS applied.
 */
function directOrigin(
  settings: DirectSettings,
  routing: Routing,
  transport: Transport,
  http: { timeoutMs: number; minRate: number; retries: number; transport: Transport },
  logger: Logger,
  metrics: Metrics,
): { direct: DirectOrigin; close: () => Promise<void> } {
  const discovery = new RepoDiscovery({ transport, insecure: settings.insecure, timeoutMs: http.timeoutMs, logger });
  const resolve = (modulePath: string, signal?: AbortSignal) => discovery.resolve(modulePath, signal);
  const git = new GitOrigin({
    stateDir: settings.stateDir,
    vcsConcurrency: settings.vcsConcurrency,
    timeoutMs: settings.vcsTimeoutMs,
    insecure: settings.insecure,
    gitEnv: settings.gitEnv,
    resolve,
    logger,
    metrics,
  });
  const proxies = new Map<string, ProxyOrigin>();
  const proxy = (url: string): ProxyOrigin => {
    let origin = proxies.get(url);
    if (origin === undefined) proxies.set(url, (origin = new ProxyOrigin({ url, ...http, logger, metrics })));
    return origin;
  };
  const direct = new DirectOrigin({ resolve, git, proxy, checkVcs: (root, vcs) => routing.checkVcs(root, vcs) });
  return {
    direct,
    close: async () => {
      git.close();
      await Promise.all([...proxies.values()].map((p) => p.close()));
    },
  };
}

/**
 * A depot filling `storage` from the assembled upstream side, checking every module with `verifier`;
 * when a rule denies, behind a DenyingDepot, so that neither a fetch nor a stored copy serves one.
 */
export function upstreamDepot(
  upstream: Upstream,
  storage: Storage,
  options: { logger: Logger; metrics: Metrics; listTtlMs: number; verifier?: Verifier; lease?: RunLease },
): Depot {
  return routedDepot(upstream, cachingDepot(upstream, storage, options));
}

/** The CachingDepot of upstreamDepot, for a caller that tells it of versions stored beside it (publishes). */
export function cachingDepot(
  upstream: Upstream,
  storage: Storage,
  options: { logger: Logger; metrics: Metrics; listTtlMs: number; verifier?: Verifier; lease?: RunLease },
): CachingDepot {
  return new CachingDepot({
    storage,
    origin: upstream.origin,
    logger: options.logger,
    metrics: options.metrics,
    listTtlMs: options.listTtlMs,
    verifier: options.verifier ?? upstream.verifier,
    lease: options.lease,
  });
}

/** `depot` behind the routing's deny rules, when there are any. */
export function routedDepot(upstream: Upstream, depot: CachingDepot): Depot {
  return upstream.routing.denies ? new DenyingDepot(depot, upstream.routing) : depot;
}

/**
 * godepot's own checksum database (`--sumdb-host` with `--sumdb-key`), kept in `storage`, and the
 * verifier that records in it every module `verifier` does not vouch for; without one, null and
 * `verifier` as it is.
 */
export async function ownSumdb(
  settings: Pick<ServeConfig, 'sumdbHost' | 'sumdbKey'>,
  storage: Storage,
  verifier: Verifier,
  logger: Logger,
): Promise<{ database: ChecksumDatabase | null; verifier: Verifier }> {
  if (settings.sumdbHost === null || settings.sumdbKey === null) return { database: null, verifier };
  const signerKey = await readSignerKey(settings.sumdbKey, settings.sumdbHost);
  const database = await ChecksumDatabase.open({ storage, signerKey, logger });
  return { database, verifier: new RecordingVerifier(verifier, database) };
}
