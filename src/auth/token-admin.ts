// Token changes as an administrator makes them: each recorded in the audit log before it is reported
// done, whether it comes from `godepot token` or (later) from the server's token management.
import type { Audit, AuditActor } from '../audit/audit.js';
import { formatRoleGrant } from './roles.js';
import type { NewToken, TokenFile, TokenRecord } from './token-file.js';

/** Who changes tokens and from where, as the audit log records it (`cli:<user>` from `cli`, or a token's name from an address). */
export interface TokenChanger {
  actor: AuditActor;
  from: string;
}

/** Creates a token, recorded as `token.create` before it resolves; the token is returned once, never recorded. */
export function createToken(
  tokens: TokenFile,
  audit: Audit,
  by: TokenChanger,
  request: NewToken,
  now: Date,
): Promise<{ token: string; record: TokenRecord }> {
  return tokens.create(request, now, (record) =>
    audit.record({
      action: 'token.create',
      ...by,
      target: record.name,
      outcome: 'ok',
      detail: { roles: record.roles.map(formatRoleGrant).join(' '), expires: record.expires?.toISOString() ?? 'never' },
    }),
  );
}

/** Revokes the token called `name`, recorded as `token.revoke` before it resolves; NotFoundError when there is none. */
export function revokeToken(tokens: TokenFile, audit: Audit, by: TokenChanger, name: string): Promise<TokenRecord> {
  return tokens.revoke(name, (record) =>
    audit.record({
      action: 'token.revoke',
      ...by,
      target: record.name,
      outcome: 'ok',
      detail: { roles: record.roles.map(formatRoleGrant).join(' '), expires: record.expires?.toISOString() ?? 'never' },
    }),
  );
}
