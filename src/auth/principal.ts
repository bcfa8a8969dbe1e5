// The principals access control hands the server: the one anonymous principal, and one per stored
// token, made when the token file is loaded and reused for every request the token authenticates.
import type { Principal } from './access.js';
import { grantedRank, type RoleGrant } from './roles.js';

/** Whoever sent a request without credentials. */
export const ANONYMOUS: Principal = Object.freeze({ name: 'anonymous', anonymous: true });

// Module paths whose rank a principal remembers before it forgets them all: enough for a build's
// dependency graph, bounded so that requests for made-up paths cannot grow it.
const RANK_CACHE_SIZE = 4096;

/** A stored token's name, roles and expiry; never its secret or hash (principals end up in logs). */
export class TokenPrincipal implements Principal {
  readonly anonymous = false;
  /** When the token stops working, in ms since the epoch; Infinity when it never does. */
  readonly expiresAt: number;
  private readonly ranks = new Map<string | undefined, number>();

  constructor(
    readonly name: string,
    readonly roles: readonly RoleGrant[],
    expires: Date | null,
  ) {
    this.expiresAt = expires === null ? Infinity : expires.getTime();
  }

  /** The highest rank (roles.ts ROLE_RANK) this token holds on `modulePath`, undefined meaning the server as a whole. */
  rankOn(modulePath: string | undefined): number {
    let rank = this.ranks.get(modulePath);
    if (rank === undefined) {
      rank = grantedRank(this.roles, modulePath);
      if (this.ranks.size >= RANK_CACHE_SIZE) this.ranks.clear();
      this.ranks.set(modulePath, rank);
    }
    return rank;
  }
}
