// `godepot storage`: what the store holds and how to take versions out of it, on a storage folder (as
// serve finds it: --storage, the config file, GODEPOT_STORAGE, the same default) or on a running server
// (--server URL with an admin token, through its admin API).
import { checkStorageExists } from '../storage/folder-check.js';
import { Command } from 'commander';
import type { Audit } from '../audit/audit.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { checkPrefixPatterns, matchPrefixPatterns } from '../module/patterns.js';
import { Routing } from '../origin/routing.js';
import { checkCanonical } from '../protocol/request.js';
import { DiskStorage } from '../storage/disk.js';
import { RemoteStore } from '../store/remote-store.js';
import { routeOrigin } from '../store/route-origin.js';
import { StoreAdministration, usageGroupings, type Removal, type StoredVersionSummary, type StoreUsage, type UsageBy } from '../store/store-admin.js';
import { formatBytes } from '../telemetry/progress.js';
import { withExamples } from './examples.js';
import { cliOperator } from './operator.js';
import { givenSettings, withSettingOptions, type Setting } from './settings-options.js';
import { localTime, table } from './table.js';
import { upstreamSettingsOf } from './wiring.js';
import { serverTransport } from './server-transport.js';

interface StoreFlags {
  storage?: string;
  config?: string;
  upstream?: string;
  private?: string;
  stateDir?: string;
  auditLog?: string;
  server?: string;
  token?: string;
  json?: boolean;
}

/** What the commands ask of a store, a folder's or a server's. */
interface StoreView {
  versions(pattern: string | null): Promise<StoredVersionSummary[]>;
  usage(by: UsageBy, pattern: string | null): Promise<StoreUsage>;
  remove(modulePath: string, version: string): Promise<Removal>;
  close(): Promise<void>;
}

/** `godepot storage ls|du|rm` (verify and gc are added to it by their own files). */
export function storageCommand(): Command {
  const storage = withExamples(new Command('storage').description('what the store holds: list, measure, remove, verify and expire stored module versions, on a storage folder or a running server'), [
    'godepot storage ls "golang.org/x/*"',
    'godepot storage du --by origin',
    'godepot storage rm example.com/lib@v1.2.3',
    'godepot storage verify --repair',
    'godepot storage gc --unused-for 90 --keep ./service --dry-run',
  ]);

  withExamples(
    withStore(
      storage
        .command('ls')
        .description('list stored module versions: size, origin, when stored and when last downloaded')
        .argument('[pattern]', 'GOPRIVATE-style globs of the module paths to list (default: all)'),
    ),
    [
      ['godepot storage ls', 'every stored version of ./.godepot (or the config file\'s storage)'],
      ['godepot storage ls "golang.org/x/*" --storage /var/lib/godepot --json', 'the versions of golang.org/x modules, with every field'],
      ['GODEPOT_TOKEN=... godepot storage ls --server https://godepot.corp.example', 'what a running server holds (an admin token)'],
    ],
  ).action(async (pattern: string | undefined, flags: StoreFlags) => {
    const checked = checkedPattern(pattern);
    await withView(flags, async (view) => {
      const versions = await view.versions(checked);
      if (flags.json === true) return void process.stdout.write(`${JSON.stringify(versions, null, 2)}\n`);
      if (versions.length === 0) return void process.stderr.write(checked === null ? 'no module versions are stored\n' : `no stored module version matches ${checked}\n`);
      const unrecorded = versions.some((v) => !v.originRecorded);
      process.stdout.write(
        table(
          [
            ['MODULE', 'VERSION', 'SIZE', 'ORIGIN', 'STORED', 'LAST DOWNLOAD'],
            ...versions.map((v) => [v.path, v.version, formatBytes(v.bytes), v.originRecorded ? v.origin : `${v.origin} *`, localTime(v.stored), v.lastDownloaded === null ? 'never' : localTime(v.lastDownloaded)]),
          ],
          new Set([2]),
        ),
      );
      if (unrecorded) process.stderr.write('* origin not recorded when stored: the route the module has under the current settings\n');
    });
  });

  withExamples(
    withStore(
      storage
        .command('du')
        .description('bytes and versions stored, per module or per origin, largest first, with the totals')
        .option('--by <grouping>', `group by ${usageGroupings.join(' or ')} (default: module)`),
    ),
    [
      ['godepot storage du', 'bytes and versions per module, largest first'],
      ['godepot storage du --by origin --json', 'per origin: the upstream list, direct, hosted'],
    ],
  ).action(async (flags: StoreFlags & { by?: string }) => {
    const by = flags.by ?? 'module';
    if (!(usageGroupings as readonly string[]).includes(by)) throw new ConfigError(`--by: want ${usageGroupings.join(' or ')}, not ${JSON.stringify(by)}`);
    await withView(flags, async (view) => {
      const usage = await view.usage(by as UsageBy, null);
      if (flags.json === true) return void process.stdout.write(`${JSON.stringify(usage, null, 2)}\n`);
      process.stdout.write(
        table([[by === 'module' ? 'MODULE' : 'ORIGIN', 'VERSIONS', 'SIZE'], ...usage.rows.map((row) => [row.name, String(row.versions), formatBytes(row.bytes)])], new Set([1, 2])),
      );
      const { modules, versions, bytes } = usage.total;
      process.stdout.write(`total: ${modules} modules, ${versions} versions, ${formatBytes(bytes)}\n`);
    });
  });

  withExamples(
    withStore(
      storage
        .command('rm')
        .description('remove a stored module version (recorded in the audit log); versions stay immutable: a removed published version can only be published again with the same content')
        .argument('<module@version>', 'the module version to remove'),
      ['state-dir', 'audit-log'],
    ),
    [
      ['godepot storage rm example.com/lib@v1.2.3', 'a fetched version is fetched again when asked for; a published one can come back only with the same content'],
      ['GODEPOT_TOKEN=... godepot storage rm corp.example.com/lib@v0.1.0 --server https://godepot.corp.example', 'through a running server, which stops serving it at once'],
    ],
  ).action(async (spec: string, flags: StoreFlags) => {
    const at = spec.lastIndexOf('@');
    if (at <= 0 || at === spec.length - 1) throw new ConfigError(`want MODULE@VERSION, such as example.com/lib@v1.2.3, not ${JSON.stringify(spec)}`);
    const modulePath = spec.slice(0, at);
    const version = spec.slice(at + 1);
    checkCanonical(modulePath, version);
    await withView(flags, async (view) => {
      const removal = await view.remove(modulePath, version);
      if (flags.json === true) return void process.stdout.write(`${JSON.stringify(removal, null, 2)}\n`);
      process.stdout.write(`removed ${removal.path}@${removal.version} (${removal.files.join(', ')}: ${formatBytes(removal.bytes)})\n`);
    });
  });
  return storage;
}

