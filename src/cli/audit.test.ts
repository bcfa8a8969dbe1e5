import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Command } from 'commander';
import { hashLine } from '../audit/audit-line.js';
import { openAuditLog } from '../audit/file-audit-log.js';
import { auditCommand } from './audit.js';

let work: string;
let log: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-cli-audit-'));
  log = join(work, 'audit.log');
  const audit = await openAuditLog(log);
  for (const target of ['a', 'b', 'c']) await audit.record({ action: 'token.create', actor: 'cli:root', from: 'cli', target, outcome: 'ok' });
  await audit.close();
});
after(() => rm(work, { recursive: true, force: true }));

/** Runs `godepot audit <args>` in this process; returns what it printed and the exit code it set. */
async function run(args: string[]): Promise<{ out: string; exitCode: number }> {
  let out = '';
  const command = auditCommand({ write: (text: string) => (out += text) });
  const quiet = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeErr: () => undefined });
    c.commands.forEach(quiet);
  };
  quiet(command);
  const saved = process.exitCode;
  try {
    await command.parseAsync(args, { from: 'user' });
    return { out, exitCode: typeof process.exitCode === 'number' ? process.exitCode : 0 };
  } finally {
    process.exitCode = saved;
  }
}

const lastLine = async (file: string): Promise<string> => (await readFile(file, 'utf8')).trimEnd().split('\n').at(-1) as string;

test('audit verify prints the line count and the last hash, and checks an anchor', async () => {
  const hash = hashLine(await lastLine(log));
  assert.deepEqual(await run(['verify', log]), { out: `ok: 3 lines, last hash ${hash}\n`, exitCode: 0 });
  assert.deepEqual(await run(['verify', log, '--anchor', `3:${hash}`]), { out: `ok: 3 lines, last hash ${hash}\n`, exitCode: 0 });
  assert.deepEqual(await run(['verify', log, '--anchor', `4:${hash}`]), { out: 'line 4: missing: the anchor names it but the log ends at line 3, so lines were cut off the end\n', exitCode: 1 });
  await assert.rejects(run(['verify', log, '--anchor', hash]), { code: 'commander.invalidArgument' });
});

test('audit verify names the first bad line and exits 1; --json prints the report', async () => {
  const bad = join(work, 'bad.log');
  await writeFile(bad, (await readFile(log, 'utf8')).replace('"target":"a"', '"target":"z"'));
  assert.deepEqual(await run(['verify', bad]), { out: "line 1: altered: its hash no longer matches line 2's prev\n", exitCode: 1 });
  const json = await run(['verify', bad, '--json']);
  assert.equal(json.exitCode, 1);
  assert.deepEqual(JSON.parse(json.out), { ok: false, lines: 3, lastHash: hashLine(await lastLine(bad)), firstBad: { line: 1, problem: "altered: its hash no longer matches line 2's prev" } });
  assert.deepEqual(JSON.parse((await run(['verify', log, '--json'])).out), { ok: true, lines: 3, lastHash: hashLine(await lastLine(log)) });
});

test('audit verify of a missing file fails as a file-system error main() reports', async () => {
  await assert.rejects(run(['verify', join(work, 'nope.log')]), { code: 'ENOENT' });
});
