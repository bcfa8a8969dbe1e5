import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric godepot exports at /metrics; one instance per server, handed to the parts that count. */
export interface Metrics {
  registry: Registry;
  /** Requests by route (`list`, `latest`, `info`, `mod`, `zip`, `sumdb`, `other`) and status code. */
  requests: Counter<'route' | 'status'>;
  /** Depot answers by route and cache result (`hit`, `miss`, `stale`). */
  cache: Counter<'route' | 'result'>;
  /** Upstream request latency by origin name, file kind and outcome (`ok`, `not_found`, `error`, `timeout`). */
  upstreamSeconds: Histogram<'origin' | 'kind' | 'outcome'>;
  /** 1 while an upstream host (scheme://host:port) is taken to be up, 0 while it is considered down. */
  upstreamUp: Gauge<'origin'>;
  /** Response body bytes sent, by route. */
  bytesServed: Counter<'route'>;
  /** Requests that waited for another request's fetch of the same file instead of fetching it again. */
  flightWaits: Counter<'kind'>;
  /** Storage operations that failed, by operation. */
  storageErrors: Counter<'operation'>;
}

/** Creates the metrics on a fresh registry (with Node's process metrics), so tests and servers never share counts. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'godepot_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({ name: 'godepot_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'status'], registers }),
    cache: new Counter({ name: 'godepot_cache_total', help: 'Depot answers by route and cache result', labelNames: ['route', 'result'], registers }),
    upstreamSeconds: new Histogram({
      name: 'godepot_upstream_request_seconds',
      help: 'Upstream request latency by origin, file kind and outcome',
      labelNames: ['origin', 'kind', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    // Under --workers, a host counts as up only when every worker that talks to it finds it up.
    upstreamUp: new Gauge({ name: 'godepot_upstream_up', help: 'Whether an upstream host is taken to be up (1) or considered down (0)', labelNames: ['origin'], aggregator: 'min', registers }),
    bytesServed: new Counter({ name: 'godepot_served_bytes_total', help: 'Response body bytes sent, by route', labelNames: ['route'], registers }),
    flightWaits: new Counter({ name: 'godepot_singleflight_waits_total', help: 'Requests that joined a fetch already under way', labelNames: ['kind'], registers }),
    storageErrors: new Counter({ name: 'godepot_storage_errors_total', help: 'Failed storage operations by operation', labelNames: ['operation'], registers }),
  };
}
