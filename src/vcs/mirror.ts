// The local copy of one remote repository that every module in it is served from, as go keeps one in
// its module cache (codehost.WorkDir, newGitRepo): a bare repository named for the SHA-256 of its URL,
// with a remote `origin` and go's `info/attributes`, filled only with what requests need (shallow
// fetches by ref first, the whole history of heads and tags when a question needs it).
//
// Locking. Within a process, every change to a mirror (a fetch, a tag) runs under the mirror's mutex,
// so one process never races itself. Between processes sharing a state folder (`--workers`, or a
// `godepot mirror` beside `godepot serve`) godepot relies on git's own locking rather than a lock file of
// its own: a mirror is created in a private folder and renamed into place (the loser of a race drops its
// copy), objects are written before the refs that name them, and every ref and `shallow` update goes
// through git's lock files. A fetch that finds one of those taken by the other process fails with git's
// "Unable to create '...lock': File exists"; it is tried again a few times, after which its reason is
// reported. Reads (log, cat-file, archive) take no lock: git never shows them a half-written state.
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedLock } from '../depot/keyed-lock.js';
import type { Logger } from 'pino';
import { Breaker } from '../http/breaker.js';
import { redactUrl } from '../http/redact.js';
import type { Metrics } from '../telemetry/metrics.js';
import { GitFailedError, gitFailure, GitTimeoutError } from './git-error.js';
import type { GitCommand, GitRunner } from './git.js';

/** Ref name → commit hash, as `git ls-remote` lists them: HEAD, refs/heads/*, refs/tags/* (annotated tags peeled). */
export type Refs = ReadonlyMap<string, string>;

/** What `git log -n1` says about a revision: its full hash, commit time and the tags on it. */
export interface LocalCommit {
  hash: string;
  /** Committer time, in seconds since 1970 (UTC). */
  time: number;
  /** The tags pointing at the commit, sorted (byte order). */
  tags: string[];
}

/** Go's `info/attributes`: `git archive` must neither substitute nor drop files, whatever `.gitattributes` says. */
const ARCHIVE_ATTRIBUTES = '\n* -export-subst -export-ignore\n';
/** Most refs a repository may list: 64 MiB of `ls-remote` output is about a million refs. */
const MAX_REFS_OUTPUT = 64 << 20;
/** Local listings (tags, `for-each-ref`) are bounded like the refs they come from. */
const MAX_LISTING_OUTPUT = 64 << 20;
/** Folders of mirrors being created that a crash left behind are removed once this old. */
const ORPHAN_AGE_MS = 60 * 60 * 1000;
/** A fetch that finds another process's git lock file is tried this many times in all. */
const LOCK_ATTEMPTS = 5;
const lockContention = /Unable to create '[^']*\.lock': File exists|cannot lock ref|could not lock|Another git process seems to be running|shallow file has changed/i;

/** Byte order (git's), not UTF-16 order. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// git's words (LC_ALL=C; curl's and ssh's through it) for a host that did not answer at all, as opposed
// to one that answered "not found" or "no": those leave the host's breaker alone.
const hostUnreachable = /could not resolve host|failed to connect|couldn't connect to server|connection refused|connection timed out|operation timed out|connection reset|network is unreachable|no route to host|empty reply from server|ssh: connect to host|recv failure|proxy connect aborted/i;

/** True when a failed network command says the git host is down rather than that it answered. */
function saysHostDown(err: unknown): boolean {
  return err instanceof GitTimeoutError || (err instanceof GitFailedError && hostUnreachable.test(err.reason));
}

/** Every mirror below `<stateDir>/vcs`, one per repository URL, shared by every module and request. */
export class MirrorSet {
  readonly root: string;
  private readonly mirrors = new Map<string, GitMirror>();
  /** One breaker per git host (scheme, host and port), shared by the mirrors of its repositories. */
  private readonly hosts = new Map<string, Breaker>();
  private swept: Promise<void> | undefined;

