// Revisions of one git repository as go's codehost gitRepo resolves them (Tags, Stat, Latest, ReadFile,
// RecentTag, DescendsFrom, ReadZip), over a shared mirror. A GitRepo lives for one request: like a go
// command, it lists the remote's refs at most once, resolves each revision once, and widens what the
// mirror holds step by step: nothing when the commit is already there, else a shallow fetch of the one
// ref that names it, else the whole history of every head and tag. Unlike a go command, it never
// fetches a commit that no head or tag reaches (rejected pull requests must not become versions).
import { NotFoundError } from '../errors.js';
import { compare as compareSemver } from '../module/semver.js';
import { GitTimeoutError } from './git-error.js';
import type { GitMirror, LocalCommit, Refs } from './mirror.js';

/** Where a revision came from, as go records it in `.info` (codehost.Origin). */
export interface RevOrigin {
  vcs: 'git';
  /** The repository URL as the module's repository root names it (before any insteadOf). */
  url: string;
  /** The module's folder in the repository, '' at the root. */
  subdir: string;
  /** The ref the revision was found by (`refs/tags/v1.2.3`, `refs/heads/main`, `HEAD`), '' when a hash named it. */
  ref: string;
  hash: string;
}

/** A revision (go's codehost.RevInfo). */
export interface RevInfo {
  origin: RevOrigin;
  /** The full commit hash. */
  name: string;
  /** The 12-digit hash prefix pseudo-versions use. */
  short: string;
  /** The tag the revision was asked for by, when it is one of its tags; else its hash. */
  version: string;
  /** Commit time, seconds since 1970 (UTC). */
  time: number;
  /** The commit's tags, sorted. */
  tags: readonly string[];
}

/** A tag and the commit it names. */
export interface Tag {
  name: string;
  hash: string;
}

/** A revision the repository does not have (go's UnknownRevisionError): 404. */
export class UnknownRevisionError extends NotFoundError {
  constructor(readonly rev: string) {
    super(`unknown revision ${rev}`);
  }
}

/** Go accepts a hash prefix from this many digits on (minHashDigits). */
const MIN_HASH_DIGITS = 7;

/** True for lower-case hexadecimal digits only (go's AllHex). */
export function allHex(rev: string): boolean {
  return /^[0-9a-f]*$/.test(rev);
}

function isHashPrefix(rev: string): boolean {
  return rev.length >= MIN_HASH_DIGITS && rev.length <= 40 && allHex(rev);
}

