// One module of a git repository as go 1.19's modfetch codeRepo sees it: which tags are its versions
// (tag prefixes for modules in subdirectories, /vN paths and major-version subdirectories,
// "+incompatible" only where go allows it), what version a revision is (its canonical tag, or a
// pseudo-version above the highest tag below it), where its go.mod is, and which versions its latest
// go.mod retracts. Messages are go's.
import { GodepotError, NotFoundError } from '../errors.js';
import { autoQuote, parseGoModLax } from '../module/gomod.js';
import { goUnquote } from '../module/modsyntax.js';
import { goQuote } from '../module/quote.js';
import { checkPathMajor, matchPathMajor, splitPathVersion } from '../module/path.js';
import { build, canonical, compare, isValid, major, prerelease, sortVersions } from '../module/semver.js';
import { canonicalVersion, isPseudoVersion, pseudoVersion, pseudoVersionBase, pseudoVersionRev, pseudoVersionTime } from '../module/version.js';
import { MAX_GO_MOD } from '../module/zip.js';
import type { GitRepo, RevInfo, RevOrigin } from '../vcs/git-repo.js';

/** A module version as the module repository reports it: go's modfetch.RevInfo, with where it came from. */
export interface ModuleRevInfo {
  version: string;
  /** Commit time, seconds since 1970 (UTC). */
  time: number;
  origin: RevOrigin;
  /** The full commit hash. */
  name: string;
  short: string;
}

/** Where a version's module lives at its revision: the revision, its folder, and its go.mod when found. */
interface ModuleDir {
  rev: string;
  dir: string;
  gomod: Buffer | undefined;
}

/** A version this module does not have, or cannot have: go's ModuleError around InvalidVersionError, as a 404. */
export function invalidVersion(modulePath: string, version: string, reason: string, pseudo = false): NotFoundError {
  return new NotFoundError(`${modulePath}@${version}: invalid ${pseudo ? 'pseudo-version' : 'version'}: ${reason}`);
}

/** Whether `s` is `prefix` or below it, path element by element (go's hasPathPrefix). */
export function hasPathPrefix(s: string, prefix: string): boolean {
  if (s.length === prefix.length) return s === prefix;
  if (s.length < prefix.length) return false;
  if (prefix !== '' && prefix.endsWith('/')) return s.startsWith(prefix);
  return s[prefix.length] === '/' && s.startsWith(prefix);
}

/** The major version a path suffix requires ("v2" for "/v2" or ".v2-unstable"; '' for none): module.PathMajorPrefix. */
function pathMajorPrefix(pathMajor: string): string {
  if (pathMajor === '') return '';
  let suffix = pathMajor;
  if (suffix.startsWith('.v') && suffix.endsWith('-unstable')) suffix = suffix.slice(0, -'-unstable'.length);
  return suffix.slice(1);
}

/**
 * The module path a go.mod declares, read as loosely as go's modfile.ModulePath reads it (no full
 * parse): the first `module` line, its comment dropped, the path unquoted when quoted; '' when none.
 */
export function declaredModulePath(gomod: Buffer | undefined): string {
  if (gomod === undefined) return '';
  for (let line of gomod.toString('utf8').split('\n')) {
    const comment = line.indexOf('//');
    if (comment >= 0) line = line.slice(0, comment);
    line = line.trim();
    if (!line.startsWith('module')) continue;
    const rest = line.slice('module'.length);
    const path = rest.trim();
    // "module" must be followed by space and something else ("modulex" and a bare "module" are not it).
    if (path.length === rest.length || path === '') continue;
    if (path.startsWith('"')) return goUnquote(path) ?? '';
    if (path.startsWith('`')) return path.length >= 2 && path.endsWith('`') && !path.slice(1, -1).includes('`') ? path.slice(1, -1).replace(/\r/g, '') : '';
    return path;
  }
  return '';
}

