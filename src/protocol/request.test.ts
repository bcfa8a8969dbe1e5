import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorAnswer } from '../server/errors.js';
import { maxUrlLength, modulePublishPath, parseRequest, type ProxyRequest } from './request.js';

/** The status a request line gets: 200 when it parses, else the status its error maps to. */
function statusOf(method: string, url: string): number {
  try {
    parseRequest(method, url);
    return 200;
  } catch (err) {
    return errorAnswer(err).status;
  }
}

test('GOPROXY endpoints parse into module path, version and route, !-escapes and %-escapes decoded', () => {
  const cases: Array<[string, ProxyRequest]> = [
    ['/golang.org/x/text/@v/list', { route: 'list', head: false, modulePath: 'golang.org/x/text' }],
    ['/golang.org/x/text/@latest', { route: 'latest', head: false, modulePath: 'golang.org/x/text' }],
    ['/golang.org/x/text/@v/v0.3.2.info', { route: 'info', head: false, modulePath: 'golang.org/x/text', version: 'v0.3.2' }],
    ['/golang.org/x/text/@v/v0.3.2.mod', { route: 'mod', head: false, modulePath: 'golang.org/x/text', version: 'v0.3.2' }],
    ['/golang.org/x/text/@v/v0.3.2.zip', { route: 'zip', head: false, modulePath: 'golang.org/x/text', version: 'v0.3.2' }],
    ['/github.com/!azure/azure-sdk/@v/v1.0.0.info', { route: 'info', head: false, modulePath: 'github.com/Azure/azure-sdk', version: 'v1.0.0' }],
    // go sends "!" as %21 (url.PathEscape)
    ['/github.com/%21azure/azure-sdk/@v/list', { route: 'list', head: false, modulePath: 'github.com/Azure/azure-sdk' }],
    ['/example.com/m/v2/@v/v2.1.0.zip', { route: 'zip', head: false, modulePath: 'example.com/m/v2', version: 'v2.1.0' }],
    ['/example.com/m/@v/v2.0.0+incompatible.mod', { route: 'mod', head: false, modulePath: 'example.com/m', version: 'v2.0.0+incompatible' }],
    ['/example.com/m/@v/v2.0.0%2Bincompatible.zip', { route: 'zip', head: false, modulePath: 'example.com/m', version: 'v2.0.0+incompatible' }],
    ['/example.com/m/@v/v0.0.0-20200101000000-abcdefabcdef.info', { route: 'info', head: false, modulePath: 'example.com/m', version: 'v0.0.0-20200101000000-abcdefabcdef' }],
    ['/gopkg.in/yaml.v2/@v/v2.4.0.mod', { route: 'mod', head: false, modulePath: 'gopkg.in/yaml.v2', version: 'v2.4.0' }],
    // queries: any branch name or partial version goes to the origin through .info
    ['/example.com/m/@v/master.info', { route: 'info', head: false, modulePath: 'example.com/m', version: 'master' }],
    ['/example.com/m/@v/!main.info', { route: 'info', head: false, modulePath: 'example.com/m', version: 'Main' }],
    ['/example.com/m/@v/v1.2.info', { route: 'info', head: false, modulePath: 'example.com/m', version: 'v1.2' }],
    ['/example.com/m/v2/@v/v2.info', { route: 'info', head: false, modulePath: 'example.com/m/v2', version: 'v2' }],
    // go asks this of a path without /v2 and expects v2.0.0+incompatible
    ['/example.com/m/@v/v2.0.0.info', { route: 'info', head: false, modulePath: 'example.com/m', version: 'v2.0.0' }],
    // a query string is ignored
    ['/example.com/m/@v/list?go-get=1', { route: 'list', head: false, modulePath: 'example.com/m' }],
    ['/sumdb/sum.golang.org/supported', { route: 'sumdb', head: false, name: 'sum.golang.org', path: 'supported', modulePath: undefined }],
    ['/sumdb/sum.golang.org/lookup/github.com/!azure/x@v1.0.0', { route: 'sumdb', head: false, name: 'sum.golang.org', path: 'lookup/github.com/!azure/x@v1.0.0', modulePath: 'github.com/Azure/x' }],
    ['/sumdb/sum.golang.org/tile/8/0/x001/234.p/5', { route: 'sumdb', head: false, name: 'sum.golang.org', path: 'tile/8/0/x001/234.p/5', modulePath: undefined }],
    ['/', { route: 'home', head: false }],
    ['/healthz', { route: 'healthz', head: false }],
    ['/readyz', { route: 'readyz', head: false }],
    ['/metrics', { route: 'metrics', head: false }],
  ];
  for (const [url, want] of cases) {
    assert.deepEqual(parseRequest('GET', url), want, url);
    assert.deepEqual(parseRequest('HEAD', url), { ...want, head: true }, `HEAD ${url}`);
  }
});

