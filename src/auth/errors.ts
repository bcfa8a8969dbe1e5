// Why a request or a token command was refused. The three request errors extend the shared
// UnauthorizedError (401) and ForbiddenError (403), so the server's one table already answers them
// with the right status; their messages are written to be shown to the client as they are: they
// never hold the token or the Authorization header, only the token's name once it was proven.
import { ForbiddenError, GodepotError, UnauthorizedError } from '../errors.js';
import type { Role } from './access.js';

/** The request needs a token and brought none (401, with a WWW-Authenticate challenge). */
export class CredentialsRequiredError extends UnauthorizedError {
  constructor(role: Role, modulePath: string | undefined) {
    super(
      modulePath === undefined
        ? `a token is needed to ${role} on this server (Authorization: Bearer <token>, or Basic with the token as password)`
        : `a token is needed to ${role} ${modulePath} (Authorization: Bearer <token>, or Basic with the token as password)`,
    );
  }
}

/** The request brought credentials that prove nothing: a malformed header, or a token that is unknown, revoked or expired (401). */
export class CredentialsRefusedError extends UnauthorizedError {}

/** A valid token whose roles do not cover what the request asks (403); the message names the token and the role. */
export class PermissionDeniedError extends ForbiddenError {
  constructor(
    readonly tokenName: string,
    readonly role: Role,
    readonly modulePath: string | undefined,
  ) {
    super(
      modulePath === undefined
        ? `token "${tokenName}" may not ${role} on this server as a whole (that needs the role ${role} without a pattern)`
        : `token "${tokenName}" may not ${role} ${modulePath}`,
    );
  }
}

/** `token create` with a name another token has: names identify tokens in logs, the audit log and `revoke`. */
export class TokenNameTakenError extends GodepotError {
  readonly code = 'TOKEN_NAME_TAKEN';
}