/** The 12-digit form of a 40-digit hash (go's ShortenSHA1); anything else unchanged. */
export function shortenHash(hash: string): string {
  return hash.length === 40 && allHex(hash) ? hash.slice(0, 12) : hash;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** One request's view of a repository: go's gitRepo, with its caches living as long as the request. */
export class GitRepo {
  private refsOnce: Promise<Refs> | undefined;
  private localTagsOnce: Promise<Set<string>> | undefined;
  private readonly stats = new Map<string, Promise<RevInfo>>();
  /** Whether this request already fetched every head and tag (go's fetchLevel == fetchAll). */
  private fetchedAll = false;

  constructor(
    private readonly mirror: GitMirror,
    /** The transports git may use for this repository. */
    private readonly protocols: readonly string[],
    /** The refs a listing made just before (when choosing between URLs), reused rather than listed again. */
    refs?: Refs,
  ) {
    if (refs !== undefined) this.refsOnce = Promise.resolve(refs);
  }

  /** The remote's refs, listed once per request. */
  refs(): Promise<Refs> {
    return (this.refsOnce ??= this.mirror.lsRemote(this.protocols));
  }

  /** The remote's tags starting with `prefix`, sorted by name. */
  async tags(prefix: string): Promise<Tag[]> {
    const refs = await this.refs();
    const list: Tag[] = [];
    for (const [ref, hash] of refs) {
      if (!ref.startsWith('refs/tags/')) continue;
      const name = ref.slice('refs/tags/'.length);
      if (name.startsWith(prefix)) list.push({ name, hash });
    }
    return list.sort((a, b) => byteOrder(a.name, b.name));
  }

  /** The commit the default branch (the remote's HEAD) is at; NotFoundError ("no commits") for an empty repository. */
  async latest(): Promise<RevInfo> {
    const head = (await this.refs()).get('HEAD');
    if (head === undefined) throw new NotFoundError('no commits');
    const info = await this.stat(head);
    return { ...info, origin: { ...info.origin, ref: 'HEAD', hash: head } };
  }

  /** Resolves `rev` (tag, branch, HEAD, full or short hash) to a commit, once per request. */
  stat(rev: string): Promise<RevInfo> {
    let pending = this.stats.get(rev);
    if (pending === undefined) {
      pending = this.resolve(rev);
      this.stats.set(rev, pending);
    }
    return pending;
  }

  /**
   * The content of `file` at `rev`, or undefined when the revision has no such file. A revision that
   * cannot be resolved is an error, as in go.
   */
  async readFile(rev: string, file: string, maxSize: number, what: string): Promise<Buffer | undefined> {
    const info = await this.stat(rev);
    return this.mirror.readFile(info.name, file, maxSize, what);
  }

  /**
   * The highest tag (prefix + a version `allowed` accepts) on `rev` or an ancestor, or '' when there is
   * none; the whole history is fetched when the shallow mirror cannot tell.
   */
  async recentTag(rev: string, prefix: string, allowed: (tag: string) => Promise<boolean>): Promise<string> {
    const hash = (await this.stat(rev)).name;
    const describe = async (): Promise<string> => {
      let highest = '';
      for (const line of await this.mirror.mergedTags(hash)) {
        if (!line.startsWith('refs/tags/')) continue;
        const tag = line.slice('refs/tags/'.length);
        if (!tag.startsWith(prefix) || !(await allowed(tag))) continue;
        const semtag = tag.slice(prefix.length);
        if (compareSemver(semtag, highest) > 0) highest = semtag;
      }
      return highest === '' ? '' : prefix + highest;
    };
    const found = await describe();
    if (found !== '' && !allHex(found)) return found;
    // Git saw no version tag below the commit; when the remote has any plausible one, the history
    // decides whether the commit descends from it.
    if ((await this.tags(`${prefix}v`)).length === 0) return '';
    await this.mirror.exclusive(() => this.fetchAll());
    return describe();
  }

  /** Whether `rev` is `tag`'s commit or one of its descendants. */
  async descendsFrom(rev: string, tag: string): Promise<boolean> {
    const hash = (await this.stat(rev)).name;
    // A shallow mirror may answer no wrongly, and a tag not fetched yet is no answer: only yes is final.
    if ((await this.mirror.isAncestor(`refs/tags/${tag}`, hash).catch(() => false)) === true) return true;
    if ((await this.tags(tag)).length === 0) return false;
    await this.mirror.exclusive(() => this.fetchAll());
    return this.mirror.isAncestor(`refs/tags/${tag}`, hash);
  }

  /**
   * Writes go's `git archive` zip of `rev` (only `subdir` when given) to `file`; returns its size, or
   * undefined when `subdir` holds nothing at that revision.
   */
  async readZip(rev: string, subdir: string, file: string, maxSize: number): Promise<number | undefined> {
    const info = await this.stat(rev);
    return this.mirror.archive(info.name, subdir, file, maxSize);
  }

  /** The symbolic links of `rev` below `subdir`, by path from the repository root. */
  async symlinks(rev: string, subdir: string): Promise<Set<string>> {
    const info = await this.stat(rev);
    return this.mirror.symlinks(info.name, subdir);
  }

  private localTags(): Promise<Set<string>> {
    return (this.localTagsOnce ??= this.mirror.localTags());
  }

  // go's gitRepo.stat.
  private async resolve(asked: string): Promise<RevInfo> {
    let rev = asked;
    // A hash the mirror already holds needs no network.
    let didStatLocal = false;
    if (isHashPrefix(rev)) {
      const local = await this.statLocal(rev, rev);
      if (local !== undefined) return local;
      didStatLocal = true;
    }
    // So does a tag fetched before (tags are taken never to move; branches may, so they are asked for).
    if ((await this.localTags()).has(rev)) return this.mustStatLocal(rev, `refs/tags/${rev}`);

    const refs = await this.refs();
    let ref = '';
    let hash = '';
    if (refs.has(`refs/tags/${rev}`)) {
      ref = `refs/tags/${rev}`;
      hash = refs.get(ref)!;
    } else if (refs.has(`refs/heads/${rev}`)) {
      ref = `refs/heads/${rev}`;
      hash = refs.get(ref)!;
      rev = hash;
    } else if (rev === 'HEAD' && refs.has('HEAD')) {
      ref = 'HEAD';
      hash = refs.get(ref)!;
      rev = hash;
    } else if (isHashPrefix(rev)) {
      // A prefix of the hash of some ref: that ref can be fetched.
      const prefix = rev;
      for (const [name, target] of refs) {
        if (!target.startsWith(prefix)) continue;
        if (hash !== '' && hash !== target) throw new NotFoundError(`ambiguous revision ${prefix}`);
        if (ref === '' || byteOrder(ref, name) > 0) ref = name;
        rev = target;
        hash = target;
      }
      if (hash === '' && rev.length === 40) hash = rev;
    } else {
      throw new UnknownRevisionError(rev);
    }

    const info = await this.mirror.exclusive(() => this.fetchFor(rev, ref, hash, didStatLocal));
    const origin = { ...info.origin, hash: info.name };
    // A ref that is the hash itself is no ref.
    if (ref !== origin.hash) origin.ref = ref;
    return { ...info, origin };
  }

  // The fetching half of go's stat, under the mirror's lock: look again (another request may have
  // fetched it meanwhile), fetch the one ref, and only then everything.
  private async fetchFor(rev: string, ref: string, hash: string, didStatLocal: boolean): Promise<RevInfo> {
    if (!didStatLocal && hash !== '') {
      const local = await this.statLocal(rev, hash);
      if (local !== undefined) {
        // Named locally, a tag is found without the network next time.
        if (ref.startsWith('refs/tags/')) await this.mirror.tag(ref.slice('refs/tags/'.length), hash);
        return local;
      }
    }
    if (!this.fetchedAll && ref !== '' && hash !== '') {
      // Servers may refuse a bare hash in a refspec, so a ref is named when there is one; HEAD is
      // fetched by its hash into a scratch ref, which makes git also fetch the tags on that commit.
      const refspec = ref !== 'HEAD' ? `${ref}:${ref}` : `${hash}:refs/dummy`;
      const fetchedRef = ref !== 'HEAD' ? ref : hash;
      try {
        await this.mirror.fetch([refspec], { shallow: true, protocols: this.protocols });
        return await this.mustStatLocal(rev, fetchedRef);
      } catch (err) {
        // As go: whatever went wrong, the full fetch below is the fallback. A timeout is not retried
        // that way: the same server would only make the request wait twice as long.
        if (err instanceof GitTimeoutError) throw err;
      }
    }
    await this.fetchAll();
    return this.mustStatLocal(rev, ref.startsWith('refs/tags/') ? ref : rev);
  }

  private async fetchAll(): Promise<void> {
    if (this.fetchedAll) return;
    await this.mirror.fetchAll(this.protocols);
    this.fetchedAll = true;
  }

  private async mustStatLocal(version: string, rev: string): Promise<RevInfo> {
    const info = await this.statLocal(version, rev);
    if (info === undefined) throw new UnknownRevisionError(rev);
    return info;
  }

  // go's statLocal: what the mirror says about `rev`, reported as `version` when that is one of its
  // tags (so a tag asked for stays the version), else as its full hash.
  private async statLocal(version: string, rev: string): Promise<RevInfo | undefined> {
    const commit: LocalCommit | undefined = await this.mirror.commit(rev);
    if (commit === undefined) return undefined;
    const hash = commit.hash;
    const asked = hash.startsWith(version) ? hash : version;
    return {
      origin: { vcs: 'git', url: this.mirror.url, subdir: '', ref: hash.startsWith(rev) ? '' : rev, hash },
      name: hash,
      short: shortenHash(hash),
      version: commit.tags.includes(asked) ? asked : hash,
      time: commit.time,
      tags: commit.tags,
    };
  }
}