  constructor(
    stateDir: string,
    private readonly runner: GitRunner,
    private readonly options: { logger?: Logger; metrics?: Metrics } = {},
  ) {
    this.root = join(stateDir, 'vcs');
  }

  /** The mirror of `url` (created on first use, not here). */
  get(url: string): GitMirror {
    let mirror = this.mirrors.get(url);
    if (mirror === undefined) {
      const made: GitMirror = new GitMirror(this.runner, this.root, url, () => this.sweep(), this.breakerOf(url, () => made));
      mirror = made;
      this.mirrors.set(url, mirror);
    }
    return mirror;
  }

  /** Stops the breakers' probes. */
  close(): void {
    for (const breaker of this.hosts.values()) breaker.close();
  }

  /**
   * The breaker of `url`'s host, as the HTTP client keeps one per upstream: once a git command finds the
   * host unreachable (no answer within the time limit, a refused or failed connection), every command
   * for it fails at once, and stored modules are served, until a probe (`git ls-remote` of the
   * repository that failed first) gets an answer.
   */
  private breakerOf(url: string, mirror: () => GitMirror): Breaker {
    const host = hostOf(url);
    let breaker = this.hosts.get(host);
    if (breaker === undefined) {
      breaker = new Breaker({
        name: `git host ${host}`,
        probe: async () => void (await mirror().probe()),
        logger: this.options.logger,
        onChange: (up) => this.options.metrics?.upstreamUp.set({ origin: `git ${host}` }, up ? 1 : 0),
      });
      this.hosts.set(host, breaker);
    }
    return breaker;
  }

  // Best effort, once per process: half-made mirrors of a crashed process.
  private sweep(): Promise<void> {
    return (this.swept ??= (async () => {
      await mkdir(this.root, { recursive: true });
      const cutoff = Date.now() - ORPHAN_AGE_MS;
      for (const name of await readdir(this.root).catch(() => [])) {
        if (!name.includes('.new-')) continue;
        const path = join(this.root, name);
        const stats = await stat(path).catch(() => null);
        if (stats !== null && stats.mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
      }
    })());
  }
}

/** The bare repository mirroring one remote URL, and the git commands godepot runs in it. */
export class GitMirror {
  /** `<stateDir>/vcs/<sha256 of "git:" + URL>`. */
  readonly dir: string;
  /** The URL as shown in messages (without a password). */
  readonly shownUrl: string;
  private created: Promise<void> | undefined;
  private readonly mutex = new KeyedLock();
  private readonly listing = new Map<string, Promise<Refs>>();

  constructor(
    private readonly runner: GitRunner,
    root: string,
    readonly url: string,
    private readonly beforeCreate: () => Promise<void>,
    /** The health of the repository's host, shared with every repository there. */
    private readonly host: Breaker,
  ) {
    this.dir = join(root, createHash('sha256').update(`git:${url}`).digest('hex'));
    this.shownUrl = shownUrl(url);
  }

  /**
   * The refs the remote lists now (`git ls-remote -q origin`); callers that ask while a listing is under
   * way share it. Throws the typed error of git's failure (GitNotFoundError for a repository that is
   * not there, GitAuthError, GitTimeoutError, ...).
   */
  lsRemote(protocols: readonly string[]): Promise<Refs> {
    const key = protocols.join(':');
    let pending = this.listing.get(key);
    if (pending === undefined) {
      pending = this.listRefs(protocols).finally(() => this.listing.delete(key));
      this.listing.set(key, pending);
    }
    return pending;
  }

  private async listRefs(protocols: readonly string[]): Promise<Refs> {
    await this.ensure();
    const out = await this.remote(() => this.runner.output(this.command(['ls-remote', '-q', 'origin'], { protocols, maxOutput: MAX_REFS_OUTPUT, output: 'ref list' })));
    return parseRefs(out.toString('utf8'));
  }