/** The options every storage command takes: serve's settings that find the storage and name origins (and `extra`), --server, --token, --json. */
function withStore(command: Command, extra: readonly Setting[] = []): Command {
  return withSettingOptions(command, ['storage', 'config', 'upstream', 'private', ...extra])
    .option('--server <url>', 'a running godepot to ask instead of a storage folder (its admin API)')
    .option('--token <token>', 'an admin token of that server (admin:PATTERN sees only its modules); $GODEPOT_TOKEN is better, as other users cannot read it from the process list (default: $GODEPOT_TOKEN)')
    .option('--json', 'print every field as JSON')
    .addHelpText('after', "\nWithout --server, the storage is serve's: --storage, else GODEPOT_STORAGE, else the config file's, else the default; origins\nnot recorded when a version was stored are shown as the route its module has under these settings.");
}

function checkedPattern(pattern: string | undefined): string | null {
  if (pattern === undefined || pattern === '') return null;
  checkPrefixPatterns(pattern, 'PATTERN');
  return pattern;
}

/** Runs `use` on the store the flags name, closed afterwards. */
async function withView(flags: StoreFlags, use: (view: StoreView) => Promise<void>): Promise<void> {
  if (flags.token !== undefined && flags.server === undefined) throw new ConfigError('storage: --token is the token of a --server; a storage folder needs none');
  const view = flags.server === undefined ? await folderView(flags) : await serverView(flags);
  try {
    await use(view);
  } finally {
    await view.close();
  }
}

async function serverView(flags: StoreFlags): Promise<StoreView> {
  if (flags.storage !== undefined) throw new ConfigError('storage: give --storage or --server, not both');
  const token = flags.token ?? process.env.GODEPOT_TOKEN;
  if (token === undefined || token === '') throw new ConfigError('storage: --server needs an admin token (--token or GODEPOT_TOKEN)');
  const transport = await serverTransport();
  const remote = new RemoteStore(flags.server!, token, transport);
  return {
    versions: (pattern) => remote.versions(pattern),
    usage: (by, pattern) => remote.usage(by, pattern),
    remove: (modulePath, version) => remote.remove(modulePath, version),
    close: () => transport.close(),
  };
}

async function folderView(flags: StoreFlags): Promise<StoreView> {
  const config = await loadConfig({ flags: givenSettings(flags as Record<string, unknown>, ['storage', 'config', 'upstream', 'private', 'state-dir', 'audit-log']), env: process.env, cwd: process.cwd() });
  // A mistyped folder is an error, not an empty store.
  await checkStorageExists(config.storage);
  const administration = new StoreAdministration({
    storage: new DiskStorage({ root: config.storage }),
    originOf: routeOrigin(new Routing(upstreamSettingsOf(config).routing), config.upstream),
  });
  const include = (pattern: string | null) => (modulePath: string) => pattern === null || matchPrefixPatterns(pattern, modulePath);
  return {
    versions: (pattern) => administration.versions(include(pattern)),
    usage: (by, pattern) => administration.usage(by, include(pattern)),
    // The audit log is opened only to remove, and closed (flushed) before the removal is reported.
    remove: async (modulePath, version) => {
      const audit = await openFileAuditLog(config.auditLog);
      try {
        return await administration.remove(modulePath, version, cliOperator(process.env), audit);
      } finally {
        await audit.close();
      }
    },
    close: async () => undefined,
  };
}

async function openFileAuditLog(file: string): Promise<Audit> {
  const { openAuditLog } = await import('../audit/file-audit-log.js');
  return openAuditLog(file);
}
