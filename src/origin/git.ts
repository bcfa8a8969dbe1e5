// The `direct` origin for git: modules served from their repositories, byte for byte what go 1.19's own
// direct mode (`GOPROXY=direct go mod download -json`) makes of them, with no go binary. The repository
// of a module path comes from `resolve` (go's RepoRootForImportPath); git itself does the transport,
// with the user's git configuration; mirrors are kept under the state folder (see vcs/mirror.ts).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { abortable } from '../abortable.js';
import { Flight } from '../depot/flight.js';
import { NotFoundError, OriginUnavailableError } from '../errors.js';
import { checkPath } from '../module/path.js';
import { matchPrefixPatterns } from '../module/patterns.js';
import { isPseudoVersion } from '../module/version.js';
import type { Metrics } from '../telemetry/metrics.js';
import { GitTransportRefusedError } from '../vcs/git-error.js';
import { GitRepo } from '../vcs/git-repo.js';
import { GitRunner, INSECURE_PROTOCOLS, SECURE_PROTOCOLS } from '../vcs/git.js';
import { MirrorSet, shownUrl, type Refs } from '../vcs/mirror.js';
import type { RepoRoot } from '../vcs/repo-root.js';
import { queryLatest } from './git-latest.js';
import { GitModuleRepo, hasPathPrefix, invalidVersion, type ModuleRevInfo } from './git-module-repo.js';
import { writeModuleZip } from './git-zip.js';
import { downloadPart, failedDownload, type Download, type DownloadRequest, type Origin } from './origin.js';

/** Options of GitOrigin: its slice of the configuration. */
export interface GitOriginOptions {
  /** godepot's state folder (`--state-dir`): mirrors in `<stateDir>/vcs/`, archives being read in `<stateDir>/tmp/`. */
  stateDir: string;
  /** Git processes that may run at once, all repositories together (`--vcs-concurrency`). */
  vcsConcurrency: number;
  /** Milliseconds one git command may take before it is stopped (a clone of a large repository is one command). */
  timeoutMs: number;
  /**
   * GOINSECURE-style patterns: repositories of matching modules may also be reached over plain http and
   * git://. Every other module's repository only over https and ssh.
   */
  insecure: readonly string[];
  /**
   * The environment git runs in: PATH and HOME at least, and whatever configures git and its helpers
   * (GIT_CONFIG_GLOBAL, SSH_AUTH_SOCK, GIT_SSH_COMMAND, HTTPS_PROXY, ...).
   */
  gitEnv: Readonly<Record<string, string | undefined>>;
  /** Where a module path's repository is (go's RepoRootForImportPath); throws NotFoundError when there is none. */
  resolve: (modulePath: string, signal?: AbortSignal) => Promise<RepoRoot>;
  logger?: Logger;
  /** Each git command is observed in `upstreamSeconds` (origin `direct`, kind `git <subcommand>`). */
  metrics?: Metrics;
}

// URL schemes git may be given for a repository; the insecure ones only for modules matching `insecure`.
const secureSchemes = new Set(['https', 'ssh', 'git+ssh']);
const insecureSchemes = new Set(['http', 'git']);

