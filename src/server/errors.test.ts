import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConfigError,
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
import { BundleRefusedError } from '../bundle/receive.js';
import { SumdbForkError, SumdbStateError, SumdbVerificationError } from '../checksum/errors.js';
import { TooManyFetchesError } from '../limits/concurrency-cap.js';
import { RateLimitedError } from '../limits/rate-limiter.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import { GoModSyntaxError } from '../module/modsyntax.js';
import { InvalidPathError } from '../module/path.js';
import { InvalidVersionError } from '../module/version.js';
import { ZipError } from '../module/ziperror.js';
import { MethodNotAllowedError } from '../protocol/request.js';
import { errorAnswer } from './errors.js';
import { ImportBusyError } from './routes/bundle-import.js';
import { TokenRequestTooLargeError } from './routes/tokens.js';
import { TokenNameTakenError } from '../auth/errors.js';
import { PublishConflictError, PublishRefusedError, PublishTooLargeError } from '../publish/errors.js';
import { ImportPathError, RepoUrlRefusedError, VcsNotSupportedError } from '../vcs/errors.js';

test('every error kind has its status, and only bugs are internal', () => {
  const cases: Array<[unknown, number, boolean]> = [
    [new InvalidRequestError('bad'), 400, false],
    [new InvalidPathError('module', 'gokapi', 'missing dot in first path element', { escapedPath: 'gokapi' }), 400, false],
    [new InvalidVersionError('', '', '', { escapedVersion: 'v1!' }), 400, false],
    [new InvalidVersionError('example.com/m/v2', 'v1.0.0', 'should be v2, not v1'), 404, false],
    [new MethodNotAllowedError('method POST not allowed'), 405, false],
    [new UnauthorizedError('a valid import token is needed'), 401, false],
    [new ForbiddenError('evil.example.com/x: denied by config file godepot.yaml: rule 3'), 403, false],
    [new NotFoundError('example.com/m@v1.0.0: not found'), 404, false],
    [new OriginUnavailableError('direct mode not available'), 404, false],
    [new OriginUnavailableError('module lookup disabled by --upstream off'), 404, false],
    [new ImportPathError('example.com/m', 'unrecognized import path "example.com/m": reading https://example.com/m?go-get=1: 404 Not Found'), 404, false],
    [new VcsNotSupportedError('example.com/m', 'hg', 'https://hg.example.com/m'), 404, false],
    [new RepoUrlRefusedError('example.com/m', 'file:///srv/m', 'file scheme disallowed'), 404, false],
    [new GoneError('gone'), 410, false],
    [new UpstreamError('https://proxy.example: 500 Internal Server Error', 500), 502, false],
    [new UpstreamError('connection reset'), 502, false],
    [new TimeoutError('no answer in 30 s'), 504, false],
    [new StorageFullError('storage is full (no space left on device): new modules cannot be stored'), 507, false],
    [new StorageUnusableError('storage /srv/godepot cannot be written (EACCES: permission denied): godepot runs as user godepot (uid 999), …'), 503, false],
    [new StorageQuotaError('storage quota reached: 1.0 GiB stored of max-storage 1.0 GiB (1073741824 bytes); a new module cannot be stored'), 507, false],
    [new InvalidContentError('zip larger than 500 MiB'), 502, false],
    [new ZipError('INVALID_ZIP', 'zip: not a valid zip file'), 502, false],
    [new GoModSyntaxError([{ filename: 'go.mod', line: 1, column: 1, verb: '', modulePath: '', reason: 'unknown directive: bogus' }]), 502, false],
    [new ChecksumMismatchError({ path: 'example.com/m', version: 'v1.0.0', downloaded: 'h1:a', recorded: 'h1:b' }), 502, false],
    [new SumdbVerificationError('downloaded inconsistent tile'), 502, false],
    [new SumdbForkError('SECURITY ERROR', { size: 2, hash: 'a' }, { size: 1, hash: 'b' }, 'c', true), 502, false],
    [new BundleRefusedError('example.com/m/@v/v1.0.0.zip: sha256 is 00, the manifest says ff'), 422, false],
    [new BundleBaseMissingError('this bundle adds to the bundle whose manifest id is ff..., which was never imported here', 'ff'), 422, false],
    [new ImportBusyError(30), 503, false],
    [new ForbiddenError('example.com/m: this server takes no publishes for this module path'), 403, false],
    [new PublishRefusedError('example.com/m/v2@v1.0.0 cannot be published'), 422, false],
    [new PublishTooLargeError('the zip is larger than a module zip may be'), 413, false],
    [new PublishConflictError('example.com/m@v1.0.0 is already published with other content'), 409, false],
    [new TokenNameTakenError('token name "ci" is taken'), 409, false],
    [new TokenRequestTooLargeError('a token request takes at most 65536 bytes'), 413, false],
    [new RateLimitedError(3), 429, false],
    [new TooManyFetchesError(64), 429, false],
    [new SumdbStateError('records were lost'), 500, true],
    [new ConfigError('listen: invalid'), 500, true],
    [new TypeError('x is undefined'), 500, true],
    [Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }), 500, true],
    ['a string thrown', 500, true],
    [undefined, 500, true],
  ];
  for (const [err, status, internal] of cases) {
    const answer = errorAnswer(err);
    assert.equal(answer.status, status, String(err));
    assert.equal(answer.internal, internal, String(err));
    assert.ok(answer.body.endsWith('\n'), String(err));
  }
});

