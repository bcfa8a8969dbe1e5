import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { matchPrefixPatterns } from '../module/patterns.js';
import type { Principal } from './access.js';
import { TokenAccessControl } from './access-control.js';
import { CredentialsRefusedError, CredentialsRequiredError, PermissionDeniedError } from './errors.js';
import { parseRoleGrant } from './roles.js';
import { TokenFile } from './token-file.js';
import { TokenStore } from './token-store.js';

let work: string;
let store: TokenStore;
const tokens: Record<string, string> = {};
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-access-'));
  const file = new TokenFile(join(work, 'tokens.json'));
  const grants: Record<string, string[]> = {
    reader: ['read'],
    ci: ['publish:example.com/x', 'read:corp.example.com'],
    admin: ['admin'],
    'module-admin': ['admin:*'],
  };
  for (const [name, roles] of Object.entries(grants)) {
    tokens[name] = (await file.create({ name, roles: roles.map(parseRoleGrant), expires: null }, new Date())).token;
  }
  const { token } = await file.create({ name: 'old', roles: [parseRoleGrant('admin')], expires: new Date(Date.now() + 1) }, new Date());
  tokens.old = token;
  store = await TokenStore.open({ file: file.file });
});
after(async () => {
  store.close();
  await rm(work, { recursive: true, force: true });
});

const privatePatterns = 'corp.example.com,example.com/hosted';
function access(anonymous: 'read' | 'none'): TokenAccessControl {
  return new TokenAccessControl({ tokens: store, anonymous, isPrivate: (modulePath) => matchPrefixPatterns(privatePatterns, modulePath) });
}
const bearer = (name: string): string => `Bearer ${tokens[name]}`;

test('no header, or an empty one, is the anonymous principal; a token is its own, by Bearer or Basic', () => {
  const ac = access('read');
  assert.deepEqual(ac.authenticate(undefined), { name: 'anonymous', anonymous: true });
  assert.equal(ac.authenticate('').anonymous, true);
  const ci = ac.authenticate(bearer('ci'));
  assert.equal(ci.name, 'ci');
  assert.equal(ci.anonymous, false);
  assert.equal(ac.authenticate(`Basic ${Buffer.from(`anyone:${tokens.ci}`).toString('base64')}`), ci);
});

test('unknown, expired and malformed credentials are refused, with messages that hold no token', () => {
  const ac = access('read');
  const unknown = `gdp_0000000000000000_${tokens.ci!.slice(-43)}`;
  for (const header of [`Bearer ${unknown}`, bearer('old'), `Token ${tokens.ci}`, `Bearer ${tokens.ci}x`]) {
    assert.throws(
      () => ac.authenticate(header),
      (err) => err instanceof CredentialsRefusedError && err instanceof UnauthorizedError && !err.message.includes(tokens.ci!.slice(-43)) && !err.message.includes(unknown),
    );
  }
});

test('anonymous clients read public modules and the server when allowed, and need a token for everything else', () => {
  const ac = access('read');
  const anonymous = ac.authenticate(undefined);
  ac.authorize(anonymous, 'read', 'example.com/public');
  ac.authorize(anonymous, 'read', undefined);
  const required = (role: 'read' | 'publish' | 'admin', modulePath: string | undefined) =>
    assert.throws(() => ac.authorize(anonymous, role, modulePath), (err) => err instanceof CredentialsRequiredError && err instanceof UnauthorizedError);
  required('read', 'corp.example.com/lib');
  required('read', 'example.com/hosted/sub');
  required('publish', 'example.com/public');
  required('admin', undefined);

  const closed = access('none');
  assert.throws(() => closed.authorize(anonymous, 'read', 'example.com/public'), CredentialsRequiredError);
  assert.throws(() => closed.authorize(anonymous, 'read', undefined), CredentialsRequiredError);
});

test("a token's roles must cover the role on the module, else PermissionDeniedError naming both", () => {
  const ac = access('none');
  const ci = ac.authenticate(bearer('ci'));
  ac.authorize(ci, 'publish', 'example.com/x');
  ac.authorize(ci, 'read', 'example.com/x/sub');
  ac.authorize(ci, 'read', 'corp.example.com/lib');
  const denied = (principal: Principal, role: 'read' | 'publish' | 'admin', modulePath: string | undefined, message: RegExp) =>
    assert.throws(() => ac.authorize(principal, role, modulePath), (err) => err instanceof PermissionDeniedError && err instanceof ForbiddenError && message.test(err.message));
  denied(ci, 'publish', 'example.com/y', /^token "ci" may not publish example.com\/y$/);
  denied(ci, 'admin', 'example.com/x', /^token "ci" may not admin example.com\/x$/);
  denied(ci, 'publish', 'corp.example.com/lib', /may not publish/);
  denied(ci, 'read', 'example.com/public', /may not read example.com\/public/);
  denied(ci, 'read', undefined, /may not read on this server as a whole/);

  const reader = ac.authenticate(bearer('reader'));
  ac.authorize(reader, 'read', 'corp.example.com/lib');
  ac.authorize(reader, 'read', undefined);
  denied(reader, 'publish', 'example.com/public', /may not publish/);
});