/** Whether a go.mod declaring `mpath` may serve a module whose path ends in `pathMajor` (go's isMajor). */
function isMajor(mpath: string, pathMajor: string): boolean {
  if (mpath === '') return false;
  const split = splitPathVersion(mpath);
  if (split === null) return false;
  if (pathMajor === '') {
    const m = pathMajorPrefix(split.pathMajor);
    return m === '' || m === 'v0' || m === 'v1';
  }
  if (split.pathMajor === '') return false;
  return pathMajor.slice(1) === split.pathMajor.slice(1);
}

/** The go.mod go serves for a version whose tree has none: only the module line. */
export function legacyGoMod(modulePath: string): Buffer {
  return Buffer.from(`module ${autoQuote(modulePath)}\n`);
}

/** One module of a repository (go's codeRepo), over one request's GitRepo. */
export class GitModuleRepo {
  /** The module's folder in the repository ('' at its root). */
  readonly codeDir: string;
  private readonly pathPrefix: string;
  private readonly pathMajor: string;
  private readonly pseudoMajor: string;
  private readonly dirs = new Map<string, Promise<ModuleDir>>();
  private readonly stats = new Map<string, Promise<ModuleRevInfo>>();
  private retractedOnce: Promise<(v: string) => boolean> | undefined;

  /**
   * `codeRoot` is the import path of the repository's root. Throws NotFoundError when `modulePath` is
   * not below it: a module path never reaches into another repository.
   */
  constructor(
    readonly code: GitRepo,
    readonly codeRoot: string,
    readonly modulePath: string,
  ) {
    if (!hasPathPrefix(modulePath, codeRoot)) throw new NotFoundError(`mismatched repo: found ${codeRoot} for ${modulePath}`);
    const split = splitPathVersion(modulePath);
    if (split === null) throw new NotFoundError(`invalid module path ${goQuote(modulePath)}`);
    this.pathPrefix = codeRoot === modulePath ? modulePath : split.prefix;
    this.pathMajor = split.pathMajor;
    this.pseudoMajor = pathMajorPrefix(split.pathMajor);
    let codeDir = '';
    if (codeRoot !== modulePath) {
      if (!hasPathPrefix(this.pathPrefix, codeRoot)) throw new NotFoundError(`repository rooted at ${codeRoot} cannot contain module ${modulePath}`);
      codeDir = this.pathPrefix.slice(codeRoot.length).replace(/^\/+|\/+$/g, '');
    }
    this.codeDir = codeDir;
  }

  /** The versions the tags give, sorted (go's Versions), `+incompatible` ones last where allowed. */
  async versions(prefix: string): Promise<string[]> {
    // gopkg.in/macaroon-bakery.v2-unstable does not use the v2 tags: such paths have no tags at all.
    if (this.modulePath.startsWith('gopkg.in/') && this.modulePath.endsWith('-unstable')) return [];
    const p = this.codeDir === '' ? prefix : `${this.codeDir}/${prefix}`;
    const list: string[] = [];
    const incompatible: string[] = [];
    for (const tag of await this.code.tags(p)) {
      const v = this.codeDir === '' ? tag.name : tag.name.slice(this.codeDir.length + 1);
      // Only canonical tags are versions (Stat turns the others into pseudo-versions), and tags that
      // look like pseudo-versions would be confusing.
      if (v === '' || v !== canonical(v) || isPseudoVersion(v)) continue;
      if (!matchPathMajor(v, this.pathMajor)) {
        if (this.codeDir === '' && this.pathMajor === '' && major(v) > 'v1') incompatible.push(v);
        continue;
      }
      list.push(v);
    }
    return this.appendIncompatible(sortVersions(list), sortVersions(incompatible));
  }

