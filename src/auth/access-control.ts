// AccessControl over the token file: who a request is from (its token, or anonymous) and whether
// that covers what it asks. Anonymous clients may at most read public modules (and the server's
// public parts, such as the checksum database proxy), and only when the server allows anonymous reads.
import type { AccessControl, Principal, Role } from './access.js';
import { tokenOfAuthorization } from './authorization-header.js';
import { CredentialsRequiredError, PermissionDeniedError } from './errors.js';
import { ANONYMOUS, TokenPrincipal } from './principal.js';
import { ROLE_RANK } from './roles.js';

/** What verifies a token: the TokenStore. */
export interface TokenVerifier {
  /** The token's principal; throws CredentialsRefusedError when it proves nothing. */
  verify(token: string): TokenPrincipal;
  /**
   * Changes whenever a token verify() accepted may no longer be accepted (the token file was
   * reloaded): what was remembered of earlier answers must then be forgotten.
   */
  readonly generation: number;
}

/** Options of TokenAccessControl. */
export interface TokenAccessControlOptions {
  tokens: TokenVerifier;
  /** `read`: requests without a token may read public modules; `none`: every request needs one. */
  anonymous: 'read' | 'none';
  /**
   * Whether a module path is private (the --private / GOPRIVATE patterns, and what is routed
   * `hosted`). Its answers are remembered per path, so it must always answer alike for a path.
   */
  isPrivate: (modulePath: string) => boolean;
  /** How many Authorization headers that verified are remembered; 10 000 by default. */
  cacheSize?: number;
  /** The clock a remembered header's expiry is checked against (the TokenStore's). */
  now?: () => number;
}

// Module paths whose privacy is remembered before all are forgotten: bounded against made-up paths.
const PRIVATE_CACHE_SIZE = 16_384;

/** AccessControl by tokens from a TokenStore, with anonymous reads of public modules optional. */
export class TokenAccessControl implements AccessControl {
  private readonly privacy = new Map<string, boolean>();
  // Authorization headers that verified, and their principals: a client sends the same header with
  // every request, and looking it up costs a fraction of decoding it and hashing the token again (the
  // cost `bench/proxy` measures). Only successes are remembered, at most cacheSize, forgotten at once
  // when the verifier's generation changes (a revoke), and never past the token's expiry. The keys
  // carry tokens: this process holds them anyway while it serves their requests.
  private readonly verified = new Map<string, TokenPrincipal>();
  private generation: number;
  private readonly cacheSize: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenAccessControlOptions) {
    this.generation = options.tokens.generation;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  authenticate(authorization: string | undefined): Principal {
    if (authorization === undefined || authorization === '') return ANONYMOUS;
    const { tokens } = this.options;
    if (tokens.generation !== this.generation) {
      this.verified.clear();
      this.generation = tokens.generation;
    }
    const known = this.verified.get(authorization);
    // An expired one goes the long way, to be refused as the verifier refuses it.
    if (known !== undefined && this.now() < known.expiresAt) return known;
    const principal = tokens.verify(tokenOfAuthorization(authorization));
    // Oldest first: Maps keep insertion order.
    if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(authorization, principal);
    return principal;
  }

  authorize(principal: Principal, role: Role, modulePath: string | undefined): void {
    if (principal instanceof TokenPrincipal) {
      // A token never allows less than none: go sends its .netrc credentials with every request to the
      // host, so a token for publishing one module also comes with reads of public ones.
      if (principal.rankOn(modulePath) < ROLE_RANK[role] && !this.anonymousMay(role, modulePath)) {
        throw new PermissionDeniedError(principal.name, role, modulePath);
      }
      return;
    }
    if (!principal.anonymous) throw new TypeError(`principal ${JSON.stringify(principal.name)} was not made by this access control`);
    if (!this.anonymousMay(role, modulePath)) throw new CredentialsRequiredError(role, modulePath);
  }

  allows(principal: Principal, role: Role, modulePath: string): boolean {
    if (principal instanceof TokenPrincipal && principal.rankOn(modulePath) >= ROLE_RANK[role]) return true;
    return this.anonymousMay(role, modulePath);
  }

  holdsSomewhere(principal: Principal, role: Role): boolean {
    if (principal instanceof TokenPrincipal && principal.roles.some((grant) => ROLE_RANK[grant.role] >= ROLE_RANK[role])) return true;
    return this.anonymousMay(role, undefined);
  }

  // A server-wide read (modulePath undefined) is of public things: the checksum database proxy.
  private anonymousMay(role: Role, modulePath: string | undefined): boolean {
    return this.options.anonymous === 'read' && role === 'read' && (modulePath === undefined || !this.isPrivate(modulePath));
  }

  isPrivate(modulePath: string): boolean {
    let answer = this.privacy.get(modulePath);
    if (answer === undefined) {
      answer = this.options.isPrivate(modulePath);
      if (this.privacy.size >= PRIVATE_CACHE_SIZE) this.privacy.clear();
      this.privacy.set(modulePath, answer);
    }
    return answer;
  }
}