test('a token allows at least what no token does: reads of public modules when anonymous clients may read', () => {
  const ci = access('read').authenticate(bearer('ci'));
  access('read').authorize(ci, 'read', 'example.com/public');
  access('read').authorize(ci, 'read', undefined);
  assert.throws(() => access('read').authorize(ci, 'read', 'example.com/hosted/a'), /token "ci" may not read example.com\/hosted\/a/);
  assert.throws(() => access('read').authorize(ci, 'publish', 'example.com/public'), PermissionDeniedError);
});

test('server-wide actions need a pattern-less grant: admin yes, admin:* no', () => {
  const ac = access('none');
  const admin = ac.authenticate(bearer('admin'));
  ac.authorize(admin, 'admin', undefined);
  ac.authorize(admin, 'publish', 'example.com/anything');
  const moduleAdmin = ac.authenticate(bearer('module-admin'));
  ac.authorize(moduleAdmin, 'admin', 'example.com/anything');
  assert.throws(() => ac.authorize(moduleAdmin, 'admin', undefined), /token "module-admin" may not admin on this server as a whole/);
  // The same answer whether or not the path was asked before (the per-token cache).
  assert.throws(() => ac.authorize(moduleAdmin, 'admin', undefined), PermissionDeniedError);
});

test('isPrivate follows the predicate it was given', () => {
  const ac = access('read');
  assert.equal(ac.isPrivate('corp.example.com/a'), true);
  assert.equal(ac.isPrivate('corp.example.com/a'), true);
  assert.equal(ac.isPrivate('example.com/hostedx'), false);
});

/** A TokenAccessControl over a token file of its own, with `verify` calls counted and a clock the test moves. */
async function ownAccess(cacheSize?: number) {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-access-own-'));
  const file = new TokenFile(join(dir, 'tokens.json'));
  const clock = { ms: Date.parse('2026-03-01T12:00:00.000Z') };
  const now = () => clock.ms;
  const created = new Date(clock.ms);
  const reader = (await file.create({ name: 'reader', roles: [parseRoleGrant('read')], expires: null }, created)).token;
  const soon = (await file.create({ name: 'soon', roles: [parseRoleGrant('read')], expires: new Date(clock.ms + 60_000) }, created)).token;
  const own = await TokenStore.open({ file: file.file, now, pollMs: 60_000 });
  let verifies = 0;
  const tokens = {
    verify: (token: string) => (verifies++, own.verify(token)),
    get generation() {
      return own.generation;
    },
  };
  const ac = new TokenAccessControl({ tokens, anonymous: 'none', isPrivate: () => false, now, cacheSize });
  const dispose = async () => {
    own.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { ac, file, store: own, clock, reader, soon, verifies: () => verifies, dispose };
}
const basic = (token: string): string => `Basic ${Buffer.from(`go:${token}`).toString('base64')}`;

test('a header that verified is not verified again until the token file is reloaded, and a revoke refuses it at once', async () => {
  const own = await ownAccess();
  try {
    const header = basic(own.reader);
    const reader = own.ac.authenticate(header);
    assert.equal(own.ac.authenticate(header), reader);
    assert.equal(own.verifies(), 1);
    await own.file.revoke('reader');
    await own.store.reload();
    assert.throws(() => own.ac.authenticate(header), CredentialsRefusedError);
    assert.throws(() => own.ac.authenticate(`Bearer ${own.reader}`), CredentialsRefusedError);
  } finally {
    await own.dispose();
  }
});

test('a remembered header stops working when its token expires', async () => {
  const own = await ownAccess();
  try {
    const header = basic(own.soon);
    assert.equal(own.ac.authenticate(header).name, 'soon');
    own.clock.ms += 59_999;
    assert.equal(own.ac.authenticate(header).name, 'soon');
    own.clock.ms += 1;
    assert.throws(() => own.ac.authenticate(header), (err) => err instanceof CredentialsRefusedError && /expired/.test(err.message));
  } finally {
    await own.dispose();
  }
});

test('remembered headers are bounded: the oldest is forgotten and verified again, each still its own principal', async () => {
  const own = await ownAccess(1);
  try {
    for (let i = 0; i < 2; i++) {
      assert.equal(own.ac.authenticate(basic(own.reader)).name, 'reader');
      assert.equal(own.ac.authenticate(basic(own.soon)).name, 'soon');
    }
    assert.equal(own.verifies(), 4);
    assert.equal(own.ac.authenticate(basic(own.soon)).name, 'soon');
    assert.equal(own.verifies(), 4);
  } finally {
    await own.dispose();
  }
});