  // go's appendIncompatibleVersions: "+incompatible" versions only where no go.mod says the module
  // lives on the v0/v1 line, or that major version has moved to a /vN module.
  private async appendIncompatible(list: string[], incompatible: string[]): Promise<string[]> {
    if (incompatible.length === 0 || this.pathMajor !== '') return list;
    if (list.length > 0 && (await this.versionHasGoMod(list[list.length - 1]!))) return list;
    let lastMajor = '';
    let lastMajorHasGoMod = false;
    for (let i = 0; i < incompatible.length; i++) {
      const v = incompatible[i]!;
      const m = major(v);
      if (m !== lastMajor) {
        let j = i;
        while (j + 1 < incompatible.length && major(incompatible[j + 1]!) === m) j++;
        lastMajor = m;
        lastMajorHasGoMod = await this.versionHasGoMod(incompatible[j]!);
      }
      if (!lastMajorHasGoMod) list.push(`${v}+incompatible`);
    }
    return list;
  }

  /** Whether the tree of version `v` has a go.mod at the repository root (`v` names a root tag). */
  async versionHasGoMod(v: string): Promise<boolean> {
    return (await this.code.readFile(v, 'go.mod', MAX_GO_MOD, 'go.mod')) !== undefined;
  }

  /**
   * The version `rev` is (a version, a pseudo-version, a tag, a branch, a commit hash; `latest`: the
   * default branch's head), as go's codeRepo.Stat resolves it. Throws NotFoundError with go's text for
   * a revision this module does not have or cannot use.
   */
  stat(rev: string): Promise<ModuleRevInfo> {
    let pending = this.stats.get(rev);
    if (pending === undefined) {
      pending = rev === 'latest' ? this.latest() : this.statRev(rev);
      this.stats.set(rev, pending);
    }
    return pending;
  }

  private async statRev(rev: string): Promise<ModuleRevInfo> {
    let info: RevInfo;
    try {
      info = await this.code.stat(this.revToRev(rev));
    } catch (err) {
      if (err instanceof NotFoundError) throw invalidVersion(this.modulePath, rev, err.message);
      throw err;
    }
    return this.convert(info, rev);
  }

  /** The version of the default branch's head. */
  async latest(): Promise<ModuleRevInfo> {
    return this.convert(await this.code.latest(), '');
  }

