// `godepot bundle create`: resolve the inputs' module graph as go does, fetch every file go will need
// offline through a depot (so each module passes the proxy's checks and the checksum database before it
// counts), gather the database's proofs for them, and write one bundle.
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Logger } from 'pino';
import { collectProofs, type ProofFiles } from '../checksum/proofs.js';
import { assembleUpstream, upstreamDepot, type UpstreamSettings } from '../cli/wiring.js';
import { hashGoMod } from '../module/hash.js';
import { ChecksumMismatchError, parseGoSum } from '../module/gosum.js';
import { resolveGraph, type ModuleGraph } from '../modgraph/graph.js';
import { storageKey } from '../protocol/keys.js';
import { DiskStorage } from '../storage/disk.js';
import type { Storage } from '../storage/storage.js';
import { createMetrics } from '../telemetry/metrics.js';
import type { Progress } from '../telemetry/progress.js';
import type { ReleaseArchive } from '../release/own-release.js';
import { depotFetcher, depotGoModSource, fetchModules, neededModules, sortModules, type ModuleFile, type NeededModule } from './fetch-modules.js';
import { openBundle, outputExists, writeBundle, type Bundle } from './format.js';
import {
  BUNDLE_FORMAT,
  RELEASE_BUNDLE_FORMAT,
  manifestId,
  releaseFileName,
  type Manifest,
  type ManifestFile,
  type ManifestInput,
  type ManifestModule,
  type ManifestRelease,
  type ManifestSumdb,
} from './manifest.js';

export interface CreateOptions {
  /** go.mod / go.work files, folders holding one, or `module@version` queries. */
  inputs: readonly string[];
  output: string;
  cwd: string;
  upstream: UpstreamSettings;
  /** An older bundle: the new one holds only what it lacks. */
  since?: string;
  /** Finds or makes godepot's release archive to carry too (`--self`): the bundle is then of format 2. Called before any fetch. */
  release?: () => Promise<ReleaseArchive>;
  /** Replace a file at `output`; without it, one there is a ConfigError, before anything is fetched. */
  force?: boolean;
  signingKey?: KeyObject;
  /** The storage folder the files are fetched into (a cache that makes a second run cheap). */
  workDir: string;
  createdBy: string;
  concurrency?: number;
  progress: Progress;
  logger: Logger;
  signal?: AbortSignal;
}

