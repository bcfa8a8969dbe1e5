import type { RepoRoot } from '../vcs/repo-root.js';
import { downloadPart, type Download, type DownloadRequest, type Origin } from './origin.js';

/** What the `direct` origin is made of. */
export interface DirectOriginOptions {
  /** Where a module's code lives (RepoDiscovery, go's RepoRootForImportPath). */
  resolve(modulePath: string, signal?: AbortSignal): Promise<RepoRoot>;
  /** Modules whose repository is git (GitOrigin). */
  git: Origin;
  /** The GOPROXY a `mod` meta tag names, which serves every module below its prefix. */
  proxy(url: string): Origin;
  /** GOVCS: throws ForbiddenError when `vcs` may not be used for the repository at `root`. */
  checkVcs(root: string, vcs: string): void;
}

/**
 * The `direct` element of a GOPROXY list, and the `direct` route: a module's code fetched from where
 * its path says it lives, as go's direct mode fetches it. The repository is found first (static rules
 * of well-known hosts, `?go-get=1` meta tags); a git repository is read by the git origin, a `mod` meta
 * tag's proxy is asked as any GOPROXY, and GOVCS decides whether the VCS may be used. Discovery
 * refuses other VCSs itself, naming them.
 */
export class DirectOrigin implements Origin {
  readonly name = 'direct';

  constructor(private readonly options: DirectOriginOptions) {}

  async list(modulePath: string, signal?: AbortSignal): Promise<string[]> {
    return (await this.originOf(modulePath, signal)).list(modulePath, signal);
  }

  async query(modulePath: string, query: string, signal?: AbortSignal): Promise<Buffer> {
    return (await this.originOf(modulePath, signal)).query(modulePath, query, signal);
  }

  download(modulePath: string, version: string, request: DownloadRequest, signal?: AbortSignal): Download {
    // One download of the origin found, so that a git repository is asked for every file at once.
    const download = this.originOf(modulePath, signal).then((origin) => origin.download(modulePath, version, request, signal));
    const part = <T>(pick: (d: Download) => Promise<T> | undefined): Promise<T> => downloadPart(download.then((d) => pick(d)!));
    const out: Download = {};
    if (request.info === true) out.info = part((d) => d.info);
    if (request.mod === true) out.mod = part((d) => d.mod);
    if (request.zipTo !== undefined) out.zip = part((d) => d.zip);
    return out;
  }

  private async originOf(modulePath: string, signal: AbortSignal | undefined): Promise<Origin> {
    const root = await this.options.resolve(modulePath, signal);
    this.options.checkVcs(root.root, root.vcs);
    return root.vcs === 'mod' ? this.options.proxy(root.urls[0]!) : this.options.git;
  }
}
