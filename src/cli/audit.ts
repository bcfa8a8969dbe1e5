// `godepot audit`: checks on the audit log.
import { Command, InvalidArgumentError } from 'commander';
import { verifyAuditLog, type AuditAnchor } from '../audit/verify.js';
import { withExamples } from './examples.js';

/** `godepot audit verify FILE [--anchor LINE:HASH] [--json]`; what it prints goes to `stdout`, exit 1 when the log does not verify. */
export function auditCommand(stdout: { write(text: string): unknown } = process.stdout): Command {
  const examples: Array<string | [string, string]> = [
    'godepot audit verify .godepot-state/audit.log',
    ['godepot audit verify .godepot-state/audit.log --anchor 1200:<hash an earlier verify printed>', 'also detects a rewritten or cut-off end'],
  ];
  const audit = withExamples(new Command('audit').description('the tamper-evident audit log'), examples);
  withExamples(audit.command('verify'), examples)
    .description('check every line of an audit log and the hash chain that links them; prints the last line\'s hash to keep elsewhere, or the first bad line (exit 1)')
    .argument('<file>', 'the audit log')
    .option('--anchor <line:hash>', 'also require this line to have this hash, as an earlier verify printed it (detects a rewritten or cut-off end)', parseAnchor)
    .option('--json', 'print the report as JSON')
    .action(async (file: string, flags: { anchor?: AuditAnchor; json?: boolean }) => {
      const report = await verifyAuditLog(file, { anchor: flags.anchor });
      if (flags.json === true) stdout.write(`${JSON.stringify(report)}\n`);
      else if (report.firstBad === undefined) stdout.write(`ok: ${report.lines} lines, last hash ${report.lastHash}\n`);
      else stdout.write(`line ${report.firstBad.line}: ${report.firstBad.problem}\n`);
      if (!report.ok) process.exitCode = 1;
    });
  return audit;
}

function parseAnchor(value: string): AuditAnchor {
  const match = /^([1-9]\d*):([0-9a-f]{64})$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected LINE:HASH, a line number and the 64-hex-digit hash verify printed for it');
  return { line: Number(match[1]), hash: match[2] as string };
}
