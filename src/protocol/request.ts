// The GOPROXY protocol's URLs turned into typed requests, or into the typed error that says why not.
// Everything a client can put in a URL is checked here, before any storage key or upstream URL is
// built from it: traversal, encoded separators, double encoding, bad !-escapes, module paths and
// versions go would reject.
import { ConfigError, GodepotError, InvalidRequestError, NotFoundError } from '../errors.js';
import { checkPrefixPatterns } from '../module/patterns.js';
import { checkPathMajor, escapePath, escapeVersion, splitPathVersion, unescapePath, unescapeVersion } from '../module/path.js';
import { canonicalVersion, checkModule, InvalidVersionError } from '../module/version.js';
import { build, isValid, major } from '../module/semver.js';

/** The method is not one the route answers; `allow` lists the ones it does. */
export class MethodNotAllowedError extends GodepotError {
  readonly code = 'METHOD_NOT_ALLOWED';

  constructor(
    message: string,
    readonly allow = 'GET, HEAD',
  ) {
    super(message);
  }
}

/** What a request asks for: one GOPROXY endpoint of a module, a checksum database path, or an operations endpoint. */
export type ProxyRequest =
  | { route: 'list' | 'latest'; head: boolean; modulePath: string }
  /** `info` carries a version or any other query (`master`, `v1.2`); `mod` and `zip` a canonical version. */
  | { route: 'info' | 'mod' | 'zip'; head: boolean; modulePath: string; version: string }
  /**
   * `name` is the checksum database; `path` follows `/sumdb/<name>/` (`supported`, `latest`, `lookup/…`,
   * `tile/…`); `modulePath` is the module a lookup asks about (what access control decides on).
   */
  | { route: 'sumdb'; head: boolean; name: string; path: string; modulePath: string | undefined }
  /** `home` is `GET /`: a page saying what this server is and how to use it. */
  | { route: 'home' | 'healthz' | 'readyz' | 'metrics'; head: boolean }
  /** A bundle upload (`godepot bundle import --server`): POST with the bundle as the body. */
  | { route: 'import'; head: false }
  /** A module version published (`godepot publish`): PUT with its zip as the body; the version is not checked yet. */
  | { route: 'publish'; head: false; modulePath: string; version: string }
  /**
   * Token management (admins): `list` is GET (or HEAD) /admin/tokens, `create` a POST there with the
   * new token's JSON as the body, `revoke` DELETE /admin/tokens/<name>. The name is not checked here:
   * one that no token can have is simply not found.
   */
  | { route: 'tokens'; head: boolean; action: 'list' }
  | { route: 'tokens'; head: false; action: 'create' }
  | { route: 'tokens'; head: false; action: 'revoke'; name: string }
  /**
   * The catalog, `GET /index?since=&limit=`: stored versions in the order they were stored, as
   * index.golang.org answers. `since` (RFC 3339, inclusive) null from the start; `limit` 1 to 2000.
   */
  | { route: 'index'; head: boolean; since: Date | null; limit: number }
  /**
   * Storage administration (admins): `versions` is GET /admin/storage/versions, `usage` GET
   * /admin/storage/usage (`by` module or origin), each with an optional GOPRIVATE-style `pattern`;
   * `remove` is DELETE /admin/storage/<escaped module>/@v/<escaped version>.
   */
  | { route: 'storage'; head: boolean; action: 'versions'; pattern: string | null }
  | { route: 'storage'; head: boolean; action: 'usage'; by: 'module' | 'origin'; pattern: string | null }
  | { route: 'storage'; head: false; action: 'remove'; modulePath: string; version: string }
  /** A retention run (admins; `godepot storage gc --server`): POST /admin/gc with its conditions and pins as JSON. */
  | { route: 'gc'; head: false };

/** Where a server takes bundle uploads. */
export const bundleImportPath = '/admin/bundles';
/** The request header of an upload whose value `true` takes in an incremental bundle without its base (`bundle import --allow-partial`). */
export const allowPartialHeader = 'godepot-allow-partial';
const importRequest: Readonly<ProxyRequest> = Object.freeze({ route: 'import', head: false });

/** Where a server takes published modules: `PUT /admin/modules/<escaped module>/@v/<escaped version>.zip`. */
const publishPrefix = '/admin/modules/';

