import cluster from 'node:cluster';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { Command } from 'commander';
import { StorageClientStore, SumdbClient } from '../checksum/client.js';
import { ChecksumDatabase } from '../checksum/database.js';
import { parseGosumdb } from '../checksum/gosumdb.js';
import { HostedSumdb } from '../checksum/hosted-sumdb.js';
import { SumdbPassthrough } from '../checksum/passthrough.js';
import { readSignerKey } from '../checksum/signer-key.js';
import { RecordingVerifier, SumdbVerifier, type Verifier } from '../checksum/verifier.js';
import { loadConfig } from '../config/load.js';
import type { ConfigKey } from '../config/schema.js';
import { CachingDepot } from '../depot/caching-depot.js';
import { ConfigError } from '../errors.js';
import { createChain } from '../origin/chain.js';
import { createServer, type GodepotServer } from '../server/app.js';
import { joinCluster, runPrimary, type ClusterMember } from '../server/cluster.js';
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
  nosumdb?: string;
  sumdbHost?: string;
  sumdbKey?: string;
  config?: string;
  listTtl?: string;
  upstreamTimeout?: string;
  shutdownTimeout?: string;
  logLevel?: string;
  workers?: string;
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
    .option('--nosumdb <patterns>', 'GONOSUMDB-style globs of modules stored without asking that database (--private ones never are asked)')
    .option('--sumdb-host <name>', 'also serve a checksum database of godepot\'s own at /sumdb/<name>/, recording every stored module the trusted one does not vouch for')
    .option('--sumdb-key <keyfile>', 'the signer key of that database, as `godepot sumdb key generate <name> --output <keyfile>` writes it')
    .option('--config <file>', 'YAML or JSON file of these settings (also GODEPOT_CONFIG)')
    .option('--list-ttl <seconds>', 'how long an upstream list or @latest answer is reused (default 60)')
    .option('--upstream-timeout <seconds>', 'time limit of one upstream request (default 30)')
    .option('--shutdown-timeout <seconds>', 'how long a graceful shutdown may wait for requests in flight (default 30)')
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (default info)')
    .option('--workers <n>', 'processes serving side by side on the one socket, or auto for one per core (default 1); more than one cannot be used with --sumdb-host')
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
    nosumdb: flags.nosumdb,
    'sumdb-host': flags.sumdbHost,
    'sumdb-key': flags.sumdbKey,
    config: flags.config,
    'list-ttl': flags.listTtl,
    'upstream-timeout': flags.upstreamTimeout,
    'shutdown-timeout': flags.shutdownTimeout,
    'log-level': flags.logLevel,
    workers: flags.workers,
  };
  for (const key of Object.keys(given) as Array<keyof typeof given>) if (given[key] === undefined) delete given[key];
  const config = await loadConfig({ flags: given, env: process.env, cwd: process.cwd() });

  const { logger, flush, flushSync } = createLogger({ level: config.logLevel });
  if (config.workers > 1 && cluster.isPrimary) {
    await prepareStorageFolder(config.storage);
    const leaseTimeoutMs = config.upstreamTimeout * 1000 * (upstreamRetries + 1) * 2;
    process.exitCode = await runPrimary({ workers: config.workers, logger, leaseTimeoutMs });
    await flush();
    return;
  }
  const member = cluster.isWorker ? joinCluster() : null;
  const metrics = createMetrics();
  await prepareStorageFolder(config.storage);
  const storage = new DiskStorage({ root: config.storage });
  const timeoutMs = config.upstreamTimeout * 1000;
  const origin = createChain({ upstream: config.upstream, private: config.private, timeoutMs, retries: upstreamRetries, logger, metrics });
  const trusted = parseGosumdb(config.sumdb);
  const passthrough = new SumdbPassthrough({
    upstreams: origin.entries.filter((entry) => entry.kind === 'proxy').map((entry) => entry.url),
    sumdb: trusted,
    storage,
    private: config.private,
    logger,
    metrics,
    timeoutMs,
    retries: upstreamRetries,
  });
  // godepot's own client reaches the trusted database the way go clients reach it through godepot, and
  // keeps what it verified where the passthrough serves it from when the database is down.
  const client =
    trusted === null
      ? null
      : new SumdbClient({
          verifierKey: trusted.verifierKey,
          fetch: async (path, signal) => (await passthrough.get(trusted.name, path, signal)).body!,
          store: new StorageClientStore(storage),
          onStoreError: (key, err) => logger.warn({ key, err: (err as Error).message }, 'verified checksum database answer not kept'),
        });
  let verifier: Verifier = new SumdbVerifier({ client, noSumdb: [...config.private, ...config.noSumdb] });
  let database: ChecksumDatabase | null = null;
  if (config.sumdbHost !== null && config.sumdbKey !== null) {
    const signerKey = await readSignerKey(config.sumdbKey, config.sumdbHost);
    database = await ChecksumDatabase.open({ storage, signerKey, logger });
    verifier = new RecordingVerifier(verifier, database);
  }
  const depot = new CachingDepot({ storage, origin, logger, metrics, listTtlMs: config.listTtl * 1000, verifier, lease: member?.lease });
  const sumdb = database === null ? passthrough : new HostedSumdb({ database, others: passthrough, depot, storage, verifier, logger });
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
  const hosted = database === null ? {} : { sumdbHost: database.name, sumdbVerifierKey: database.verifierKey, sumdbRecords: database.size };
  const fields = { url, storage: config.storage, upstream: config.upstream, private: config.private, sumdb: config.sumdb, nosumdb: config.noSumdb, ...hosted };
  if (member === null) logger.info(fields, 'listening');
  else member.reportListening(fields);

  const forced = await untilStopped(server, config.shutdownTimeout * 1000, logger, flushSync, member);
  await Promise.all([origin.close(), passthrough.close()]);
  logger.info(forced ? 'stopped, cutting requests that were still in flight' : 'stopped');
  if (forced) process.exitCode = 1;
  // Nothing of ours is left running; should a library keep a handle open, or stdout not drain, it must
  // not keep a stopped server's process alive (the timer does not keep it alive itself). Only then is
  // the log's tail written the best-effort way.
  setTimeout(() => {
    flushSync();
    process.exit();
  }, 2000).unref();
  // Every line written, in order, before a worker lets go of the primary, which logs after it is gone.
  await flush();
  member?.leave();
}

/**
 * Resolves after SIGTERM or SIGINT (or, in a worker, the primary's stop request) and the graceful close
 * that follows; true when the close had to be forced, by the deadline or a second signal.
 */
function untilStopped(
  server: GodepotServer,
  deadlineMs: number,
  logger: Logger,
  flushSync: () => void,
  member: ClusterMember | null,
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
    // A worker's SIGINT is the primary's to relay (see joinCluster).
    if (member === null) process.on('SIGINT', onSignal);
    member?.onStopRequest(() => {
      if (!stopping) onSignal('SIGTERM');
    });
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
