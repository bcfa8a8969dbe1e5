// Access control as `godepot serve` builds it, for tests that create a server in process: a real token
// file and audit log in a folder of the test's, and the gate over them.
import { join } from 'node:path';
import type { Audit } from '../../src/audit/audit.js';
import { openAuditLog } from '../../src/audit/file-audit-log.js';
import { TokenAccessControl } from '../../src/auth/access-control.js';
import { parseRoleGrant } from '../../src/auth/roles.js';
import { tokenAdministration, type TokenAdministration } from '../../src/auth/token-admin.js';
import { withStaticTokens, type StaticToken } from '../../src/auth/static-tokens.js';
import { TokenFile } from '../../src/auth/token-file.js';
import { TokenStore } from '../../src/auth/token-store.js';
import { Gate, type GateOptions } from '../../src/server/gate.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';

export interface TestAccess {
  gate: Gate;
  audit: Audit;
  /** The audit log file. */
  auditFile: string;
  /** Token management over the same file, audit log and store, as `godepot serve` wires it. */
  administration: TokenAdministration;
  /** Makes a token with `roles` (`read`, `publish:corp.example.com/*`, …) and returns it. */
  token(name: string, roles: readonly string[]): Promise<string>;
  /** Revokes a token and waits until the store has seen it. */
  revoke(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface TestAccessOptions extends Partial<Pick<GateOptions, 'tokenRate' | 'anonymousRate' | 'maxColdFetches' | 'metricsToken' | 'hostedSumdb'>> {
  anonymous?: 'read' | 'none';
  isPrivate?: (modulePath: string) => boolean;
  statics?: StaticToken[];
  logger?: Logger;
}

/** Access control over `<dir>/tokens.json` and `<dir>/audit.log`; anonymous reads and no limits unless told. */
export async function openTestAccess(dir: string, options: TestAccessOptions = {}): Promise<TestAccess> {
  const tokensFile = join(dir, 'tokens.json');
  const auditFile = join(dir, 'audit.log');
  const logger = options.logger ?? createLogger({ level: 'silent' }).logger;
  const store = await TokenStore.open({ file: tokensFile, logger, pollMs: 100 });
  const file = new TokenFile(tokensFile);
  const audit = await openAuditLog(auditFile);
  const access = new TokenAccessControl({
    tokens: withStaticTokens(store, options.statics ?? []),
    anonymous: options.anonymous ?? 'read',
    isPrivate: options.isPrivate ?? (() => false),
  });
  const gate = new Gate({
    access,
    audit,
    logger,
    tokenRate: options.tokenRate ?? null,
    anonymousRate: options.anonymousRate ?? null,
    maxColdFetches: options.maxColdFetches ?? 0,
    metricsToken: options.metricsToken ?? null,
    hostedSumdb: options.hostedSumdb ?? null,
  });
  return {
    gate,
    audit,
    auditFile,
    administration: tokenAdministration(file, audit, () => store.reload()),
    async token(name, roles) {
      const { token } = await file.create({ name, roles: roles.map(parseRoleGrant), expires: null }, new Date());
      await store.reload();
      return token;
    },
    async revoke(name) {
      await file.revoke(name);
      await store.reload();
    },
    async close() {
      store.close();
      await audit.close();
    },
  };
}