/** Where a server lists and creates tokens; one token is `<tokensPath>/<name>`. */
export const tokensPath = '/admin/tokens';
const tokensPrefix = tokensPath + '/';
const createTokenRequest: Readonly<ProxyRequest> = Object.freeze({ route: 'tokens', head: false, action: 'create' });

/** Where a server answers storage administration: `<storagePath>/versions`, `<storagePath>/usage`, `<storagePath>/<module>/@v/<version>`. */
export const storagePath = '/admin/storage';
const storagePrefix = storagePath + '/';

/** Where a server answers its catalog. */
export const indexPath = '/index';

/** Lines of `/index` at most, and by default, as index.golang.org answers. */
export const maxIndexLimit = 2000;

/** The request target of removing `modulePath@version` from storage. Throws InvalidPathError / InvalidVersionError when they cannot be escaped. */
export function storageRemovePath(modulePath: string, version: string): string {
  return `${storagePrefix}${escapePath(modulePath)}/@v/${escapeVersion(version)}`;
}

/** The request target of publishing `modulePath@version`. Throws InvalidPathError / InvalidVersionError when they cannot be escaped. */
export function modulePublishPath(modulePath: string, version: string): string {
  return `${publishPrefix}${escapePath(modulePath)}/@v/${escapeVersion(version)}.zip`;
}

/**
 * The request header carrying a published version's `.info` Time (RFC 3339): the time of the commit its
 * zip was built from. Without it the server's time of storing the version is used.
 */
export const commitTimeHeader = 'godepot-commit-time';

/** Where a server runs retention. */
export const gcPath = '/admin/gc';
const gcRequest: Readonly<ProxyRequest> = Object.freeze({ route: 'gc', head: false });

/** The route names of ProxyRequest. */
export type Route = ProxyRequest['route'];

/**
 * Longest request target accepted. Module paths and versions are far shorter in practice; the bound
 * keeps hostile URLs from costing more than a constant amount of work.
 */
export const maxUrlLength = 4096;

// Control characters, DEL and backslash never belong in a GOPROXY URL; a backslash is a separator on
// Windows file systems and in some URL parsers, so it would be a way around the segment checks.
const forbiddenChars = /[\x00-\x1f\x7f\\]/;
// A "." or ".." segment anywhere.
const dotSegment = /(?:^|\/)\.\.?(?:\/|$)/;
const percentTriplet = /%([0-9A-Fa-f]{2})/g;

/**
 * Parses a request line's method and target (`req.url`) into a ProxyRequest. Throws
 * InvalidRequestError (malformed or hostile URL), InvalidPathError (the module path is not one go
 * accepts), InvalidVersionError (a version that cannot name anything here), NotFoundError (no such
 * route) or MethodNotAllowedError. Touches no storage and no network. The last few thousand successful
 * parses of GET and HEAD requests are remembered (not those of `/index` and `/admin/storage/`, whose
 * query strings vary): while one is, the same method and URL give the very same frozen object, so
 * callers may key weak maps by it.
 */
export function parseRequest(method: string | undefined, rawUrl: string | undefined): Readonly<ProxyRequest> {
  const url = rawUrl ?? '';
  if (method === 'GET' || method === 'HEAD') {
    const cache = method === 'GET' ? parsedGets : parsedHeads;
    const known = cache.get(url);
    if (known !== undefined) return known;
    const request = Object.freeze(route(decodeTarget(url), method === 'HEAD', url));
    // Only module answers are asked again and again; a query string makes every catalog read new.
    if (request.route === 'index' || request.route === 'storage') return request;
    if (cache.size >= parsedCacheSize) cache.delete(cache.keys().next().value!);
    cache.set(url, request);
    return request;
  }
  if (method === 'POST' && url === bundleImportPath) return importRequest;
  if (method === 'POST' && url === gcPath) return gcRequest;
  const path = decodeTarget(url);
  if (method === 'PUT' && path.startsWith(publishPrefix)) return publishRequest(path);
  if (path === tokensPath || path.startsWith(tokensPrefix)) return tokensRequest(method, path, false);
  if (path.startsWith(storagePrefix)) return storageRequest(method, path, false, url);
  route(path, false, url);
  throw new MethodNotAllowedError(`method ${String(method)} not allowed; use GET or HEAD`);
}

