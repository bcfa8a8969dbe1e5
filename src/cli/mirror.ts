// `godepot mirror`: pre-fill a proxy with listed modules and their whole graphs — the "preload the
// popular modules" job. Rerunnable: what the proxy has is not fetched again; `@latest` lines pick up
// new releases.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { depotFetcher, depotGoModSource, fetchModules, neededModules, protocolGoModSource, proxyServer, type FileFetcher } from '../bundle/fetch-modules.js';
import { ConfigError } from '../errors.js';
import { Transport } from '../http/transport.js';
import { resolveGraph, type GoModSource } from '../modgraph/graph.js';
import { UpstreamClient } from '../http/upstream-client.js';
import { DiskStorage } from '../storage/disk.js';
import { createMetrics } from '../telemetry/metrics.js';
import { fetchRun, upstreamSettings, withFetchOptions, type FetchFlags } from './fetch-options.js';
import { assembleUpstream, upstreamDepot } from './wiring.js';
import { withExamples } from './examples.js';
import { mirrorFrom } from './mirror-from.js';

/** The `module@version` / `module@latest` lines of a list file; blank lines and `#` comments are skipped. */
export function parseMirrorList(text: string, file: string): string[] {
  const specs: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    if (!/^[^@\s]+@[^@\s]+$/.test(line)) throw new ConfigError(`${file}:${i + 1}: want module@version or module@latest, not ${JSON.stringify(line)}`);
    specs.push(line);
  });
  if (specs.length === 0) throw new ConfigError(`${file}: lists no modules`);
  return specs;
}

export function mirrorCommand(): Command {
  return withExamples(withFetchOptions(
    new Command('mirror')
      .description('pre-fill a proxy with each listed module@version (or @latest) and its whole module graph, or follow another godepot (--from)')
      .argument('[listfile]', 'one module@version or module@latest per line; # starts a comment')
      .option('--storage <dir>', 'fill this storage folder, fetching from the upstream chain')
      .option('--server <url>', 'fill a running godepot by asking it for every file')
      .option('--from <url>', 'instead of a list: every version another godepot (any server with an /index) stored since the last run, fetched from it into --storage')
      .option('--token <token>', 'a token of the --from server, when it needs one; $GODEPOT_TOKEN is better, as other users cannot read it from the process list (default: $GODEPOT_TOKEN)'),
  ), [
    ['godepot mirror popular.txt --storage /var/lib/godepot', 'popular.txt: lines such as golang.org/x/net@latest'],
    'godepot mirror popular.txt --server http://127.0.0.1:3000 --concurrency 4',
    ['godepot mirror --from https://godepot.corp.example --storage /var/lib/godepot', 'follow another godepot: run again (from cron) to fetch only what it stored since'],
  ]).action(async (listFile: string | undefined, flags: FetchFlags & { storage?: string; server?: string; from?: string; token?: string }) => {
    if (flags.from !== undefined) {
      if (listFile !== undefined) throw new ConfigError('mirror: give a list file or --from, not both');
      if (!(await mirrorFrom({ ...flags, from: flags.from }))) process.exitCode = 1;
      return;
    }
    if (listFile === undefined) throw new ConfigError('mirror: give a list file, or --from URL to follow another godepot');
    if ((flags.storage === undefined) === (flags.server === undefined)) throw new ConfigError('mirror: give exactly one of --storage and --server');
    const specs = parseMirrorList(await readFile(listFile, 'utf8'), listFile);
    const { concurrency, progress, logger, flush } = fetchRun(flags, 'mirroring');
    let source: GoModSource;
    let fetcher: FileFetcher;
    let close: () => Promise<void>;
    if (flags.server !== undefined) {
      // The server is asked as an upstream is: same limits, same outbound proxy.
      const { timeoutMs, minRate, proxy, trustedRoots } = await upstreamSettings(flags);
      const transport = new Transport({ proxy, ca: trustedRoots ?? undefined, timeoutMs, logger });
      const server = proxyServer(new UpstreamClient({ url: flags.server, timeoutMs, minRate, transport, logger }));
      source = protocolGoModSource(server.reader);
      fetcher = server.fetcher;
      close = () => transport.close();
    } else {
      const storage = new DiskStorage({ root: resolve(flags.storage!) });
      const metrics = createMetrics();
      const upstream = assembleUpstream(await upstreamSettings(flags), storage, logger, metrics);
      // Every fetch ended and stored before the upstream's connections are released.
      const depot = upstreamDepot(upstream, storage, { logger, metrics, listTtlMs: 0 });
      source = depotGoModSource(depot);
      fetcher = depotFetcher(depot);
      close = async () => {
        await depot.close();
        await upstream.close();
      };
    }
    try {
      const graph = await resolveGraph(specs, source, { cwd: process.cwd() });
      const needed = neededModules(graph);
      await fetchModules(needed, fetcher, { progress, concurrency });
      progress.finish();
      process.stdout.write(`${flags.storage ?? flags.server}: ${needed.length} module versions present (${specs.length} listed)\n`);
    } finally {
      await close();
      await flush();
    }
  });
}
