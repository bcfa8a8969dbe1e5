// The access-control seam the server asks before it looks anything up: who sent a request (from its
// Authorization header) and whether they may do what it asks to a module path.

/** What a request asks to do. `admin` covers bundle imports, deletions and token management. */
export type Role = 'read' | 'publish' | 'admin';

/** Who sent a request: a token's name and roles, or nobody (`anonymous`). */
export interface Principal {
  /** The token's name, or `anonymous`; what logs and the audit record show, never the token. */
  readonly name: string;
  readonly anonymous: boolean;
}

/** What the server asks of access control, per request. */
export interface AccessControl {
  /**
   * Who presented `authorization` (the raw header, or undefined): the anonymous principal when there is
   * none. Throws CredentialsRefusedError for a token that is unknown, revoked or expired, or a header
   * that is not Bearer or Basic.
   */
  authenticate(authorization: string | undefined): Principal;
  /**
   * Throws CredentialsRequiredError when `principal` is anonymous and anonymous clients may not `role`
   * on `modulePath` (undefined: the server as a whole, as for `/metrics` or a bundle import), and
   * PermissionDeniedError when a token's roles do not cover it.
   */
  authorize(principal: Principal, role: Role, modulePath: string | undefined): void;
  /** Whether `principal` may `role` on `modulePath`: what authorize() allows, answered without throwing. */
  allows(principal: Principal, role: Role, modulePath: string): boolean;
  /**
   * Whether `principal` holds `role` on some module paths at least (a grant with or without a pattern):
   * who may ask for a listing that then shows only what allows() lets it see.
   */
  holdsSomewhere(principal: Principal, role: Role): boolean;
  /** True when `modulePath` is private: read only with a token whose role covers it. */
  isPrivate(modulePath: string): boolean;
}
