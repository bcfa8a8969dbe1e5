import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric godepot exports at /metrics; one instance per server, handed to the parts that count. */
export interface Metrics {
  registry: Registry;
  /**
   * Requests by route (`list`, `latest`, `info`, `mod`, `zip`, `sumdb`, `home`, `healthz`, `readyz`,
   * `metrics`, `import`, `publish`, `tokens`, `gc`, `other` for unknown paths) and status code.
   */
  requests: Counter<'route' | 'status'>;
  /** Time from a request's arrival to its last byte sent, by route and status class (`2xx` … `5xx`). */
  requestSeconds: Histogram<'route' | 'status_class'>;
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

/**
 * Creates the metrics on a fresh registry, so tests and servers never share counts, with
 * `godepot_build_info{version}` for `version` (godepot's package version) and Node's process metrics
 * under their standard names (`process_*`, `nodejs_*`), which the usual dashboards expect.
 */
export function createMetrics(version = 'unknown'): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // Every worker reports the same 1: under --workers it must not add up.
  new Gauge({ name: 'godepot_build_info', help: 'Always 1; the labels say which godepot and Node.js run', labelNames: ['version', 'node'], aggregator: 'max', registers }).set(
    { version, node: process.version },
    1,
  );
  return {
    registry,
    requests: new Counter({ name: 'godepot_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'status'], registers }),
    requestSeconds: new Histogram({
      name: 'godepot_request_duration_seconds',
      help: 'Time from a request\'s arrival to its last byte sent, by route and status class',
      labelNames: ['route', 'status_class'],
      // From a hit answered from memory (well under a millisecond) to a cold zip fetched, checked and stored.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
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
