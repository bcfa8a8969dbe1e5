// Finding a module's repository as go 1.19 does in direct mode (cmd/go/internal/vcs
// RepoRootForImportPath with PreferMod, called by modfetch's lookupDirect): the rules of the hosting
// sites go knows and of paths that name their VCS, else the `go-import` meta tags of the path's
// `?go-get=1` page, with go's checks and go's error messages. Then godepot's own policy on what it
// found: git repositories (or a `mod` tag's GOPROXY) only, over transports it accepts.
import type { Logger } from 'pino';
import { abortable } from '../abortable.js';
import { TimeoutError, UpstreamError } from '../errors.js';
import { errorDetail } from '../http/error-detail.js';
import type { Transport } from '../http/transport.js';
import { checkPath } from '../module/path.js';
import { matchPrefixPatterns } from '../module/patterns.js';
import { goQuote } from '../module/quote.js';
import { ImportPathError, RepoUrlRefusedError, VcsNotSupportedError } from './errors.js';
import { getGoGetPage } from './go-get-page.js';
import { matchGoImport, parseMetaGoImports, type MetaImport } from './meta-tags.js';
import type { RepoRoot } from './repo-root.js';
import { matchStaticHost, STATIC_HOSTS, STATIC_HOSTS_AFTER_META, type StaticMatch } from './static-hosts.js';

/** How a RepoDiscovery reaches the network and what it trusts. */
export interface RepoDiscoveryOptions {
  /** The connections, outbound proxies (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), roots and breakers of every request. */
  transport: Transport;
  /**
   * GOINSECURE syntax: module path patterns whose `?go-get=1` page may come over plain http (and over
   * https with any certificate), and whose repositories may be reached over http and git://. None by default.
   */
  insecure?: string | readonly string[];
  /** Limit on one `?go-get=1` request, redirects and body included. Default 30 s (5 s for an insecure host's https, as in go). */
  timeoutMs?: number;
  /** How long a page's answer is reused. Default 60 s; 0 reuses an answer only for lookups made while it is fetched. */
  cacheTtlMs?: number;
  logger?: Logger;
}

/** A `?go-get=1` answer as discovery uses it: what go reads of it. */
interface Page {
  /** The URL asked, as go's messages show it. */
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  /** What go prints of an error body (`server response: ...`), or "". */
  readonly detail: string;
  readonly imports: readonly MetaImport[];
  readonly parseError: string | null;
}

/** The repository as go's RepoRootForImportPath finds it, before godepot's policy. */
interface Found {
  readonly root: string;
  readonly vcs: string;
  /** The URL, or for a path naming its VCS, the URL without scheme. */
  readonly repo: string;
  readonly schemeless: boolean;
  readonly fromMetaTag: boolean;
  /** Where the repository came from, for messages: `the go-import meta tag at URL`, or `the path`. */
  readonly source: string;
}

// The VCS commands go knows (vcsByCmd); a meta tag naming another is an error.
const KNOWN_VCS = new Set(['git', 'hg', 'svn', 'bzr', 'fossil']);

// The schemes go tries, in its order, for a path naming git as its VCS; the insecure ones only for
// hosts matching the insecure patterns (go's defaultSecureScheme).
const GIT_SCHEMES = ['git', 'https', 'http', 'git+ssh', 'ssh'];
const SECURE_SCHEMES = new Set(['https', 'git+ssh', 'ssh']);
// What godepot accepts in a repository URL beyond the secure schemes, for insecure hosts only.
const INSECURE_GIT_SCHEMES = new Set(['http', 'git']);

// Answers kept at most; the oldest go first.
const MAX_PAGES = 1024;

/**
 * The scheme of `url` as go's url.Parse finds it (lower-cased), "" when it has none, or an error in
 * go's words for what url.Parse refuses before any scheme-specific check.
 */
