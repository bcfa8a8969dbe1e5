// Fetching a resolved module graph's files, in parallel, through whatever answers the GOPROXY protocol:
// a depot filling a storage (bundle create, mirror --storage) or a running proxy (mirror --server).
import type { Readable } from 'node:stream';
import type { Artifact } from '../protocol/artifact.js';
import type { Depot } from '../depot/depot.js';
import { GodepotError } from '../errors.js';
import type { GoModSource, ModuleGraph, ModuleVersion } from '../modgraph/graph.js';
import type { UpstreamClient } from '../http/upstream-client.js';
import { proxyPath } from '../origin/proxy.js';
import { compare, isValid, prerelease } from '../module/semver.js';
import { isPseudoVersion } from '../module/version.js';
import type { Progress } from '../telemetry/progress.js';
import { compareModules } from './manifest.js';

/** The files of a module version the GOPROXY protocol has. */
export type ModuleFile = 'info' | 'mod' | 'zip';

/** A module version and which of its files are needed: all three for the build list, the `.mod` alone for a go.mod the graph only reads. */
export interface NeededModule extends ModuleVersion {
  files: readonly ModuleFile[];
}

/**
 * Gets one file so that it is available afterwards (stored, or cached by a proxy); resolves to the
 * bytes it fetched for that: its size, or 0 when it was there already.
 */
export type FileFetcher = (module: ModuleVersion, file: ModuleFile, signal: AbortSignal) => Promise<number>;

/** A fetch that failed, naming the module version and file. */
export class ModuleFetchError extends GodepotError {
  readonly code = 'MODULE_FETCH';
  constructor(
    readonly module: ModuleVersion,
    readonly file: ModuleFile,
    cause: unknown,
  ) {
    super(`${module.path}@${module.version} (${file}): ${(cause as Error).message}`, { cause });
  }
}

/** The module versions of `graph` with the files go needs of each, sorted by path then version. */
export function neededModules(graph: ModuleGraph): NeededModule[] {
  const byKey = new Map<string, NeededModule>();
  for (const m of graph.goMods) byKey.set(`${m.path}@${m.version}`, { path: m.path, version: m.version, files: ['mod'] });
  for (const m of graph.buildList) byKey.set(`${m.path}@${m.version}`, { path: m.path, version: m.version, files: ['info', 'mod', 'zip'] });
  return sortModules([...byKey.values()]);
}

export function sortModules<T extends ModuleVersion>(modules: T[]): T[] {
  return modules.sort(compareModules);
}

/** The GOPROXY answers a GoModSource is made from: an Origin has them, a Depot's are adapted by depotGoModSource. */
export interface ProtocolReader {
  list(path: string, signal?: AbortSignal): Promise<string>;
  latest(path: string, signal?: AbortSignal): Promise<Buffer>;
  info(path: string, query: string, signal?: AbortSignal): Promise<Buffer>;
  mod(path: string, version: string, signal?: AbortSignal): Promise<Buffer>;
}

/**
 * A GoModSource over the GOPROXY protocol. `latest` is resolved as go resolves `module@latest` through a
 * proxy: the highest release in `@v/list`, else its highest pre-release, and only when the list is empty
 * the `@latest` endpoint (static GOPROXY trees have no `latest.info` to ask).
 */
export function protocolGoModSource(reader: ProtocolReader): GoModSource {
  return {
    mod: (path, version, signal) => reader.mod(path, version, signal),
    info: async (path, query, signal) => {
      if (query !== 'latest') return reader.info(path, query, signal);
      const listed = (await reader.list(path, signal)).split('\n').map((v) => v.trim()).filter((v) => isValid(v) && !isPseudoVersion(v));
      const releases = listed.filter((v) => prerelease(v) === '');
      const pick = (releases.length > 0 ? releases : listed).reduce<string | null>((best, v) => (best === null || compare(v, best) > 0 ? v : best), null);
      return pick === null ? reader.latest(path, signal) : reader.info(path, pick, signal);
    },
  };
}

/** A depot as the source of go.mod files and queries: every .mod read is checked and stored as served. */
export function depotGoModSource(depot: Depot): GoModSource {
  const body = async (artifact: Promise<Artifact>): Promise<Buffer> => (await artifact).body!;
  return protocolGoModSource({
    list: async (path, signal) => (await body(depot.list(path, signal))).toString('utf8'),
    latest: (path, signal) => body(depot.latest(path, signal)),
    info: (path, query, signal) => body(depot.info(path, query, signal)),
    mod: (path, version, signal) => body(depot.mod(path, version, signal)),
  });
}

