// Token management over real HTTP on loopback: who may use it, what each route answers, that a change
// is in force on the server when it is answered, what the audit log records, and that a new token's
// secret is shown once and logged nowhere.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { request } from 'undici';
import { MAX_TOKEN_REQUEST } from './tokens.js';
import type { TestAccess } from '../../../test/support/access.js';
import { startRouteServer } from '../../../test/support/route-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface World {
  url: string;
  access: TestAccess;
  /** An admin token of the server as a whole, named `root`. */
  admin: string;
  /** Every line the server logged, as written. */
  logText(): string;
}

async function startWorld(options: { administration?: boolean } = {}): Promise<World> {
  const server = await startRouteServer(
    {
      name: 'tokens-route',
      log: true,
      // No anonymous reads, so that whether a token works shows in a read's status (401 or not).
      access: { anonymous: 'none' },
      routes: ({ access }) => (options.administration === false ? {} : { tokenAdministration: access.administration }),
    },
    cleanups,
  );
  return { ...server, admin: await server.access.token('root', ['admin']) };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function call(w: World, method: string, path: string, options: { token?: string | null; body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const token = options.token === undefined ? w.admin : options.token;
  const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...options.headers };
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await request(`${w.url}${path}`, { method: method as 'GET', headers, body: options.body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

const create = (w: World, body: unknown, token?: string | null): Promise<Reply> => call(w, 'POST', '/admin/tokens', { token, body: JSON.stringify(body) });

/** The status of a read of a module nobody has: 404 for a working token, 401 for one that is not. */
async function readStatus(w: World, token: string): Promise<number> {
  return (await call(w, 'GET', '/corp.example.com/lib/@v/list', { token })).status;
}

async function auditEvents(w: World): Promise<Array<Record<string, unknown>>> {
  const text = (await readFile(w.access.auditFile, 'utf8')).trim();
  return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('create answers 201 with the token once, no-store; it works at once; list shows it without secret; revoke makes it 401 at once; both audited with the admin as actor', async () => {
  const w = await startWorld();
  const created = await create(w, { name: 'ci', roles: ['read', 'publish:corp.example.com/*'], expires: '90d' });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers['content-type'], 'application/json');
  assert.equal(created.headers['cache-control'], 'no-store');
  const made = JSON.parse(created.text) as { name: string; token: string; roles: string[]; created: string; expires: string };
  assert.deepEqual(Object.keys(made), ['name', 'token', 'roles', 'created', 'expires']);
  assert.equal(made.name, 'ci');
  assert.deepEqual(made.roles, ['read', 'publish:corp.example.com/*']);
  const days = (Date.parse(made.expires) - Date.parse(made.created)) / 86_400_000;
  assert.equal(days, 90);
  assert.equal(await readStatus(w, made.token), 404, 'the new token reads at once');

  const listed = await call(w, 'GET', '/admin/tokens');
  assert.equal(listed.status, 200);
  assert.equal(listed.headers['cache-control'], 'no-store');
  assert.deepEqual(JSON.parse(listed.text), {
    tokens: [
      { name: 'root', roles: ['admin'], created: (JSON.parse(listed.text) as { tokens: Array<{ created: string }> }).tokens[0]!.created, expires: null, expired: false },
      { name: 'ci', roles: ['read', 'publish:corp.example.com/*'], created: made.created, expires: made.expires, expired: false },
    ],
  });
  assert.ok(!listed.text.includes(made.token) && !listed.text.includes(made.token.slice(-32)) && !listed.text.includes('hash'), 'no secret or hash is listed');
  const head = await call(w, 'HEAD', '/admin/tokens');
  assert.equal(head.status, 200);
  assert.equal(head.text, '');

  const revoked = await call(w, 'DELETE', '/admin/tokens/ci');
  assert.equal(revoked.status, 200, revoked.text);
  assert.deepEqual(JSON.parse(revoked.text), { name: 'ci', roles: ['read', 'publish:corp.example.com/*'], created: made.created, expires: made.expires, expired: false });
  assert.equal(await readStatus(w, made.token), 401, 'the revoked token is refused at once');
  const again = await call(w, 'DELETE', '/admin/tokens/ci');
  assert.equal(again.status, 404);
  assert.equal(again.text, 'not found: no token named "ci"\n', 'the server names no file of its own');

  const changes = (await auditEvents(w)).filter((e) => (e.action as string).startsWith('token.'));
  assert.deepEqual(
    changes.map((e) => [e.action, e.actor, e.from, e.target, e.outcome]),
    [
      ['token.create', 'root', '127.0.0.1', 'ci', 'ok'],
      ['token.revoke', 'root', '127.0.0.1', 'ci', 'ok'],
    ],
  );
  assert.equal((changes[0]!.detail as Record<string, unknown>).roles, 'read publish:corp.example.com/*');
  const logged = w.logText() + (await readFile(w.access.auditFile, 'utf8'));
  assert.ok(!logged.includes(made.token) && !logged.includes(made.token.slice(-32)), 'the new token is in no log line');
  assert.ok(logged.includes('"route":"tokens"') && logged.includes('"principal":"root"'), 'the requests are logged, by token name');
});

test('an admin token created over HTTP manages tokens itself; expires null and left out mean never', async () => {
  const w = await startWorld();
  const made = JSON.parse((await create(w, { name: 'ops', roles: ['admin'], expires: null })).text) as { token: string; expires: unknown };
  assert.equal(made.expires, null);
  const second = await create(w, { name: 'reader', roles: ['read'] }, made.token);
  assert.equal(second.status, 201, second.text);
  assert.equal((JSON.parse(second.text) as { expires: unknown }).expires, null);
  const actors = (await auditEvents(w)).filter((e) => e.action === 'token.create').map((e) => e.actor);
  assert.deepEqual(actors, ['root', 'ops']);
});

test('401 without a token or with a bad one, 403 for a reader and for admin with a pattern; nothing created', async () => {
  const w = await startWorld();
  const reader = await w.access.token('reader', ['read']);
  const scoped = await w.access.token('scoped', ['admin:*']);
  for (const [token, status, text] of [
    [null, 401, 'unauthorized: a token is needed to admin on this server (Authorization: Bearer <token>, or Basic with the token as password)\n'],
    ['x'.repeat(64), 401, 'unauthorized: the token is not valid (unknown or revoked)\n'],
    [reader, 403, 'forbidden: token "reader" may not admin on this server as a whole (that needs the role admin without a pattern)\n'],
    [scoped, 403, 'forbidden: token "scoped" may not admin on this server as a whole (that needs the role admin without a pattern)\n'],
  ] as const) {
    for (const [method, path, body] of [
      ['GET', '/admin/tokens', undefined],
      ['POST', '/admin/tokens', JSON.stringify({ name: 'evil', roles: ['admin'] })],
      ['DELETE', '/admin/tokens/root', undefined],
    ] as const) {
      const reply = await call(w, method, path, { token, body });
      assert.equal(reply.status, status, `${method} ${path} as ${String(token?.slice(0, 6))}`);
      assert.equal(reply.text, text);
      if (status === 401) assert.equal(reply.headers['www-authenticate'], 'Basic realm="godepot"');
    }
  }
  // Refusals are recorded in the order they happen, and a change's record is awaited before its answer:
  // once this creation is answered, every refusal before it is in the file.
  assert.equal((await create(w, { name: 'after', roles: ['read'] })).status, 201);
  const names = (JSON.parse((await call(w, 'GET', '/admin/tokens')).text) as { tokens: Array<{ name: string }> }).tokens.map((t) => t.name);
  assert.deepEqual(names, ['root', 'reader', 'scoped', 'after'], 'nothing created, nothing revoked by them');
  const denied = (await auditEvents(w)).filter((e) => e.action === 'request.denied').map((e) => e.outcome);
  assert.deepEqual(denied, [...Array(3).fill('unauthenticated'), ...Array(3).fill('credentials refused'), ...Array(6).fill('forbidden')]);
});

test('400 for a body that does not describe a token, with the reason; 409 for a taken name; 413 past 64 KiB', async () => {
  const w = await startWorld();
  const tries: Array<[string, Record<string, string> | undefined, string]> = [
    ['{"name":', undefined, 'bad request: the body is not JSON: '],
    ['[]', undefined, 'bad request: want a JSON object {"name", "roles", "expires"}\n'],
    ['{"name":"a","role":["read"]}', undefined, 'bad request: unknown field "role"; want "name", "roles" and "expires"\n'],
    ['{"roles":["read"]}', undefined, 'bad request: "name": want a string\n'],
    ['{"name":"a","roles":[]}', undefined, 'bad request: "roles": want a non-empty array of strings such as "read" or "publish:corp.example.com/*"\n'],
    ['{"name":"a","roles":"read"}', undefined, 'bad request: "roles": want a non-empty array of strings such as "read" or "publish:corp.example.com/*"\n'],
    ['{"name":"a b","roles":["read"]}', undefined, 'bad request: token name "a b": want 1 to 64 of A-Z a-z 0-9 . _ -\n'],
    ['{"name":"a","roles":["root"]}', undefined, 'bad request: role "root": want read, publish or admin, optionally followed by :PATTERN\n'],
    ['{"name":"a","roles":["read:"]}', undefined, 'bad request: role "read:": the pattern after ":" is empty (leave out ":" for every module)\n'],
    ['{"name":"a","roles":["read"],"expires":"soon"}', undefined, 'bad request: "expires": "soon": want a duration (30m, 12h, 90d) or an RFC 3339 time (2026-01-31T18:00:00Z)\n'],
    ['{"name":"a","roles":["read"],"expires":"2001-01-01T00:00:00Z"}', undefined, 'bad request: "expires": "2001-01-01T00:00:00Z": that time has passed\n'],
    ['{"name":"a","roles":["read"],"expires":90}', undefined, 'bad request: "expires": want a duration (30m, 12h, 90d), an RFC 3339 time, or null for never\n'],
    ['{"name":"a","roles":["read"]}', { 'content-type': 'application/x-www-form-urlencoded' }, 'bad request: want Content-Type: application/json, not "application/x-www-form-urlencoded"\n'],
  ];
  for (const [body, headers, text] of tries) {
    const reply = await call(w, 'POST', '/admin/tokens', { body, headers });
    assert.equal(reply.status, 400, body);
    assert.ok(reply.text.startsWith(text), `${body}: ${reply.text}`);
  }

  const taken = await create(w, { name: 'root', roles: ['read'] });
  assert.equal(taken.status, 409);
  assert.equal(taken.text, 'conflict: token name "root" is taken; revoke that token first or choose another name\n');

  const padded = JSON.stringify({ name: 'big', roles: ['read'], pad: 'x'.repeat(MAX_TOKEN_REQUEST) });
  const declared = await call(w, 'POST', '/admin/tokens', { body: padded });
  assert.equal(declared.status, 413);
  assert.equal(declared.text, `payload too large, nothing created: a token request takes at most ${MAX_TOKEN_REQUEST} bytes\n`);
  // Chunked, with no length declared: counted as it comes.
  const chunked = await request(`${w.url}/admin/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.admin}`, 'content-type': 'application/json' },
    body: Readable.from([Buffer.from(padded)]),
  });
  assert.equal(chunked.statusCode, 413);
  await chunked.body.dump();

  const names = (JSON.parse((await call(w, 'GET', '/admin/tokens')).text) as { tokens: Array<{ name: string }> }).tokens.map((t) => t.name);
  assert.deepEqual(names, ['root'], 'nothing was created');
  assert.deepEqual((await auditEvents(w)).filter((e) => e.action === 'token.create'), [], 'nothing refused reached the audit log as a change');
});

test('other methods are 405 with Allow; a body where none belongs is 400; a server without token management answers 404', async () => {
  const w = await startWorld();
  const put = await call(w, 'PUT', '/admin/tokens');
  assert.equal(put.status, 405);
  assert.equal(put.headers.allow, 'GET, HEAD, POST');
  const get = await call(w, 'GET', '/admin/tokens/root');
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, 'DELETE');
  assert.equal((await call(w, 'DELETE', '/admin/tokens/root', { body: '{}' })).status, 400);

  const off = await startWorld({ administration: false });
  for (const [method, path] of [['GET', '/admin/tokens'], ['DELETE', '/admin/tokens/root']] as const) {
    const reply = await call(off, method, path);
    assert.equal(reply.status, 404);
    assert.equal(reply.text, 'not found: token management is not enabled on this server\n');
  }
  assert.equal((await create(off, { name: 'x', roles: ['read'] })).status, 404);
  // Who may not manage tokens learns nothing about whether the server offers it.
  assert.equal((await call(off, 'GET', '/admin/tokens', { token: null })).status, 401);
});
