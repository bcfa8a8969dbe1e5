// `godepot mirror --from URL --storage DIR`: follow another godepot (or any server with an /index) into a
// storage folder, fetching only what it stored since the last run.
import { resolve } from 'node:path';
import { ConfigError, GoneError, NotFoundError } from '../errors.js';
import { Transport } from '../http/transport.js';
import { unreachableError, unreachableReason } from '../http/unreachable.js';
import { UpstreamClient } from '../http/upstream-client.js';
import type { Artifact } from '../protocol/artifact.js';
import { DiskStorage } from '../storage/disk.js';
import { watchedStorage } from '../storage/watched-storage.js';
import { Catalog } from '../store/catalog.js';
import { catalogPages, followCatalog, type CatalogPages, type FetchOutcome } from '../store/follow.js';
import { createMetrics } from '../telemetry/metrics.js';
import { fetchRun, upstreamSettings, type FetchFlags } from './fetch-options.js';
import { assembleUpstream, upstreamDepot } from './wiring.js';

export interface MirrorFromFlags extends FetchFlags {
  from: string;
  storage?: string;
  server?: string;
  token?: string;
}

/**
 * Follows the catalog of `flags.from` into the `--storage` folder: each version it lists is fetched
 * from it (its zip, `.info` and `.mod`; the `.info` and `.mod` alone when it has no zip to give) and
 * verified as `mirror --storage` verifies (zip rules, the checksum database of `--sumdb`). Returns
 * false when some version failed (each reported on stderr); the next run tries those again.
 */
export async function mirrorFrom(flags: MirrorFromFlags): Promise<boolean> {
  if (flags.storage === undefined || flags.server !== undefined) throw new ConfigError('mirror: --from fills a storage folder: give --storage, not --server');
  if (flags.upstream !== undefined) throw new ConfigError('mirror: --from is where modules come from: give --upstream or --from, not both');
  const from = followedUrl(flags.from, flags.token ?? process.env.GODEPOT_TOKEN);
  // Messages and records name the server without credentials: a token is nobody's to read.
  const key = new URL(from.href);
  key.username = '';
  key.password = '';
  const shown = key.href.replace(/\/$/, '');
  const { concurrency, progress, logger, flush } = fetchRun(flags, 'following');
  const settings = await upstreamSettings(flags);
  const disk = new DiskStorage({ root: resolve(flags.storage) });
  const metrics = createMetrics();
  // Everything comes from the followed server: no rule sends a module elsewhere; deny rules still hold.
  const upstream = assembleUpstream(
    { ...settings, upstream: from.href, routing: { ...settings.routing, rules: settings.routing.rules.filter((rule) => rule.route === 'deny') } },
    disk,
    logger,
    metrics,
  );
  // What is fetched is catalogued here too, so that another godepot can follow this one in turn.
  const catalog = new Catalog({ storage: disk, originOf: () => shown, logger });
  const storage = watchedStorage(disk, catalog);
  const depot = upstreamDepot(upstream, storage, { logger, metrics, listTtlMs: 0 });
  const transport = new Transport({ proxy: settings.proxy, ca: settings.trustedRoots ?? undefined, timeoutMs: settings.timeoutMs, logger });
  const client = new UpstreamClient({ url: from.href, timeoutMs: settings.timeoutMs, minRate: settings.minRate, transport, logger });
  const missed = (artifact: Artifact): boolean => artifact.cache === 'miss';
  try {
    const report = await followCatalog({
      storage,
      from: key.href,
      pages: reachablePages(catalogPages(client), key),
      concurrency,
      progress,
      fetch: async ({ Path, Version }): Promise<FetchOutcome> => {
        let fetched = false;
        try {
          fetched = missed(await depot.zip(Path, Version));
        } catch (err) {
          // go stores only the .mod of a module it does not build: so may the followed server.
          if (!(err instanceof NotFoundError || err instanceof GoneError)) throw err;
        }
        fetched = missed(await depot.mod(Path, Version)) || fetched;
        try {
          fetched = missed(await depot.info(Path, Version)) || fetched;
        } catch (err) {
          if (!(err instanceof NotFoundError || err instanceof GoneError)) throw err;
        }
        return fetched ? 'fetched' : 'present';
      },
    });
    progress.finish();
    for (const failure of report.failures) process.stderr.write(`${shown}: ${failure.module}: ${(failure.error as Error).message}\n`);
    for (const skipped of report.skipped) process.stderr.write(`${shown}: ${skipped.module}: skipped: ${skipped.reason}\n`);
    process.stdout.write(`${flags.storage}: ${report.fetched} module versions fetched from ${shown} (${report.listed} new in its catalog${report.failures.length > 0 ? `, ${report.failures.length} failed` : ''})\n`);
    return report.failures.length === 0;
  } finally {
    await depot.close();
    await catalog.settled();
    await upstream.close();
    await transport.close();
    await flush();
  }
}

/** `pages`, where a server that cannot be reached at all says so and what to check, as the --server commands do. */
function reachablePages(pages: CatalogPages, server: URL): CatalogPages {
  return async (since, limit) => {
    try {
      return await pages(since, limit);
    } catch (err) {
      throw unreachableReason(err, server) === undefined ? err : unreachableError(server, err);
    }
  };
}

/** The URL of the followed server, carrying `token` as Basic credentials (the password) when it has none of its own. */
function followedUrl(from: string, token: string | undefined): URL {
  let url: URL;
  try {
    url = new URL(from);
  } catch (err) {
    throw new ConfigError(`--from: invalid URL ${JSON.stringify(from)}`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--from: must be an http or https URL, not ${from}`);
  if (token !== undefined && token !== '' && url.username === '' && url.password === '') {
    url.username = 'godepot';
    url.password = token;
  }
  return url;
}