/** Git's own check on ref names (check-ref-format), enough to know a query can never name a ref or commit. */
function isPlausibleRev(rev: string): boolean {
  return (
    rev !== '' &&
    !rev.startsWith('-') &&
    !rev.startsWith('/') &&
    !rev.endsWith('/') &&
    !rev.endsWith('.') &&
    !rev.endsWith('.lock') &&
    !rev.includes('..') &&
    !rev.includes('//') &&
    !rev.includes('@{') &&
    !/[\x00-\x20\x7f~^:?*[\\]/.test(rev)
  );
}

/** JSON as go's encoding/json writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The `.info` of a module version as go writes it into its module cache (modfetch writeDiskStat):
 * Version, the commit Time in UTC, and the Origin (VCS, URL, the module's Subdir, the Ref it was found
 * by unless it is a pseudo-version, the Hash); no trailing newline.
 */
export function infoJson(info: ModuleRevInfo): Buffer {
  const o = info.origin;
  const origin = {
    VCS: o.vcs,
    URL: o.url,
    ...(o.subdir !== '' ? { Subdir: o.subdir } : {}),
    ...(o.ref !== '' && !isPseudoVersion(info.version) ? { Ref: o.ref } : {}),
    Hash: o.hash,
  };
  const time = new Date(info.time * 1000).toISOString().replace('.000Z', 'Z');
  return Buffer.from(goJson({ Version: info.version, Time: time, Origin: origin }));
}

/**
 * An Origin serving modules from their git repositories (the `direct` element of a GOPROXY list for
 * git). `list` gives the versions go's `@v/list` gives, `query` resolves `latest`, versions, tags,
 * branches and hashes as go does, and `download` makes the `.info`, `.mod` and zip go's direct mode
 * makes. Fails with NotFoundError (a version, revision or repository that is not there; go's text),
 * the typed git errors of vcs/git-error.ts (GitAuthError, GitTimeoutError, GitTransportRefusedError,
 * GitFailedError), OriginUnavailableError for a repository that is not git, and ZipError for a tree
 * that breaks the zip rules.
 */
export class GitOrigin implements Origin {
  readonly name = 'direct';
  private readonly runner: GitRunner;
  private readonly mirrors: MirrorSet;
  private readonly spoolDir: string;
  /** For a root offered under several URLs, the one that answered first (go pings schemes once per process). */
  private readonly chosenUrl = new Map<string, string>();
  private readonly lists = new Flight<string[]>();
  private readonly answers = new Flight<Buffer>();

  constructor(private readonly options: GitOriginOptions) {
    this.runner = new GitRunner({
      env: options.gitEnv,
      timeoutMs: options.timeoutMs,
      concurrency: options.vcsConcurrency,
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    });
    this.mirrors = new MirrorSet(options.stateDir, this.runner, { logger: options.logger, metrics: options.metrics });
    this.spoolDir = join(options.stateDir, 'tmp');
  }

  /** Stops the probes of git hosts found down. */
  close(): void {
    this.mirrors.close();
  }

  list(modulePath: string, signal?: AbortSignal): Promise<string[]> {
    return this.lists.run(`${modulePath}`, async () => (await this.open(modulePath)).versions(''), { signal });
  }

  query(modulePath: string, query: string, signal?: AbortSignal): Promise<Buffer> {
    return this.answers.run(
      `query ${modulePath}@${query}`,
      async () => {
        // A query git could never resolve runs no git command at all.
        if (query !== 'latest' && !isPlausibleRev(query)) throw invalidVersion(modulePath, query, `unknown revision ${query}`);
        const repo = await this.open(modulePath);
        return infoJson(query === 'latest' ? await queryLatest(repo) : await repo.stat(query));
      },
      { signal },
    );
  }

  download(modulePath: string, version: string, request: DownloadRequest, signal?: AbortSignal): Download {
    if (signal?.aborted === true) return failedDownload(request, () => signal.reason);
    // One view of the repository for the files asked for together: they share its resolution.
    let opened: Promise<GitModuleRepo> | undefined;
    const repo = (): Promise<GitModuleRepo> => (opened ??= this.open(modulePath));
    const download: Download = {};
    if (request.info === true) {
      download.info = downloadPart(this.answers.run(`info ${modulePath}@${version}`, async () => infoJson(await (await repo()).checkVersion(version)), { signal }));
    }
    if (request.mod === true) {
      download.mod = downloadPart(this.answers.run(`mod ${modulePath}@${version}`, async () => (await repo()).goMod(version), { signal }));
    }
    if (request.zipTo !== undefined) download.zip = downloadPart(this.zip(repo, version, request.zipTo, signal));
    return download;
  }

  // The zip is written by one request for one staged file, so it is not shared; a caller that goes away
  // stops waiting, and the file, once written, is removed for it.
  private async zip(repo: () => Promise<GitModuleRepo>, version: string, zipTo: string, signal: AbortSignal | undefined): Promise<number> {
    const writing = (async () => writeModuleZip(await repo(), version, zipTo, this.spoolDir))();
    try {
      return await abortable(writing, signal);
    } catch (err) {
      if (signal?.aborted === true) {
        void writing.then(
          () => rm(zipTo, { force: true }),
          () => undefined,
        );
      }
      throw err;
    }
  }

  // The module's repository, ready for one request.
  private async open(modulePath: string): Promise<GitModuleRepo> {
    checkPath(modulePath);
    const root = await this.options.resolve(modulePath);
    if (root.vcs !== 'git') {
      throw new OriginUnavailableError(`${modulePath}: its repository ${root.root} is a ${root.vcs} repository; godepot fetches modules straight only from git`);
    }
    if (!hasPathPrefix(modulePath, root.root)) throw new NotFoundError(`mismatched repo: found ${root.root} for ${modulePath}`);
    const insecure = matchPrefixPatterns(this.options.insecure, modulePath);
    const protocols = insecure ? [...SECURE_PROTOCOLS, ...INSECURE_PROTOCOLS] : SECURE_PROTOCOLS;
    const urls = root.urls.filter((url) => urlProblem(url, insecure) === undefined);
    if (urls.length === 0) {
      const first = root.urls[0] ?? '';
      throw new GitTransportRefusedError(`git ${shownUrl(first)}`, root.urls.length === 0 ? `no repository URL for ${root.root}` : urlProblem(first, insecure)!);
    }
    const { url, refs } = await this.pick(root.root, urls, protocols);
    return new GitModuleRepo(new GitRepo(this.mirrors.get(url), protocols, refs), root.root, modulePath);
  }

  // go tries each scheme of a path that names its VCS with `git ls-remote` and keeps the first that
  // answers; its listing is the request's listing too.
  private async pick(root: string, urls: readonly string[], protocols: readonly string[]): Promise<{ url: string; refs?: Refs }> {
    if (urls.length === 1) return { url: urls[0]! };
    const key = `${root} ${urls.join(' ')}`;
    const chosen = this.chosenUrl.get(key);
    if (chosen !== undefined) return { url: chosen };
    let firstFailure: unknown;
    for (const url of urls) {
      try {
        const refs = await this.mirrors.get(url).lsRemote(protocols);
        this.chosenUrl.set(key, url);
        return { url, refs };
      } catch (err) {
        firstFailure ??= err;
      }
    }
    throw firstFailure;
  }
}

/** Why godepot will not hand `url` to git, or undefined when it will. */
export function urlProblem(url: string, insecure: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL (host:path and local paths are never used)`;
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (!secureSchemes.has(scheme) && !insecureSchemes.has(scheme)) return `scheme ${scheme} is not allowed (only https and ssh, and http and git for insecure modules)`;
  if (insecureSchemes.has(scheme) && !insecure) return `scheme ${scheme} is insecure, and the module does not match the insecure patterns`;
  // ssh would read a host or user starting with "-" as an option.
  if (parsed.hostname === '' || parsed.hostname.startsWith('-') || decodeURIComponent(parsed.username).startsWith('-')) return `bad host in ${shownUrl(url)}`;
  if (/[\x00-\x20\x7f]/.test(url)) return `control characters or spaces in ${JSON.stringify(shownUrl(url))}`;
  return undefined;
}
