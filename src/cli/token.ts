// `godepot token`: create, list and revoke the tokens the server accepts (the token file in its state
// folder). The server follows the file's changes without a restart.
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { defaults } from '../config/schema.js';
import type { Audit } from '../audit/audit.js';
import { parseExpiry } from '../auth/expiry.js';
import { formatRoleGrant, parseRoleGrant } from '../auth/roles.js';
import { createToken, revokeToken, tokenSummary, type TokenChanger } from '../auth/token-admin.js';
import { TokenFile, type TokenRecord } from '../auth/token-file.js';
import { withExamples } from './examples.js';

/** What `godepot token` takes from its surroundings; tests give their own. */
export interface TokenCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
  /** Opens the audit log that token changes are recorded in. */
  openAudit: (file: string) => Promise<Audit>;
  now: () => Date;
}

interface LocationFlags {
  stateDir?: string;
  tokens?: string;
  auditLog?: string;
}

/** `godepot token create|list|revoke`, writing to `io` (by default the process's own). */
export function tokenCommand(io: Partial<TokenCommandIo> = {}): Command {
  const { stdout, stderr, env, openAudit, now }: TokenCommandIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    openAudit: openFileAuditLog,
    now: () => new Date(),
    ...io,
  };
  // Each setting on its own: its flag, else its variable, else its default (the two files' under the state folder).
  const locate = (flags: LocationFlags): { tokens: TokenFile; auditLog: string } => {
    const stateDir = flags.stateDir ?? nonEmpty(env.GODEPOT_STATE_DIR) ?? defaults['state-dir'];
    return {
      tokens: new TokenFile(flags.tokens ?? nonEmpty(env.GODEPOT_TOKENS) ?? join(stateDir, 'tokens.json')),
      auditLog: flags.auditLog ?? nonEmpty(env.GODEPOT_AUDIT_LOG) ?? join(stateDir, 'audit.log'),
    };
  };
  // Token changes are recorded before they are reported: the audit log is closed (flushed) first.
  const audited = async <T>(auditLog: string, change: (audit: Audit) => Promise<T>): Promise<T> => {
    const audit = await openAudit(auditLog);
    try {
      return await change(audit);
    } finally {
      await audit.close();
    }
  };

  const token = withExamples(new Command('token').description('the tokens godepot serve accepts (Authorization: Bearer <token>, or Basic with the token as password)'), [
    'godepot token create --name ci --role read --expires 90d',
    'godepot token list',
    'godepot token revoke ci',
  ]);
  withLocations(
    withExamples(token.command('create'), [
      ['godepot token create --name ci --role read --expires 90d > ci.token', 'a read token for CI, valid 90 days'],
      ['godepot token create --name team-a --role publish:corp.example.com/team-a --state-dir /var/lib/godepot-state', 'may publish, and read, only its own modules'],
    ])
      .description('create a token and print it, once, alone on stdout; only a hash of it is stored')
      .requiredOption('--name <name>', 'what logs, the audit log and revoke call it: 1 to 64 of A-Z a-z 0-9 . _ -, unique')
      .requiredOption(
        '--role <role>',
        'read, publish (implies read) or admin (implies both), optionally :PATTERN (a GOPRIVATE-style glob) to limit it to those modules; repeatable; server-wide actions need admin without a pattern',
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option('--expires <when>', 'a duration (30m, 12h, 90d) or an RFC 3339 time (default: never)'),
  ).action(async (flags: LocationFlags & { name: string; role: string[]; expires?: string }) => {
    const at = now();
    const roles = flags.role.map(parseRoleGrant);
    const expires = flags.expires === undefined ? null : parseExpiry(flags.expires, at);
    const { tokens, auditLog } = locate(flags);
    const made = await audited(auditLog, (audit) => createToken(tokens, audit, cliChanger(env), { name: flags.name, roles, expires }, at));
    stdout.write(`${made.token}\n`);
    stderr.write(`created token "${made.record.name}" (${describe(made.record)}) in ${tokens.file}; it is shown only this once\n`);
  });

  withLocations(
    withExamples(token.command('list'), ['godepot token list', 'godepot token list --json --tokens /etc/godepot/tokens.json'])
      .description('list the tokens: name, roles, created, expires, expired; never secrets or hashes')
      .option('--json', 'print a JSON array'),
  ).action(async (flags: LocationFlags & { json?: boolean }) => {
    const at = now();
    const records = await locate(flags).tokens.list();
    const rows = records.map((record) => tokenSummary(record, at));
    if (flags.json === true) {
      stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    stdout.write(
      table([
        ['NAME', 'ROLES', 'CREATED', 'EXPIRES', 'EXPIRED'],
        ...rows.map((row) => [row.name, row.roles.join(' '), row.created, row.expires ?? 'never', row.expired ? 'yes' : 'no']),
      ]),
    );
  });

  withLocations(withExamples(token.command('revoke'), ['godepot token revoke ci']).description('remove a token; the server refuses it within a few seconds').argument('<name>', 'the token to revoke')).action(
    async (name: string, flags: LocationFlags) => {
      const { tokens, auditLog } = locate(flags);
      await audited(auditLog, (audit) => revokeToken(tokens, audit, cliChanger(env), name));
      stdout.write(`revoked token "${name}"\n`);
    },
  );
  return token;
}

function withLocations(command: Command): Command {
  return command
    .option('--state-dir <dir>', `godepot's state folder (default: $GODEPOT_STATE_DIR, else ${defaults['state-dir']})`)
    .option('--tokens <file>', 'the token file (default: $GODEPOT_TOKENS, else <state-dir>/tokens.json)')
    .option('--audit-log <file>', 'the audit log token changes are recorded in (default: $GODEPOT_AUDIT_LOG, else <state-dir>/audit.log)');
}

async function openFileAuditLog(file: string): Promise<Audit> {
  // Loaded only by the commands that change tokens.
  const { openAuditLog } = await import('../audit/file-audit-log.js');
  return openAuditLog(file);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

/** The operator at this host's command line, by the name the system knows them by, as the audit log names them. */
export function cliChanger(env: TokenCommandIo['env']): TokenChanger {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers).
    user = env.USER ?? String(process.getuid?.() ?? 'unknown');
  }
  return { actor: `cli:${user}`, from: 'cli' };
}

function describe(record: TokenRecord): string {
  const expires = record.expires === null ? 'never expires' : `expires ${record.expires.toISOString()}`;
  return `roles ${record.roles.map(formatRoleGrant).join(' ')}, ${expires}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => `${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}\n`).join('');
}
