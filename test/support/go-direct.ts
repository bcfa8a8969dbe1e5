// What the real go makes of modules: `go mod download -json` for module@query (with the Time of the
// .info it stored and the file names of the zip it stored), `go list -m -versions` with and without
// -retracted, and @latest. Run in a world with GOPROXY=direct (makeDirectGoWorld) it is the ground truth
// of go's direct mode from git; run in a world pointed at godepot it is what godepot makes go see, and
// the two reports must be equal.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { escapePath, escapeVersion } from '../../src/module/path.js';
import { makeGoWorld, parseJsonStream, type GoWorld } from './go.js';

/**
 * Environment that keeps go and git on loopback whatever they try: HTTP(S) through a proxy address where
 * nothing listens, except 127.0.0.1 itself. go's static rule for github.com needs no HTTP, and the test
 * git config sends every github.com URL to the local git server; this catches anything else.
 */
export const loopbackOnlyEnv: NodeJS.ProcessEnv = {
  HTTP_PROXY: 'http://127.0.0.1:9',
  HTTPS_PROXY: 'http://127.0.0.1:9',
  http_proxy: 'http://127.0.0.1:9',
  https_proxy: 'http://127.0.0.1:9',
  NO_PROXY: '127.0.0.1,localhost',
  no_proxy: '127.0.0.1,localhost',
};

/**
 * A go world fetching straight from git (GOPROXY=direct), with git reading `gitconfig` as its global
 * config (the insteadOf rules that lead to the local git server) and never prompting for credentials.
 */
export function makeDirectGoWorld(gitconfig: string, env: NodeJS.ProcessEnv = {}): Promise<GoWorld> {
  return makeGoWorld('direct', {
    GOSUMDB: 'off',
    GONOSUMDB: '',
    GOPRIVATE: '',
    GOINSECURE: '',
    // go's default (public:git|hg) allows git for github.com already; spelled out so a user's GOVCS cannot matter.
    GOVCS: '*:all',
    GIT_CONFIG_GLOBAL: gitconfig,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    ...loopbackOnlyEnv,
    ...env,
  });
}