// The same few URLs come back all day (every build asks for the same .info and .mod files), and the
// checks of a module path cost more than serving a cached file, so successful parses are remembered.
// Only successes: a flood of distinct bad URLs cannot grow this, and 4096 entries bound it anyway.
const parsedCacheSize = 4096;
const parsedGets = new Map<string, Readonly<ProxyRequest>>();
const parsedHeads = new Map<string, Readonly<ProxyRequest>>();

/** The request target's path, percent-decoded once and checked for every way out of the URL space. */
function decodeTarget(rawUrl: string): string {
  if (rawUrl.length > maxUrlLength) throw new InvalidRequestError(`request path longer than ${maxUrlLength} bytes`);
  const query = rawUrl.indexOf('?');
  // GOPROXY URLs carry no query; one is ignored as the static servers go also talks to would ignore it.
  let path = query < 0 ? rawUrl : rawUrl.slice(0, query);
  if (path[0] !== '/') throw new InvalidRequestError('request target must be an absolute path');
  if (path.includes('%')) path = percentDecode(path);
  if (forbiddenChars.test(path)) throw new InvalidRequestError('request path holds a control character or backslash');
  if (dotSegment.test(path)) throw new InvalidRequestError('request path holds a "." or ".." segment');
  return path;
}

// The go command percent-encodes what url.PathEscape escapes (it sends "!" as "%21"), so one round of
// decoding is part of the protocol. Encoded separators would let a segment smuggle a "/" or "\" past
// the segment checks, and a "%" left after decoding means the client encoded twice to hide something.
function percentDecode(path: string): string {
  let bad: string | undefined;
  const checked = path.replace(percentTriplet, (triplet, hex: string) => {
    const byte = parseInt(hex, 16);
    if (byte === 0x2f || byte === 0x5c || byte === 0x00) bad ??= triplet;
    return triplet;
  });
  if (bad !== undefined) throw new InvalidRequestError(`request path holds an encoded separator or NUL (${bad})`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(checked);
  } catch {
    throw new InvalidRequestError('request path holds a malformed percent-encoding');
  }
  if (decoded.includes('%')) throw new InvalidRequestError('request path is percent-encoded twice');
  return decoded;
}

function route(path: string, head: boolean, rawUrl: string): ProxyRequest {
  // Before the module routes, which would take `admin/modules/...` for a module path.
  if (path.startsWith(publishPrefix)) throw new MethodNotAllowedError('publishing takes PUT with the module zip as the body', 'PUT');
  if (path === tokensPath || path.startsWith(tokensPrefix)) return tokensRequest(head ? 'HEAD' : 'GET', path, head);
  if (path.startsWith(storagePrefix)) return storageRequest(head ? 'HEAD' : 'GET', path, head, rawUrl);
  if (path === indexPath) return indexRequest(head, rawUrl);
  if (path === gcPath) throw new MethodNotAllowedError('retention runs with POST, its conditions and pins as the JSON body', 'POST');
  const at = path.indexOf('/@v/');
  if (at > 0) {
    const file = path.slice(at + 4);
    if (file.includes('/')) throw notFound(path);
    const modulePath = unescapePath(path.slice(1, at));
    if (file === 'list') return { route: 'list', head, modulePath };
    const dot = file.lastIndexOf('.');
    const ext = dot < 0 ? '' : file.slice(dot + 1);
    if (ext !== 'info' && ext !== 'mod' && ext !== 'zip') throw notFound(path);
    const version = unescapeVersion(file.slice(0, dot));
    if (ext === 'info') checkQuery(modulePath, version);
    else checkCanonical(modulePath, version);
    return { route: ext, head, modulePath, version };
  }
  if (path.endsWith('/@latest') && path.length > '/@latest'.length) {
    return { route: 'latest', head, modulePath: unescapePath(path.slice(1, -'/@latest'.length)) };
  }
  if (path.startsWith('/sumdb/')) return sumdbRequest(path, head);
  if (path === '/') return { route: 'home', head };
  if (path === '/healthz') return { route: 'healthz', head };
  if (path === '/readyz') return { route: 'readyz', head };
  if (path === '/metrics') return { route: 'metrics', head };
  throw notFound(path);
}