test('a parse is the same the second time (remembered answers are not shared between GET and HEAD)', () => {
  const url = '/example.com/remembered/@v/v1.0.0.info';
  const first = parseRequest('GET', url);
  assert.equal(parseRequest('GET', url), first);
  assert.equal(parseRequest('HEAD', url).head, true);
  assert.equal(parseRequest('GET', url).head, false);
  assert.ok(Object.isFrozen(first));
});

test('every bad input gets its 4xx before anything is looked up', () => {
  const cases: Array<[string, string, number]> = [
    // traversal, in every spelling
    ['GET', '/example.com/m/../../etc/passwd/@v/list', 400],
    ['GET', '/../etc/passwd', 400],
    ['GET', '/example.com/m/@v/..', 400],
    ['GET', '/example.com/%2e%2e/@v/list', 400],
    ['GET', '/example.com/%2E%2E/%2e%2e/@v/v1.0.0.info', 400],
    ['GET', '/example.com/m/./@v/list', 400],
    ['GET', '/sumdb/sum.golang.org/../../etc/passwd', 400],
    ['GET', '/sumdb/sum.golang.org/lookup/%2e%2e/x@v1.0.0', 400],
    ['GET', '/sumdb/sum.golang.org/lookup/@v1.0.0', 400],
    ['GET', '/sumdb/sum.golang.org/lookup/github.com/Azure/x@v1.0.0', 400],
    // encoded separators and NUL
    ['GET', '/example.com/m%2f..%2f..%2fx/@v/list', 400],
    ['GET', '/example.com%2Fm/@v/list', 400],
    ['GET', '/example.com/m/@v/v1.0.0%2f.info', 400],
    ['GET', '/example.com%5c..%5cx/@v/list', 400],
    ['GET', '/example.com/m\\..\\x/@v/list', 400],
    ['GET', '/example.com/m%00/@v/list', 400],
    ['GET', '/example.com/m/@v/v1.0.0.info%00', 400],
    ['GET', '/example.com/m/@v/v1.0.0\x01.info', 400],
    // double encoding and bad escapes
    ['GET', '/example.com/%252e%252e/@v/list', 400],
    ['GET', '/example.com/m/@v/v1.0.0%252finfo.zip', 400],
    ['GET', '/example.com/m%zz/@v/list', 400],
    ['GET', '/example.com/m%/@v/list', 400],
    ['GET', '/example.com/m%c3/@v/list', 400],
    ['GET', '/github.com/Azure/x/@v/list', 400],
    ['GET', '/github.com/!!azure/x/@v/list', 400],
    ['GET', '/github.com/azure!/@v/list', 400],
    ['GET', '/example.com/m/@v/!V1.0.0.info', 400],
    ['GET', '/example.com/m/@v/v1.0.0!.zip', 400],
    // over-long
    ['GET', '/example.com/' + 'a'.repeat(maxUrlLength) + '/@v/list', 400],
    // module paths go rejects
    ['GET', '/gokapi/@latest', 400],
    ['GET', '/example.com//m/@v/list', 400],
    ['GET', '/-example.com/m/@v/list', 400],
    ['GET', '/example.com/m/v1/@v/list', 400],
    ['GET', '/example.com/.hidden/@v/list', 400],
    ['GET', '/example.com/m@v1/@v/list', 400],
    ['GET', '/example.com/com1/@v/list', 400],
    ['GET', '/example.com/m/@v/.info', 400],
    // versions that can name nothing here: not found, so a GOPROXY=godepot,direct client may go on
    ['GET', '/example.com/m/@v/master.mod', 404],
    ['GET', '/example.com/m/@v/v1.2.zip', 404],
    ['GET', '/example.com/m/@v/v1.2.3+build.mod', 404],
    ['GET', '/example.com/m/v2/@v/v1.0.0.info', 404],
    ['GET', '/example.com/m/v2/@v/v3.info', 404],
    ['GET', '/gopkg.in/yaml.v2/@v/v3.0.0.info', 404],
    ['GET', '/example.com/m/v2/@v/v1.0.0.zip', 404],
    ['GET', '/example.com/m/@v/v2.0.0.mod', 404],
    ['GET', '/example.com/m/@v/v01.0.0.zip', 404],
    ['GET', '/example.com/m/@v/v1.0.0+incompatible.mod', 404],
    ['GET', '/example.com/m/@v/v0.1.0+incompatible.info', 404],
    ['GET', '/example.com/m/v2/@v/v2.0.0+incompatible.zip', 404],
    ['GET', '/example.com/m/v2/@v/v2.0.0+incompatible.info', 404],
    // unknown routes
    ['GET', '/index.html', 404],
    ['GET', '/example.com/m', 404],
    ['GET', '/example.com/m/@v/', 404],
    ['GET', '/example.com/m/@v/v1.0.0.ziphash', 404],
    ['GET', '/example.com/m/@v/v1.0.0.tar.gz', 404],
    ['GET', '/example.com/m/@v/v1.0.0/x.zip', 404],
    ['GET', '/@v/list', 404],
    ['GET', '/@latest', 404],
    ['GET', '/sumdb/sum.golang.org', 404],
    ['GET', '/sumdb//supported', 404],
    ['GET', '/healthz/', 404],
    // not an origin-form target
    ['GET', 'http://evil.example/example.com/m/@v/list', 400],
    ['GET', '*', 400],
    ['GET', '', 400],
    // methods
    ['POST', '/example.com/m/@v/list', 405],
    ['PUT', '/example.com/m/@v/v1.0.0.zip', 405],
    ['DELETE', '/healthz', 405],
    ['POST', '/', 405],
    ['OPTIONS', '/example.com/m/@latest', 405],
    ['POST', '/nowhere', 404],
    ['POST', '/example.com/%2e%2e/@v/list', 400],
  ];
  for (const [method, url, status] of cases) assert.equal(statusOf(method, url), status, `${method} ${JSON.stringify(url)}`);
});

