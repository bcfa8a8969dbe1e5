// `godepot vendor` and `bundle export --vendor`: a project's vendor/ folder and vendor/modules.txt made
// exactly as go 1.19's `go mod vendor` makes them, from modules a bundle, a storage or a running godepot
// holds, with no go binary and no network; `go build -mod=vendor` then builds the project offline.
//
// The steps are go's: load the module graph of the project's go.mod, load the packages of "all" as
// vendoring reads it, then write every package of a dependency and modules.txt. Where go would first
// rewrite go.mod (a requirement below what the graph selects, a requirement missing, no go line), this
// refuses instead, naming what to change: the result must match go.mod as it is. Nothing is written
// until everything is loaded; the new vendor/ is assembled beside the old one and put in its place at
// the end, so a failure leaves the project as it was.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadModuleGraph, type GoModLocation } from '../modgraph/graph.js';
import { sortModules } from '../modgraph/load.js';
import { summarise } from '../modgraph/summaries.js';
import { parseGoMod, type GoModFile, type ModuleVersion, type Replace } from '../module/gomod.js';
import { GoSum, parseGoSum } from '../module/gosum.js';
import { hashGoMod } from '../module/hash.js';
import { compare } from '../module/semver.js';
import { ProjectNotTidyError } from './errors.js';
import { loadAllPackages, type LoadedPackage } from './load-packages.js';
import { formatModulesTxt, type ModulesTxtEntry } from './modules-txt.js';
import type { VendorSource } from './module-source.js';
import { ModuleTrees } from './module-trees.js';
import { VendorWriter } from './vendor-writer.js';

export interface VendorOptions {
  /** The folder of the project's go.mod; vendor/ is written there. */
  projectDir: string;
  source: VendorSource;
  signal?: AbortSignal;
}

/** What a vendor run wrote. */
export interface VendorResult {
  /** The vendor folder (absolute). */
  vendorDir: string;
  /** False when there was nothing to vendor: as go does, no vendor folder is left ("no dependencies to vendor"). */
  written: boolean;
  /** Module entries of modules.txt (trailing replacement lines not counted). */
  modules: number;
  /** Packages vendored. */
  packages: number;
  /** Files written, modules.txt included. */
  files: number;
}

const key = (m: ModuleVersion): string => `${m.path}@${m.version}`;