  /** Asks the remote for its HEAD alone: resolves when the host answers at all (the breaker's probe). */
  async probe(): Promise<void> {
    await this.ensure();
    const result = await this.runner.run(this.command(['ls-remote', '-q', 'origin', 'HEAD'], { maxOutput: MAX_LISTING_OUTPUT, output: 'probe' }));
    // Any answer, "not found" and "no" included, says the host is there.
    if (result.exitCode !== 0 && saysHostDown(gitFailure(result.display, result.stderr, result.exitCode, null))) throw new Error(`${this.shownUrl} did not answer`);
  }

  /** Runs a command that talks to the remote, through the host's breaker. */
  private async remote<T>(run: () => Promise<T>): Promise<T> {
    this.host.check();
    try {
      const result = await run();
      this.host.answered();
      return result;
    } catch (err) {
      if (saysHostDown(err)) this.host.failed(err as Error);
      else this.host.answered();
      throw err;
    }
  }

  /** The tags the mirror holds (`git tag -l`). */
  async localTags(): Promise<Set<string>> {
    await this.ensure();
    const out = await this.runner.output(this.command(['tag', '-l'], { maxOutput: MAX_LISTING_OUTPUT, output: 'tag list' }));
    return new Set(out.toString('utf8').split('\n').filter((line) => line !== ''));
  }

  /**
   * The commit `rev` names in the mirror (a full ref such as `refs/tags/v1.2.3`, or a hash or hash
   * prefix), or undefined when the mirror does not have it.
   */
  async commit(rev: string): Promise<LocalCommit | undefined> {
    await this.ensure();
    const result = await this.runner.run(
      this.command(['-c', 'log.showsignature=false', 'log', '--no-decorate', '-n1', '--format=format:%H %ct %D', '--end-of-options', rev, '--'], {
        maxOutput: MAX_LISTING_OUTPUT,
        output: 'log line',
      }),
    );
    if (result.exitCode !== 0) return undefined;
    const fields = result.stdout.toString('utf8').trim().split(/\s+/);
    if (fields.length < 2 || !/^[0-9a-f]{40,64}$/.test(fields[0]!) || !/^-?[0-9]+$/.test(fields[1]!)) {
      throw gitFailure(result.display, `unexpected response from git log: ${JSON.stringify(result.stdout.toString('utf8'))}`, 0, null);
    }
    // Decorations read "HEAD -> main, tag: v1.2.3, tag: v1.2.4-annotated": the word after each "tag:".
    const tags: string[] = [];
    for (let i = 2; i < fields.length; i++) {
      if (fields[i] === 'tag:' && i + 1 < fields.length) tags.push(fields[++i]!.replace(/,$/, ''));
    }
    tags.sort(byteOrder);
    return { hash: fields[0]!, time: Number(fields[1]), tags };
  }

  /**
   * Fetches `refspecs` from the remote (`git fetch -f [--depth=1] origin <refspecs>`), trying again
   * while another process's git holds a lock it needs. Run it under exclusive().
   */
  async fetch(refspecs: readonly string[], options: { shallow: boolean; protocols: readonly string[] }): Promise<void> {
    await this.ensure();
    const args = ['fetch', '-f', ...(options.shallow ? ['--depth=1'] : []), 'origin', ...refspecs];
    await this.fetchWithRetries(args, options.protocols);
  }

