// The one place where an error becomes an HTTP status. Core code throws typed errors and never names a
// status; this table decides what the go command sees. The go command falls through to the next
// GOPROXY entry only on 404 and 410, and prints the body of any error answer ("server response: …"),
// so the status chooses between "try elsewhere" and "stop here", and the body says why.
import {
  ForbiddenError,
  GoneError,
  InvalidContentError,
  InvalidRequestError,
  NotFoundError,
  OriginUnavailableError,
  StorageFullError,
  StorageUnusableError,
  StorageQuotaError,
  TimeoutError,
  UnauthorizedError,
  UpstreamError,
} from '../errors.js';
import { BundleBaseMissingError } from '../bundle/import.js';
import { BundleRefusedError, BundleTooLargeError } from '../bundle/receive.js';
import { SumdbForkError, SumdbVerificationError } from '../checksum/errors.js';
import { GoModSyntaxError } from '../module/modsyntax.js';
import { DirHashError } from '../module/hash.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import { TooManyFetchesError } from '../limits/concurrency-cap.js';
import { RateLimitedError } from '../limits/rate-limiter.js';
import { InvalidPathError } from '../module/path.js';
import { InvalidVersionError } from '../module/version.js';
import { ZipError } from '../module/ziperror.js';
import { MethodNotAllowedError } from '../protocol/request.js';
import { PublishConflictError, PublishRefusedError, PublishTooLargeError } from '../publish/errors.js';
import { RepoUrlRefusedError, VcsNotSupportedError } from '../vcs/errors.js';
import { TokenNameTakenError } from '../auth/errors.js';
import { ImportBusyError } from './routes/bundle-import.js';
import { TokenRequestTooLargeError } from './routes/tokens.js';
import { GcRequestTooLargeError } from './routes/gc.js';

/** How an error is answered: status, one-line-or-more text body, extra headers, and whether it is our bug. */
export interface ErrorAnswer {
  status: number;
  /** text/plain body the go command prints under "server response:"; ends with a newline. */
  body: string;
  /** Extra response headers, as [name, value] pairs (Allow for 405). */
  headers: readonly string[];
  /** True for failures that are not the client's or the origin's: log them with their stack. */
  internal: boolean;
  /** The status an origin answered with, when the error carries one. */
  upstreamStatus: number | undefined;
}

const none: readonly string[] = [];

function answer(status: number, prefix: string, err: Error, extra: Partial<ErrorAnswer> = {}): ErrorAnswer {
  return {
    status,
    body: `${prefix}: ${err.message}\n`,
    headers: extra.headers ?? none,
    internal: extra.internal ?? false,
    upstreamStatus: extra.upstreamStatus,
  };
}