function schemeOf(url: string): { scheme: string } | { error: string } {
  // go refuses any ASCII control byte in a URL before looking at it further.
  if (/[\x00-\x1f\x7f]/.test(url)) return { error: `parse ${goQuote(url)}: net/url: invalid control character in URL` };
  for (let i = 0; i < url.length; i++) {
    const c = url[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) return { error: `parse ${goQuote(url)}: missing protocol scheme` };
      return { scheme: url.slice(0, i).toLowerCase() };
    }
    break;
  }
  if (!url.startsWith('/') && (url.split('/', 1)[0] ?? '').includes(':')) return { error: `parse ${goQuote(url)}: first path segment in URL cannot contain colon` };
  return { scheme: '' };
}

/** go's validateRepoRoot: why a meta tag's repository URL is unusable, or null. */
function repoRootProblem(repoRoot: string): string | null {
  const parsed = schemeOf(repoRoot);
  if ('error' in parsed) return parsed.error;
  if (parsed.scheme === '') return 'no scheme';
  if (parsed.scheme === 'file') return 'file scheme disallowed';
  return null;
}

/** The URL go's messages show for the page of `importPath` before a scheme is chosen (`//host/path?go-get=1`). */
function schemelessPageUrl(importPath: string): string {
  return `//${importPath.includes('/') ? importPath : importPath + '/'}?go-get=1`;
}

/** go's HTTPError text for an answer that was not 200: `reading URL: 404 Not Found`, then the server's words. */
function statusMessage(page: Page): string {
  const status = `reading ${page.url}: ${page.status}${page.statusText === '' ? '' : ' ' + page.statusText}`;
  if (page.detail === '') return status;
  return `${status}\n\tserver response:${page.detail.includes('\n') ? '\n\t' : ' '}${page.detail}`;
}

/** `err`, a network failure, with `prefix` before its message; anything else as it is. */
function retitled(err: unknown, prefix: string): unknown {
  if (err instanceof TimeoutError) return new TimeoutError(prefix + err.message, { cause: err });
  if (err instanceof UpstreamError) return new UpstreamError(prefix + err.message, err.status, { cause: err });
  return err;
}

function fromStatic(match: Extract<StaticMatch, { kind: 'root' }>): Found {
  return { root: match.root, vcs: match.vcs, repo: match.repo, schemeless: match.schemeless, fromMetaTag: false, source: 'the path' };
}

/**
 * Finds where a module's code lives, as go 1.19 does for GOPROXY=direct (see RepoRoot). Pages are
 * fetched once for all lookups that need them at the same time, and their answers (not network
 * failures) reused for cacheTtlMs, as go reuses them for one command's run.
 */
export class RepoDiscovery {
  private readonly options: RepoDiscoveryOptions;
  private readonly insecure: string | readonly string[];
  private readonly timeoutMs: number;
  private readonly cacheTtlMs: number;
  /** Answers by `secure|insecure importPath`; `expires` is Infinity while the fetch is under way. */
  private readonly pages = new Map<string, { expires: number; page: Promise<Page> }>();

  constructor(options: RepoDiscoveryOptions) {
    this.options = options;
    this.insecure = options.insecure ?? '';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.cacheTtlMs = options.cacheTtlMs ?? 60_000;
  }

  /**
   * The repository of `modulePath`: its `root` is `modulePath` or a path prefix of it (the module then
   * lives in a subdirectory), `vcs` is `git` or `mod`. Throws InvalidPathError for a path that is not a
   * module path; ImportPathError (a NotFoundError, go's message) when go would find no repository;
   * VcsNotSupportedError for a repository of another VCS; RepoUrlRefusedError for a URL whose
   * transport godepot refuses; UpstreamError or TimeoutError when a page could not be fetched.
   */
  async resolve(modulePath: string, signal?: AbortSignal): Promise<RepoRoot> {
    checkPath(modulePath);
    signal?.throwIfAborted();
    const insecure = matchPrefixPatterns(this.insecure, modulePath);
    return this.admit(modulePath, await this.find(modulePath, insecure, signal), insecure);
  }

