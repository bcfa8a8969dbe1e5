import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { Command } from 'commander';
import { parseGosumdb } from '../checksum/gosumdb.js';
import { SumdbPassthrough } from '../checksum/passthrough.js';
import { loadConfig } from '../config/load.js';
import type { ConfigKey } from '../config/schema.js';
import { CachingDepot } from '../depot/caching-depot.js';
import { ConfigError } from '../errors.js';
import { createChain } from '../origin/chain.js';
import { createServer, type GodepotServer } from '../server/app.js';
import { DiskStorage } from '../storage/disk.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';

// Upstream requests that fail on the network or with a 5xx are tried this many more times.
const upstreamRetries = 2;

interface ServeFlags {
  listen?: string;
  storage?: string;
  upstream?: string;
  private?: string;
  sumdb?: string;
  config?: string;
  listTtl?: string;
  upstreamTimeout?: string;
  shutdownTimeout?: string;
  logLevel?: string;
}

/** `godepot serve`: the GOPROXY server. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the GOPROXY protocol from storage, filling it from the upstream chain')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:3000)')
    .option('--storage <dir>', 'storage folder, in module-cache download layout (default ./.godepot)')
    .option('--upstream <list>', 'upstreams in GOPROXY syntax: URLs separated by , or |, direct, off (default https://proxy.golang.org,direct)')
    .option('--private <patterns>', 'GOPRIVATE-style globs of modules never sent to an upstream proxy or checksum database')
    .option('--sumdb <gosumdb>', 'checksum database to trust, in GOSUMDB syntax, or off (default $GOSUMDB, else sum.golang.org)')
    .option('--config <file>', 'YAML or JSON file of these settings (also GODEPOT_CONFIG)')
    .option('--list-ttl <seconds>', 'how long an upstream list or @latest answer is reused (default 60)')
    .option('--upstream-timeout <seconds>', 'time limit of one upstream request (default 30)')
    .option('--shutdown-timeout <seconds>', 'how long a graceful shutdown may wait for requests in flight (default 30)')
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (default info)')
    .addHelpText('after', '\nEvery setting can also come from the environment as GODEPOT_<NAME> (GODEPOT_LIST_TTL) and from the config file;\nflags win over the environment, which wins over the file.')
    .action(async (flags: ServeFlags) => serve(flags));
}

async function serve(flags: ServeFlags): Promise<void> {
  const given: Partial<Record<ConfigKey | 'config', string>> = {
    listen: flags.listen,
    storage: flags.storage,
    upstream: flags.upstream,
    private: flags.private,
    sumdb: flags.sumdb,
    config: flags.config,
    'list-ttl': flags.listTtl,
    'upstream-timeout': flags.upstreamTimeout,
    'shutdown-timeout': flags.shutdownTimeout,
    'log-level': flags.logLevel,
  };
  for (const key of Object.keys(given) as Array<keyof typeof given>) if (given[key] === undefined) delete given[key];
  const config = await loadConfig({ flags: given, env: process.env, cwd: process.cwd() });

  const { logger, flushSync } = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  await prepareStorageFolder(config.storage);
  const storage = new DiskStorage({ root: config.storage });
  const timeoutMs = config.upstreamTimeout * 1000;
  const origin = createChain({ upstream: config.upstream, private: config.private, timeoutMs, retries: upstreamRetries, logger, metrics });
  const depot = new CachingDepot({ storage, origin, logger, metrics, listTtlMs: config.listTtl * 1000 });
  const sumdb = new SumdbPassthrough({
    upstreams: origin.entries.filter((entry) => entry.kind === 'proxy').map((entry) => entry.url),
    sumdb: parseGosumdb(config.sumdb),
    storage,
    private: config.private,
    logger,
    metrics,
    timeoutMs,
    retries: upstreamRetries,
  });
  const server = createServer({
    depot,
    sumdb,
    metrics,
    logger,
    // A key no module can have: its stat answers "absent" while the folder can be read, and fails when it cannot.
    storageProbe: async () => void (await storage.stat('readyz')),
  });

  const { host, port } = config.listen;
  let url: string;
  try {
    ({ url } = await server.listen(host, port));
  } catch (err) {
    throw new ConfigError(`listen: cannot listen on ${host}:${port}: ${(err as Error).message}`, { cause: err });
  }
  logger.info({ url, storage: config.storage, upstream: config.upstream, private: config.private, sumdb: config.sumdb }, 'listening');

  const forced = await untilStopped(server, config.shutdownTimeout * 1000, logger, flushSync);
  await Promise.all([origin.close(), sumdb.close()]);
  // The last lines leave through the logger's asynchronous writes, in order, before the process ends.
  logger.info(forced ? 'stopped, cutting requests that were still in flight' : 'stopped');
  if (forced) process.exitCode = 1;
  // Nothing of ours is left running; should a library keep a handle open, it must not keep a stopped
  // server's process alive (the timer does not keep it alive itself).
  setTimeout(() => {
    flushSync();
    process.exit();
  }, 2000).unref();
}

/**
 * Resolves after SIGTERM or SIGINT and the graceful close that follows; true when the close had to be
 * forced, by the deadline or a second signal.
 */
function untilStopped(
  server: GodepotServer,
  deadlineMs: number,
  logger: Logger,
  flushSync: () => void,
): Promise<boolean> {
  return new Promise((resolve) => {
    let forced = false;
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        server.closeNow();
        flushSync();
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal, deadlineSeconds: deadlineMs / 1000 }, 'shutting down: finishing requests in flight');
      const deadline = setTimeout(() => {
        forced = true;
        logger.warn('shutdown deadline passed: closing every connection');
        server.closeNow();
      }, deadlineMs);
      void server.close().then(() => {
        clearTimeout(deadline);
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve(forced);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

// The storage folder is made at start, and must be writable: a wrong --storage is reported now, not as
// a failure of the first download.
async function prepareStorageFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new ConfigError(`storage: folder ${dir} cannot be used: ${(err as Error).message}`, { cause: err });
  }
}