test('errors say what is wrong in go\'s words', () => {
  assert.throws(() => parseRequest('GET', '/gokapi/@latest'), {
    message: 'invalid escaped module path "gokapi": malformed module path "gokapi": missing dot in first path element',
  });
  assert.throws(() => parseRequest('GET', '/example.com/m/v2/@v/v1.0.0.zip'), {
    message: 'example.com/m/v2@v1.0.0: invalid version: should be v2, not v1',
  });
  assert.throws(() => parseRequest('GET', '/example.com/m/@v/v1.2.zip'), {
    message: 'example.com/m@v1.2: invalid version: not a canonical version (should be v1.2.0)',
  });
  assert.throws(() => parseRequest('GET', '/example.com/m/@v/v1.0.0+incompatible.zip'), {
    message: 'example.com/m@v1.0.0+incompatible: invalid version: +incompatible suffix not allowed: major version v1 is compatible',
  });
  assert.throws(() => parseRequest('GET', '/example.com/%2e%2e/@v/list'), { message: 'request path holds a "." or ".." segment' });
  assert.throws(() => parseRequest('POST', '/example.com/m/@v/list'), { message: 'method POST not allowed; use GET or HEAD' });
});

test('405 answers say which methods are allowed', () => {
  let caught: unknown;
  try {
    parseRequest('POST', '/example.com/m/@v/list');
  } catch (err) {
    caught = err;
  }
  assert.deepEqual(errorAnswer(caught).headers, ['allow', 'GET, HEAD']);
});