  /**
   * Fetches every head and tag with their whole history, as go's fetchRefsLocked does: first the refs,
   * then, as a fetch of its own (golang.org/issue/34266), the history a shallow mirror lacks. Run it
   * under exclusive().
   */
  async fetchAll(protocols: readonly string[]): Promise<void> {
    await this.ensure();
    await this.fetchWithRetries(['fetch', '-f', 'origin', 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'], protocols);
    const shallow = await access(join(this.dir, 'shallow')).then(
      () => true,
      () => false,
    );
    if (shallow) await this.fetchWithRetries(['fetch', '--unshallow', '-f', 'origin'], protocols);
  }

  private fetchWithRetries(args: string[], protocols: readonly string[]): Promise<void> {
    return this.remote(async () => {
      for (let attempt = 1; ; attempt++) {
        const result = await this.runner.run(this.command(args, { protocols, maxOutput: MAX_LISTING_OUTPUT, output: 'fetch output' }));
        if (result.exitCode === 0) return;
        if (attempt >= LOCK_ATTEMPTS || !lockContention.test(result.stderr)) throw gitFailure(result.display, result.stderr, result.exitCode, null);
        await sleep(100 * 2 ** attempt);
      }
    });
  }

  /** Creates the local tag `name` at `hash`, as go does after finding a tag's commit already here; failures are ignored. */
  async tag(name: string, hash: string): Promise<void> {
    await this.runner.run(this.command(['tag', '--end-of-options', name, hash], { maxOutput: MAX_LISTING_OUTPUT, output: 'tag output' }));
  }

  /**
   * The content of `path` in commit `hash` (`git cat-file blob <hash>:<path>`, no conversion), or
   * undefined when there is no such file. Throws GitOutputTooLargeError past `maxSize` bytes.
   */
  async readFile(hash: string, path: string, maxSize: number, what: string): Promise<Buffer | undefined> {
    await this.ensure();
    const result = await this.runner.run(this.command(['cat-file', 'blob', `${hash}:${path}`], { maxOutput: maxSize, output: what }));
    return result.exitCode === 0 ? result.stdout : undefined;
  }

  /** The tags (full ref names) whose commits are ancestors of `hash` or `hash` itself. */
  async mergedTags(hash: string): Promise<string[]> {
    await this.ensure();
    const out = await this.runner.output(
      this.command(['for-each-ref', '--format', '%(refname)', 'refs/tags', '--merged', hash], { maxOutput: MAX_LISTING_OUTPUT, output: 'tag list' }),
    );
    return out.toString('utf8').split('\n').map((line) => line.trim());
  }

  /** Whether `ancestorRef` is an ancestor of `hash` in what the mirror holds (a shallow history may say no wrongly). */
  async isAncestor(ancestorRef: string, hash: string): Promise<boolean> {
    await this.ensure();
    const result = await this.runner.run(this.command(['merge-base', '--is-ancestor', '--', ancestorRef, hash], { maxOutput: MAX_LISTING_OUTPUT, output: 'merge-base output' }));
    if (result.exitCode === 0) return true;
    if (result.exitCode === 1) return false;
    throw gitFailure(result.display, result.stderr, result.exitCode, null);
  }

  /**
   * Writes `git archive --format=zip` of commit `hash` (only `subdir` when given) to `file`, as go's
   * ReadZip runs it: text files exactly as committed (core.autocrlf=input, core.eol=lf), `.gitattributes`
   * conversions and filters applied, export-subst and export-ignore turned off by info/attributes.
   * Returns its size; throws GitOutputTooLargeError past `maxSize` (the file is then removed), and
   * undefined when `subdir` matched nothing.
   */
  async archive(hash: string, subdir: string, file: string, maxSize: number): Promise<number | undefined> {
    await this.ensure();
    await this.exclusive(() => this.ensureAttributes());
    // Stored (-0), not deflated as go's is: the files are taken out of it and zipped again, and what
    // git stores is the same bytes it would have compressed, for a third of the time.
    const args = ['-c', 'core.autocrlf=input', '-c', 'core.eol=lf', 'archive', '--format=zip', '-0', '--prefix=prefix/', hash, ...(subdir === '' ? [] : ['--', subdir])];
    const result = await this.runner.run(this.command(args, { maxOutput: maxSize, output: 'zip archive', stdoutTo: { file } }));
    if (result.exitCode === 0) return result.outputBytes;
    await rm(file, { force: true });
    if (/did not match any files/.test(result.stderr)) return undefined;
    throw gitFailure(result.display, result.stderr, result.exitCode, null);
  }

  /** The paths (from the repository root) of the symbolic links in commit `hash`, below `subdir` when given. */
  async symlinks(hash: string, subdir: string): Promise<Set<string>> {
    await this.ensure();
    const links = new Set<string>();
    // Records are "<mode> <type> <object>\t<path>\0"; only the links are kept, so that a tree of a
    // million files costs their count in time, not in memory.
    let partial = Buffer.alloc(0);
    const take = (record: Buffer): void => {
      if (record.subarray(0, 7).toString('latin1') !== '120000 ') return;
      const tab = record.indexOf(0x09);
      links.add(record.subarray(tab + 1).toString('utf8'));
    };
    const args = ['ls-tree', '-r', '-z', '--full-tree', hash, ...(subdir === '' ? [] : ['--', subdir])];
    await this.runner.output(
      this.command(args, {
        maxOutput: Number.MAX_SAFE_INTEGER,
        output: 'tree listing',
        stdoutTo: {
          consume: (chunk) => {
            let data = partial.length === 0 ? chunk : Buffer.concat([partial, chunk]);
            for (let nul = data.indexOf(0); nul >= 0; nul = data.indexOf(0)) {
              take(data.subarray(0, nul));
              data = data.subarray(nul + 1);
            }
            partial = Buffer.from(data);
          },
        },
      }),
    );
    return links;
  }

  /** Runs `fn` while no other change to this mirror runs in this process. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run('', fn);
  }

  private command(args: string[], options: Omit<GitCommand, 'args' | 'gitDir' | 'display'>): GitCommand {
    const display = `git ${args.map((a) => (a === 'origin' ? this.shownUrl : a)).join(' ')}`;
    return { args, gitDir: this.dir, display, ...options };
  }

  private ensure(): Promise<void> {
    return (this.created ??= this.create().catch((err: unknown) => {
      this.created = undefined;
      throw err;
    }));
  }

  // A new mirror is made whole in a folder of its own and renamed into place, so that no process ever
  // sees one half made; of two processes making it at once, the second finds the first's.
  private async create(): Promise<void> {
    const exists = await access(join(this.dir, 'config')).then(
      () => true,
      () => false,
    );
    if (exists) return;
    await this.beforeCreate();
    const making = `${this.dir}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
    await mkdir(making, { recursive: true });
    try {
      const run = (args: string[]): Promise<Buffer> =>
        this.runner.output({ args, gitDir: making, maxOutput: MAX_LISTING_OUTPUT, output: 'init output', display: `git ${args.join(' ')} (mirror of ${this.shownUrl})` });
      await run(['init', '--bare', '-q']);
      // A named remote, as go has: `git fetch origin` also keeps Git LFS from misbehaving (golang.org/issue/25605).
      await run(['remote', 'add', 'origin', '--', this.url]);
      await mkdir(join(making, 'info'), { recursive: true });
      await writeFile(join(making, 'info', 'attributes'), ARCHIVE_ATTRIBUTES);
      try {
        await rename(making, this.dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      }
    } finally {
      await rm(making, { recursive: true, force: true });
    }
  }

  // go appends its attributes before each archive unless the file already ends with them.
  private async ensureAttributes(): Promise<void> {
    const file = join(this.dir, 'info', 'attributes');
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current.endsWith(ARCHIVE_ATTRIBUTES)) return;
    await mkdir(join(this.dir, 'info'), { recursive: true });
    await writeFile(file, current + ARCHIVE_ATTRIBUTES);
  }
}

/** The scheme, host and port of a repository URL, as its breaker is known (`https://github.com`). */
function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return url;
  }
}

/** Parses `git ls-remote` output as go's loadRefs does: HEAD, heads and tags; `^{}` lines peel annotated tags. */
export function parseRefs(text: string): Refs {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 2) continue;
    const [hash, ref] = fields as [string, string];
    if (ref !== 'HEAD' && !ref.startsWith('refs/heads/') && !ref.startsWith('refs/tags/')) continue;
    if (ref.endsWith('^{}')) peeled.set(ref.slice(0, -3), hash);
    else refs.set(ref, hash);
  }
  for (const [ref, hash] of peeled) refs.set(ref, hash);
  return refs;
}

/** A repository URL fit for messages: any password replaced, as go's url.Redacted prints it. */
export function shownUrl(url: string): string {
  try {
    return redactUrl(new URL(url));
  } catch {
    return url;
  }
}