  /** go's RepoRootForImportPath: the known sites and `.vcs` paths, else meta tags, else the sites go knows after them. */
  private async find(modulePath: string, insecure: boolean, signal: AbortSignal | undefined): Promise<Found> {
    const known = matchStaticHost(modulePath, STATIC_HOSTS);
    let found: Found | undefined;
    let failure: unknown;
    if (known.kind === 'root') found = fromStatic(known);
    else if (known.kind === 'error') failure = new ImportPathError(modulePath, known.message);
    else {
      try {
        found = await this.fromMetaTags(modulePath, insecure, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        failure = err;
      }
    }
    if (found === undefined) {
      const late = matchStaticHost(modulePath, STATIC_HOSTS_AFTER_META);
      if (late.kind !== 'root') throw failure;
      found = fromStatic(late);
    }
    if (modulePath.includes('...') && found.root.includes('...')) throw new ImportPathError(modulePath, `cannot expand ... in ${goQuote(modulePath)}`);
    return found;
  }

  /** go's repoRootForImportDynamic: the page's matching tag, checked against the page of its prefix when that differs. */
  private async fromMetaTags(modulePath: string, insecure: boolean, signal: AbortSignal | undefined): Promise<Found> {
    const unrecognized = (reason: string): string => `unrecognized import path ${goQuote(modulePath)}: ${reason}`;
    const notFound = (reason: string): ImportPathError => new ImportPathError(modulePath, unrecognized(reason));
    // An answer without tags whose status says the page is not there; a 5xx says nothing of the module.
    const statusFailure = (page: Page): Error =>
      page.status >= 500 ? new UpstreamError(unrecognized(statusMessage(page)), page.status) : notFound(statusMessage(page));

    let page: Page;
    try {
      page = await this.page(modulePath, insecure, signal);
    } catch (err) {
      throw retitled(err, unrecognized(`${insecure ? 'http/https' : 'https'} fetch: `));
    }
    if (page.imports.length === 0 && page.status !== 200) throw statusFailure(page);
    if (page.parseError !== null) throw notFound(`parsing ${modulePath}: ${page.parseError}`);
    const matched = matchGoImport(page.imports, modulePath);
    if ('error' in matched) {
      throw notFound(matched.mismatch ? `parse ${page.url}: no go-import meta tags (${matched.error})` : `parse ${schemelessPageUrl(modulePath)}: ${matched.error}`);
    }
    const tag = matched.match;
    // A tag for a prefix of the path is trusted only when the prefix's own page says the same: a page
    // deeper in a site must not claim the site's root for another repository.
    if (tag.prefix !== modulePath) {
      let root: Page;
      try {
        root = await this.page(tag.prefix, insecure, signal);
      } catch (err) {
        throw retitled(err, unrecognized(`fetching ${tag.prefix}: `));
      }
      if (root.imports.length === 0 && root.status !== 200) throw statusFailure(root);
      if (root.parseError !== null) throw notFound(`parsing ${root.url}: ${root.parseError}`);
      if (root.imports.length === 0) throw notFound(`fetching ${tag.prefix}: no go-import meta tag found in ${root.url}`);
      const again = matchGoImport(root.imports, modulePath);
      if ('error' in again || again.match.prefix !== tag.prefix || again.match.vcs !== tag.vcs || again.match.repoRoot !== tag.repoRoot) {
        throw notFound(`${page.url} and ${schemelessPageUrl(tag.prefix)} disagree about go-import for ${tag.prefix}`);
      }
    }
    const problem = repoRootProblem(tag.repoRoot);
    if (problem !== null) {
      const message = unrecognized(`${page.url}: invalid repo root ${goQuote(tag.repoRoot)}: ${problem}`);
      throw problem === 'file scheme disallowed' ? new RepoUrlRefusedError(modulePath, tag.repoRoot, message) : new ImportPathError(modulePath, message);
    }
    if (tag.vcs !== 'mod' && !KNOWN_VCS.has(tag.vcs)) throw notFound(`${page.url}: unknown vcs ${goQuote(tag.vcs)}`);
    return { root: tag.prefix, vcs: tag.vcs, repo: tag.repoRoot, schemeless: false, fromMetaTag: true, source: `the go-import meta tag at ${page.url}` };
  }

  /** godepot's policy on what go found: git or `mod` only, and only the transports it accepts for the host. */
  private admit(modulePath: string, found: Found, insecure: boolean): RepoRoot {
    const { root, fromMetaTag } = found;
    if (found.vcs !== 'git' && found.vcs !== 'mod') throw new VcsNotSupportedError(modulePath, found.vcs, found.schemeless ? found.root : found.repo);
    if (found.schemeless) {
      return { root, vcs: 'git', urls: GIT_SCHEMES.filter((scheme) => insecure || SECURE_SCHEMES.has(scheme)).map((scheme) => `${scheme}://${found.repo}`), fromMetaTag };
    }
    const url = found.repo;
    const parsed = schemeOf(url);
    const scheme = 'scheme' in parsed ? parsed.scheme : '';
    const secure = found.vcs === 'mod' ? ['https'] : [...SECURE_SCHEMES];
    const onlyInsecure = found.vcs === 'mod' ? ['http'] : [...INSECURE_GIT_SCHEMES];
    const named = `${modulePath}: ${found.source} names ${url}`;
    if (onlyInsecure.includes(scheme) && !insecure) {
      throw new RepoUrlRefusedError(modulePath, url, `${named}: ${scheme} is allowed only for module paths matching the insecure patterns (GOINSECURE); use ${secure.join(' or ')}`);
    }
    if (!secure.includes(scheme) && !onlyInsecure.includes(scheme)) {
      const what = found.vcs === 'mod' ? 'a module proxy over https (or http for insecure module paths)' : 'git repositories over https or ssh (or http and git:// for insecure module paths)';
      throw new RepoUrlRefusedError(modulePath, url, `${named}: the ${scheme} transport is refused; godepot reaches ${what}`);
    }
    let host = '';
    try {
      host = new URL(url).hostname;
    } catch {
      // Reported below, with the rest.
    }
    if (host === '') throw new RepoUrlRefusedError(modulePath, url, `${named}: not a URL with a host`);
    return { root, vcs: found.vcs, urls: [url], fromMetaTag };
  }

  /**
   * The answer for `importPath`'s page: shared by the lookups that need it while it is fetched, then
   * kept for cacheTtlMs. A network failure is not kept. The caller's signal stops only its own wait.
   */
  private page(importPath: string, insecure: boolean, signal: AbortSignal | undefined): Promise<Page> {
    const key = `${insecure ? 'insecure' : 'secure'} ${importPath}`;
    const kept = this.pages.get(key);
    if (kept !== undefined && kept.expires > performance.now()) return abortable(kept.page, signal);
    const entry = { expires: Infinity, page: this.fetchPage(importPath, insecure) };
    this.pages.delete(key);
    this.pages.set(key, entry);
    for (const oldest of this.pages.keys()) {
      if (this.pages.size <= MAX_PAGES) break;
      this.pages.delete(oldest);
    }
    entry.page.then(
      () => {
        entry.expires = performance.now() + this.cacheTtlMs;
        if (this.cacheTtlMs <= 0 && this.pages.get(key) === entry) this.pages.delete(key);
      },
      () => {
        if (this.pages.get(key) === entry) this.pages.delete(key);
      },
    );
    return abortable(entry.page, signal);
  }

  private async fetchPage(importPath: string, insecure: boolean): Promise<Page> {
    const answer = await getGoGetPage(importPath, { transport: this.options.transport, insecure, timeoutMs: this.timeoutMs, logger: this.options.logger });
    const { imports, error } = parseMetaGoImports(answer.body);
    return {
      url: answer.url,
      status: answer.status,
      statusText: answer.statusText,
      detail: answer.status === 200 ? '' : errorDetail(answer.contentType, answer.body),
      imports,
      parseError: error,
    };
  }
}