test('publishes: PUT /admin/modules/<escaped module>/@v/<escaped version>.zip, escapes checked, the version left to the publisher', () => {
  assert.deepEqual(parseRequest('PUT', '/admin/modules/example.com/!upper/m/@v/v1.2.3.zip'), { route: 'publish', head: false, modulePath: 'example.com/Upper/m', version: 'v1.2.3' });
  assert.equal(modulePublishPath('example.com/Upper/m', 'v2.0.0+incompatible'), '/admin/modules/example.com/!upper/m/@v/v2.0.0+incompatible.zip');
  // A valid name that cannot be published (v1 of a /v2 path) is the publisher's to refuse.
  assert.deepEqual(parseRequest('PUT', '/admin/modules/example.com/m/v2/@v/v1.0.0.zip'), { route: 'publish', head: false, modulePath: 'example.com/m/v2', version: 'v1.0.0' });
  assert.equal(statusOf('PUT', '/admin/modules/example.com/M/@v/v1.0.0.zip'), 400);
  assert.equal(statusOf('PUT', '/admin/modules/example.com/m/@v/v1.0.0!.zip'), 400);
  assert.equal(statusOf('PUT', '/admin/modules/example.com/m/@v/v1.0.0.mod'), 404);
  assert.equal(statusOf('PUT', '/admin/modules/example.com/m/@v/x/v1.0.0.zip'), 404);
  assert.equal(statusOf('PUT', '/admin/modules/example.com/%2e%2e/@v/v1.0.0.zip'), 400);
  // PUT nowhere else; nothing but PUT there.
  assert.equal(statusOf('PUT', '/example.com/m/@v/v1.0.0.zip'), 405);
  let caught: unknown;
  try {
    parseRequest('GET', '/admin/modules/example.com/m/@v/v1.0.0.zip');
  } catch (err) {
    caught = err;
  }
  assert.equal(errorAnswer(caught).status, 405);
  assert.deepEqual(errorAnswer(caught).headers, ['allow', 'PUT']);
});

test('token management: GET/HEAD and POST /admin/tokens, DELETE /admin/tokens/<name>; other methods 405 naming the right ones', () => {
  assert.deepEqual(parseRequest('GET', '/admin/tokens'), { route: 'tokens', head: false, action: 'list' });
  assert.deepEqual(parseRequest('HEAD', '/admin/tokens'), { route: 'tokens', head: true, action: 'list' });
  assert.deepEqual(parseRequest('POST', '/admin/tokens'), { route: 'tokens', head: false, action: 'create' });
  assert.deepEqual(parseRequest('DELETE', '/admin/tokens/ci-1.x'), { route: 'tokens', head: false, action: 'revoke', name: 'ci-1.x' });
  // Decoded once, like every path; a name no token can have is left to be not found.
  assert.deepEqual(parseRequest('DELETE', '/admin/tokens/a%20b'), { route: 'tokens', head: false, action: 'revoke', name: 'a b' });
  assert.equal(statusOf('DELETE', '/admin/tokens/'), 404);
  assert.equal(statusOf('DELETE', '/admin/tokens/a/b'), 404);
  assert.equal(statusOf('DELETE', '/admin/tokens/a%2fb'), 400);
  assert.equal(statusOf('DELETE', '/admin/tokens/..'), 400);
  assert.equal(statusOf('GET', '/admin/tokens/'), 404);
  assert.equal(statusOf('GET', '/admin/tokensx'), 404);
  const allowed = (method: string, url: string): readonly string[] => {
    try {
      parseRequest(method, url);
    } catch (err) {
      const answer = errorAnswer(err);
      assert.equal(answer.status, 405, `${method} ${url}`);
      return answer.headers;
    }
    assert.fail(`${method} ${url} parsed`);
  };
  assert.deepEqual(allowed('PUT', '/admin/tokens'), ['allow', 'GET, HEAD, POST']);
  assert.deepEqual(allowed('DELETE', '/admin/tokens'), ['allow', 'GET, HEAD, POST']);
  assert.deepEqual(allowed('GET', '/admin/tokens/ci'), ['allow', 'DELETE']);
  assert.deepEqual(allowed('POST', '/admin/tokens/ci'), ['allow', 'DELETE']);
});

