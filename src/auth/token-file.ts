// The token file: every token's name, roles, dates and the salted hash of its secret, as JSON (mode
// 0600). `godepot token` commands change it; the server only reads it (token-store.ts).
//
// Changes are serialised by a lock file (`<file>.lock`, lock/lock-file.ts) around read, change, write.
// Re-reading and retrying instead would not do: a rename cannot be made conditional on what the file
// still holds, so two commands could each read, and the later rename silently drop the token the other
// created (or bring back one it revoked).
// Writes go to a temporary file in the same folder, fsynced, then renamed: a reader sees the old file
// or the new one, never a half-written one.
import { open, mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { ConfigError, NotFoundError } from '../errors.js';
import { acquireLockFile } from '../lock/lock-file.js';
import { publish, temporaryPath } from '../storage/atomic-file.js';
import { TokenNameTakenError } from './errors.js';
import { formatRoleGrant, parseRoleGrant, type RoleGrant } from './roles.js';
import { hashSecret, newToken, scryptHash, type HashFunction, type SecretHash } from './token-secret.js';

/** One token as the file keeps it. */
export interface TokenRecord {
  /** The id part of the token, in clear: how a presented token is found. */
  readonly id: string;
  /** Unique; what logs, the audit log and `token revoke` call the token. */
  readonly name: string;
  readonly roles: readonly RoleGrant[];
  readonly created: Date;
  /** null: never. */
  readonly expires: Date | null;
  readonly hash: SecretHash;
}

/** What `token create` asks for. */
export interface NewToken {
  name: string;
  roles: readonly RoleGrant[];
  expires: Date | null;
}

const FORMAT = 'godepot-tokens/1';
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
// A command holds the lock for milliseconds; one whose holder is gone is taken over this much later.
const STALE_LOCK_MS = 5_000;
const LOCK_TIMEOUT_MS = 10_000;

const time = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'want an RFC 3339 time');
const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'want base64url');
const fileSchema = z.strictObject({
  format: z.literal(FORMAT),
  tokens: z.array(
    z.strictObject({
      id: z.string().regex(/^[0-9a-f]{16}$/, 'want 16 hex digits'),
      name: z.string().regex(NAME, 'want 1 to 64 of A-Z a-z 0-9 . _ -'),
      roles: z.array(z.string()).min(1),
      created: time,
      expires: time.nullable(),
      hash: z.strictObject({
        algorithm: z.literal('scrypt'),
        // Bounds that keep one verification within tens of milliseconds and 256 MiB.
        params: z.strictObject({
          N: z.number().int().min(2).max(2 ** 17).refine((n) => (n & (n - 1)) === 0, 'want a power of 2'),
          r: z.number().int().min(1).max(16),
          p: z.number().int().min(1).max(4),
          keylen: z.number().int().min(16).max(64),
        }),
        salt: base64url,
        key: base64url,
      }),
    }),
  ),
});

/** ConfigError unless `name` may name a token. */
export function checkTokenName(name: string): void {
  if (!NAME.test(name)) throw new ConfigError(`token name ${JSON.stringify(name)}: want 1 to 64 of A-Z a-z 0-9 . _ -`);
}

