// `godepot storage verify [--repair] [--json]`: read a storage folder again, as serve takes it (serve's
// settings, flags, variables and config file), report what is damaged, and with --repair fetch it again
// through a depot assembled as serve assembles its own.
import { mkdir } from 'node:fs/promises';
import { Command } from 'commander';
import { pino } from 'pino';
import { parseGosumdb } from '../checksum/gosumdb.js';
import { loadConfig, type ConfigSources } from '../config/load.js';
import { DiskStorage } from '../storage/disk.js';
import { checkStorageExists, checkStorageFolder } from '../storage/folder-check.js';
import { allRecords, hostedRecords, keptLookups } from '../store-check/checksum-records.js';
import { KeptHashesVerifier } from '../store-check/kept-hashes-verifier.js';
import { quarantineKey, quarantineStamp } from '../store-check/quarantine.js';
import { repairStore, type Repair, type StoreRepair } from '../store-check/repair.js';
import { checkStore, type StoreReport } from '../store-check/store-check.js';
import type { Problem } from '../store-check/version-check.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { withExamples } from './examples.js';
import { givenSettings, withSettingOptions, type Setting } from './settings-options.js';
import { packageVersion } from './version.js';
import { assembleUpstream, cachingDepot, ownSumdb, routedDepot, upstreamSettingsOf } from './wiring.js';

// serve's settings that say where the storage is, which checksum records it holds, and where a
// damaged version is fetched from again.
const settings: readonly Setting[] = [
  'storage',
  'config',
  'upstream',
  'private',
  'sumdb',
  'nosumdb',
  'sumdb-host',
  'sumdb-key',
  'list-ttl',
  'upstream-timeout',
  'upstream-min-rate',
  'insecure',
  'state-dir',
  'vcs-concurrency',
  'vcs-timeout',
];

interface VerifyFlags {
  repair?: boolean;
  json?: boolean;
}

/** Adds `verify` to the `storage` command group. */
export function addStorageVerify(storage: Command): Command {
  const command = withSettingOptions(
    new Command('verify').description('read every stored module version again and report what is damaged; --repair fetches it again from its origin'),
    settings,
  )
    .option('--repair', 'fetch what is damaged again from its origin, as serve would; what cannot be fetched is moved to godepot/quarantine/ in the storage, never deleted')
    .option('--json', 'one JSON document with every problem (and what --repair did) instead of lines')
    .addHelpText(
      'after',
      "\nThe settings are serve's, with its defaults, from the same flags, GODEPOT_<NAME> variables and config file.\nOne line `module@version: problem` per problem on stdout; exit status 0 only when nothing damaged remains.",
    );
  storage.addCommand(
    withExamples(command, [
      ['godepot storage verify --storage /var/lib/godepot/storage', 'report damaged zips, .mod and .info files, and leftovers of interrupted writes'],
      ['godepot storage verify --config /etc/godepot/godepot.yaml --repair', "fetch damaged versions again through serve's upstream chain and routing"],
      'godepot storage verify --json > verify.json',
    ]).action(async (flags: VerifyFlags, self: Command) => {
      process.exitCode = await verify(givenSettings(self.opts(), settings), flags);
    }),
  );
  return storage;
}

async function verify(given: ConfigSources['flags'], flags: VerifyFlags): Promise<number> {
  const config = await loadConfig({ flags: given, env: process.env, cwd: process.cwd() });
  // A check only reads: it works on a read-only copy of a storage too.
  await (flags.repair === true ? checkStorageFolder : checkStorageExists)(config.storage);
  const folder = new DiskStorage({ root: config.storage });
  // stdout holds the report; what goes wrong on the way (a store that failed) is logged on stderr.
  const { logger } = createLogger({ level: 'warn', destination: pino.destination({ dest: 2, sync: true }) });
  const metrics = createMetrics(packageVersion());
  const upstream = assembleUpstream(upstreamSettingsOf(config), folder, logger, metrics);
  try {
    const { database, verifier } = await ownSumdb(config, folder, upstream.verifier, logger);
    const trusted = parseGosumdb(config.sumdb);
    const records = allRecords([...(trusted === null ? [] : [keptLookups(folder, trusted.verifierKey)]), ...(database === null ? [] : [hostedRecords(database)])]);
    const report = await checkStore(folder, records);
    let repair: StoreRepair | null = null;
    const stamp = quarantineStamp(new Date());
    if (flags.repair === true && report.problems.length > 0) {
      // Git mirrors of modules fetched `direct` are kept there, as serve keeps them.
      await mkdir(config.stateDir, { recursive: true });
      const depot = routedDepot(
        upstream,
        cachingDepot(upstream, folder, { logger, metrics, listTtlMs: config.listTtl * 1000, verifier: new KeptHashesVerifier(verifier, report.expected) }),
      );
      repair = await repairStore(report, { storage: folder, depot, records, stamp });
    }
    const remaining = render(config.storage, report, repair, flags.json === true, stamp);
    return remaining === 0 ? 0 : 1;
  } finally {
    await upstream.close();
  }
}

/** Writes the report (lines, or one JSON document) on stdout and a summary on stderr; returns how many problems remain. */
function render(storage: string, report: StoreReport, repair: StoreRepair | null, json: boolean, stamp: string): number {
  const entries = report.problems.map((problem, i) => ({ problem, repair: repair?.repairs[i] ?? null }));
  for (const problem of repair?.found ?? []) entries.push({ problem, repair: { outcome: 'left', quarantined: [], reason: 'found by the check after the repair' } });
  const remaining = entries.filter((entry) => entry.repair === null || entry.repair.outcome === 'quarantined' || entry.repair.outcome === 'left').length;
  if (json) {
    const document = {
      storage,
      checked: { versions: report.versions, objects: report.objects, bytes: report.bytes },
      problems: entries.map(({ problem, repair: done }) => ({ ...problem, ...(done === null ? {} : { repair: done }) })),
      remaining,
    };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    process.stdout.write(entries.map(({ problem, repair: done }) => `${line(problem)}${done === null ? '' : ` -> ${outcome(done)}`}\n`).join(''));
  }
  const found = entries.length === 0 ? 'nothing damaged' : `${entries.length} problem${entries.length === 1 ? '' : 's'}`;
  let summary = `${storage}: ${report.versions} module versions checked (${report.objects} objects, ${report.bytes} bytes): ${found}`;
  if (repair !== null) {
    summary += `; ${entries.length - remaining} repaired, ${remaining} not`;
    if (entries.some(({ repair: done }) => (done?.quarantined.length ?? 0) > 0)) summary += `; damaged objects kept under ${quarantineKey(stamp, '')}`;
  }
  process.stderr.write(`${summary}\n`);
  return remaining;
}

/** `module@version: problem`; a module's list or @latest: `module: problem`; a leftover: the problem, which names its file. */
function line(problem: Problem): string {
  if (problem.module === null) return problem.problem;
  return `${problem.version === null ? problem.module : `${problem.module}@${problem.version}`}: ${problem.problem}`;
}

function outcome(repair: Repair): string {
  if (repair.outcome === 'refetched') return 'refetched';
  if (repair.outcome === 'removed') return 'removed';
  const reason = (repair.reason ?? '').split('\n')[0];
  return repair.outcome === 'quarantined' ? `quarantined, not fetched again: ${reason}` : `not repaired: ${reason}`;
}
