// What a token may do: a list of grants `ROLE[:PATTERN]`. ROLE is read, publish or admin, each implying
// the ones before it (publish implies read, admin both); PATTERN is one GOPRIVATE-style glob (matched
// as go matches GOPRIVATE) limiting the grant to the module paths it matches.
//
// Actions on the server as a whole (modulePath undefined: a bundle import, /metrics, token management,
// the checksum database proxy) are covered only by a grant WITHOUT a pattern. `*` does not count: it
// is a pattern like any other, so `admin:*` may administer every module but not the server, and a
// token scoped to module paths never reaches beyond module paths by the way its pattern is spelled.
import { ConfigError } from '../errors.js';
import { checkPrefixPatterns, matchPrefixPatterns, patternMatchesNothing } from '../module/patterns.js';
import type { Role } from './access.js';

/** One `ROLE[:PATTERN]` of a token. */
export interface RoleGrant {
  readonly role: Role;
  /** The glob limiting the grant to some module paths; undefined: every module path and the server as a whole. */
  readonly pattern: string | undefined;
}

/** How much each role allows: a grant covers every role of lower or equal rank. */
export const ROLE_RANK: Readonly<Record<Role, number>> = { read: 1, publish: 2, admin: 3 };

/** What nothing grants: below every role. */
export const NO_RANK = 0;

/** Parses `ROLE[:PATTERN]`; ConfigError for an unknown role or a pattern that is malformed, a list, or matches nothing. */
export function parseRoleGrant(text: string): RoleGrant {
  const colon = text.indexOf(':');
  const role = colon === -1 ? text : text.slice(0, colon);
  if (role !== 'read' && role !== 'publish' && role !== 'admin') {
    throw new ConfigError(`role ${JSON.stringify(text)}: want read, publish or admin, optionally followed by :PATTERN`);
  }
  if (colon === -1) return { role, pattern: undefined };
  const pattern = text.slice(colon + 1);
  if (pattern === '') throw new ConfigError(`role ${JSON.stringify(text)}: the pattern after ":" is empty (leave out ":" for every module)`);
  // One glob per grant: a comma list would be read differently by a reader of `token list` than by go.
  if (pattern.includes(',')) throw new ConfigError(`role ${JSON.stringify(text)}: one pattern per role; repeat --role for more`);
  checkPrefixPatterns(pattern, `role ${JSON.stringify(text)}`);
  if (patternMatchesNothing(pattern)) throw new ConfigError(`role ${JSON.stringify(text)}: the pattern matches no module path`);
  return { role, pattern };
}

/** The grant as `parseRoleGrant` reads it. */
export function formatRoleGrant(grant: RoleGrant): string {
  return grant.pattern === undefined ? grant.role : `${grant.role}:${grant.pattern}`;
}

/**
 * The highest rank `grants` give on `modulePath` (undefined: the server as a whole, which only
 * pattern-less grants reach); NO_RANK when none applies.
 */
export function grantedRank(grants: readonly RoleGrant[], modulePath: string | undefined): number {
  let rank = NO_RANK;
  for (const grant of grants) {
    const r = ROLE_RANK[grant.role];
    if (r <= rank) continue;
    if (grant.pattern === undefined || (modulePath !== undefined && matchPrefixPatterns(grant.pattern, modulePath))) rank = r;
  }
  return rank;
}
