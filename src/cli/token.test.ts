import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import type { Audit, AuditEvent } from '../audit/audit.js';
import { TokenAccessControl } from '../auth/access-control.js';
import { TokenNameTakenError } from '../auth/errors.js';
import { TokenStore } from '../auth/token-store.js';
import { ConfigError, NotFoundError } from '../errors.js';
import { tokenCommand } from './token.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-cli-token-'));
});
after(() => rm(work, { recursive: true, force: true }));

const now = new Date('2026-03-01T12:00:00.000Z');

/** Audit logs kept in memory: every event with the log it was recorded in, and how many are open. */
class MemoryAudit {
  events: Array<AuditEvent & { log: string }> = [];
  open = 0;
  fail = false;
  opener = async (log: string): Promise<Audit> => {
    this.open++;
    return {
      record: async (event) => {
        if (this.fail) throw new Error('audit log full');
        this.events.push({ ...event, log });
      },
      close: async () => void this.open--,
    };
  };
}

/** Runs `godepot token <args>` in this process with `env`; returns what it printed. */
async function run(args: string[], options: { env?: Record<string, string>; audit?: MemoryAudit; cwd?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const audit = options.audit ?? new MemoryAudit();
  const program = new Command('godepot').exitOverride().configureOutput({ writeErr: () => undefined });
  program.addCommand(
    tokenCommand({
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: options.env ?? {},
      openAudit: audit.opener,
      now: () => now,
    }),
  );
  const quiet = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeErr: () => undefined });
    c.commands.forEach(quiet);
  };
  quiet(program);
  await program.parseAsync(['token', ...args], { from: 'user' });
  return { stdout, stderr };
}

