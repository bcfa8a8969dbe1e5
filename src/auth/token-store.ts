// The server's live view of the token file: verifies presented tokens, and follows changes that
// `godepot token` commands (other processes) make to the file without a restart.
//
// Verification hashes the secret once per token: a token that verified is remembered under the
// SHA-256 of the whole token (so the cache holds no secret), and later requests cost a hash and a map
// lookup. Only successes are remembered, and at most cacheSize of them, so that made-up tokens cannot
// grow the cache. Any change to the file empties it, so a revoke takes effect at the next reload.
// Changes are seen through fs.watch on the folder (renames replace the file, so the file itself cannot
// be watched) and, because fs.watch misses events on some file systems, a stat every pollMs.
import { hash as digest } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { CredentialsRefusedError } from './errors.js';
import { TokenPrincipal } from './principal.js';
import { parseTokenFile, readTokenFile, type TokenRecord } from './token-file.js';
import { hashSecret, parseToken, scryptHash, secretMatches, type HashFunction, type SecretHash } from './token-secret.js';

/** The part of a pino logger the store reports failed reloads to. */
export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/** Options of TokenStore.open. */
export interface TokenStoreOptions {
  /** The token file (missing: no tokens). */
  file: string;
  /** Where a reload that failed is reported; the old tokens stay in force meanwhile. */
  logger?: WarnLogger;
  /** Derives secret hashes (tests count calls). */
  hash?: HashFunction;
  /** How often the file is stat'ed in case fs.watch missed a change; 1000 ms by default. */
  pollMs?: number;
  /** How many verified tokens are remembered; 10 000 by default. */
  cacheSize?: number;
  /** The clock expiry is checked against. */
  now?: () => number;
}

interface Entry {
  readonly principal: TokenPrincipal;
  readonly hash: SecretHash;
}

// Every token godepot makes is this long; anything else is refused before it is hashed.
const TOKEN_LENGTH = 64;

const refused = (): CredentialsRefusedError => new CredentialsRefusedError('the token is not valid (unknown or revoked)');

/** Verifies tokens against the token file, following its changes until close(). */
export class TokenStore {
  private entries: ReadonlyMap<string, Entry> = new Map();
  private loads = 0;
  private readonly cache = new Map<string, TokenPrincipal>();
  // What the loaded (or last refused) file looked like: a changed one is read again.
  private loaded: string | undefined;
  private checking: Promise<void> | undefined;
  private recheck = false;
  private watcher: FSWatcher | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly hash: HashFunction;
  private readonly cacheSize: number;
  private readonly now: () => number;
  // What an unknown id is hashed against, so that it costs what a known one does.
  private readonly decoy: SecretHash;

  private constructor(private readonly options: TokenStoreOptions) {
    this.hash = options.hash ?? scryptHash;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.now = options.now ?? Date.now;
    this.decoy = hashSecret('decoy', this.hash);
    this.timer = setInterval(() => this.check(), options.pollMs ?? 1000).unref();
    try {
      const file = basename(options.file);
      this.watcher = watch(dirname(options.file), { persistent: false }, (_event, name) => {
        if (name === null || name === file) this.check();
      });
      // The folder went away, or the watch cannot go on: the poll still sees changes.
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      this.watcher = undefined;
    }
  }

  /** Loads `options.file` and starts following it; ConfigError naming the file when it is not a token file. */
  static async open(options: TokenStoreOptions): Promise<TokenStore> {
    const signature = await signatureOf(options.file);
    const records = await readTokenFile(options.file);
    const store = new TokenStore(options);
    store.install(records, signature);
    return store;
  }

  /**
   * The principal of `token`; CredentialsRefusedError when it is malformed, unknown (revoked) or
   * expired. Synchronous: the server asks per request. A token not seen since the last reload costs
   * one scrypt hash (a few ms), a known one a SHA-256 and a lookup.
   */
  verify(token: string): TokenPrincipal {
    if (token.length !== TOKEN_LENGTH) throw refused();
    const key = digest('sha256', token, 'base64');
    let principal = this.cache.get(key);
    if (principal === undefined) {
      principal = this.verifySecret(token);
      // Oldest first: Maps keep insertion order.
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, principal);
    }
    // The holder proved the secret, so telling them it expired gives nothing away.
    if (this.now() >= principal.expiresAt) throw new CredentialsRefusedError('the token has expired');
    return principal;
  }

  /** Changes with every load of the file: what verify() accepted before may now be refused. */
  get generation(): number {
    return this.loads;
  }

  /** Reads the file again if it changed; resolves once done (tests, and callers that just changed it). */
  async reload(): Promise<void> {
    this.check();
    // A check already under way may have read the file before the caller's change; wait for the one after it.
    while (this.checking !== undefined) await this.checking;
  }

  /** Stops following the file; verification goes on with the tokens last loaded. */
  close(): void {
    clearInterval(this.timer);
    this.stopWatching();
  }

  private verifySecret(token: string): TokenPrincipal {
    const parts = parseToken(token);
    if (parts === undefined) throw refused();
    const entry = this.entries.get(parts.id);
    if (entry === undefined) {
      secretMatches(parts.secret, this.decoy, this.hash);
      throw refused();
    }
    if (!secretMatches(parts.secret, entry.hash, this.hash)) throw refused();
    return entry.principal;
  }

  private install(records: readonly TokenRecord[], signature: string): void {
    this.entries = new Map(records.map((r) => [r.id, { principal: new TokenPrincipal(r.name, r.roles, r.expires), hash: r.hash }]));
    this.cache.clear();
    this.loads++;
    this.loaded = signature;
  }

  // One check at a time; a change seen during one leads to another once it is done.
  private check(): void {
    if (this.checking !== undefined) {
      this.recheck = true;
      return;
    }
    this.checking = this.checkOnce().finally(() => {
      this.checking = undefined;
      if (this.recheck) {
        this.recheck = false;
        this.check();
      }
    });
  }

  private async checkOnce(): Promise<void> {
    const file = this.options.file;
    try {
      // Stat before reading: the text read is then at least as new as the signature kept.
      const signature = await signatureOf(file);
      if (signature === this.loaded) return;
      let records: TokenRecord[];
      try {
        records = parseTokenFile(file, await readFile(file, 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          // Remembered, so that a broken file is reported once, not every poll.
          this.loaded = signature;
          throw err;
        }
        records = [];
      }
      this.install(records, signature);
    } catch (err) {
      this.options.logger?.warn({ err, file }, 'token file not reloaded; the tokens loaded before stay in force');
    }
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

// A file replaced by rename has a new inode; one rewritten in place, a new mtime or size.
async function signatureOf(file: string): Promise<string> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}
