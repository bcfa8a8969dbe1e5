// The in-process server the admin route tests talk to over loopback: godepot's server in front of a
// depot with no origin (upstream off, no repository), over a storage folder of the test's, with real
// access control (openTestAccess). Each test adds the parts its routes need.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SumdbPassthrough } from '../../src/checksum/passthrough.js';
import { CachingDepot } from '../../src/depot/caching-depot.js';
import { createChain } from '../../src/origin/chain.js';
import { createServer, type ServerOptions } from '../../src/server/app.js';
import { DiskStorage } from '../../src/storage/disk.js';
import type { Storage } from '../../src/storage/storage.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { openTestAccess, type TestAccess, type TestAccessOptions } from './access.js';
import { NoDirect } from './no-direct.js';

/** What a route test builds its server's own parts from. */
export interface RouteParts {
  /** The test's folder, removed at the end. */
  dir: string;
  /** The storage folder `<dir>/store`. */
  disk: DiskStorage;
  /** What the depot stores through: `disk`, or what `storage` wrapped it in. */
  storage: Storage;
  depot: CachingDepot;
  access: TestAccess;
  logger: Logger;
}

export interface RouteServer extends RouteParts {
  url: string;
  /** Every line the server logged, as written (with `log: true`). */
  logText(): string;
}

export interface RouteServerOptions {
  /** The temporary folder's name starts `godepot-<name>-`. */
  name: string;
  /** Log at `info` and keep the lines (logText); silent otherwise. */
  log?: boolean;
  access?: TestAccessOptions;
  /** Wraps the storage folder (a catalog watching it, say) before the depot stores through it. */
  storage?: (disk: DiskStorage, logger: Logger) => Storage;
  /** Fills the storage before the server starts. */
  fill?: (storage: Storage) => Promise<void>;
  /** The server options of the routes under test (the depot, gate, audit and metrics are given). */
  routes?: (parts: RouteParts) => Promise<Partial<ServerOptions>> | Partial<ServerOptions>;
}

/**
 * Starts the server on 127.0.0.1; everything it opened (server, access, folder) is closed by the
 * functions it adds to `cleanups`, which the test file runs in reverse order after its tests.
 */
export async function startRouteServer(options: RouteServerOptions, cleanups: Array<() => Promise<unknown>>): Promise<RouteServer> {
  const dir = await mkdtemp(join(tmpdir(), `godepot-${options.name}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const { logger } = createLogger(options.log === true ? { level: 'info', destination: { write: (line: string) => void lines.push(line) } } : { level: 'silent' });
  const metrics = createMetrics();
  const disk = new DiskStorage({ root: join(dir, 'store') });
  const storage = options.storage?.(disk, logger) ?? disk;
  await options.fill?.(storage);
  const origin = createChain({ upstream: 'off', direct: new NoDirect() });
  const depot = new CachingDepot({ storage, origin, logger, metrics, listTtlMs: 60_000 });
  const sumdb = new SumdbPassthrough({ upstreams: [], sumdb: null, storage, logger, metrics });
  const access = await openTestAccess(dir, options.access);
  cleanups.push(() => access.close());
  const parts: RouteParts = { dir, disk, storage, depot, access, logger };
  const server = createServer({ depot, sumdb, metrics, logger, gate: access.gate, audit: access.audit, ...(await options.routes?.(parts)) });
  const { url } = await server.listen('127.0.0.1', 0);
  cleanups.push(() => server.close());
  return { ...parts, url, logText: () => lines.join('') };
}