export interface CreateResult {
  /** The bundle file's sha256 and size, and its manifest id: what a later `--since` bundle names as its base. */
  sha256: string;
  size: number;
  manifestId: string;
  modules: number;
  /** Module versions left out because the `since` bundle has them. */
  alreadyInSince: number;
  /** What the user should know about the bundle, which was written all the same. */
  warnings: string[];
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/**
 * Writes the bundle the options describe (see CreateOptions). Throws ConfigError, before fetching
 * anything, when `output` exists and `force` is not given; the file is still never replaced without it.
 */
export async function createBundle(options: CreateOptions): Promise<CreateResult> {
  const { signal, logger } = options;
  if (options.force !== true && existsSync(options.output)) throw outputExists(options.output);
  const archive = await options.release?.();
  const release = archive === undefined ? undefined : await describeRelease(archive);
  const storage = new DiskStorage({ root: options.workDir });
  const metrics = createMetrics();
  const upstream = assembleUpstream(options.upstream, storage, logger, metrics);
  try {
    const since = options.since === undefined ? null : await openBundle(options.since);
    try {
      // list/@latest answers are looked at once per run: no reuse across queries.
      const depot = upstreamDepot(upstream, storage, { logger, metrics, listTtlMs: 0 });
      let graph: ModuleGraph;
      let needed: NeededModule[];
      let fresh: NeededModule[];
      try {
        graph = await resolveGraph([...options.inputs], depotGoModSource(depot), { cwd: options.cwd, signal });
        needed = withGoSumMods(neededModules(graph), graph.inputs.flatMap((input) => input.goSum));
        const had = new Map((since?.manifest.modules ?? []).map((m) => [`${m.path}@${m.version}`, m]));
        fresh = needed.filter((m) => !covers(had.get(`${m.path}@${m.version}`), m));
        await fetchModules(fresh, depotFetcher(depot), { progress: options.progress, signal, concurrency: options.concurrency });
      } finally {
        // Every fetch ended and every fetched file in the work folder before it is read back, or removed
        // by the caller: a graph that fails on one module leaves the fetches of the others running.
        await depot.close();
      }
      options.progress.finish();

      const modules = await Promise.all(fresh.map((m) => describeModule(storage, m)));
      const inputs: ManifestInput[] = graph.inputs.map((input) => ({ spec: input.spec, kind: input.kind, mainModules: input.mainModules, goSum: input.goSum }));
      checkAgainstGoSums(modules, inputs);

      // Proofs cover the older bundle's modules too, under this bundle's tree head: the newest lookups
      // then prove everything, whichever bundle go reads them from.
      const proven = [...modules, ...(since?.manifest.modules ?? [])].filter((m) => upstream.routing.sumdbAllowed(m.path));
      const olderHeads = await sinceHeads(since, upstream.client?.name);
      const proofs =
        upstream.client === null || proven.length === 0
          ? null
          : await collectProofs(upstream.client, proven.map(({ path, version, modHash, zipHash }) => ({ path, version, modHash, zipHash })), { signal, olderHeads });
      const manifest: Manifest = {
        // The lowest format that holds the contents: a reader of format 1 still reads a bundle without a release.
        format: release === undefined ? BUNDLE_FORMAT : RELEASE_BUNDLE_FORMAT,
        createdBy: options.createdBy,
        inputs,
        ...(since === null ? {} : { since: { sha256: manifestId(since.manifestBytes), modules: since.manifest.modules.length } }),
        modules,
        sumdb: proofs === null ? [] : [sumdbEntry(proofs)],
        ...(release === undefined ? {} : { release }),
      };
      const proofData = new Map((proofs?.files ?? []).map((f) => [`sumdb/${proofs!.name}/${f.name}`, f.data]));
      const written = await writeBundle(
        options.output,
        manifest,
        async (file) => {
          const data = proofData.get(file.name);
          if (data !== undefined) return Readable.from([data]);
          if (file.name === release?.file.name) return createReadStream(archive!.file);
          return storage.get(file.name, { signal });
        },
        { signingKey: options.signingKey, replace: options.force === true, signal },
      );
      return {
        ...written,
        modules: modules.length,
        alreadyInSince: needed.length - fresh.length,
        warnings: goSumWarnings(graph),
      };
    } finally {
      await since?.close();
    }
  } finally {
    await upstream.close();
  }
}

/**
 * The graph's modules plus the go.mod of every `/go.mod` line of the inputs' go.sum files the graph does
 * not read: `go mod tidy` keeps the checksums go 1.16 needs to load the unpruned graph (`-compat`), so an
 * offline `go mod tidy` or go 1.16 build reads go.mod files that go 1.17+ loading never does.
 */
function withGoSumMods(needed: NeededModule[], goSum: readonly string[]): NeededModule[] {
  const have = new Set(needed.map((m) => `${m.path}@${m.version}`));
  const extra: NeededModule[] = [];
  for (const line of goSum) {
    const [path, field] = line.split(' ');
    if (path === undefined || field === undefined || !field.endsWith('/go.mod')) continue;
    const version = field.slice(0, -'/go.mod'.length);
    if (have.has(`${path}@${version}`)) continue;
    have.add(`${path}@${version}`);
    extra.push({ path, version, files: ['mod'] });
  }
  return extra.length === 0 ? needed : sortModules([...needed, ...extra]);
}

/**
 * A project without go.sum is bundled all the same, but go on the far side refuses to build it
 * ("missing go.sum entry") until `go mod tidy` writes one, which offline may need more than the bundle
 * holds; and nothing held the modules to hashes the project recorded.
 */
function goSumWarnings(graph: ModuleGraph): string[] {
  return graph.inputs.flatMap((input) =>
    input.goMods.length === 0
      ? []
      : input.missingGoSums.map(
          (file) =>
            `${input.spec}: ${file} does not exist: no hash the project recorded checked its modules, and go will not build it on the far side ` +
            'before go mod tidy writes one (run go mod tidy here, then bundle create again)',
        ),
  );
}

/** The manifest entry of a release archive: its bundle name, size and sha256, read as it streams. */
async function describeRelease(release: ReleaseArchive): Promise<ManifestRelease> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(release.file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { version: release.version, platform: release.platform, file: { name: releaseFileName(release.version, release.platform), size, sha256: hash.digest('hex') } };
}

/**
 * The signed heads an older bundle carries for this database: a go that built from it remembers that
 * head and asks for tiles proving the new one extends it.
 */
async function sinceHeads(since: Bundle | null, name: string | undefined): Promise<Uint8Array[]> {
  const db = since?.manifest.sumdb.find((d) => d.name === name);
  if (since === null || db === undefined) return [];
  return [await buffer(since.open(`sumdb/${db.name}/latest`))];
}

/** True when an older bundle's entry already holds every file `needed` asks for. */
function covers(had: ManifestModule | undefined, needed: NeededModule): boolean {
  if (had === undefined) return false;
  return needed.files.every((file) => had.files.some((f) => f.name.endsWith(`.${file}`)));
}

async function describeModule(storage: Storage, module: NeededModule): Promise<ManifestModule> {
  const files: ManifestFile[] = [];
  let modHash = '';
  for (const file of ['info', 'mod', 'zip'] as const satisfies readonly ModuleFile[]) {
    if (!module.files.includes(file)) continue;
    const name = storageKey(module.path, file, module.version);
    const { size, digest, data } = await digestStored(storage, name, file !== 'zip');
    files.push({ name, size, sha256: digest });
    if (file === 'mod') modHash = hashGoMod(data!);
  }
  const entry: ManifestModule = { path: module.path, version: module.version, files, modHash };
  if (module.files.includes('zip')) {
    const ziphash = (await buffer(await storage.get(storageKey(module.path, 'ziphash', module.version)))).toString('utf8').trim();
    entry.zipHash = ziphash;
  }
  return entry;
}

async function digestStored(storage: Storage, key: string, keep: boolean): Promise<{ size: number; digest: string; data: Buffer | null }> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await storage.get(key)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (keep) chunks.push(chunk as Buffer);
  }
  return { size, digest: hash.digest('hex'), data: keep ? Buffer.concat(chunks) : null };
}

/** go refuses a module whose hash disagrees with the project's go.sum; so does a bundle made for it. */
function checkAgainstGoSums(modules: readonly ManifestModule[], inputs: readonly ManifestInput[]): void {
  for (const input of inputs) {
    const sums = parseGoSum(input.goSum.join('\n'), `${input.spec} go.sum`);
    for (const m of modules) {
      try {
        sums.verifyGoMod(m.path, m.version, m.modHash);
        if (m.zipHash !== undefined) sums.verifyZip(m.path, m.version, m.zipHash);
      } catch (err) {
        if (!(err instanceof ChecksumMismatchError)) throw err;
        throw new ChecksumMismatchError({ ...err, message: `${input.spec}: ${err.message}` });
      }
    }
  }
}

function sumdbEntry(proofs: ProofFiles): ManifestSumdb {
  return {
    name: proofs.name,
    verifierKey: proofs.verifierKey,
    treeSize: proofs.treeSize,
    files: proofs.files.map((f) => ({ name: `sumdb/${proofs.name}/${f.name}`, size: f.data.length, sha256: sha256(f.data) })),
  };
}