/** What one `go` run did: unlike GoWorld.go, a failure is an answer here, not an exception. */
export interface GoRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `go args...` in the world (in `cwd`, the world's root by default) and reports how it went. */
export function runGo(world: GoWorld, args: string[], cwd = world.root): Promise<GoRun> {
  return new Promise((resolve) => {
    execFile('go', args, { cwd, env: world.env, maxBuffer: 64 << 20, timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** What `go mod download -json <module>@<query>` reported, with the Time of its .info and its zip's files. */
export interface GoDownload {
  modulePath: string;
  query: string;
  Version?: string;
  /** From the .info file go stored. */
  Time?: string;
  Sum?: string;
  GoModSum?: string;
  Error?: string;
  /** The zip's file names below `<module>@<version>/`, sorted. */
  files?: string[];
  /** The .info's other fields (go 1.19 direct mode stores `Origin` there), for reports. */
  infoExtra?: Record<string, unknown>;
}

interface DownloadJson {
  Path: string;
  Version?: string;
  Query?: string;
  Error?: string;
  Info?: string;
  Zip?: string;
  Sum?: string;
  GoModSum?: string;
}

/** The sorted names of the files in a module zip, below the `<module>@<version>/` prefix every entry has. */
export function zipFileNames(zipPath: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, decodeStrings: true }, (err, zip) => {
      if (err !== null || zip === undefined) return reject(err ?? new Error(`cannot open ${zipPath}`));
      const names: string[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        // A module path has no '@' and a version no '/': the prefix ends at the first '/' after the '@'.
        names.push(entry.fileName.slice(entry.fileName.indexOf('/', entry.fileName.indexOf('@')) + 1));
        zip.readEntry();
      });
      zip.on('end', () => resolve(names.sort()));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** Fills in what the JSON line points at: the .info's Time (and its other fields) and the zip's files. */
async function complete(json: DownloadJson, query: string): Promise<GoDownload> {
  const out: GoDownload = { modulePath: json.Path, query };
  for (const key of ['Version', 'Sum', 'GoModSum', 'Error'] as const) if (json[key] !== undefined) out[key] = json[key];
  if (json.Info !== undefined) {
    const { Version: _version, Time, ...extra } = JSON.parse(await readFile(json.Info, 'utf8')) as Record<string, unknown>;
    if (typeof Time === 'string') out.Time = Time;
    if (Object.keys(extra).length > 0) out.infoExtra = extra;
  }
  if (json.Zip !== undefined && json.Error === undefined) out.files = await zipFileNames(json.Zip);
  return out;
}

/**
 * `go mod download -json` of every `module@query` in one go command (go fetches them in parallel), each
 * answer completed by complete(). A query go refuses before printing anything for it makes the batch
 * short; then each is asked alone, so that every query gets its own answer.
 */
export async function goDownloads(world: GoWorld, requests: Array<{ modulePath: string; query: string }>): Promise<GoDownload[]> {
  if (requests.length === 0) return [];
  const args = requests.map((r) => `${r.modulePath}@${r.query}`);
  const run = await runGo(world, ['mod', 'download', '-json', ...args]);
  const answers = parseJsonStream<DownloadJson>(run.stdout);
  if (answers.length === requests.length && answers.every((a, i) => a.Path === requests[i]!.modulePath)) {
    return Promise.all(answers.map((a, i) => complete(a, requests[i]!.query)));
  }
  if (requests.length === 1) {
    // Nothing printed for it: go refused the argument itself; its message is on stderr.
    return [{ modulePath: requests[0]!.modulePath, query: requests[0]!.query, Error: run.stderr.trim() || `go exited ${run.code} and printed nothing` }];
  }
  const one: GoDownload[] = [];
  for (const r of requests) one.push(...(await goDownloads(world, [r])));
  return one;
}

/** What `go list -m` said of a module: a version list or a version, or the error. */
export interface GoListing {
  modulePath: string;
  versions?: string[];
  version?: string;
  time?: string;
  error?: string;
}

interface ListJson {
  Path: string;
  Version?: string;
  Time?: string;
  Versions?: string[];
  Error?: { Err: string };
}

/** `go list -m -e -json -versions [-retracted]` of every module in one go command. */
export async function goVersionLists(world: GoWorld, modulePaths: string[], options: { retracted: boolean }): Promise<GoListing[]> {
  const args = ['list', '-m', '-e', '-json', '-versions', ...(options.retracted ? ['-retracted'] : []), ...modulePaths];
  const run = await runGo(world, args);
  const answers = parseJsonStream<ListJson>(run.stdout);
  if (answers.length !== modulePaths.length) throw new Error(`go ${args.join(' ')} answered ${answers.length} of ${modulePaths.length}: ${run.stderr}`);
  return answers.map((a) => ({
    modulePath: a.Path,
    ...(a.Error !== undefined ? { error: a.Error.Err } : { versions: a.Versions ?? [] }),
  }));
}

/** `go list -m -e -json <module>@latest` of every module in one go command. */
export async function goLatest(world: GoWorld, modulePaths: string[]): Promise<GoListing[]> {
  const args = ['list', '-m', '-e', '-json', ...modulePaths.map((p) => `${p}@latest`)];
  const run = await runGo(world, args);
  const answers = parseJsonStream<ListJson>(run.stdout);
  if (answers.length !== modulePaths.length) throw new Error(`go ${args.join(' ')} answered ${answers.length} of ${modulePaths.length}: ${run.stderr}`);
  return answers.map((a) => ({
    modulePath: a.Path,
    ...(a.Error !== undefined ? { error: a.Error.Err } : { version: a.Version ?? '', ...(a.Time !== undefined ? { time: a.Time } : {}) }),
  }));
}

/** Everything go reported about a set of modules. */
export interface GoReport {
  downloads: GoDownload[];
  versions: GoListing[];
  allVersions: GoListing[];
  latest: GoListing[];
}

/** A module and the queries to put to go for it. */
export interface ReportRequest {
  modulePath: string;
  queries: string[];
}

/**
 * What go makes of every module and query: the downloads first (each query once), then the version lists
 * with and without retracted versions, then @latest. The same calls in the same order on both sides of
 * a comparison, so that only the origin of the answers differs.
 */
export async function goReport(world: GoWorld, requests: ReportRequest[]): Promise<GoReport> {
  const downloads = await goDownloads(
    world,
    requests.flatMap((r) => r.queries.map((query) => ({ modulePath: r.modulePath, query }))),
  );
  const paths = requests.map((r) => r.modulePath);
  return {
    downloads,
    versions: await goVersionLists(world, paths, { retracted: false }),
    allVersions: await goVersionLists(world, paths, { retracted: true }),
    latest: await goLatest(world, paths),
  };
}

/** Where go stores a module version's files in the world's module cache. */
export function cachedDownload(world: GoWorld, modulePath: string, version: string, ext: 'info' | 'mod' | 'zip'): string {
  return join(world.env.GOMODCACHE!, 'cache', 'download', escapePath(modulePath), '@v', `${escapeVersion(version)}.${ext}`);
}

/** A package for the consumer to import, the module version that holds it, and its `Note` constant. */
export interface ConsumerImport {
  importPath: string;
  modulePath: string;
  version: string;
}

/**
 * Writes a module that requires every `imports` module version and prints each package's `Note`, builds
 * it with go (`-mod=mod`: go records go.sum lines as it fetches) and runs it. Returns what it printed,
 * one Note a line in `imports` order, or throws with go's output when it does not build.
 */
export async function buildConsumer(world: GoWorld, dir: string, imports: ConsumerImport[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const modules = new Map(imports.map((i) => [i.modulePath, i.version]));
  const require = [...modules].map(([p, v]) => `\t${p} ${v}\n`).join('');
  await writeFile(join(dir, 'go.mod'), `module example.com/consumer\n\ngo 1.17\n\nrequire (\n${require})\n`);
  const aliases = imports.map((i, n) => `\tp${n} ${JSON.stringify(i.importPath)}\n`).join('');
  const prints = imports.map((_, n) => `\tfmt.Println(p${n}.Note)\n`).join('');
  await writeFile(join(dir, 'main.go'), `package main\n\nimport (\n\t"fmt"\n\n${aliases})\n\nfunc main() {\n${prints}}\n`);
  const binary = join(dir, 'consumer');
  const build = await runGo(world, ['build', '-mod=mod', '-o', binary, '.'], dir);
  if (build.code !== 0) throw new Error(`the consumer does not build: ${build.stderr}`);
  const output = await new Promise<string>((resolve, reject) =>
    execFile(binary, [], { cwd: dir }, (err, stdout) => (err === null ? resolve(stdout) : reject(err))),
  );
  return output.trimEnd().split('\n');
}