  // go's convert: the version a revision is for this module. `statVers` is what was asked for ('' for
  // the default branch's head).
  private async convert(info: RevInfo, statVers: string): Promise<ModuleRevInfo> {
    const incompatibleOK = new Map<string, boolean>();
    const canUseIncompatible = async (v: string): Promise<boolean> => {
      // A module in a subdirectory has a go.mod by definition, and a /vN path must match.
      if (this.codeDir !== '' || this.pathMajor !== '') return false;
      let ok = incompatibleOK.get('');
      if (ok === undefined) {
        ok = (await this.code.readFile(info.name, 'go.mod', MAX_GO_MOD, 'go.mod')) === undefined;
        incompatibleOK.set('', ok);
      }
      if (!ok) return false;
      // Older go commands did not look for vN/go.mod (go.dev/issue/51324), so an explicit
      // "+incompatible" stays allowed; otherwise a vN/go.mod claims the vN tags for the vN module.
      if (v !== '' && !statVers.endsWith('+incompatible')) {
        const m = major(v);
        ok = incompatibleOK.get(m);
        if (ok === undefined) {
          ok = (await this.code.readFile(info.name, `${m}/go.mod`, MAX_GO_MOD, 'go.mod')) === undefined;
          incompatibleOK.set(m, ok);
        }
        if (!ok) return false;
      }
      return true;
    };

    const checkCanonical = async (canonicalV: string): Promise<ModuleRevInfo> => {
      let v = canonicalV;
      // The module author decides where the module is and what its path is: findDir checks both.
      try {
        await this.findDir(v);
      } catch (err) {
        if (err instanceof NotFoundError || err instanceof ModuleDirError) throw invalidVersion(this.modulePath, v, err.message);
        throw err;
      }
      if (v === statVers.replace(/\+incompatible$/, '')) v = statVers;
      const base = v.replace(/\+incompatible$/, '');
      let incompatibleError: NotFoundError | undefined;
      if (!matchPathMajor(base, this.pathMajor)) {
        if (await canUseIncompatible(base)) {
          v = `${base}+incompatible`;
        } else if (this.pathMajor !== '') {
          incompatibleError = invalidVersion(this.modulePath, v, 'module path includes a major version suffix, so major version must match');
        } else {
          incompatibleError = invalidVersion(
            this.modulePath,
            v,
            `module contains a go.mod file, so module path must match major version (${goQuote(`${this.pathPrefix}/${major(v)}`)})`,
          );
        }
      } else if (v.endsWith('+incompatible')) {
        incompatibleError = invalidVersion(this.modulePath, v, `+incompatible suffix not allowed: major version ${major(v)} is compatible`);
      }
      if (statVers !== '' && statVers === canonicalVersion(statVers)) {
        // A canonical version asked for resolves to itself or not at all.
        const statBase = statVers.replace(/\+incompatible$/, '');
        if (statBase !== base) throw invalidVersion(this.modulePath, statVers, `resolves to version ${v} (${statBase} is not a tag)`);
      }
      if (incompatibleError !== undefined) throw incompatibleError;
      return { version: v, time: info.time, origin: { ...info.origin, subdir: this.codeDir }, name: info.name, short: info.short };
    };

    if (isPseudoVersion(statVers)) {
      await this.validatePseudoVersion(info, statVers);
      return checkCanonical(statVers);
    }

    const tagPrefix = this.codeDir === '' ? '' : `${this.codeDir}/`;
    // The retractions are read only when a decision needs them (go reads them up front and ignores
    // failures, so the outcome is the same, without the network for a version that is a plain tag).
    const isRetracted = async (v: string): Promise<boolean> => (await this.retractions())(v);

    // The version a tag names for this module, and whether the tag is exactly that canonical version.
    const tagToVersion = (tag: string): { v: string; canonical: boolean } => {
      if (!tag.startsWith(tagPrefix)) return { v: '', canonical: false };
      const trimmed = tag.slice(tagPrefix.length);
      if (isPseudoVersion(tag)) return { v: '', canonical: false };
      // semver's canonical, not the module one: a "+incompatible" in a tag is not taken from it.
      const v = canonical(trimmed);
      if (v === '' || !trimmed.startsWith(v)) return { v: '', canonical: false };
      return { v, canonical: v === trimmed };
    };

    // A tag the revision was asked for by is the answer when it is usable.
    const asked = tagToVersion(info.version);
    if (asked.canonical) {
      try {
        return await checkCanonical(asked.v);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }

    // Otherwise the highest usable canonical tag on the revision, or a base for a pseudo-version.
    let highestCanonical = '';
    let pseudoBase = '';
    for (const pathTag of info.tags) {
      const { v, canonical: tagIsCanonical } = tagToVersion(pathTag);
      if (statVers !== '' && compare(v, statVers) === 0) {
        // The tag is the version asked for: exactly (use it) or with other build metadata (which could
        // be ambiguous: only a pseudo-version base).
        if (tagIsCanonical) return checkCanonical(v);
        pseudoBase = v;
      }
      if (tagIsCanonical && compare(highestCanonical, v) < 0 && !(await isRetracted(v))) {
        if (matchPathMajor(v, this.pathMajor) || (await canUseIncompatible(v))) highestCanonical = v;
      }
    }
    if (highestCanonical !== '') return checkCanonical(highestCanonical);

    // The highest allowed tag below the revision makes the pseudo-version sort above it.
    const tagAllowed = async (tag: string): Promise<boolean> => {
      const { v } = tagToVersion(tag);
      if (v === '') return false;
      if (!matchPathMajor(v, this.pathMajor) && !(await canUseIncompatible(v))) return false;
      return !(await isRetracted(v));
    };
    if (pseudoBase === '') {
      const tag = await this.code.recentTag(info.name, tagPrefix, tagAllowed).catch((err: unknown) => {
        // go ignores a failure here and makes a pseudo-version without a base; only a revision or tag
        // that is not there is taken so. A git failure (a timeout, a refused fetch) is reported: the
        // version made without the history would be a wrong one, not merely an older one.
        if (err instanceof NotFoundError) return '';
        throw err;
      });
      if (tag !== '') pseudoBase = tagToVersion(tag).v;
    }
    return checkCanonical(pseudoVersion(this.pseudoMajor, pseudoBase, new Date(info.time * 1000), info.short));
  }

  // go's validatePseudoVersion: the hash, the time and the base tag must be this revision's.
  private async validatePseudoVersion(info: RevInfo, version: string): Promise<void> {
    const fail = (reason: string): NotFoundError => invalidVersion(this.modulePath, version, reason, true);
    const parse = <T>(get: () => T): T => {
      try {
        return get();
      } catch (err) {
        if (err instanceof GodepotError) throw fail((err as { reason?: string }).reason ?? err.message);
        throw err;
      }
    };
    const rev = parse(() => pseudoVersionRev(version));
    if (rev !== info.short) {
      if (rev.startsWith(info.short)) throw fail(`revision is longer than canonical (expected ${info.short})`);
      if (info.short.startsWith(rev)) throw fail(`revision is shorter than canonical (expected ${info.short})`);
      throw fail(`does not match short name of revision (expected ${info.short})`);
    }
    const time = parse(() => pseudoVersionTime(version));
    if (time.getTime() !== info.time * 1000) throw fail(`does not match version-control timestamp (expected ${timestamp(info.time)})`);

    const tagPrefix = this.codeDir === '' ? '' : `${this.codeDir}/`;
    // The base must be a tag on an ancestor, so that a pseudo-version sorts just above its parents and
    // nobody can name a commit by an arbitrarily high version.
    const base = parse(() => pseudoVersionBase(version.replace(/\+incompatible$/, '')));
    if (base === '') {
      if (this.pseudoMajor === '' && major(version) === 'v1') throw fail('major version without preceding tag must be v0, not v1');
      return;
    }
    for (const tag of info.tags) {
      if (tag.startsWith(tagPrefix) && tag.slice(tagPrefix.length) === base) {
        throw fail(`tag (${tag}) found on revision ${rev} is already canonical, so should not be replaced with a pseudo-version derived from that tag`);
      }
    }
    let lastTag = '';
    let ancestorFound = false;
    let failure: unknown;
    for (const tag of await this.code.tags(tagPrefix + base)) {
      if (compare(tag.name.startsWith(tagPrefix) ? tag.name.slice(tagPrefix.length) : tag.name, base) !== 0) continue;
      lastTag = tag.name;
      try {
        ancestorFound = await this.code.descendsFrom(info.name, tag.name);
      } catch (err) {
        failure = err;
      }
      if (ancestorFound) break;
    }
    if (lastTag === '') throw fail(`preceding tag (${base}) not found`);
    if (!ancestorFound) {
      if (failure !== undefined) throw failure;
      throw fail(`revision ${rev} is not a descendent of preceding tag (${lastTag})`);
    }
  }

  // go's revToRev: the git revision a version or query stands for.
  private revToRev(rev: string): string {
    if (!isValid(rev)) return rev;
    if (isPseudoVersion(rev)) return pseudoVersionRev(rev);
    const plain = build(rev) === '+incompatible' ? rev.slice(0, -'+incompatible'.length) : rev;
    return this.codeDir === '' ? plain : `${this.codeDir}/${plain}`;
  }

  /**
   * Where the module is at `version` (go's findDir): `codeDir`, or for a /vN path possibly
   * `codeDir/vN`, each only when its go.mod declares a matching path. Throws ModuleDirError with go's
   * text when neither can be the module.
   */
  findDir(version: string): Promise<ModuleDir> {
    let pending = this.dirs.get(version);
    if (pending === undefined) {
      pending = this.locate(version);
      this.dirs.set(version, pending);
    }
    return pending;
  }

  private async locate(version: string): Promise<ModuleDir> {
    if (!isValid(version)) throw invalidVersion(this.modulePath, version, 'syntax error');
    const rev = this.revToRev(version);
    const read = async (file: string): Promise<Buffer | undefined> => {
      try {
        return await this.code.readFile(rev, file, MAX_GO_MOD, 'go.mod');
      } catch (err) {
        if (!(err instanceof GodepotError)) throw err;
        const reading = `reading ${this.codeRoot}/${file} at revision ${rev}: ${err.message}`;
        // A revision that does not exist is a version that does not; anything else keeps its kind.
        if (err instanceof NotFoundError) throw new ModuleDirError(reading);
        throw err;
      }
    };
    const file1 = joinPath(this.codeDir, 'go.mod');
    const gomod1 = await read(file1);
    const mpath1 = declaredModulePath(gomod1);
    const found1 = gomod1 !== undefined && (isMajor(mpath1, this.pathMajor) || this.canReplaceMismatchedVersionDueToBug(mpath1));

    let file2 = '';
    if (this.pathMajor !== '' && this.codeRoot !== this.modulePath && !this.pathMajor.startsWith('.')) {
      // For /v2: either go.mod claims v2 and v2/go.mod does not exist, or v2/go.mod exists and claims
      // v2. Only the major suffix is compared: a fork may serve the module under another path.
      const dir2 = joinPath(this.codeDir, this.pathMajor.slice(1));
      file2 = joinPath(dir2, 'go.mod');
      const gomod2 = await read(file2);
      const mpath2 = declaredModulePath(gomod2);
      const found2 = gomod2 !== undefined && isMajor(mpath2, this.pathMajor);
      if (found1 && found2) {
        throw new ModuleDirError(`${this.pathPrefix}/${file1} and ...${this.pathMajor}/go.mod both have ...${this.pathMajor} module paths at revision ${rev}`);
      }
      if (found2) return { rev, dir: dir2, gomod: gomod2 };
      if (gomod2 !== undefined) {
        if (mpath2 === '') throw new ModuleDirError(`${this.codeRoot}/${file2} is missing module path at revision ${rev}`);
        throw new ModuleDirError(`${this.codeRoot}/${file2} has non-...${this.pathMajor} module path ${goQuote(mpath2)} at revision ${rev}`);
      }
    }
    if (found1) return { rev, dir: this.codeDir, gomod: gomod1 };
    if (gomod1 !== undefined) {
      const suffix = file2 !== '' ? ` (and ...${this.pathMajor}/go.mod does not exist)` : '';
      if (mpath1 === '') throw new ModuleDirError(`${file1} is missing module path${suffix} at revision ${rev}`);
      if (this.pathMajor !== '') throw new ModuleDirError(`${file1} has non-...${this.pathMajor} module path ${goQuote(mpath1)}${suffix} at revision ${rev}`);
      if (splitPathVersion(mpath1) === null) throw new ModuleDirError(`${file1} has malformed module path ${goQuote(mpath1)}${suffix} at revision ${rev}`);
      throw new ModuleDirError(`${file1} has post-${major(version)} module path ${goQuote(mpath1)}${suffix} at revision ${rev}`);
    }
    // No go.mod: allowed at the root of the repository for v0/v1 and gopkg.in, which then get one made up.
    if (this.codeDir === '' && (this.pathMajor === '' || this.pathMajor.startsWith('.'))) return { rev, dir: '', gomod: undefined };
    if (file2 !== '') throw new ModuleDirError(`missing ${this.pathPrefix}/go.mod and ...${this.pathMajor}/go.mod at revision ${rev}`);
    throw new ModuleDirError(`missing ${this.pathPrefix}/go.mod at revision ${rev}`);
  }

  // An old go bug (golang.org/issue/34254) accepted unversioned paths as replacements for gopkg.in ones.
  private canReplaceMismatchedVersionDueToBug(mpath: string): boolean {
    return this.pathMajor === '' && mpath.startsWith('gopkg.in/');
  }

  /**
   * The revision of a canonical `version` of this module, checked as go's Stat checks it: a tag of this
   * module that resolves to exactly this version, or a pseudo-version whose time, hash and base tag are
   * the revision's. Throws NotFoundError with go's text otherwise. go's GoMod and Zip check less (only
   * the revision at the end of a pseudo-version; a branch named like a version would do), which a proxy
   * must not: what it serves once it keeps for ever.
   */
  async checkVersion(version: string): Promise<ModuleRevInfo> {
    if (version !== canonicalVersion(version)) throw invalidVersion(this.modulePath, version, `version ${version} is not canonical`);
    try {
      checkPathMajor(version, this.pathMajor);
    } catch (err) {
      if (err instanceof GodepotError) throw invalidVersion(this.modulePath, version, (err as { reason?: string }).reason ?? err.message);
      throw err;
    }
    const info = await this.stat(version);
    if (info.version !== version) throw invalidVersion(this.modulePath, version, `resolves to version ${info.version}`);
    return info;
  }

  /** The go.mod of a canonical `version`: from the tree, or made up (`module <path>`) where it has none. */
  async goMod(version: string): Promise<Buffer> {
    await this.checkVersion(version);
    const found = await this.moduleDir(version);
    if (found.gomod !== undefined) return found.gomod;
    const data = await this.code.readFile(found.rev, joinPath(found.dir, 'go.mod'), MAX_GO_MOD, 'go.mod');
    return data ?? legacyGoMod(this.modulePath);
  }

  /** findDir, with its refusals as 404s naming the version. */
  async moduleDir(version: string): Promise<ModuleDir> {
    try {
      return await this.findDir(version);
    } catch (err) {
      if (err instanceof ModuleDirError) throw invalidVersion(this.modulePath, version, err.message);
      throw err;
    }
  }

  /**
   * Which versions the highest release's go.mod retracts (go's retractedVersions, for pseudo-version
   * bases and tags on a revision); a failure to read them retracts nothing, as in go.
   */
  retractions(): Promise<(v: string) => boolean> {
    return (this.retractedOnce ??= this.readRetractions().catch(() => () => false));
  }

  private async readRetractions(): Promise<(v: string) => boolean> {
    let versions = await this.versions('');
    // "+incompatible" versions have no go.mod to retract anything, and are all above the others.
    const firstIncompatible = versions.findIndex((v) => v.endsWith('+incompatible'));
    if (firstIncompatible >= 0) versions = versions.slice(0, firstIncompatible);
    if (versions.length === 0) return () => false;
    const highest = [...versions].reverse().find((v) => prerelease(v) === '') ?? versions[versions.length - 1]!;
    return retractedBy(await this.goMod(highest));
  }
}

/** The predicate of the versions a go.mod's retract directives cover; throws when the go.mod does not parse. */
export function retractedBy(gomod: Buffer): (v: string) => boolean {
  const intervals = parseGoModLax('go.mod', gomod).retract.map((r) => ({ low: r.low, high: r.high }));
  return (v) => intervals.some((r) => compare(r.low, v) <= 0 && compare(v, r.high) <= 0);
}

/** Why a version's tree cannot be the module (go's findDir errors); becomes a 404 naming the version. */
export class ModuleDirError extends GodepotError {
  readonly code = 'MODULE_DIR';
}

function joinPath(dir: string, file: string): string {
  return dir === '' ? file : `${dir}/${file}`;
}


/** A commit time as go writes it in messages (module.PseudoVersionTimestampFormat, UTC). */
function timestamp(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
