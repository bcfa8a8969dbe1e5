import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Audit, AuditEvent } from '../audit/audit.js';
import { NotFoundError } from '../errors.js';
import { parseRoleGrant } from './roles.js';
import { tokenAdministration, tokenSummary } from './token-admin.js';
import { TokenFile } from './token-file.js';

const now = new Date('2026-03-01T12:00:00.000Z');
const by = { actor: 'root', from: '127.0.0.1' };

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-token-admin-'));
});
after(() => rm(work, { recursive: true, force: true }));

let n = 0;
function world(): { tokens: TokenFile; audit: Audit; events: AuditEvent[]; steps: string[]; changed: () => Promise<void> } {
  const tokens = new TokenFile(join(work, `state-${n++}`, 'tokens.json'));
  const events: AuditEvent[] = [];
  const steps: string[] = [];
  const audit: Audit = {
    record: async (event) => {
      events.push(event);
      steps.push(event.action);
    },
    close: async () => undefined,
  };
  // What the server's store would read at this moment.
  const changed = async (): Promise<void> => {
    steps.push(`changed: ${(await tokens.list()).map((r) => r.name).join(' ')}`);
  };
  return { tokens, audit, events, steps, changed };
}

test('a change is recorded, then the server told of it with the file already changed, then answered', async () => {
  const w = world();
  const administration = tokenAdministration(w.tokens, w.audit, w.changed);
  const made = await administration.create({ name: 'ci', roles: [parseRoleGrant('read')], expires: null }, by, now);
  w.steps.push('created');
  assert.equal(made.record.name, 'ci');
  const revoked = await administration.revoke('ci', by);
  w.steps.push('revoked');
  assert.equal(revoked.name, 'ci');
  assert.deepEqual(w.steps, ['token.create', 'changed: ci', 'created', 'token.revoke', 'changed: ', 'revoked']);
  assert.deepEqual(w.events.map((e) => [e.action, e.actor, e.from, e.target]), [
    ['token.create', 'root', '127.0.0.1', 'ci'],
    ['token.revoke', 'root', '127.0.0.1', 'ci'],
  ]);
});

test('revoking an unknown token: NotFoundError naming no file, nothing recorded or reloaded', async () => {
  const w = world();
  const administration = tokenAdministration(w.tokens, w.audit, w.changed);
  await assert.rejects(administration.revoke('ghost', by), (err: unknown) => err instanceof NotFoundError && err.message === 'no token named "ghost"');
  assert.deepEqual(w.steps, []);
});

test('a summary shows name, roles, dates and whether it expired at the given time; never the id or hash', () => {
  const record = {
    id: '0123456789abcdef',
    name: 'ci',
    roles: [parseRoleGrant('read'), parseRoleGrant('publish:corp.example.com/*')],
    created: new Date('2026-01-01T00:00:00.000Z'),
    expires: now,
    hash: { algorithm: 'scrypt' as const, params: { N: 2, r: 1, p: 1, keylen: 16 }, salt: 'c2FsdA', key: 'a2V5' },
  };
  const summary = { name: 'ci', roles: ['read', 'publish:corp.example.com/*'], created: '2026-01-01T00:00:00.000Z', expires: '2026-03-01T12:00:00.000Z' };
  assert.deepEqual(tokenSummary(record, new Date(now.getTime() - 1)), { ...summary, expired: false });
  assert.deepEqual(tokenSummary(record, now), { ...summary, expired: true });
  assert.deepEqual(tokenSummary({ ...record, expires: null }, now), { ...summary, expires: null, expired: false });
});
