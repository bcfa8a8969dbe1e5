// `@latest` of a module served straight from git, as `go mod download <module>@latest` picks it in
// go 1.19 (modload.queryProxy with the query "latest" and CheckRetractions): the highest release, else
// the highest prerelease, else the default branch's head as a pseudo-version, leaving out the versions
// that the go.mod of the latest version (found ignoring retractions) retracts. "+incompatible" versions
// count only while the highest compatible version has no go.mod.
import { GodepotError, NotFoundError } from '../errors.js';
import { prerelease } from '../module/semver.js';
import { retractedBy, type GitModuleRepo, type ModuleRevInfo } from './git-module-repo.js';

/** The versions a query may pick, split as go's filterVersions splits them. */
interface Candidates {
  releases: string[];
  prereleases: string[];
}

// go's filterVersions for "latest": every allowed version, except that "+incompatible" ones stop
// counting at the first one above a compatible version with a go.mod (golang.org/issue/34165).
async function filterVersions(repo: GitModuleRepo, versions: readonly string[], allowed: (v: string) => Promise<boolean>): Promise<Candidates> {
  const releases: string[] = [];
  const prereleases: string[] = [];
  let needIncompatible = false;
  let lastCompatible = '';
  for (const v of versions) {
    if (!(await allowed(v))) continue;
    if (!needIncompatible) {
      if (!v.endsWith('+incompatible')) {
        lastCompatible = v;
      } else if (lastCompatible !== '') {
        if (await repo.versionHasGoMod(lastCompatible)) break;
        needIncompatible = true;
      }
    }
    (prerelease(v) === '' ? releases : prereleases).push(v);
  }
  return { releases, prereleases };
}

// The revision the query picks among `versions`, or the default branch's head; `allowed` filters both.
async function pick(repo: GitModuleRepo, versions: readonly string[], allowed: (v: string) => Promise<boolean>): Promise<ModuleRevInfo> {
  const { releases, prereleases } = await filterVersions(repo, versions, allowed);
  const best = releases[releases.length - 1] ?? prereleases[prereleases.length - 1];
  if (best !== undefined) return repo.stat(best);
  let head: ModuleRevInfo | undefined;
  try {
    head = await repo.latest();
  } catch (err) {
    // A repository without commits has no latest version; anything else is a failure to report.
    if (!(err instanceof NotFoundError)) throw err;
  }
  if (head !== undefined && (await allowed(head.version))) return head;
  throw new NotFoundError(`${repo.modulePath}@latest: no matching versions for query "latest"`);
}

/**
 * The revision `<module>@latest` names. Throws NotFoundError when no version qualifies (no tags and no
 * commits, or every candidate retracted).
 */
export async function queryLatest(repo: GitModuleRepo): Promise<ModuleRevInfo> {
  const versions = await repo.versions('');
  let retracted: Promise<(v: string) => boolean> | undefined;
  // go's CheckRetractions: the retractions are those of the latest version's go.mod, the latest version
  // being found with nothing retracted. A go.mod that cannot be had or read retracts nothing.
  const isRetracted = async (v: string): Promise<boolean> => {
    retracted ??= (async () => {
      try {
        const latest = await pick(repo, versions, async () => true);
        return retractedBy(await repo.goMod(latest.version));
      } catch (err) {
        if (err instanceof GodepotError) return () => false;
        throw err;
      }
    })();
    return (await retracted)(v);
  };
  return pick(repo, versions, async (v) => !(await isRetracted(v)));
}