/** A FileFetcher over a depot: each call stores the file (when missing) the way serving it would. */
export function depotFetcher(depot: Depot): FileFetcher {
  return async ({ path, version }, file, signal) => {
    const artifact = file === 'info' ? await depot.info(path, version, signal) : file === 'mod' ? await depot.mod(path, version, signal) : await depot.zip(path, version, signal);
    // Read from storage, it cost no download.
    return artifact.cache === 'miss' ? artifact.size : 0;
  };
}

/**
 * A running proxy (mirror --server), asked over HTTP for each file: as a ProtocolReader for the graph,
 * and as a FileFetcher whose answers are read and dropped (the proxy keeps them).
 */
export function proxyServer(client: UpstreamClient): { reader: ProtocolReader; fetcher: FileFetcher } {
  const reader: ProtocolReader = {
    list: async (path, signal) => (await client.getBytes(proxyPath(path, 'list'), 'list', signal)).toString('utf8'),
    latest: (path, signal) => client.getBytes(proxyPath(path, 'latest'), 'latest', signal),
    info: (path, query, signal) => client.getBytes(proxyPath(path, 'info', query), 'info', signal),
    mod: (path, version, signal) => client.getBytes(proxyPath(path, 'mod', version), 'mod', signal),
  };
  const fetcher: FileFetcher = async ({ path, version }, file, signal) => {
    if (file === 'zip') return drain(await client.getStream(proxyPath(path, 'zip', version), 'zip', signal));
    return (await reader[file](path, version, signal)).length;
  };
  return { reader, fetcher };
}

async function drain(stream: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  return bytes;
}

/**
 * Fetches every needed file, `concurrency` module versions at a time, and reports the bytes fetched to
 * the progress. The first failure stops the rest and is thrown as a ModuleFetchError; with `onFailure`,
 * each module version that fails is reported there instead (at its first failed file) and every other
 * one is still fetched.
 */
export async function fetchModules(
  modules: readonly NeededModule[],
  fetcher: FileFetcher,
  options: { concurrency?: number; progress: Progress; signal?: AbortSignal; onFailure?: (failure: ModuleFetchError) => void },
): Promise<void> {
  // A signal per worker, never one shared by all: every fetch under way listens on its signal (the
  // depot's flights, the upstream exchange), and sixteen workers on one signal pass Node's limit of
  // ten listeners (MaxListenersExceededWarning) though nothing leaks.
  const controllers = Array.from({ length: Math.min(options.concurrency ?? 16, modules.length) }, () => new AbortController());
  const stopAll = (reason?: unknown): void => controllers.forEach((controller) => controller.abort(reason));
  const stop = (): void => stopAll(options.signal?.reason);
  options.signal?.addEventListener('abort', stop, { once: true });
  options.progress.setTotal(modules.length);
  let next = 0;
  let failure: unknown = null;
  const worker = async (controller: AbortController): Promise<void> => {
    while (failure === null && next < modules.length) {
      const module = modules[next++]!;
      if (await fetchModule(module, controller.signal)) options.progress.moduleDone();
    }
  };
  // True once every file of `module` is fetched; false when one failed and the run goes on.
  const fetchModule = async (module: NeededModule, signal: AbortSignal): Promise<boolean> => {
    // The .mod first: a zip whose go.mod disagrees with it is then refused by the depot's checks.
    for (const file of ['mod', 'info', 'zip'] as const) {
      if (!module.files.includes(file)) continue;
      try {
        options.progress.addBytes(await fetcher(module, file, signal));
      } catch (err) {
        const stopped = signal.aborted && options.signal?.aborted === true;
        if (options.onFailure !== undefined && !stopped) {
          options.onFailure(new ModuleFetchError(module, file, err));
          return false;
        }
        if (failure === null) failure = stopped ? err : new ModuleFetchError(module, file, err);
        stopAll();
        return false;
      }
    }
    return true;
  };
  try {
    await Promise.all(controllers.map(worker));
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  if (failure !== null) throw failure;
}
