/**
 * Where a module path's code lives, as go's cmd/go/internal/vcs finds it (RepoRootForImportPath): the
 * prefix of the path that names the repository root, the version control system, and the repository.
 * Module paths below `root` live in subdirectories of that repository.
 */
export interface RepoRoot {
  /** The import path prefix the repository root stands for (`github.com/user/repo`). */
  readonly root: string;
  /**
   * The version control system (`git`, `hg`, `svn`, `bzr`, `fossil`), or `mod`: the prefix is served by
   * the GOPROXY at `urls[0]` (a `go-import` meta tag of the `mod` form).
   */
  readonly vcs: string;
  /**
   * The repository URLs to try, in order; the first that answers is the repository. One URL, except for
   * a path that names its VCS (`example.com/repo.git/sub`), where go tries each scheme the VCS knows
   * (only the secure ones, unless the host matches the insecure patterns).
   */
  readonly urls: readonly string[];
  /** True when the repository was named by a `go-import` meta tag rather than a static rule or the path itself. */
  readonly fromMetaTag: boolean;
}
