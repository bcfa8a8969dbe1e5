import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors.js';
import { formatRoleGrant, grantedRank, NO_RANK, parseRoleGrant, ROLE_RANK } from './roles.js';

test('a grant is a role, optionally limited by one GOPRIVATE-style glob, and formats back as written', () => {
  assert.deepEqual(parseRoleGrant('read'), { role: 'read', pattern: undefined });
  assert.deepEqual(parseRoleGrant('publish:example.com/team/*'), { role: 'publish', pattern: 'example.com/team/*' });
  assert.deepEqual(parseRoleGrant('admin:*'), { role: 'admin', pattern: '*' });
  for (const text of ['read', 'publish:example.com/x', 'admin:*.corp.example.com']) assert.equal(formatRoleGrant(parseRoleGrant(text)), text);
});

test('unknown roles, empty, listed, malformed and match-nothing patterns are ConfigErrors', () => {
  for (const text of ['', 'write', 'Read', 'read:', 'read:a.com,b.com', 'read:example.com/[', 'read:a//b', ':example.com']) {
    assert.throws(() => parseRoleGrant(text), ConfigError, text);
  }
});

test('publish implies read and admin implies both, on the same modules', () => {
  const rank = (grants: string[], modulePath: string | undefined): number => grantedRank(grants.map(parseRoleGrant), modulePath);
  assert.equal(rank(['read'], 'example.com/x'), ROLE_RANK.read);
  assert.equal(rank(['publish:example.com/x'], 'example.com/x'), ROLE_RANK.publish);
  assert.ok(ROLE_RANK.publish > ROLE_RANK.read && ROLE_RANK.admin > ROLE_RANK.publish);
  // The highest grant that applies wins, whatever the order.
  assert.equal(rank(['admin:corp.example.com/*', 'read'], 'corp.example.com/lib'), ROLE_RANK.admin);
  assert.equal(rank(['admin:corp.example.com/*', 'read'], 'example.com/lib'), ROLE_RANK.read);
});

test('patterns match as GOPRIVATE does: by leading path elements', () => {
  const grants = [parseRoleGrant('publish:example.com/priv'), parseRoleGrant('read:*.corp.example.com')];
  assert.equal(grantedRank(grants, 'example.com/priv'), ROLE_RANK.publish);
  assert.equal(grantedRank(grants, 'example.com/priv/sub'), ROLE_RANK.publish);
  assert.equal(grantedRank(grants, 'example.com/private'), NO_RANK);
  assert.equal(grantedRank(grants, 'git.corp.example.com/x/y'), ROLE_RANK.read);
  assert.equal(grantedRank(grants, 'corp.example.com/x'), NO_RANK);
});

test('the server as a whole is reached only by grants without a pattern; * is a pattern', () => {
  assert.equal(grantedRank([parseRoleGrant('admin')], undefined), ROLE_RANK.admin);
  assert.equal(grantedRank([parseRoleGrant('admin:*')], undefined), NO_RANK);
  assert.equal(grantedRank([parseRoleGrant('admin:*')], 'example.com/anything'), ROLE_RANK.admin);
  assert.equal(grantedRank([parseRoleGrant('admin:*'), parseRoleGrant('read')], undefined), ROLE_RANK.read);
});
