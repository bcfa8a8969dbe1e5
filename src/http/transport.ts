// What go's http.Transport is to its clients: the connections of every upstream host one command talks
// to, shared by all of its clients (the chain's proxies and the checksum route reach the same hosts),
// through the outbound proxy the environment names for each, plus a Breaker per host, so that a host
// found down is down for every client of it at once.
import type { Logger } from 'pino';
import { Client, Pool, ProxyAgent, type Dispatcher } from 'undici';
import type { Metrics } from '../telemetry/metrics.js';
import { Breaker } from './breaker.js';
import { NO_OUTBOUND_PROXY, ProxyRules, type OutboundProxySettings } from './outbound-proxy.js';
import { redactUrl } from './redact.js';

/** Options of a Transport. */
export interface TransportOptions {
  /** The outbound proxies (HTTP_PROXY, HTTPS_PROXY, NO_PROXY); none when absent. */
  proxy?: OutboundProxySettings;
  /** Limit on connecting, and on a probe's answer. Default 30 s. */
  timeoutMs?: number;
  /** First probe of a host found down; see Breaker. Default 2 s. */
  firstProbeMs?: number;
  /** Longest delay between probes; see Breaker. Default 30 s. */
  maxProbeMs?: number;
  /**
   * The certificates (PEM) https servers and proxies are checked against, in place of Node's own roots
   * (which are then not used, NODE_EXTRA_CA_CERTS included): what trustedRootsFromEnv builds from
   * SSL_CERT_FILE. Node's own roots when absent.
   */
  ca?: readonly string[];
  logger?: Logger;
  metrics?: Metrics;
}

/**
 * Whether a route checks the certificates of https servers: always, except where go itself does not,
 * its https attempt at a `?go-get=1` page of a host matching GOINSECURE (cmd/go/internal/web).
 */
export type CertificateCheck = 'verify' | 'skip';

/** How requests to one origin (scheme, host, port) are sent. */
export interface Route {
  dispatcher: Dispatcher;
  /** The proxy they go through, as messages show it (password redacted), or null when they go directly. */
  proxy: string | null;
  /** The health of the origin, shared by every client of it. */
  breaker: Breaker;
}

// Connections kept per host; a request waits for one to be free beyond that.
const CONNECTIONS = 32;
const KEEP_ALIVE_MS = 10_000;

/**
 * The connections, outbound proxies and breakers of the upstream hosts one command talks to: per
 * origin, a keep-alive pool (or the outbound proxy's agent, which the same origin's requests then
 * share) and a Breaker whose probe is `GET /` on the origin over a connection of its own (never
 * queued behind the pool), answered below 500. No timeouts on headers or bodies here: UpstreamClient
 * enforces its own. close() ends every connection and probe.
 */
export class Transport {
  private readonly options: TransportOptions;
  private readonly rules: ProxyRules;
  private readonly routes = new Map<string, Route>();
  private readonly agents = new Map<string, ProxyAgent>();

  constructor(options: TransportOptions = {}) {
    this.options = options;
    this.rules = new ProxyRules(options.proxy ?? NO_OUTBOUND_PROXY);
  }

  /**
   * The route of requests to `origin` (only its scheme, host and port count), made on first use. A route
   * that skips certificate checks is one of its own, with its own connections and breaker.
   */
  route(origin: URL, certificates: CertificateCheck = 'verify'): Route {
    const key = certificates === 'verify' ? origin.origin : `${origin.origin} (certificate not verified)`;
    let route = this.routes.get(key);
    if (route === undefined) {
      const proxy = this.rules.proxyFor(origin);
      const breaker = new Breaker({
        name: key,
        probe: (signal) => this.probe(origin.origin, proxy, certificates, signal),
        firstProbeMs: this.options.firstProbeMs,
        maxProbeMs: this.options.maxProbeMs,
        logger: this.options.logger,
        onChange: (up) => this.options.metrics?.upstreamUp.set({ origin: key }, up ? 1 : 0),
      });
      this.options.metrics?.upstreamUp.set({ origin: key }, 1);
      route = {
        dispatcher: proxy === null ? new Pool(origin.origin, { ...this.poolOptions(), connect: this.tls(certificates) }) : this.agent(proxy, certificates),
        proxy: proxy === null ? null : redactUrl(proxy).replace(/\/$/, ''),
        breaker,
      };
      this.routes.set(key, route);
    }
    return route;
  }

  /** Ends every connection and stops every probe. */
  async close(): Promise<void> {
    const dispatchers = new Set<Dispatcher>([...this.agents.values()]);
    for (const route of this.routes.values()) {
      route.breaker.close();
      dispatchers.add(route.dispatcher);
    }
    await Promise.all([...dispatchers].map((d) => d.destroy()));
  }

  private poolOptions(): Pool.Options {
    return { connections: CONNECTIONS, connectTimeout: this.options.timeoutMs ?? 30_000, keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: 0, bodyTimeout: 0 };
  }

  /** The TLS options of connections to servers (ignored for http ones). */
  private tls(certificates: CertificateCheck): { ca?: string[]; rejectUnauthorized: boolean } {
    return { ...(this.options.ca === undefined ? {} : { ca: [...this.options.ca] }), rejectUnauthorized: certificates === 'verify' };
  }

  /** One agent per proxy (and way of checking certificates), shared by the origins behind it. */
  private agent(proxy: URL, certificates: CertificateCheck): ProxyAgent {
    const key = `${proxy.href} ${certificates}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = this.proxyAgent(proxy, certificates);
      this.agents.set(key, agent);
    }
    return agent;
  }

  /**
   * As go does it: an http target is asked for in absolute form through an http proxy, an https one
   * through a CONNECT tunnel. Proxy-Authorization carries the proxy URL's user and password (go sends
   * it for a user without password too, which undici would not). The proxy's own certificate, when it
   * is an https one, is always checked.
   */
  private proxyAgent(proxy: URL, certificates: CertificateCheck): ProxyAgent {
    const user = proxy.username !== '' || proxy.password !== '' ? `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}` : null;
    return new ProxyAgent({
      ...this.poolOptions(),
      uri: proxy.origin,
      token: user === null ? undefined : `Basic ${Buffer.from(user).toString('base64')}`,
      proxyTunnel: false,
      requestTls: this.tls(certificates),
      proxyTls: this.tls('verify'),
    });
  }

  /** `GET /` on `origin` over a fresh connection: resolves on an answer below 500 within the timeout. */
  private async probe(origin: string, proxy: URL | null, certificates: CertificateCheck, signal: AbortSignal): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const dispatcher = proxy === null ? new Client(origin, { connectTimeout: timeoutMs, connect: this.tls(certificates) }) : this.proxyAgent(proxy, certificates);
    // Destroying the dispatcher fails the request, whatever it was waiting for.
    const stop = (): void => void dispatcher.destroy().catch(() => {});
    const timer = setTimeout(stop, timeoutMs).unref();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const res = await dispatcher.request({ origin, path: '/', method: 'GET', headers: { 'user-agent': 'godepot' } });
      await res.body.dump();
      if (res.statusCode >= 500) throw new Error(`probe answered ${res.statusCode}`);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
      stop();
    }
  }
}
