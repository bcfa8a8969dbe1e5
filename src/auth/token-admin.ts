// Token changes as an administrator makes them: each recorded in the audit log before it is reported
// done, whether it comes from `godepot token` or from the server's token management (/admin/tokens).
import type { Audit, AuditActor } from '../audit/audit.js';
import { NotFoundError } from '../errors.js';
import { formatRoleGrant } from './roles.js';
import type { NewToken, TokenFile, TokenRecord } from './token-file.js';

/** A token as `token list --json` and `GET /admin/tokens` show it: never its secret or hash. */
export interface TokenSummary {
  name: string;
  roles: string[];
  created: string;
  /** RFC 3339, or null: never. */
  expires: string | null;
  expired: boolean;
}

/** What may be shown of `record` to an administrator, its expiry judged at `now`. */
export function tokenSummary(record: TokenRecord, now: Date): TokenSummary {
  return {
    name: record.name,
    roles: record.roles.map(formatRoleGrant),
    created: record.created.toISOString(),
    expires: record.expires?.toISOString() ?? null,
    expired: record.expires !== null && record.expires.getTime() <= now.getTime(),
  };
}

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

/** Token management as a server offers it to admins: the token file's changes, audited, and in force at once. */
export interface TokenAdministration {
  /** Every stored token. */
  list(): Promise<TokenRecord[]>;
  /** As createToken; resolves once this server accepts the new token. */
  create(request: NewToken, by: TokenChanger, now: Date): Promise<{ token: string; record: TokenRecord }>;
  /** As revokeToken; resolves once this server refuses the token. NotFoundError (naming no file) when there is none. */
  revoke(name: string, by: TokenChanger): Promise<TokenRecord>;
}

/**
 * Token management over `tokens`, recorded in `audit`; `changed` makes the server's token view read the
 * file again (TokenStore.reload), so that a change is in force in this process when it is answered,
 * rather than after the store's next poll.
 */
export function tokenAdministration(tokens: TokenFile, audit: Audit, changed: () => Promise<void>): TokenAdministration {
  return {
    list: () => tokens.list(),
    async create(request, by, now) {
      const made = await createToken(tokens, audit, by, request, now);
      await changed();
      return made;
    },
    async revoke(name, by) {
      let record: TokenRecord;
      try {
        record = await revokeToken(tokens, audit, by, name);
      } catch (err) {
        // TokenFile's message names the file: a client of the server is told only what it asked about.
        if (err instanceof NotFoundError) throw new NotFoundError(`no token named ${JSON.stringify(name)}`, { cause: err });
        throw err;
      }
      await changed();
      return record;
    },
  };
}
