// The one place a request's principal is decided and its permission checked, before any answer cache,
// storage, upstream or git is consulted: so a client that may not read a private module gets the same
// answer, at the same cost, whether or not the module exists. Limits per principal (request rate, cold
// fetches at once) and per address (failed authentications) live here too, and every refusal is put on
// the audit record.
import type { IncomingMessage } from 'node:http';
import type { AccessControl, Principal, Role } from '../auth/access.js';
import { tokenOfAuthorization } from '../auth/authorization-header.js';
import { CredentialsRefusedError, CredentialsRequiredError, PermissionDeniedError } from '../auth/errors.js';
import { sameSecret } from '../auth/static-tokens.js';
import type { Audit } from '../audit/audit.js';
import { ConcurrencyCap } from '../limits/concurrency-cap.js';
import { RateLimitedError, RateLimiter, type RateLimit } from '../limits/rate-limiter.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * Failed authentications one address may make: a client with a mistyped token finds out on its first
 * requests, a guesser gets one try a second. (A token's 256-bit secret is out of reach of guessing
 * anyway; this keeps the scrypt work and the audit lines a guesser causes bounded.)
 */
export const AUTH_FAILURES: Readonly<RateLimit> = Object.freeze({ ratePerSecond: 1, burst: 30 });

export interface GateOptions {
  access: AccessControl;
  audit: Audit;
  logger: Logger;
  /** Rate of each token; null: none. */
  tokenRate: Readonly<RateLimit> | null;
  /** Rate of each address sending no token; null: none. */
  anonymousRate: Readonly<RateLimit> | null;
  /** Requests of one principal waiting on an origin at once; 0: no cap. */
  maxColdFetches: number;
  /** The token `/metrics` requires besides an admin token; null: `/metrics` is open to all. */
  metricsToken: string | null;
  /**
   * The name of the checksum database godepot hosts, when its records may name private modules (it
   * records what the trusted one does not vouch for, published and --private modules among them): its
   * tiles and signed head are then read with a token only, lookups as reads of their module.
   */
  hostedSumdb?: string | null;
}

/** What a request was admitted as: who, and the key its limits are counted under. */
export interface Admitted {
  readonly principal: Principal;
  /** `token:<name>` or `address:<ip>`. */
  readonly key: string;
  readonly address: string;
}