test('create prints the token alone on stdout, records token.create first, and the server accepts the token for its roles', async () => {
  const state = join(work, 'create');
  const audit = new MemoryAudit();
  const { stdout, stderr } = await run(['create', '--name', 'ci', '--role', 'publish:example.com/x', '--role', 'read', '--expires', '90d', '--state-dir', state], { audit });
  assert.match(stdout, /^gdp_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
  const token = stdout.trim();
  assert.equal(stderr, `created token "ci" (roles publish:example.com/x read, expires 2026-05-30T12:00:00.000Z) in ${join(state, 'tokens.json')}; it is shown only this once\n`);
  assert.deepEqual(audit.events, [
    {
      action: 'token.create',
      actor: `cli:${userInfo().username}`,
      from: 'cli',
      target: 'ci',
      outcome: 'ok',
      detail: { roles: 'publish:example.com/x read', expires: '2026-05-30T12:00:00.000Z' },
      log: join(state, 'audit.log'),
    },
  ]);
  assert.equal(audit.open, 0);
  const file = join(state, 'tokens.json');
  assert.ok(!(await readFile(file, 'utf8')).includes(token.slice(-43)));
  assert.equal((await stat(file)).mode & 0o777, 0o600);

  const store = await TokenStore.open({ file, now: () => now.getTime() });
  after(() => store.close());
  const access = new TokenAccessControl({ tokens: store, anonymous: 'none', isPrivate: () => false });
  const principal = access.authenticate(`Bearer ${token}`);
  access.authorize(principal, 'publish', 'example.com/x');
  access.authorize(principal, 'read', 'example.com/other');
  assert.throws(() => access.authorize(principal, 'publish', 'example.com/other'), /token "ci" may not publish example.com\/other/);
});

test('create refuses a taken name, a bad role, a bad name and a past or junk --expires, storing and recording nothing', async () => {
  const state = join(work, 'refuse');
  const audit = new MemoryAudit();
  await run(['create', '--name', 'ci', '--role', 'read', '--state-dir', state], { audit });
  await assert.rejects(run(['create', '--name', 'ci', '--role', 'admin', '--state-dir', state], { audit }), TokenNameTakenError);
  await assert.rejects(run(['create', '--name', 'x', '--role', 'write', '--state-dir', state], { audit }), ConfigError);
  await assert.rejects(run(['create', '--name', 'x y', '--role', 'read', '--state-dir', state], { audit }), ConfigError);
  await assert.rejects(run(['create', '--name', 'x', '--role', 'read', '--expires', '2020-01-01T00:00:00Z', '--state-dir', state], { audit }), /that time has passed/);
  await assert.rejects(run(['create', '--name', 'x', '--role', 'read', '--expires', 'soon', '--state-dir', state], { audit }), /--expires "soon"/);
  await assert.rejects(run(['create', '--name', 'x', '--state-dir', state], { audit }), /--role/);
  assert.deepEqual(audit.events.map((e) => e.target), ['ci']);
  const { stdout } = await run(['list', '--json', '--state-dir', state]);
  assert.deepEqual(JSON.parse(stdout).map((t: { name: string }) => t.name), ['ci']);
});

test('a create the audit log cannot record fails, prints no token and leaves none stored', async () => {
  const state = join(work, 'unrecorded');
  const audit = new MemoryAudit();
  audit.fail = true;
  let printed = '';
  await assert.rejects(
    run(['create', '--name', 'ci', '--role', 'read', '--state-dir', state], { audit }).then((out) => (printed = out.stdout)),
    /audit log full/,
  );
  assert.equal(printed, '');
  assert.equal(audit.open, 0);
  assert.equal((await run(['list', '--json', '--state-dir', state])).stdout, '[]\n');
});

test('list shows names, roles, dates and whether expired, as a table or JSON, never secrets or hashes', async () => {
  const state = join(work, 'list');
  await run(['create', '--name', 'ci', '--role', 'publish:example.com/x', '--expires', '2026-03-01T12:30:00Z', '--state-dir', state]);
  await run(['create', '--name', 'reader-1', '--role', 'read', '--state-dir', state]);
  const later = new Date('2026-03-01T13:00:00.000Z');
  let out = '';
  const command = tokenCommand({ stdout: { write: (t: string) => (out += t) }, env: {}, now: () => later, openAudit: new MemoryAudit().opener });
  await command.parseAsync(['list', '--state-dir', state], { from: 'user' });
  assert.equal(
    out,
    'NAME      ROLES                  CREATED                   EXPIRES                   EXPIRED\n' +
      'ci        publish:example.com/x  2026-03-01T12:00:00.000Z  2026-03-01T12:30:00.000Z  yes\n' +
      'reader-1  read                   2026-03-01T12:00:00.000Z  never                     no\n',
  );
  const { stdout } = await run(['list', '--json', '--state-dir', state]);
  assert.deepEqual(JSON.parse(stdout), [
    { name: 'ci', roles: ['publish:example.com/x'], created: '2026-03-01T12:00:00.000Z', expires: '2026-03-01T12:30:00.000Z', expired: false },
    { name: 'reader-1', roles: ['read'], created: '2026-03-01T12:00:00.000Z', expires: null, expired: false },
  ]);
  assert.doesNotMatch(stdout, /salt|key|gdp_/);
  assert.equal((await run(['list', '--state-dir', join(work, 'none')])).stdout, 'NAME  ROLES  CREATED  EXPIRES  EXPIRED\n');
});

test('revoke removes the token and records token.revoke; an unknown name is NotFoundError and records nothing', async () => {
  const state = join(work, 'revoke');
  const audit = new MemoryAudit();
  const { stdout: token } = await run(['create', '--name', 'ci', '--role', 'read', '--state-dir', state], { audit });
  const store = await TokenStore.open({ file: join(state, 'tokens.json') });
  after(() => store.close());
  store.verify(token.trim());
  assert.deepEqual(await run(['revoke', 'ci', '--state-dir', state], { audit }), { stdout: 'revoked token "ci"\n', stderr: '' });
  assert.deepEqual(audit.events.map((e) => [e.action, e.target, e.outcome]), [['token.create', 'ci', 'ok'], ['token.revoke', 'ci', 'ok']]);
  await store.reload();
  assert.throws(() => store.verify(token.trim()), /not valid/);
  await assert.rejects(run(['revoke', 'ci', '--state-dir', state], { audit }), NotFoundError);
  assert.equal(audit.events.length, 2);
});

test('GODEPOT_STATE_DIR, GODEPOT_TOKENS and GODEPOT_AUDIT_LOG are the defaults; flags win', async () => {
  const envState = join(work, 'env-state');
  const audit = new MemoryAudit();
  await run(['create', '--name', 'a', '--role', 'read'], { audit, env: { GODEPOT_STATE_DIR: envState } });
  assert.equal(audit.events.at(-1)!.log, join(envState, 'audit.log'));
  await stat(join(envState, 'tokens.json'));

  const env = { GODEPOT_STATE_DIR: envState, GODEPOT_TOKENS: join(work, 'env-tokens.json'), GODEPOT_AUDIT_LOG: join(work, 'env-audit.log') };
  await run(['create', '--name', 'b', '--role', 'read'], { audit, env });
  assert.equal(audit.events.at(-1)!.log, join(work, 'env-audit.log'));
  await stat(join(work, 'env-tokens.json'));

  await run(['create', '--name', 'c', '--role', 'read', '--tokens', join(work, 'flag-tokens.json'), '--audit-log', join(work, 'flag-audit.log')], { audit, env });
  assert.equal(audit.events.at(-1)!.log, join(work, 'flag-audit.log'));
  const names = async (file: string): Promise<string[]> => JSON.parse((await run(['list', '--json', '--tokens', file])).stdout).map((t: { name: string }) => t.name);
  assert.deepEqual(await names(join(work, 'flag-tokens.json')), ['c']);
  assert.deepEqual(await names(join(work, 'env-tokens.json')), ['b']);
  assert.deepEqual(await names(join(envState, 'tokens.json')), ['a']);
});
