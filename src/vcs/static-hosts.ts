// The import paths go 1.19 maps to repositories without asking the network (cmd/go/internal/vcs's
// vcsPaths): the hosting sites it knows, and paths that name their version control system
// (`example.com/repo.git/sub`). Each rule applies to the paths below its prefix; a path there that the
// rule's pattern refuses is an error, not a reason to look further.
import { goQuote } from '../module/quote.js';

/** What a rule found for a path. */
export type StaticMatch =
  /** No rule applies: the path's `?go-get=1` page says where it lives. */
  | { readonly kind: 'unknown' }
  /** A rule applies and refuses the path, in go's words. */
  | { readonly kind: 'error'; readonly message: string }
  /**
   * The repository: `repo` is its URL, or, for a path naming its VCS, the URL without its scheme
   * (`example.com/repo`), which go completes with each scheme the VCS knows in turn.
   */
  | { readonly kind: 'root'; readonly root: string; readonly vcs: string; readonly repo: string; readonly schemeless: boolean };

interface Rule {
  /** The paths the rule speaks for: this one and those below it; every path for the last, general rule. */
  readonly prefix: string;
  /** Named groups: `root`, and where the rule has no fixed ones, `repo` and `vcs`. */
  readonly pattern: RegExp;
  /** The VCS, when fixed. */
  readonly vcs?: string;
  /** The repository URL as a template of `{root}` and the other groups. */
  readonly repo?: string;
  /** go's check of the groups: an error message, or null. */
  readonly check?: (groups: Readonly<Record<string, string>>) => string | null;
}

// The version control commands go knows, whose names a repository path must not end in on the sites
// that add no suffix themselves (go's noVCSSuffix): `github.com/user/repo.git` is refused.
const VCS_COMMANDS = ['hg', 'git', 'svn', 'bzr', 'fossil'];

function noVcsSuffix(groups: Readonly<Record<string, string>>): string | null {
  return VCS_COMMANDS.some((vcs) => groups.repo!.endsWith('.' + vcs)) ? `invalid version control suffix in ${groups.prefix} path` : null;
}

function expand(template: string, groups: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => groups[name] ?? whole);
}

const ELEMENT = '[A-Za-z0-9_.\\-]+';

/** The rules go tries before a page's meta tags, in order; the last applies to every path. */
export const STATIC_HOSTS: readonly Rule[] = [
  {
    prefix: 'github.com',
    pattern: new RegExp(`^(?<root>github\\.com/${ELEMENT}/${ELEMENT})(/${ELEMENT})*$`),
    vcs: 'git',
    repo: 'https://{root}',
    check: noVcsSuffix,
  },
  {
    prefix: 'bitbucket.org',
    pattern: new RegExp(`^(?<root>bitbucket\\.org/${ELEMENT}/${ELEMENT})(/${ELEMENT})*$`),
    vcs: 'git',
    repo: 'https://{root}',
    check: noVcsSuffix,
  },
  {
    // IBM DevOps Services (JazzHub).
    prefix: 'hub.jazz.net/git',
    pattern: new RegExp(`^(?<root>hub\\.jazz\\.net/git/[a-z0-9]+/${ELEMENT})(/${ELEMENT})*$`),
    vcs: 'git',
    repo: 'https://{root}',
    check: noVcsSuffix,
  },
  {
    prefix: 'git.apache.org',
    pattern: new RegExp(`^(?<root>git\\.apache\\.org/[a-z0-9_.\\-]+\\.git)(/${ELEMENT})*$`),
    vcs: 'git',
    repo: 'https://{root}',
  },
  {
    prefix: 'git.openstack.org',
    pattern: new RegExp(`^(?<root>git\\.openstack\\.org/${ELEMENT}/${ELEMENT})(\\.git)?(/${ELEMENT})*$`),
    vcs: 'git',
    repo: 'https://{root}',
  },
  {
    prefix: 'chiselapp.com',
    pattern: /^(?<root>chiselapp\.com\/user\/[A-Za-z0-9]+\/repository\/[A-Za-z0-9_.-]+)$/,
    vcs: 'fossil',
    repo: 'https://{root}',
  },
  {
    // Any host, for a path that names its VCS: the repository is the part before `.git` (or `.hg`...),
    // the module may be in a subdirectory. Not anchored at the start, as in go: the leftmost match counts.
    prefix: '',
    pattern: /(?<root>(?<repo>([a-z0-9.-]+\.)+[a-z0-9.-]+(:[0-9]+)?(\/~?[A-Za-z0-9_.-]+)+?)\.(?<vcs>bzr|fossil|git|hg|svn))(\/~?[A-Za-z0-9_.-]+)*$/,
  },
];

/**
 * The rules go tries when neither the rules above nor the page's meta tags gave a repository: those of
 * sites that may serve meta tags one day. Launchpad's branches are Bazaar ones; for `project/series`
 * go asks code.launchpad.net whether the series has a branch of its own to choose the root, which
 * godepot does not, since it refuses Bazaar whatever the root.
 */
export const STATIC_HOSTS_AFTER_META: readonly Rule[] = [
  {
    prefix: 'launchpad.net',
    pattern: new RegExp(`^(?<root>launchpad\\.net/((?<project>${ELEMENT})(?<series>/${ELEMENT})?|~${ELEMENT}/(\\+junk|${ELEMENT})/${ELEMENT}))(/${ELEMENT})*$`),
    vcs: 'bzr',
    repo: 'https://{root}',
  },
];

/** What the first of `rules` that speaks for `importPath` says of it (go's repoRootFromVCSPaths). */
export function matchStaticHost(importPath: string, rules: readonly Rule[]): StaticMatch {
  for (const rule of rules) {
    if (!(rule.prefix === '' || importPath === rule.prefix || importPath.startsWith(rule.prefix + '/'))) continue;
    const found = rule.pattern.exec(importPath);
    if (found === null) {
      if (rule.prefix !== '') return { kind: 'error', message: `invalid ${rule.prefix} import path ${goQuote(importPath)}` };
      continue;
    }
    const groups: Record<string, string> = { prefix: rule.prefix + '/', import: importPath };
    for (const [name, value] of Object.entries(found.groups ?? {})) if (value !== undefined) groups[name] = value;
    if (rule.vcs !== undefined) groups.vcs = expand(rule.vcs, groups);
    if (rule.repo !== undefined) groups.repo = expand(rule.repo, groups);
    const refused = rule.check?.(groups) ?? null;
    if (refused !== null) return { kind: 'error', message: refused };
    return { kind: 'root', root: groups.root!, vcs: groups.vcs!, repo: groups.repo!, schemeless: rule.repo === undefined };
  }
  return { kind: 'unknown' };
}