/** The client address a request came from (no proxy headers are trusted: godepot is the edge). */
export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export class Gate {
  private readonly tokenRate: RateLimiter | null;
  private readonly anonymousRate: RateLimiter | null;
  private readonly failures = new RateLimiter(AUTH_FAILURES);
  /** Addresses out of failed attempts, until when (performance.now() ms); bounded as the limiter is. */
  private readonly barred = new Map<string, number>();
  private readonly coldFetches: ConcurrencyCap | null;

  constructor(private readonly options: GateOptions) {
    this.tokenRate = options.tokenRate === null ? null : new RateLimiter(options.tokenRate);
    this.anonymousRate = options.anonymousRate === null ? null : new RateLimiter(options.anonymousRate);
    this.coldFetches = options.maxColdFetches > 0 ? new ConcurrencyCap(options.maxColdFetches) : null;
  }

  /**
   * The principal of `req`, allowed to `role` on `modulePath` (undefined: the server as a whole), and
   * within its rate; throws CredentialsRequiredError, CredentialsRefusedError, PermissionDeniedError or
   * RateLimitedError. `target` names what was asked, for the audit record of a refusal; `tokenRequired`
   * refuses an anonymous client even where anonymous reads are allowed (sumdbNeedsToken).
   */
  admit(req: IncomingMessage, role: Role, modulePath: string | undefined, target: string, tokenRequired = false): Admitted {
    return this.enter(req, role, modulePath, target, tokenRequired, false);
  }

  /**
   * Admits a request for a listing of modules (the catalog, storage administration), which is to show
   * only the module paths `sees` accepts: those on which the principal may `role`. A principal that may
   * `role` on no module path is refused as admit() refuses it on the server as a whole. Throws as admit().
   */
  admitListing(req: IncomingMessage, role: Role, target: string): { admitted: Admitted; sees: (modulePath: string) => boolean } {
    const admitted = this.enter(req, role, undefined, target, false, true);
    return { admitted, sees: (modulePath) => this.options.access.allows(admitted.principal, role, modulePath) };
  }

  // Authenticates, limits and authorizes: `role` on `modulePath`, or with `listing` on some module path.
  // No closure per request: this runs for every request the server answers.
  private enter(req: IncomingMessage, role: Role, modulePath: string | undefined, target: string, tokenRequired: boolean, listing: boolean): Admitted {
    const address = clientAddress(req);
    const authorization = req.headers.authorization;
    let principal: Principal | undefined;
    try {
      if (authorization !== undefined) this.checkNotBarred(address);
      principal = this.options.access.authenticate(authorization);
      const key = principal.anonymous ? `address:${address}` : `token:${principal.name}`;
      const limiter = principal.anonymous ? this.anonymousRate : this.tokenRate;
      if (limiter !== null) {
        const decision = limiter.take(key);
        if (!decision.ok) throw new RateLimitedError(decision.retryAfterSeconds);
      }
      if (tokenRequired && principal.anonymous) throw new CredentialsRequiredError(role, modulePath);
      const { access } = this.options;
      if (!listing) access.authorize(principal, role, modulePath);
      else if (!access.holdsSomewhere(principal, role)) access.authorize(principal, role, undefined);
      return { principal, key, address };
    } catch (err) {
      if (err instanceof CredentialsRefusedError) this.failed(address);
      this.recordRefusal(err, principal, address, role, target);
      throw err;
    }
  }

  /**
   * Whether reading `/sumdb/<name>/…` needs a token whatever the anonymous setting: a lookup (of
   * `modulePath`) is a read of its module, but the rest of godepot's own database (tiles, the signed
   * head) names private modules.
   */
  sumdbNeedsToken(name: string, modulePath: string | undefined): boolean {
    return modulePath === undefined && name === this.options.hostedSumdb;
  }

  /**
   * Admits a scrape of `/metrics`: anyone when no metrics token is set, else a request bearing it
   * (Bearer, or Basic with it as the password) or an admin token.
   */
  admitMetrics(req: IncomingMessage): void {
    const { metricsToken } = this.options;
    if (metricsToken === null || bearsSecret(req.headers.authorization, metricsToken)) return;
    this.admit(req, 'admin', undefined, '/metrics');
  }

  /**
   * Takes one of the principal's places for a request that will wait on an origin; the function
   * returned gives it back. Throws TooManyFetchesError at the cap.
   */
  coldFetch(admitted: Admitted): () => void {
    return this.coldFetches === null ? noop : this.coldFetches.acquire(admitted.key);
  }

  private checkNotBarred(address: string): void {
    const until = this.barred.get(address);
    if (until === undefined) return;
    const left = until - performance.now();
    if (left > 0) throw new RateLimitedError(Math.ceil(left / 1000));
    this.barred.delete(address);
  }

  private failed(address: string): void {
    const decision = this.failures.take(address);
    if (decision.ok) return;
    if (this.barred.size >= 50_000) this.barred.delete(this.barred.keys().next().value!);
    this.barred.set(address, performance.now() + decision.retryAfterSeconds * 1000);
  }

  // Denials go on the record (who, from where, what, why); a request over its rate does not: it was
  // not refused for who it is, and a flood would otherwise write the flood down.
  private recordRefusal(err: unknown, principal: Principal | undefined, address: string, role: Role, target: string): void {
    let outcome: string;
    if (err instanceof CredentialsRequiredError) outcome = 'unauthenticated';
    else if (err instanceof CredentialsRefusedError) outcome = 'credentials refused';
    else if (err instanceof PermissionDeniedError) outcome = 'forbidden';
    else return;
    const event = { action: 'request.denied', actor: principal?.name ?? 'unknown', from: address, target, outcome, detail: { role } };
    this.options.audit.record(event).catch((auditErr: unknown) => this.options.logger.error({ err: auditErr, event }, 'audit record failed'));
  }
}

const noop = (): void => undefined;

/** True when `authorization` carries `secret` (Bearer, or Basic with it as the password); compared in constant time. */
function bearsSecret(authorization: string | undefined, secret: string): boolean {
  if (authorization === undefined) return false;
  let presented: string;
  try {
    presented = tokenOfAuthorization(authorization);
  } catch {
    return false;
  }
  return sameSecret(presented, secret);
}