/**
 * Maps any thrown value to its answer. The table, in order:
 * - InvalidRequestError, InvalidPathError, an InvalidVersionError from decoding the URL → 400: the
 *   request can never succeed anywhere, so no fall-through (proxy.golang.org answers these 400 too).
 * - InvalidVersionError about a decoded version (not canonical, wrong major version) → 404, as
 *   proxy.golang.org does since golang/go#33303, so a `,direct` client may still try elsewhere.
 * - MethodNotAllowedError → 405 with Allow.
 * - UnauthorizedError → 401 with `WWW-Authenticate: Basic realm="godepot"`, Basic because that is what
 *   go sends from .netrc: CredentialsRequiredError (no token where one is needed) and
 *   CredentialsRefusedError (a token that is malformed, unknown, revoked or expired), with bodies that
 *   say which and never echo the token. PermissionDeniedError (a valid token without the role) is a
 *   ForbiddenError → 403, naming the token and the role it lacks.
 * - ForbiddenError → 403 with the rule or setting that refuses the module (a `deny` routing rule, GOVCS),
 *   or the publish of a module path that is not routed `hosted`: godepot will not serve (or take) it,
 *   stored or not, and go stops there rather than fall through.
 * - NotFoundError → 404; GoneError → 410.
 * - OriginUnavailableError (the module is not stored and godepot's chain cannot fetch it: `off`,
 *   `direct` before the git origin exists, a private module) → 404, with the reason in the body: the
 *   module really is not available here, and a client whose own GOPROXY ends in `direct` can then fetch
 *   it itself, which is what such a chain asks for. A 5xx would stop that client for no gain.
 * - A repository godepot will not fetch from: one of another VCS than git (VcsNotSupportedError), or
 *   a URL whose transport it refuses (RepoUrlRefusedError: `file://`, `ext::`, plain http for a secure
 *   host) → 404 with the reason, for the same reason: nothing is wrong with the request or with an
 *   origin godepot asked, the module is only not available here, and a `,direct` client with its own
 *   hg, or its own GOINSECURE, can still fetch it. A module path that names no repository at all
 *   (ImportPathError, go's "unrecognized import path") is a NotFoundError, so 404 too.
 * - UpstreamError → 502 (its status logged); TimeoutError → 504. A checksum database that cannot be
 *   reached, or answers too late, to verify a module (SumdbUnreachableError) is an UpstreamError: 502,
 *   the body naming godepot's --nosumdb and --sumdb off and a bundle as the ways to store it anyway.
 * - Origin content that broke the module rules (InvalidContentError, ZipError, GoModSyntaxError,
 *   ChecksumMismatchError, DirHashError) → 502 with the reason: the origin is at fault, and nothing
 *   was stored.
 * - A checksum database answer that cannot be trusted (SumdbVerificationError: bad signature, tile or
 *   proof; SumdbForkError: a tree that does not extend the one seen before) → 502 with go's report:
 *   the database or its route is at fault, and the module it was asked about was not stored.
 * - StorageFullError → 507 Insufficient Storage: the module could not be stored, for lack of space;
 *   not the client's fault nor the origin's, and retrying elsewhere may help (go stops on it, as on any
 *   5xx, and prints the reason).
 * - StorageUnusableError (a write into the storage folder refused by its permissions or a read-only
 *   file system) → 503 Service Unavailable: the server cannot store now, and stored modules are still
 *   served. The body says only that; the message, which names the folder, the user godepot runs as and
 *   the fix, is the operator's and goes to the log.
 * - StorageQuotaError → 507 too: the module would pass `max-storage`; the body names the limit and the
 *   setting. Nothing of it was stored, and what is stored is still served.
 * - An uploaded bundle that is not one or fails verification (BundleRefusedError) → 422 with what is
 *   wrong with it: the request was well formed, its content cannot be imported; nothing was. So is an
 *   incremental bundle whose base this server's storage never took in (BundleBaseMissingError), unless
 *   the upload allows that: taken in alone, it would leave the storage short of what the base holds.
 * - An uploaded bundle larger than `--max-upload-size` (BundleTooLargeError) → 413, nothing kept.
 * - An upload while another is being received (ImportBusyError) → 503 with Retry-After, at once: the
 *   server is fine, and the same upload succeeds later.
 * - A principal asking faster than its rate limit allows (RateLimitedError), or starting more cold
 *   fetches at once than its cap (TooManyFetchesError) → 429 with Retry-After: the fault is the
 *   client's pace, not the request; the same request succeeds later (go does not retry it by itself,
 *   which is why the default limits sit far above what one build asks).
 * - The git origin's failures (vcs/git-error.ts) are kinds of the above, each naming the git command
 *   and git's reason: GitNotFoundError is a NotFoundError (404: the repository is not there),
 *   GitTransportRefusedError an OriginUnavailableError (404: a transport godepot does not use), GitAuthError
 *   and GitFailedError UpstreamErrors (502), GitTimeoutError a TimeoutError (504), GitOutputTooLargeError
 *   an InvalidContentError (502: past go's size limits).
 * - A published module version that cannot be published (PublishRefusedError: its version, zip or
 *   go.mod) → 422, nothing stored; one longer than a module zip may be (PublishTooLargeError) → 413; one
 *   published before with other content (PublishConflictError) → 409 naming both hashes: published
 *   versions never change.
 * - A token created under a name another token has (TokenNameTakenError) → 409: names identify tokens in
 *   logs and the audit record; a token creation body over its bound (TokenRequestTooLargeError) → 413,
 *   nothing created. A retention request body over its bound (GcRequestTooLargeError) → 413, nothing run.
 * - Anything else, ConfigError included (it never belongs at runtime) → 500, logged with its stack;
 *   never turned into a 404, which would let go fall through and hide the bug.
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof InvalidRequestError || err instanceof InvalidPathError) return answer(400, 'bad request', err);
  if (err instanceof InvalidVersionError) {
    return err.escapedVersion !== undefined ? answer(400, 'bad request', err) : answer(404, 'not found', err);
  }
  if (err instanceof MethodNotAllowedError) return answer(405, 'method not allowed', err, { headers: ['allow', err.allow] });
  if (err instanceof UnauthorizedError) return answer(401, 'unauthorized', err, { headers: ['www-authenticate', 'Basic realm="godepot"'] });
  if (err instanceof ForbiddenError) return answer(403, 'forbidden', err);
  if (err instanceof NotFoundError || err instanceof OriginUnavailableError) return answer(404, 'not found', err);
  if (err instanceof VcsNotSupportedError || err instanceof RepoUrlRefusedError) return answer(404, 'not found', err);
  if (err instanceof GoneError) return answer(410, 'gone', err);
  if (err instanceof UpstreamError) return answer(502, 'bad gateway', err, { upstreamStatus: err.status });
  if (err instanceof TimeoutError) return answer(504, 'gateway timeout', err);
  if (
    err instanceof InvalidContentError ||
    err instanceof ZipError ||
    err instanceof GoModSyntaxError ||
    err instanceof ChecksumMismatchError ||
    err instanceof DirHashError
  ) {
    return answer(502, 'bad gateway: invalid content from origin', err);
  }
  if (err instanceof SumdbVerificationError || err instanceof SumdbForkError) return answer(502, 'bad gateway: checksum database', err);
  if (err instanceof StorageFullError || err instanceof StorageQuotaError) return answer(507, 'insufficient storage', err);
  if (err instanceof StorageUnusableError) {
    return { status: 503, body: 'service unavailable: storage cannot be written, so new modules cannot be stored now (the server log says why)\n', headers: none, internal: false, upstreamStatus: undefined };
  }
  if (err instanceof BundleRefusedError || err instanceof BundleBaseMissingError) return answer(422, 'bundle refused, nothing imported', err);
  if (err instanceof ImportBusyError) return answer(503, 'busy', err, { headers: ['retry-after', String(err.retryAfterSeconds)] });
  if (err instanceof RateLimitedError || err instanceof TooManyFetchesError) {
    return answer(429, 'too many requests', err, { headers: ['retry-after', String(err.retryAfterSeconds)] });
  }
  if (err instanceof PublishRefusedError) return answer(422, 'publish refused, nothing stored', err);
  if (err instanceof BundleTooLargeError) return answer(413, 'payload too large, nothing imported', err);
  if (err instanceof PublishTooLargeError) return answer(413, 'payload too large, nothing stored', err);
  if (err instanceof PublishConflictError) return answer(409, 'conflict', err);
  if (err instanceof TokenNameTakenError) return answer(409, 'conflict', err);
  if (err instanceof TokenRequestTooLargeError) return answer(413, 'payload too large, nothing created', err);
  if (err instanceof GcRequestTooLargeError) return answer(413, 'payload too large, nothing run', err);
  return internalError();
}

function internalError(): ErrorAnswer {
  return { status: 500, body: 'internal server error\n', headers: none, internal: true, upstreamStatus: undefined };
}