test('the catalog: GET /index with since (RFC 3339, inclusive, rounded up to the millisecond) and limit (default and at most 2000)', () => {
  assert.deepEqual(parseRequest('GET', '/index'), { route: 'index', head: false, since: null, limit: 2000 });
  assert.deepEqual(parseRequest('HEAD', '/index?limit=5'), { route: 'index', head: true, since: null, limit: 5 });
  assert.deepEqual(parseRequest('GET', '/index?since=2024-01-02T03:04:05Z&limit=10'), { route: 'index', head: false, since: new Date('2024-01-02T03:04:05Z'), limit: 10 });
  assert.deepEqual(parseRequest('GET', '/index?since=2024-01-02T03:04:05.1234Z'), { route: 'index', head: false, since: new Date('2024-01-02T03:04:05.124Z'), limit: 2000 });
  assert.deepEqual(parseRequest('GET', '/index?since=2024-01-02T03:04:05.120000Z'), { route: 'index', head: false, since: new Date('2024-01-02T03:04:05.120Z'), limit: 2000 });
  // An offset's + sent unencoded reads as a space; %2B is the encoded one.
  assert.deepEqual(parseRequest('GET', '/index?since=2024-01-02T05:04:05+02:00'), { route: 'index', head: false, since: new Date('2024-01-02T03:04:05Z'), limit: 2000 });
  assert.deepEqual(parseRequest('GET', '/index?since=2024-01-02T05:04:05%2B02:00'), { route: 'index', head: false, since: new Date('2024-01-02T03:04:05Z'), limit: 2000 });
  assert.deepEqual(parseRequest('GET', '/index?limit=100000'), { route: 'index', head: false, since: null, limit: 2000 });
  for (const bad of ['/index?since=yesterday', '/index?since=2024-01-02', '/index?since=2024-13-02T00:00:00Z', '/index?limit=0', '/index?limit=-1', '/index?limit=ten']) {
    assert.equal(statusOf('GET', bad), 400, bad);
  }
  assert.equal(statusOf('POST', '/index'), 405);
  assert.notEqual(parseRequest('GET', '/index?limit=7'), parseRequest('GET', '/index?limit=7'), 'catalog reads are not remembered');
});

test('storage administration: GET /admin/storage/versions and /usage with pattern and by, DELETE /admin/storage/<module>/@v/<version>; other methods 405', () => {
  assert.deepEqual(parseRequest('GET', '/admin/storage/versions'), { route: 'storage', head: false, action: 'versions', pattern: null });
  assert.deepEqual(parseRequest('GET', '/admin/storage/versions?pattern=golang.org/x/*'), { route: 'storage', head: false, action: 'versions', pattern: 'golang.org/x/*' });
  assert.deepEqual(parseRequest('HEAD', '/admin/storage/usage'), { route: 'storage', head: true, action: 'usage', by: 'module', pattern: null });
  assert.deepEqual(parseRequest('GET', '/admin/storage/usage?by=origin'), { route: 'storage', head: false, action: 'usage', by: 'origin', pattern: null });
  assert.deepEqual(parseRequest('DELETE', '/admin/storage/github.com/!azure/sdk/@v/v1.0.0'), { route: 'storage', head: false, action: 'remove', modulePath: 'github.com/Azure/sdk', version: 'v1.0.0' });
  assert.equal(statusOf('GET', '/admin/storage/usage?by=size'), 400);
  assert.equal(statusOf('GET', '/admin/storage/versions?pattern=a[b'), 400);
  assert.equal(statusOf('GET', '/admin/storage/example.com/a/@v/v1.0.0'), 405);
  assert.equal(statusOf('DELETE', '/admin/storage/versions'), 405);
  assert.equal(statusOf('DELETE', '/admin/storage/example.com/a/@v/'), 404);
  assert.equal(statusOf('DELETE', '/admin/storage/Example.com/a/@v/v1.0.0'), 400);
  assert.equal(statusOf('GET', '/admin/storage/other'), 404);
});
