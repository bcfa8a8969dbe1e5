import cluster from 'node:cluster';
import type { KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { Command } from 'commander';
import { HostedSumdb } from '../checksum/hosted-sumdb.js';
import { loadConfig } from '../config/load.js';
import { configKeys, defaults } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { redactProxySettings } from '../http/outbound-proxy.js';
import { createServer, type GodepotServer } from '../server/app.js';
import { joinCluster, runPrimary, tellVersionRemoved, type ClusterMember } from '../server/cluster.js';
import { CertificateError, CertificateWatcher, loadCertificate, type CertificateFiles, type LoadedCertificate } from '../server/tls.js';
import { DiskStorage } from '../storage/disk.js';
import { StorageSpace } from '../storage/space.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { registerStoredGauges, StoredInventory } from '../telemetry/stored-inventory.js';
import { checkStorageFolder } from '../storage/folder-check.js';
import { allWatchers, watchedStorage, type StorageWatcher } from '../storage/watched-storage.js';
import { Catalog, readCatalog } from '../store/catalog.js';
import { DownloadTimes } from '../store/download-times.js';
import { storedVersionOf } from '../store/records.js';
import { routeOrigin } from '../store/route-origin.js';
import { StoreAdministration } from '../store/store-admin.js';
import { Routing } from '../origin/routing.js';
import { writeAccessFix } from '../storage/write-access.js';
import { readPins } from '../store/pins.js';
import { quotaStorage } from '../store/quota-storage.js';
import { ServerRetention, type ServerRetentionOptions } from '../store/server-retention.js';
import { reportJson } from '../store/run-retention.js';
import type { GcRunner } from '../server/routes/gc.js';
import { registerQuotaGauges, StorageQuota, type StoredBytes } from '../store/storage-quota.js';
import { clientSettings } from '../server/client-settings.js';
import { Registry } from 'prom-client';
import { packageVersion } from './version.js';
import { BundleStorage } from '../bundle/bundle-storage.js';
import { checkBundle } from '../bundle/check.js';
import { openBundle, type Bundle } from '../bundle/format.js';
import { receiveBundle } from '../bundle/receive.js';
import { readPublicKey } from '../bundle/signing.js';
import { ModulePublisher } from '../publish/module-publisher.js';
import { LayeredStorage } from '../storage/layered.js';
import type { FileStaging } from '../storage/staging.js';
import type { Storage } from '../storage/storage.js';
import { openAuditLog } from '../audit/file-audit-log.js';
import type { Audit } from '../audit/audit.js';
import { TokenAccessControl } from '../auth/access-control.js';
import { withStaticTokens, type StaticToken } from '../auth/static-tokens.js';
import { TokenStore } from '../auth/token-store.js';
import { tokenAdministration, type TokenAdministration } from '../auth/token-admin.js';
import { TokenFile } from '../auth/token-file.js';
import { matchPrefixPatterns } from '../module/patterns.js';
import { Gate } from '../server/gate.js';
import type { ServeConfig } from '../config/schema.js';
import { withExamples } from './examples.js';
import { givenSettings, withSettingOptions, type Setting } from './settings-options.js';
import { assembleUpstream, cachingDepot, ownSumdb, routedDepot, upstreamRetries, upstreamSettingsOf } from './wiring.js';

// serve's settings, in the order --help lists them: every one but retention's conditions and pins
// (the gc mapping, which storage gc takes), with the file they may come from after the checksum ones.
const serveSettings: readonly Setting[] = configKeys.filter((key) => !key.startsWith('gc.')).flatMap((key): Setting[] => (key === 'sumdb-key' ? [key, 'config'] : [key]));

/** `godepot serve`: the GOPROXY server. */
export function serveCommand(): Command {
  const command = withSettingOptions(new Command('serve').description('serve the GOPROXY protocol from storage, filling it from the upstream chain'), serveSettings)
    .addHelpText('after', '\nEvery setting can also come from the environment as GODEPOT_<NAME> (GODEPOT_LIST_TTL) and from the config file;\nflags win over the environment, which wins over the file. Routing rules come from the file\'s rules list;\nGOPRIVATE, GONOPROXY, GONOSUMDB, GOINSECURE and GOVCS hold as for the go command unless a setting says otherwise.');
  return withExamples(command, [
    ['godepot serve', `a caching proxy on ${defaults.listen}, storing in ${defaults.storage}: GOPROXY=http://${defaults.listen} go build ./...`],
    ['godepot serve --listen :3000 --storage /var/lib/godepot --private "*.corp.example.com"', 'for a whole network; private modules fetched from their own repositories'],
    ['godepot serve --upstream off --bundle deps.tar.gz', 'air-gapped: serve only what a bundle holds'],
    ['GODEPOT_LOG_LEVEL=warn godepot serve --config /etc/godepot/godepot.yaml', 'settings from a file, one of them from the environment'],
  ]).action(async (flags: Record<string, unknown>) => serve(flags));
}

async function serve(flags: Readonly<Record<string, unknown>>): Promise<void> {
  const given = givenSettings(flags, serveSettings);
  const config = await loadConfig({ flags: given, env: process.env, cwd: process.cwd() });

  const { logger, flush, flushSync } = createLogger({ level: config.logLevel, format: config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json') });
  if (config.workers > 1 && cluster.isPrimary) {
    await prepareFolders(config);
    // A lease outlives the fetches it covers: an upstream request with its retries, or a version read
    // from git (a listing, a fetch, an archive, each within --vcs-timeout).
    const leaseTimeoutMs = Math.max(config.upstreamTimeout * 1000 * (upstreamRetries + 1) * 2, config.vcsTimeout * 1000 * 3);
    // The stored figures are the primary's alone: one walk of the storage, and every worker's writes told
    // to it. Kept by each worker, they would count the walk once per worker and each write once.
    // The catalog too is the primary's: told of every worker's writes, it writes entries one at a time.
    const registry = new Registry();
    const { inventory, catalog } = storedState(config, registry, logger);
    const quota = storageQuota(config, inventory, undefined);
    if (quota !== null) registerQuotaGauges(registry, quota);
    // Retention runs here alone (on schedule, for a full quota, as an admin asks a worker), so that a
    // schedule runs once whatever the workers; it removes through the figures' own watcher, and each
    // worker forgets what it removed.
    const audit = await openAuditLog(config.auditLog);
    const retention = await serverRetention(config, { storage: watchedStorage(new DiskStorage({ root: config.storage }), allWatchers([inventory, catalog])), audit, logger, removed: tellVersionRemoved });
    process.exitCode = await runPrimary({
      workers: config.workers,
      logger,
      leaseTimeoutMs,
      reloadOnHangup: config.tls !== null,
      registry,
      storageWatcher: allWatchers([inventory, catalog]),
      onListening: (fields) => printClientSettings(fields.clientSettings),
      ...(quota === null ? {} : { storedBytes: inventory }),
      ...(config.gcOnFull ? { makeRoom: async () => void (await retention.run('gc-on-full')) } : {}),
      gc: askedRetention(retention),
    });
    await retention.close();
    await audit.close();
    await catalog.settled();
    await flush();
    return;
  }
  const member = cluster.isWorker ? joinCluster() : null;
  const metrics = createMetrics(packageVersion());
  // Each scrape, whichever worker it reaches, counts every worker.
  const clusterMetrics = member?.shareMetrics(metrics.registry);
  await prepareFolders(config);
  let watcher: StorageWatcher;
  let catalog: Catalog | null = null;
  let storedBytes: StoredBytes;
  if (member === null) {
    const stored = storedState(config, metrics.registry, logger);
    catalog = stored.catalog;
    watcher = allWatchers([stored.inventory, stored.catalog]);
    storedBytes = stored.inventory;
  } else {
    watcher = member.storageWatcher;
    storedBytes = member.storedBytes;
  }
  // Retention in this process (without --workers; a worker asks the primary, which runs it).
  let retention: ServerRetention | undefined;
  const quota = storageQuota(config, storedBytes, member === null ? async () => void (await retention?.run('gc-on-full')) : () => member.makeRoom());
  if (quota !== null && member === null) registerQuotaGauges(metrics.registry, quota);
  const folder = new DiskStorage({ root: config.storage });
  // Every write to the folder (fetched versions, publishes, bundle uploads) goes through here, and is
  // counted, and past --max-storage refused. A version removed in this process by anything but the
  // admin API (retention, quotas) must not be answered from the server's memory either: told once the
  // server exists.
  let forgetRemoved = (_key: string): void => undefined;
  const watched = watchedStorage(folder, allWatchers([watcher, { stored: () => undefined, removed: (key) => forgetRemoved(key) }]));
  const disk = quota === null ? watched : quotaStorage(watched, quota);
  // The key every served or uploaded bundle must be signed with.
  const bundleKey = config.bundleKey === null ? undefined : await readPublicKey(config.bundleKey);
  const storage = await servedStorage(config.bundles, bundleKey, disk);
  const upstream = assembleUpstream(upstreamSettingsOf(config), storage, logger, metrics);
  const { passthrough } = upstream;
  const { database, verifier } = await ownSumdb(config, storage, upstream.verifier, logger);
  const caching = cachingDepot(upstream, storage, { logger, metrics, listTtlMs: config.listTtl * 1000, verifier, lease: member?.lease });
  const depot = routedDepot(upstream, caching);
  const sumdb = database === null ? passthrough : new HostedSumdb({ database, others: passthrough, depot, storage, verifier, logger });
  const publishing = {
    // Checked against everything served (the bundles too), stored in the folder.
    publisher: new ModulePublisher({
      storage,
      staging: disk,
      // Only paths served from what was published, never fetched: no module from elsewhere can shadow a published one.
      accepts: (modulePath) => upstream.routing.routeOf(modulePath).route === 'hosted',
      ...(database === null ? {} : { database }),
      lease: member?.lease,
      onStored: (modulePath, version) => caching.versionStored(modulePath, version),
      maxSize: config.maxPublishSize,
      logger,
    }),
  };
  const { gate, audit, tokens, closeAccess } = await accessControl(config, (modulePath) => upstream.routing.routeOf(modulePath).route === 'hosted', logger);
  const tls = config.tls === null ? null : { files: config.tls, loaded: await startCertificate(config.tls) };
  const settingsOptions = { noSumdb: [...config.private, ...config.noSumdb], rules: config.routes, ...(database === null ? {} : { sumdbVerifierKey: database.verifierKey }) };
  // Last-download times for retention, written in batches into the folder itself.
  const downloads = new DownloadTimes({ storage: disk, logger });
  downloads.start();
  // Through the watched folder: what it removes is counted, and uncatalogued.
  const storeAdministration = new StoreAdministration({
    storage: disk,
    originOf: routeOrigin(upstream.routing, config.upstream),
    // A listing shows the downloads noted until now (another worker's within a minute).
    beforeUse: () => downloads.flush(),
  });
  let storageGc: GcRunner;
  if (member === null) {
    // The last downloads noted in memory are written before each run, which judges by them; what it
    // removes, it removes through the watched folder, so the server forgets it (forgetRemoved).
    retention = await serverRetention(config, { storage: watched, audit, logger, beforeRun: () => downloads.flush() });
    storageGc = askedRetention(retention);
  } else {
    storageGc = member.gc;
  }
  const server = createServer({
    depot,
    downloads,
    gate,
    audit,
    tokenAdministration: tokens,
    storeAdministration,
    catalog: (query) => readCatalog(folder, query),
    sumdb,
    metrics,
    logger,
    storageProbe: () => checkStorageFolder(folder.root),
    storageSpace: new StorageSpace(folder.root),
    ...(quota === null ? {} : { storageQuota: quota }),
    storageGc,
    version: packageVersion(),
    clientSettings: (url) => clientSettings(url, settingsOptions),
    bundleImport: {
      receive: (body, signal, declaredSize, allowPartial) => receiveBundle(body, disk, disk, { publicKey: bundleKey, signal, maxSize: config.maxUploadSize, declaredSize, allowPartial }),
    },
    publishing,
    prefetchZips: config.prefetch,
    metricsExposition: clusterMetrics === undefined ? undefined : () => clusterMetrics.exposition(),
    ...(tls === null ? {} : { tls: tls.loaded }),
  });
  // Nor a version another worker removed.
  forgetRemoved = (key) => {
    const removed = storedVersionOf(key);
    if (removed !== null) server.forget(removed.path, removed.version);
  };
  member?.onRemovedElsewhere(forgetRemoved);
  // Nor one the primary's retention removed.
  member?.onVersionRemoved((modulePath, version) => server.forget(modulePath, version));
  const certificateWatcher = tls === null ? null : new CertificateWatcher({ ...tls, apply: (pair) => server.setCertificate(pair), logger });
  // SIGHUP: read the certificate again now, whether its files look changed or not. A worker's comes
  // from the primary (see joinCluster).
  const reload = (): void => void certificateWatcher?.reload('SIGHUP');
  if (certificateWatcher !== null) {
    if (member === null) process.on('SIGHUP', reload);
    else member.onReloadRequest(reload);
  }

  const { host, port } = config.listen;
  let url: string;
  try {
    ({ url } = await server.listen(host, port));
  } catch (err) {
    throw new ConfigError(`listen: cannot listen on ${host}:${port}: ${(err as Error).message}`, { cause: err });
  }
  const served = tls === null ? {} : { certificate: { subject: tls.loaded.subject, serialNumber: tls.loaded.serialNumber, validTo: tls.loaded.validTo } };
  const hosted = database === null ? {} : { sumdbHost: database.name, sumdbVerifierKey: database.verifierKey, sumdbRecords: database.size };
  const { http, https } = config.outboundProxy;
  const proxied = http === null && https === null ? {} : { outboundProxy: redactProxySettings(config.outboundProxy) };
  // The effective routing, rule by rule with where each came from, so that an operator sees which
  // modules reach which origin without reading four sources.
  const routing = upstream.routing.describe();
  // What a go client needs set to use this server (GOPROXY, GONOSUMDB or GOSUMDB), as a field of the
  // JSON line and, for whoever started godepot on a terminal, as plain lines on stderr.
  const settings = clientSettings(url, settingsOptions);
  const fields = { url, storage: config.storage, bundles: config.bundles, upstream: config.upstream, routing, private: config.private, sumdb: config.sumdb, nosumdb: config.noSumdb, ...served, ...proxied, ...hosted, clientSettings: settings };
  if (member === null) {
    logger.info(fields, 'listening');
    printClientSettings(settings);
  } else {
    member.reportListening(fields);
  }

  const forced = await untilStopped(server, config.shutdownTimeout * 1000, logger, flushSync, member);
  certificateWatcher?.close();
  process.off('SIGHUP', reload);
  await retention?.close();
  await downloads.close();
  await catalog?.settled();
  await upstream.close();
  await closeAccess();
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
 * Who may do what: the token file (followed as `godepot token` changes it), the shorthand tokens of
 * --import-token and --publish-token, anonymous reads, and the limits; refusals and changes go to the
 * audit log. Private modules are the --private ones (GOPRIVATE) and those routed `hosted`. Admins manage
 * the token file over HTTP too (`tokens`); this process's store reads it again after each change.
 */
async function accessControl(
  config: ServeConfig,
  hosted: (modulePath: string) => boolean,
  logger: Logger,
): Promise<{ gate: Gate; audit: Audit; tokens: TokenAdministration; closeAccess: () => Promise<void> }> {
  const store = await TokenStore.open({ file: config.tokens, logger });
  const statics: StaticToken[] = [];
  if (config.importToken !== null) statics.push({ name: 'import-token', token: config.importToken, role: 'admin' });
  if (config.publishToken !== null) statics.push({ name: 'publish-token', token: config.publishToken, role: 'publish' });
  const access = new TokenAccessControl({
    tokens: withStaticTokens(store, statics),
    anonymous: config.anonymous,
    isPrivate: (modulePath) => matchPrefixPatterns(config.private, modulePath) || hosted(modulePath),
  });
  let audit: Audit;
  try {
    audit = await openAuditLog(config.auditLog);
  } catch (err) {
    store.close();
    throw err;
  }
  const gate = new Gate({
    access,
    audit,
    logger,
    tokenRate: config.rateLimit,
    anonymousRate: config.anonymousRateLimit,
    maxColdFetches: config.maxColdFetches,
    metricsToken: config.metricsToken,
    // Its records then name private modules; without any, it is as public as the modules it vouches for.
    hostedSumdb: config.private.length > 0 || config.routes.some((rule) => rule.route === 'hosted') ? config.sumdbHost : null,
  });
  return {
    gate,
    audit,
    tokens: tokenAdministration(new TokenFile(config.tokens), audit, () => store.reload()),
    closeAccess: async () => {
      store.close();
      await audit.close();
    },
  };
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

/** The certificate as its files hold it now: they may have changed since the configuration was checked. */
async function startCertificate(files: CertificateFiles): Promise<LoadedCertificate> {
  try {
    return await loadCertificate(files);
  } catch (err) {
    if (err instanceof CertificateError) throw new ConfigError(`${err.setting}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * The storage the depot reads and fills: the folder, behind the bundles to serve when there are any.
 * Each bundle is verified whole (and its signature, when a key is configured) before it is served.
 */
async function servedStorage(files: readonly string[], publicKey: KeyObject | undefined, disk: Storage & FileStaging): Promise<Storage> {
  if (files.length === 0) return disk;
  const bundles: Bundle[] = [];
  for (const file of files) {
    const bundle = await openBundle(file);
    bundles.push(bundle);
    try {
      await checkBundle(bundle, { publicKey });
    } catch (err) {
      throw new ConfigError(`bundle: ${file} cannot be served: ${(err as Error).message}`, { cause: err });
    }
  }
  return new LayeredStorage([await BundleStorage.over(bundles)], disk);
}

/**
 * What the process that keeps them (the primary, or the only process) knows of the storage folder: its
 * stored figures, registered in `registry`, and its catalog. Both catch up from one listing of every
 * key made at start (a large store's folders are walked once, not once each), and each reports a
 * failure of it in its own words.
 */
function storedState(config: ServeConfig, registry: Registry, logger: Logger): { inventory: StoredInventory; catalog: Catalog } {
  const listing = new DiskStorage({ root: config.storage }).list('');
  listing.catch(() => undefined);
  const inventory = storedInventory(config.storage, listing, logger);
  registerStoredGauges(registry, inventory);
  return { inventory, catalog: storedCatalog(config, listing, logger) };
}

/**
 * The stored figures of the storage folder `root`, counted in the background from `listing` (the
 * server listens meanwhile; the figures grow to the truth as it goes), then kept by the writes told to it.
 */
function storedInventory(root: string, listing: Promise<readonly string[]>, logger: Logger): StoredInventory {
  const inventory = new StoredInventory();
  const started = Date.now();
  inventory.walk(new DiskStorage({ root }), listing).then(
    () => logger.debug({ modules: inventory.modules, versions: inventory.versions, bytes: inventory.bytes, ms: Date.now() - started }, 'storage counted'),
    (err: unknown) => logger.warn({ err }, 'could not count what the storage holds: godepot_stored_* metrics count only what is stored from now on'),
  );
  return inventory;
}

/**
 * The catalog of the storage folder (what `/index` answers), told of what is stored from now on, and
 * catching up in the background with what was stored without it. Each version is recorded with the
 * route its module has now (routeOrigin).
 */
function storedCatalog(config: ServeConfig, listing: Promise<readonly string[]>, logger: Logger): Catalog {
  const routing = new Routing(upstreamSettingsOf(config).routing);
  const catalog = new Catalog({ storage: new DiskStorage({ root: config.storage }), originOf: routeOrigin(routing, config.upstream), logger });
  void catalog.catchUp(listing);
  return catalog;
}

/**
 * The quota of --max-storage over `usage`, or null without a limit; with --gc-on-full, `makeRoom` runs
 * retention before a write is refused.
 */
function storageQuota(config: ServeConfig, usage: StoredBytes, makeRoom: (() => Promise<void>) | undefined): StorageQuota | null {
  if (config.maxStorage === null) return null;
  return new StorageQuota({ limit: config.maxStorage, warningPercent: config.storageWarning, usage, ...(config.gcOnFull && makeRoom !== undefined ? { makeRoom } : {}) });
}

/**
 * The server's retention runs over `storage`: on schedule (gc-schedule, started here), for a full quota
 * (gc-on-full), as admins ask (POST /admin/gc). Its pins are read now too, so that a wrong gc.keep stops
 * the start, not a run hours later.
 */
async function serverRetention(config: ServeConfig, options: Pick<ServerRetentionOptions, 'storage' | 'audit' | 'logger' | 'beforeRun' | 'removed'>): Promise<ServerRetention> {
  await readPins(config.gc.keep, 'gc.keep');
  const retention = new ServerRetention({ ...options, policy: config.gc, keep: config.gc.keep });
  if (config.gcSchedule !== null) await retention.start(config.gcSchedule);
  return retention;
}

/** The runs admins ask for (POST /admin/gc), as `retention` runs them. */
function askedRetention(retention: ServerRetention): GcRunner {
  return async (request, by) => reportJson(await retention.runAsked({ policy: request.policy, pins: new Set(request.pins), dryRun: request.dryRun }, by));
}

/** The client settings as plain lines on stderr when it is a terminal: stdout keeps only log lines. */
function printClientSettings(settings: unknown): void {
  if (!process.stderr.isTTY || !Array.isArray(settings)) return;
  process.stderr.write(`Use this godepot with:\n${settings.map((line) => `  ${String(line)}\n`).join('')}`);
}

// The storage and state folders are made at start, and must be writable: a wrong --storage or
// --state-dir is reported now, not as a failure of the first download.
async function prepareFolders(config: { storage: string; stateDir: string }): Promise<void> {
  for (const [key, dir] of [['storage', config.storage], ['state-dir', config.stateDir]] as const) {
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      const fix = await writeAccessFix(dir, err);
      throw new ConfigError(`${key}: folder ${dir} cannot be used: ${(err as Error).message}${fix === null ? '' : `; ${fix}`}`, { cause: err });
    }
  }
}