/** The tokens the text of `file` holds; ConfigError naming `file` when it is not a token file. */
export function parseTokenFile(file: string, text: string): TokenRecord[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not a token file: ${(err as Error).message}`, { cause: err });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${file}: not a token file: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  const names = new Set<string>();
  const ids = new Set<string>();
  return parsed.data.tokens.map((token, i) => {
    if (names.has(token.name)) throw new ConfigError(`${file}: not a token file: tokens.${i}: the name ${JSON.stringify(token.name)} is taken twice`);
    if (ids.has(token.id)) throw new ConfigError(`${file}: not a token file: tokens.${i}: the id ${token.id} is taken twice`);
    names.add(token.name);
    ids.add(token.id);
    let roles: RoleGrant[];
    try {
      roles = token.roles.map(parseRoleGrant);
    } catch (err) {
      throw new ConfigError(`${file}: not a token file: tokens.${i}.roles: ${(err as Error).message}`, { cause: err });
    }
    return {
      id: token.id,
      name: token.name,
      roles,
      created: new Date(token.created),
      expires: token.expires === null ? null : new Date(token.expires),
      hash: token.hash,
    };
  });
}

/** The tokens in `file`: none when it does not exist; ConfigError naming it when it is not a token file. */
export async function readTokenFile(file: string): Promise<TokenRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseTokenFile(file, text);
}

function serialise(records: readonly TokenRecord[]): string {
  const tokens = records.map((record) => ({
    id: record.id,
    name: record.name,
    roles: record.roles.map(formatRoleGrant),
    created: record.created.toISOString(),
    expires: record.expires === null ? null : record.expires.toISOString(),
    hash: record.hash,
  }));
  return `${JSON.stringify({ format: FORMAT, tokens }, null, 2)}\n`;
}

/** Options of TokenFile; the defaults are what the command uses. */
export interface TokenFileOptions {
  /** Derives secret hashes (tests count calls). */
  hash?: HashFunction;
  /** How long to wait for another command's lock before giving up. */
  lockTimeoutMs?: number;
  /** How old a lock whose holder is gone must be before it is taken over (lock-file.ts). */
  staleLockMs?: number;
}

/** Changes to the token file, each whole or not at all and serialised with other processes'. */
export class TokenFile {
  private readonly hash: HashFunction;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;

  constructor(
    readonly file: string,
    options: TokenFileOptions = {},
  ) {
    this.hash = options.hash ?? scryptHash;
    this.lockTimeoutMs = options.lockTimeoutMs ?? LOCK_TIMEOUT_MS;
    this.staleLockMs = options.staleLockMs ?? STALE_LOCK_MS;
  }

  /** Every stored token. */
  list(): Promise<TokenRecord[]> {
    return readTokenFile(this.file);
  }

  /**
   * Stores a new token and returns it (the only time its secret exists outside the caller) with its
   * record. `recorded` runs once the file is written, before the lock is let go (the audit record); if
   * it fails the token is removed again, so that no token exists that nobody recorded. Throws
   * ConfigError for a bad name, TokenNameTakenError for a name in use.
   */
  async create(request: NewToken, now: Date, recorded?: (record: TokenRecord) => Promise<void>): Promise<{ token: string; record: TokenRecord }> {
    checkTokenName(request.name);
    if (request.roles.length === 0) throw new ConfigError(`token ${JSON.stringify(request.name)}: give it at least one role`);
    return this.locked(async () => {
      const records = await readTokenFile(this.file);
      if (records.some((record) => record.name === request.name)) {
        throw new TokenNameTakenError(`token name ${JSON.stringify(request.name)} is taken; revoke that token first or choose another name`);
      }
      let made = newToken();
      while (records.some((record) => record.id === made.id)) made = newToken();
      const record: TokenRecord = {
        id: made.id,
        name: request.name,
        roles: request.roles,
        created: now,
        expires: request.expires,
        hash: hashSecret(made.secret, this.hash),
      };
      await this.write([...records, record]);
      if (recorded !== undefined) {
        try {
          await recorded(record);
        } catch (err) {
          await this.write(records);
          throw err;
        }
      }
      return { token: made.token, record };
    });
  }

  /**
   * Removes the token called `name` and returns its record; NotFoundError when there is none. `recorded`
   * runs once the file is written, before the lock is let go; if it fails the token stays revoked
   * (taking a revoke back would be worse than a missing record) and its error is thrown.
   */
  async revoke(name: string, recorded?: (record: TokenRecord) => Promise<void>): Promise<TokenRecord> {
    return this.locked(async () => {
      const records = await readTokenFile(this.file);
      const record = records.find((r) => r.name === name);
      if (record === undefined) throw new NotFoundError(`no token named ${JSON.stringify(name)} in ${this.file}`);
      await this.write(records.filter((r) => r !== record));
      if (recorded !== undefined) await recorded(record);
      return record;
    });
  }

  private async write(records: readonly TokenRecord[]): Promise<void> {
    const temp = temporaryPath(dirname(this.file), basename(this.file));
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(serialise(records));
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    await publish(temp, this.file);
  }

  private async locked<T>(change: () => Promise<T>): Promise<T> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const lock = await acquireLockFile(`${this.file}.lock`, {
      timeoutMs: this.lockTimeoutMs,
      staleMs: this.staleLockMs,
      timedOut: (message) => new ConfigError(`another godepot token command is changing ${this.file}: ${message}`),
    });
    try {
      return await change();
    } finally {
      await lock.release();
    }
  }
}

