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
}

// Module paths whose privacy is remembered before all are forgotten: bounded against made-up paths.
const PRIVATE_CACHE_SIZE = 16_384;

/** AccessControl by tokens from a TokenStore, with anonymous reads of public modules optional. */
export class TokenAccessControl implements AccessControl {
  private readonly privacy = new Map<string, boolean>();

  constructor(private readonly options: TokenAccessControlOptions) {}

  authenticate(authorization: string | undefined): Principal {
    if (authorization === undefined || authorization === '') return ANONYMOUS;
    return this.options.tokens.verify(tokenOfAuthorization(authorization));
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