// Only the escaping is checked here: a well-formed module@version that cannot be published is the
// publisher's to refuse, with its own reason.
function publishRequest(path: string): ProxyRequest {
  const rest = path.slice(publishPrefix.length);
  const at = rest.indexOf('/@v/');
  const file = at < 0 ? '' : rest.slice(at + 4);
  if (at <= 0 || !file.endsWith('.zip') || file.includes('/')) throw notFound(path);
  return { route: 'publish', head: false, modulePath: unescapePath(rest.slice(0, at)), version: unescapeVersion(file.slice(0, -'.zip'.length)) };
}

// Each token path answers its own methods, so that a wrong one is a 405 naming the right ones.
function tokensRequest(method: string | undefined, path: string, head: boolean): ProxyRequest {
  if (path === tokensPath) {
    if (method === 'GET' || method === 'HEAD') return { route: 'tokens', head, action: 'list' };
    if (method === 'POST') return createTokenRequest;
    throw new MethodNotAllowedError(`method ${String(method)} not allowed; list tokens with GET, create one with POST`, 'GET, HEAD, POST');
  }
  const name = path.slice(tokensPrefix.length);
  if (name === '' || name.includes('/')) throw notFound(path);
  if (method === 'DELETE') return { route: 'tokens', head: false, action: 'revoke', name };
  throw new MethodNotAllowedError(`method ${String(method)} not allowed; revoke a token with DELETE`, 'DELETE');
}

/** The parameters of the request target's query. */
function queryOf(rawUrl: string): URLSearchParams {
  const q = rawUrl.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
}

// RFC 3339 as go's time.Parse reads it, any number of fraction digits.
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// As index.golang.org: no `since` is from the start; no `limit` and one past the maximum both mean the maximum.
function indexRequest(head: boolean, rawUrl: string): ProxyRequest {
  const query = queryOf(rawUrl);
  // A `+` of an offset left unencoded reads as a space.
  const sinceText = query.get('since')?.replace(/ /g, '+') ?? '';
  let since: Date | null = null;
  if (sinceText !== '') {
    const match = rfc3339.exec(sinceText);
    since = match === null ? null : new Date(sinceText);
    if (since === null || Number.isNaN(since.getTime())) throw new InvalidRequestError(`since: want an RFC 3339 time such as 2024-01-02T15:04:05Z, not ${JSON.stringify(sinceText)}`);
    // Timestamps are in milliseconds: a time between two is rounded up, so that the one before it stays out.
    if (/[1-9]/.test(match![1]?.slice(4) ?? '')) since = new Date(since.getTime() + 1);
  }
  const limitText = query.get('limit') ?? '';
  let limit = maxIndexLimit;
  if (limitText !== '') {
    if (!/^[0-9]{1,9}$/.test(limitText) || Number(limitText) === 0) throw new InvalidRequestError(`limit: want a whole number from 1 to ${maxIndexLimit}, not ${JSON.stringify(limitText)}`);
    limit = Math.min(Number(limitText), maxIndexLimit);
  }
  return { route: 'index', head, since, limit };
}

// Each storage path answers its own methods, so that a wrong one is a 405 naming the right ones.
function storageRequest(method: string | undefined, path: string, head: boolean, rawUrl: string): ProxyRequest {
  const rest = path.slice(storagePrefix.length);
  if (rest === 'versions' || rest === 'usage') {
    if (method !== 'GET' && method !== 'HEAD') throw new MethodNotAllowedError(`method ${String(method)} not allowed; use GET`);
    const query = queryOf(rawUrl);
    const pattern = query.get('pattern') ?? '';
    if (pattern !== '') {
      try {
        checkPrefixPatterns(pattern, 'pattern');
      } catch (err) {
        if (err instanceof ConfigError) throw new InvalidRequestError(err.message, { cause: err });
        throw err;
      }
    }
    if (rest === 'versions') return { route: 'storage', head, action: 'versions', pattern: pattern === '' ? null : pattern };
    const by = query.get('by') ?? 'module';
    if (by !== 'module' && by !== 'origin') throw new InvalidRequestError(`by: want module or origin, not ${JSON.stringify(by)}`);
    return { route: 'storage', head, action: 'usage', by, pattern: pattern === '' ? null : pattern };
  }
  const at = rest.indexOf('/@v/');
  const escapedVersion = at < 0 ? '' : rest.slice(at + 4);
  if (at <= 0 || escapedVersion === '' || escapedVersion.includes('/')) throw notFound(path);
  if (method !== 'DELETE') throw new MethodNotAllowedError(`method ${String(method)} not allowed; remove a stored version with DELETE`, 'DELETE');
  return { route: 'storage', head: false, action: 'remove', modulePath: unescapePath(rest.slice(0, at)), version: unescapeVersion(escapedVersion) };
}

