// GOVCS, as the go command reads it (`go help vcs`): a comma-separated list of `pattern:vcslist` rules,
// the first whose pattern matches a repository root deciding which version control commands may fetch
// it. A pattern is `public`, `private` (whether the path matches GOPRIVATE) or a GOPRIVATE-style glob;
// a vcslist is `|`-separated command names, `all` or `off`. go's own rules, `private:all,public:git|hg`,
// always follow the given ones. godepot refuses a bad value at start, where go fails every fetch later.
import { ConfigError } from '../errors.js';
import { checkPrefixPatterns, matchPrefixPatterns } from '../module/patterns.js';

/** One GOVCS rule: the repository roots it is for, and the commands it allows there. */
export interface GovcsRule {
  /** `public`, `private`, or a GOPRIVATE-style glob. */
  readonly pattern: string;
  /** Command names (`git`), `all` for any, or names that allow nothing (`off`, go's tests use `none`). */
  readonly allowed: readonly string[];
}

/** go's rules, after any the setting gives (go appends them to the parsed setting). */
export const defaultGovcs: readonly GovcsRule[] = [
  { pattern: 'private', allowed: ['all'] },
  { pattern: 'public', allowed: ['git', 'hg'] },
];

/**
 * Parses a GOVCS value into its rules (without go's defaults); an empty value has none. Throws
 * ConfigError with go's messages for an empty entry, a missing colon, an empty pattern, VCS list or VCS
 * name, a relative pattern and a pattern given twice (`unreachable pattern`), and for a glob path.Match
 * calls malformed (go would let such a rule never match).
 */
export function parseGovcs(value: string): GovcsRule[] {
  const trimmed = value.trim();
  if (trimmed === '') return [];
  const rules: GovcsRule[] = [];
  const seen = new Map<string, string>();
  for (const raw of trimmed.split(',')) {
    const item = raw.trim();
    if (item === '') throw new ConfigError('GOVCS: empty entry in GOVCS');
    const colon = item.indexOf(':');
    if (colon < 0) throw new ConfigError(`GOVCS: malformed entry in GOVCS (missing colon): ${JSON.stringify(item)}`);
    const pattern = item.slice(0, colon).trim();
    const list = item.slice(colon + 1).trim();
    if (pattern === '') throw new ConfigError(`GOVCS: empty pattern in GOVCS: ${JSON.stringify(item)}`);
    if (list === '') throw new ConfigError(`GOVCS: empty VCS list in GOVCS: ${JSON.stringify(item)}`);
    if (pattern === '.' || pattern === '..' || pattern.startsWith('./') || pattern.startsWith('../')) {
      throw new ConfigError(`GOVCS: relative pattern not allowed in GOVCS: ${JSON.stringify(pattern)}`);
    }
    const earlier = seen.get(pattern);
    if (earlier !== undefined) throw new ConfigError(`GOVCS: unreachable pattern in GOVCS: ${JSON.stringify(item)} after ${JSON.stringify(earlier)}`);
    seen.set(pattern, item);
    if (pattern !== 'public' && pattern !== 'private') checkPrefixPatterns(pattern, 'GOVCS');
    const allowed = list.split('|').map((name) => name.trim());
    if (allowed.includes('')) throw new ConfigError(`GOVCS: empty VCS name in GOVCS: ${JSON.stringify(item)}`);
    rules.push({ pattern, allowed });
  }
  return rules;
}

/**
 * Whether `rules` (the setting's, then go's defaults) let `vcs` fetch the repository at `root`; `private`
 * says whether root matches GOPRIVATE. The first rule whose pattern matches decides; none matching
 * allows nothing, as in go.
 */
export function govcsAllows(rules: readonly GovcsRule[], root: string, isPrivate: boolean, vcs: string): boolean {
  for (const rule of [...rules, ...defaultGovcs]) {
    const matches = rule.pattern === 'private' ? isPrivate : rule.pattern === 'public' ? !isPrivate : matchPrefixPatterns(rule.pattern, root);
    if (matches) return rule.allowed.some((name) => name === vcs || name === 'all');
  }
  return false;
}
