// `godepot storage gc`: retention run once over a storage folder, as serve's --gc-schedule runs it.
import { Command } from 'commander';
import { openAuditLog } from '../audit/file-audit-log.js';
import { loadConfig } from '../config/load.js';
import { DiskStorage } from '../storage/disk.js';
import { checkStorageExists, checkStorageFolder } from '../storage/folder-check.js';
import { readPins } from '../store/pins.js';
import { checkPolicy } from '../store/retention.js';
import { reportJson, runRetention, type RetentionReport, type RetentionReportJson } from '../store/run-retention.js';
import { requestGc } from '../store/gc-client.js';
import { ConfigError } from '../errors.js';
import { withExamples } from './examples.js';
import { givenSettings, withSettingOptions, type Setting } from './settings-options.js';
import { cliOperator } from './operator.js';
import { serverTransport } from './server-transport.js';

const gcSettings: readonly Setting[] = ['gc.unusedFor', 'gc.olderThan', 'gc.keepLatest', 'gc.keep', 'storage', 'config', 'state-dir', 'audit-log'];

/** Adds `gc` to the `storage` command group; it prints to `stdout`. */
export function addGcCommand(storage: Command, stdout: { write(text: string): unknown } = process.stdout): Command {
  const gc = withSettingOptions(
    storage
      .command('gc')
      .description('remove stored module versions that meet every condition given, keeping every version a --keep names; each removal is recorded in the audit log'),
    gcSettings,
  )
    .option('--dry-run', 'print what would be removed, one line "module@version bytes" each and a total, and change nothing')
    .option('--json', 'print the report as JSON')
    .option('--server <url>', "have this running godepot run it (its gc.keep pins too), as an admin: its storage and audit log, and its memory forgets what goes at once")
    .option('--token <token>', 'an admin token of that server; $GODEPOT_TOKEN is better, as other users cannot read it from the process list (default: $GODEPOT_TOKEN)')
    .addHelpText(
      'after',
      "\nThe conditions and pins also come from the config file's gc mapping (unusedFor, olderThan, keepLatest, keep)\nand GODEPOT_GC_* variables; flags win, key by key. At least one condition must be set.",
    );
  withExamples(gc, [
    ['godepot storage gc --unused-for 90 --keep ./service --dry-run', 'what would go: versions not downloaded for 90 days, but none the project in ./service needs'],
    ['godepot storage gc --older-than 365 --keep-latest 3 --storage /var/lib/godepot/storage', 'versions stored over a year ago, except the 3 newest of each module'],
    ['godepot storage gc --config /etc/godepot/godepot.yaml', "the gc settings of serve's config file, once"],
    ['GODEPOT_TOKEN=... godepot storage gc --unused-for 180 --keep go.sum --server https://godepot.corp.example.com', 'run by a running server, as one of its admins'],
  ]).action(async (flags: Record<string, unknown>) => {
    const config = await loadConfig({ flags: givenSettings(flags, gcSettings), env: process.env, cwd: process.cwd() });
    checkPolicy(config.gc, '--unused-for, --older-than or --keep-latest, or the config file\'s gc.unusedFor, gc.olderThan or gc.keepLatest');
    const pins = await readPins(config.gc.keep, '--keep (gc.keep)');
    const dryRun = flags.dryRun === true;
    const print = (report: RetentionReportJson): unknown => stdout.write(flags.json === true ? `${JSON.stringify(report)}\n` : formatReport(report));
    if (typeof flags.server === 'string') {
      const token = typeof flags.token === 'string' ? flags.token : process.env.GODEPOT_TOKEN;
      if (token === undefined || token === '') throw new ConfigError('storage gc --server: an admin token is needed (--token or GODEPOT_TOKEN)');
      const transport = await serverTransport();
      try {
        print(await requestGc(flags.server, token, { policy: config.gc, pins, dryRun }, { transport }));
      } finally {
        await transport.close();
      }
      return;
    }
    // A dry run writes nothing, not even the writability probe.
    await (dryRun ? checkStorageExists : checkStorageFolder)(config.storage);
    const storage = new DiskStorage({ root: config.storage });
    let report: RetentionReport;
    if (dryRun) {
      report = await runRetention({ storage, policy: config.gc, pins, dryRun: true });
    } else {
      const audit = await openAuditLog(config.auditLog);
      try {
        report = await runRetention({ storage, policy: config.gc, pins, dryRun: false, audit, by: cliOperator(process.env) });
      } finally {
        await audit.close();
      }
    }
    print(reportJson(report));
  });
  return gc;
}

/**
 * The report for people: one line `module@version bytes` per version removed (or, in a dry run, that
 * would be), then the count and the bytes freed.
 */
export function formatReport(report: RetentionReportJson): string {
  const lines = report.removals.map((r) => `${r.path}@${r.version} ${r.bytes}\n`);
  const count = `${report.removals.length} version${report.removals.length === 1 ? '' : 's'}`;
  lines.push(report.dryRun ? `${count}, ${report.bytes} bytes would be freed (dry run: nothing removed)\n` : `${count} removed, ${report.bytes} bytes freed\n`);
  return lines.join('');
}