function notFound(path: string): NotFoundError {
  return new NotFoundError(`no such endpoint: ${path.length > 200 ? path.slice(0, 200) + '…' : path}`);
}

// A "+incompatible" version is a v2+ release of a module whose path has no major version suffix; go
// rejects the suffix anywhere else (modfetch's coderepo), so no origin can have such a version.
function checkIncompatible(modulePath: string, version: string, pathMajor: string): void {
  if (build(version) !== '+incompatible') return;
  const versionMajor = major(version);
  if (pathMajor !== '') {
    throw new InvalidVersionError(modulePath, version, '+incompatible suffix not allowed: module path includes a major version suffix, so major version must match');
  }
  if (versionMajor === 'v0' || versionMajor === 'v1') {
    throw new InvalidVersionError(modulePath, version, `+incompatible suffix not allowed: major version ${versionMajor} is compatible`);
  }
}

// A query that looks like a version resolves to that version, so one that cannot belong to a module with
// a major version suffix (v1.2.0 of a /v2 path) is answered here. Without a suffix any major version may
// resolve (go asks `@v/v2.0.0.info` and gets v2.0.0+incompatible), and any other query (a branch, a
// commit) goes to the origin.
function checkQuery(modulePath: string, query: string): void {
  if (!isValid(query)) return;
  const pathMajor = splitPathVersion(modulePath)?.pathMajor ?? '';
  checkIncompatible(modulePath, query, pathMajor);
  if (pathMajor === '') return;
  try {
    checkPathMajor(query, pathMajor);
  } catch (err) {
    if (!(err instanceof InvalidVersionError)) throw err;
    throw new InvalidVersionError(modulePath, query, err.reason, { cause: err });
  }
}

/**
 * Checks that `.mod` and `.zip` files can exist for `modulePath@version`: a valid pair (module.Check),
 * `+incompatible` only on a v2+ version of a path without a major version suffix, and a canonical
 * version (go asks for nothing else, and a file stored under another spelling would give one module
 * two names). Throws InvalidPathError or InvalidVersionError with go's reason.
 */
export function checkCanonical(modulePath: string, version: string): void {
  checkModule(modulePath, version);
  checkIncompatible(modulePath, version, splitPathVersion(modulePath)?.pathMajor ?? '');
  if (canonicalVersion(version) !== version) {
    throw new InvalidVersionError(modulePath, version, `not a canonical version (should be ${canonicalVersion(version)})`);
  }
}

// The name and path are checked by the passthrough itself (checksum/passthrough.ts), before it sends
// anything anywhere; here they are only split, after the traversal checks every URL gets. A lookup's
// module path is decoded here, because who may read a module decides whether it may be looked up.
function sumdbRequest(path: string, head: boolean): ProxyRequest {
  const slash = path.indexOf('/', '/sumdb/'.length);
  if (slash < 0 || slash === '/sumdb/'.length || slash === path.length - 1) throw notFound(path);
  const rest = path.slice(slash + 1);
  let modulePath: string | undefined;
  if (rest.startsWith('lookup/')) {
    const at = rest.indexOf('@');
    if (at <= 'lookup/'.length) throw new InvalidRequestError(`invalid checksum database lookup ${JSON.stringify(rest)}`);
    modulePath = unescapePath(rest.slice('lookup/'.length, at));
  }
  return { route: 'sumdb', head, name: path.slice('/sumdb/'.length, slash), path: rest, modulePath };
}
