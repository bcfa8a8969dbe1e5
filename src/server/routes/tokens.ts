// /admin/tokens: token management over HTTP, for admins of the server as a whole (the gate decides
// that before). The same changes `godepot token` makes, on the same audit record, in force on this
// server when they are answered. A new token's secret is in its 201 answer and nowhere else.
import type { IncomingMessage } from 'node:http';
import { parseExpiry } from '../../auth/expiry.js';
import { parseRoleGrant, type RoleGrant } from '../../auth/roles.js';
import { tokenSummary, type TokenAdministration } from '../../auth/token-admin.js';
import { checkTokenName, type NewToken } from '../../auth/token-file.js';
import { ConfigError, GodepotError, InvalidRequestError, NotFoundError } from '../../errors.js';
import type { Admitted } from '../gate.js';
import { readJsonBody } from './json-body.js';
import type { OperationsAnswer } from './operations.js';

/** Largest body of a token creation: a name, a few roles and a date take a few hundred bytes. */
export const MAX_TOKEN_REQUEST = 64 * 1024;

/** A token creation whose body is larger than MAX_TOKEN_REQUEST; nothing was created. */
export class TokenRequestTooLargeError extends GodepotError {
  readonly code = 'TOKEN_REQUEST_TOO_LARGE';
}

/** What a token route is asked to do, as request.ts parsed it. */
export type TokenAction = { action: 'list' } | { action: 'create' } | { action: 'revoke'; name: string };

const json = 'application/json';

/**
 * The token routes of one server: `list` → 200 `{"tokens":[TokenSummary…]}`; `create` → 201 with the
 * token and its summary; `revoke` → 200 with the revoked token's summary. NotFoundError when the server
 * offers no token management (or for revoking an unknown token), InvalidRequestError for a body that
 * does not describe a token, TokenRequestTooLargeError, and TokenNameTakenError from the token file.
 */
export function tokensRoute(
  administration: TokenAdministration | undefined,
): (req: IncomingMessage, target: TokenAction, admitted: Admitted) => Promise<OperationsAnswer> {
  return async (req, target, admitted) => {
    if (administration === undefined) throw new NotFoundError('token management is not enabled on this server');
    const by = { actor: admitted.principal.name, from: admitted.address };
    const now = new Date();
    switch (target.action) {
      case 'list': {
        const tokens = (await administration.list()).map((record) => tokenSummary(record, now));
        return answer(200, { tokens });
      }
      case 'create': {
        const request = newTokenOf(await readJsonBody(req, MAX_TOKEN_REQUEST, () => new TokenRequestTooLargeError(`a token request takes at most ${MAX_TOKEN_REQUEST} bytes`)), now);
        const { token, record } = await administration.create(request, by, now);
        const { name, roles, created, expires } = tokenSummary(record, now);
        return answer(201, { name, token, roles, created, expires });
      }
      case 'revoke':
        return answer(200, tokenSummary(await administration.revoke(target.name, by), now));
    }
  };
}

function answer(status: number, body: unknown): OperationsAnswer {
  return { status, contentType: json, body: `${JSON.stringify(body)}\n` };
}

const fields = new Set(['name', 'roles', 'expires']);

/**
 * The token `body` asks for: `{"name": string, "roles": [string, …], "expires"?: string | null}`, the
 * roles and expiry read as `token create` reads --role and --expires. Their ConfigErrors are the
 * client's mistakes here, so they become InvalidRequestErrors with the same message.
 */
function newTokenOf(body: unknown, now: Date): NewToken {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequestError('want a JSON object {"name", "roles", "expires"}');
  const given = body as Record<string, unknown>;
  const unknown = Object.keys(given).find((key) => !fields.has(key));
  // An unknown field is most likely a misspelt one ("role", "expiry"): ignoring it would make a token other than the one asked for.
  if (unknown !== undefined) throw new InvalidRequestError(`unknown field ${JSON.stringify(unknown)}; want "name", "roles" and "expires"`);
  const { name, roles, expires } = given;
  if (typeof name !== 'string') throw new InvalidRequestError('"name": want a string');
  if (!Array.isArray(roles) || roles.length === 0 || !roles.every((role) => typeof role === 'string')) {
    throw new InvalidRequestError('"roles": want a non-empty array of strings such as "read" or "publish:corp.example.com/*"');
  }
  if (expires !== undefined && expires !== null && typeof expires !== 'string') {
    throw new InvalidRequestError('"expires": want a duration (30m, 12h, 90d), an RFC 3339 time, or null for never');
  }
  return clientsMistake(() => {
    checkTokenName(name);
    const grants: RoleGrant[] = roles.map(parseRoleGrant);
    return { name, roles: grants, expires: typeof expires === 'string' ? parseExpiry(expires, now, '"expires":') : null };
  });
}

function clientsMistake<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ConfigError) throw new InvalidRequestError(err.message, { cause: err });
    throw err;
  }
}