async function readOptional(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** go's Replacement for a single main module: the replace directive for this version, else the one for every version. */
function replacementOf(file: GoModFile, m: ModuleVersion): Replace | null {
  let any: Replace | null = null;
  let exact: Replace | null = null;
  for (const r of file.replace) {
    if (r.old.path !== m.path) continue;
    if (r.old.version === m.version) exact = r;
    else if (r.old.version === '') any = r;
  }
  return exact ?? any;
}

/**
 * The paths the main go.mod requires, each once and at the version the graph selects for it, as go
 * leaves a go.mod it need not rewrite; ProjectNotTidyError otherwise.
 */
function requiredPaths(gomodFile: string, file: GoModFile, selected: ReadonlyMap<string, string>): Set<string> {
  const required = new Set<string>();
  for (const r of file.require) {
    if (required.has(r.mod.path)) throw new ProjectNotTidyError(`${gomodFile} requires ${r.mod.path} more than once: run go mod tidy`);
    required.add(r.mod.path);
    const version = selected.get(r.mod.path);
    if (version !== r.mod.version) {
      throw new ProjectNotTidyError(
        `${gomodFile} requires ${r.mod.path} ${r.mod.version} but the module graph selects ${version ?? 'none'}: go mod vendor would rewrite the requirement; run go mod tidy`,
      );
    }
  }
  return required;
}

const atLeast = (goVersion: string, than: string): boolean => compare(`v${goVersion}`, `v${than}`) >= 0;

/**
 * Writes `<projectDir>/vendor` as `go mod vendor` would. Throws ConfigError for a project that cannot be
 * read, GoModSyntaxError for a bad go.mod, ProjectNotTidyError where go would change go.mod first,
 * GraphLoadError or NotFoundError naming a module version the source lacks, ChecksumMismatchError for one
 * go.sum records another hash for, PackageLoadError for an import that cannot be resolved.
 */
export async function vendorProject(options: VendorOptions): Promise<VendorResult> {
  const projectDir = resolve(options.projectDir);
  const gomodFile = join(projectDir, 'go.mod');
  const vendorDir = join(projectDir, 'vendor');
  const { source, signal } = options;

  const gomodData = await readOptional(gomodFile);
  if (gomodData === null) throw new ConfigError(`${projectDir}: no go.mod here; go mod vendor vendors the dependencies of a module`);
  const goSumData = await readOptional(join(projectDir, 'go.sum'));
  const goSum = goSumData === null ? new GoSum() : parseGoSum(goSumData, join(projectDir, 'go.sum'));
  // Every go.mod read is held to go.sum and kept: modules.txt records the go line of some of them.
  const goMods = new Map<string, Buffer>();
  const modSource = {
    mod: async (path: string, version: string, s?: AbortSignal): Promise<Buffer> => {
      const data = await source.mod(path, version, s);
      goSum.verifyGoMod(path, version, hashGoMod(data));
      goMods.set(key({ path, version }), data);
      return data;
    },
  };
  const file = parseGoMod(gomodFile, gomodData);
  const goVersion = file.go?.version ?? '';
  if (goVersion === '') {
    throw new ProjectNotTidyError(`${gomodFile} has no go directive: go mod vendor would add one and rewrite the requirements; add it first (go mod tidy does)`);
  }
  const graph = await loadModuleGraph(gomodFile, modSource, { signal });
  const mainPath = graph.mains.modules[0]!.path;

  const selected = new Map(graph.selected.map((m) => [m.path, m.version]));
  const required = requiredPaths(gomodFile, file, selected);

  const scratch = await mkdtemp(join(tmpdir(), 'godepot-vendor-'));
  try {
    const trees = new ModuleTrees({
      source,
      goSum,
      scratch,
      main: { path: mainPath, dir: projectDir },
      replacement: (m) => graph.mains.replacement(m),
      signal,
    });
    const pruned = graph.mains.pruning === 'pruned';
    const all = await loadAllPackages({ main: { path: mainPath, dir: projectDir }, selected, roots: pruned ? required : null, trees });

    // The modules go would add to go.mod: at go ≥ 1.17 every module providing a package of "all", below
    // only those the main module's packages import directly.
    const byPath = new Map(all.packages.map((p) => [p.path, p]));
    const needRequirement = pruned ? all.packages : [...all.directImports].flatMap((path) => byPath.get(path) ?? []);
    for (const pkg of needRequirement) {
      if (pkg.module.path === mainPath || required.has(pkg.module.path)) continue;
      throw new ProjectNotTidyError(
        `${gomodFile} does not require ${pkg.module.path}, which provides package ${pkg.path}: go mod vendor would add the requirement; run go mod tidy`,
      );
    }

    const modulePackages = new Map<string, { module: ModuleVersion; packages: LoadedPackage[] }>();
    for (const pkg of all.packages) {
      if (pkg.module.path === mainPath && pkg.module.version === '') continue;
      const entry = modulePackages.get(key(pkg.module)) ?? { module: pkg.module, packages: [] };
      entry.packages.push(pkg);
      modulePackages.set(key(pkg.module), entry);
    }
    const recordsExplicit = atLeast(goVersion, '1.14');
    const recordsGoVersions = atLeast(goVersion, '1.17');
    const requirements = recordsExplicit ? file.require.map((r) => ({ path: r.mod.path, version: r.mod.version })) : [];
    const explicit = new Set(requirements.map(key));
    const modules = sortModules([...requirements, ...[...modulePackages.values()].map((e) => e.module).filter((m) => !explicit.has(key(m)))]);

    const entries: ModulesTxtEntry[] = [];
    for (const m of modules) {
      const replace = replacementOf(file, m);
      entries.push({
        module: m,
        replacement: replace?.new ?? null,
        explicit: explicit.has(key(m)),
        goVersion: recordsGoVersions ? await moduleGoVersion(m, graph.mains.replacement(m), modSource, goMods) : '',
        packages: (modulePackages.get(key(m))?.packages ?? []).map((p) => p.path),
      });
    }
    // Replacements that vendored nothing are recorded too: without the build list, a -mod=vendor build
    // could not otherwise tell that they had no effect.
    const trailing = recordsExplicit ? file.replace.filter((r) => !modulePackages.has(key(r.old))) : [];
    const text = formatModulesTxt(entries, trailing);
    if (text === '') {
      await rm(vendorDir, { recursive: true, force: true });
      return { vendorDir, written: false, modules: 0, packages: 0, files: 0 };
    }

    const ordered = modules.flatMap((m) => modulePackages.get(key(m))?.packages ?? []);
    const files = await writeVendorFolder(projectDir, text, ordered, recordsGoVersions, signal);
    return { vendorDir, written: true, modules: entries.length, packages: ordered.length, files };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Writes `packages` (in go's order: by module, then by path) and modules.txt into a folder beside the
 * project's vendor/ (a name go's package walk skips), then puts it in vendor/'s place; returns how many
 * files it wrote. On failure the old vendor/ is left as it was.
 */
async function writeVendorFolder(projectDir: string, modulesTxt: string, packages: readonly LoadedPackage[], goModsDropped: boolean, signal?: AbortSignal): Promise<number> {
  const staging = join(projectDir, `.vendor-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(staging, { mode: 0o777 });
    const writer = new VendorWriter(staging, goModsDropped);
    for (const pkg of packages) {
      signal?.throwIfAborted();
      await writer.vendorPackage(pkg);
    }
    await writeFile(join(staging, 'modules.txt'), modulesTxt, { mode: 0o666 });
    const vendorDir = join(projectDir, 'vendor');
    await rm(vendorDir, { recursive: true, force: true });
    await rename(staging, vendorDir);
    return writer.files + 1;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The `go` line of the go.mod a module's content comes from (its replacement's, if any); '' when it has none. */
async function moduleGoVersion(
  m: ModuleVersion,
  location: GoModLocation | null,
  source: { mod(path: string, version: string): Promise<Buffer> },
  goMods: ReadonlyMap<string, Buffer>,
): Promise<string> {
  if (location?.kind === 'dir') {
    const gomod = join(location.dir, 'go.mod');
    return summarise(gomod, await readFile(gomod)).goVersion;
  }
  const actual = location === null ? m : { path: location.path, version: location.version };
  const data = goMods.get(key(actual)) ?? (await source.mod(actual.path, actual.version));
  return summarise(`${key(actual)}/go.mod`, data).goVersion;
}
