// `godepot mirror`: pre-fill a proxy with listed modules and their whole graphs — the "preload the
// popular modules" job. Rerunnable: what the proxy has is not fetched again; `@latest` lines pick up
// new releases.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { depotFetcher, depotGoModSource, fetchModules, neededModules, protocolGoModSource, proxyServer, type FileFetcher } from '../bundle/fetch-modules.js';
import { ConfigError, GodepotError } from '../errors.js';
import { Transport } from '../http/transport.js';
import { resolveGraph, type GoModSource } from '../modgraph/graph.js';
import { UpstreamClient } from '../http/upstream-client.js';
import { DiskStorage } from '../storage/disk.js';
import { createMetrics } from '../telemetry/metrics.js';
import { fetchRun, upstreamSettings, withFetchOptions, type FetchFlags } from './fetch-options.js';
import { assembleUpstream, upstreamDepot } from './wiring.js';
import { withExamples } from './examples.js';
import { mirrorFrom } from './mirror-from.js';

/** One `module@version` or `module@latest` line of a list file. */
export interface MirrorLine {
  /** Counted from 1. */
  line: number;
  spec: string;
}

/** A line of a list file that could not be mirrored, and why. */
export interface MirrorFailure extends MirrorLine {
  reason: string;
}

/**
 * The lines of a list file; blank lines and `#` comments are skipped, and a line that is not
 * `module@version` or `module@latest` is a failure of its own, the others still listed.
 */
export function parseMirrorList(text: string): { lines: MirrorLine[]; failures: MirrorFailure[] } {
  const lines: MirrorLine[] = [];
  const failures: MirrorFailure[] = [];
  text.split('\n').forEach((raw, i) => {
    const spec = raw.replace(/#.*/, '').trim();
    if (spec === '') return;
    if (/^[^@\s]+@[^@\s]+$/.test(spec)) lines.push({ line: i + 1, spec });
    else failures.push({ line: i + 1, spec, reason: 'want module@version or module@latest' });
  });
  return { lines, failures };
}

/** `FILE:LINE: module: reason`, the form of every failure mirror reports. */
export function formatMirrorFailure(file: string, failure: MirrorFailure): string {
  return `${file}:${failure.line}: ${failure.spec}: ${failure.reason}\n`;
}

/** Some lines of the list could not be mirrored; everything else was. */
export class MirrorIncompleteError extends GodepotError {
  readonly code = 'MIRROR_INCOMPLETE';
}

// An error about an input starts with the input itself (GraphLoadError): said once, by the line.
function reasonFor(spec: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.startsWith(`${spec}: `) ? message.slice(spec.length + 2) : message;
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
    const list = parseMirrorList(await readFile(listFile, 'utf8'));
    if (list.lines.length + list.failures.length === 0) throw new ConfigError(`${listFile}: lists no modules`);
    const { concurrency, progress, note, logger, flush } = fetchRun(flags, 'mirroring');
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
    // A line that fails is reported (once) and the others go on: one module gone upstream must not
    // keep a whole list from the proxy.
    const linesOf = new Map<string, MirrorLine[]>();
    for (const line of list.lines) linesOf.set(line.spec, [...(linesOf.get(line.spec) ?? []), line]);
    const failures = new Map<number, MirrorFailure>();
    const failed = (failure: MirrorFailure): void => {
      if (failures.has(failure.line)) return;
      failures.set(failure.line, failure);
      note(formatMirrorFailure(listFile, failure));
    };
    list.failures.forEach(failed);
    let present = 0;
    try {
      const graph = await resolveGraph([...linesOf.keys()], source, {
        cwd: process.cwd(),
        onInputFailure: (spec, err) => linesOf.get(spec)!.forEach((line) => failed({ ...line, reason: reasonFor(spec, err) })),
      });
      const needed = neededModules(graph);
      // The lines whose graphs need each module version, to name them when it fails.
      const neededBy = new Map<string, Set<MirrorLine>>();
      for (const input of graph.inputs) {
        for (const m of [...input.goMods, ...input.buildList]) {
          const key = `${m.path}@${m.version}`;
          const lines = neededBy.get(key) ?? new Set();
          linesOf.get(input.spec)!.forEach((line) => lines.add(line));
          neededBy.set(key, lines);
        }
      }
      let missing = 0;
      await fetchModules(needed, fetcher, {
        progress,
        concurrency,
        onFailure: (err) => {
          missing++;
          for (const line of neededBy.get(`${err.module.path}@${err.module.version}`) ?? []) failed({ ...line, reason: err.message });
        },
      });
      present = needed.length - missing;
    } finally {
      progress.finish();
      await close();
      await flush();
    }
    const lineCount = list.lines.length + list.failures.length;
    process.stdout.write(`${flags.storage ?? flags.server}: ${present} module versions present (${lineCount} listed${failures.size > 0 ? `, ${failures.size} failed` : ''})\n`);
    if (failures.size > 0) {
      throw new MirrorIncompleteError(`${failures.size} of ${lineCount} lines of ${listFile} failed (reported above); everything else is there`);
    }
  });
}