test('bodies carry the reason in a form the go command prints; internal errors never leak theirs', () => {
  // The folder, the user and the fix are the operator's, in the log: the client is told only what fails.
  const unwritable = errorAnswer(new StorageUnusableError('storage /srv/godepot cannot be written (EACCES: permission denied): godepot runs as user godepot (uid 999), which needs write access to /srv/godepot'));
  assert.equal(unwritable.body, 'service unavailable: storage cannot be written, so new modules cannot be stored now (the server log says why)\n');
  assert.equal(errorAnswer(new NotFoundError('example.com/m@v1.0.0: not found')).body, 'not found: example.com/m@v1.0.0: not found\n');
  assert.equal(errorAnswer(new OriginUnavailableError('direct mode not available')).body, 'not found: direct mode not available\n');
  assert.equal(errorAnswer(new InvalidRequestError('request path holds a "." or ".." segment')).body, 'bad request: request path holds a "." or ".." segment\n');
  assert.equal(
    errorAnswer(new InvalidContentError('go.mod in the zip differs from the .mod served')).body,
    'bad gateway: invalid content from origin: go.mod in the zip differs from the .mod served\n',
  );
  assert.equal(
    errorAnswer(new SumdbVerificationError('reading tree note: invalid signature for key sum.example.com+0000abcd')).body,
    'bad gateway: checksum database: reading tree note: invalid signature for key sum.example.com+0000abcd\n',
  );
  assert.equal(
    errorAnswer(new ForbiddenError('evil.example.com/x: denied by config file godepot.yaml: rule 3 (match "evil.example.com")')).body,
    'forbidden: evil.example.com/x: denied by config file godepot.yaml: rule 3 (match "evil.example.com")\n',
  );
  assert.equal(errorAnswer(new TypeError('secret internals')).body, 'internal server error\n');
});

test('the upstream status of an UpstreamError is kept for the log; 405 carries Allow', () => {
  assert.equal(errorAnswer(new UpstreamError('bad', 503)).upstreamStatus, 503);
  assert.equal(errorAnswer(new NotFoundError('x')).upstreamStatus, undefined);
  assert.deepEqual(errorAnswer(new MethodNotAllowedError('no')).headers, ['allow', 'GET, HEAD']);
});

test('a refused upload says why; a busy server says when to send it again', () => {
  assert.equal(
    errorAnswer(new BundleRefusedError('manifest.json: modules[0].modHash: want an h1: hash')).body,
    'bundle refused, nothing imported: manifest.json: modules[0].modHash: want an h1: hash\n',
  );
  const busy = errorAnswer(new ImportBusyError(30));
  assert.deepEqual(busy.headers, ['retry-after', '30']);
  assert.equal(busy.body, 'busy: another bundle is being imported; send this one again in 30 s\n');
});

test('a client over its rate or its cold-fetch cap is told when to ask again', () => {
  const limited = errorAnswer(new RateLimitedError(7));
  assert.deepEqual(limited.headers, ['retry-after', '7']);
  assert.equal(limited.body, 'too many requests: rate limit exceeded: retry after 7 s\n');
  const fetches = errorAnswer(new TooManyFetchesError(64));
  assert.deepEqual(fetches.headers, ['retry-after', '1']);
  assert.match(fetches.body, /^too many requests: too many modules being fetched for this client at once \(at most 64\)/);
});
