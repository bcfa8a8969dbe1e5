// What the commands that fetch modules (bundle create, mirror) share: serve's upstream settings under
// the same names and sources, how many fetches run at once, progress on stderr, and a log that stays
// off stdout, which holds only the command's result.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { defaults } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { consoleLogger } from '../telemetry/console-log.js';
import { logFormats, type LogFormat, type LoggerHandle } from '../telemetry/logger.js';
import { silentProgress, streamProgress, type Progress } from '../telemetry/progress.js';
import { upstreamSettingsOf, type UpstreamSettings } from './wiring.js';

export interface FetchFlags {
  upstream?: string;
  private?: string;
  sumdb?: string;
  nosumdb?: string;
  config?: string;
  concurrency?: string;
  quiet?: boolean;
  logFormat?: string;
}

const DEFAULT_CONCURRENCY = 16;

/** Adds the upstream options (serve's names and defaults), --concurrency and --quiet. */
export function withFetchOptions(command: Command): Command {
  return command
    .option('--upstream <list>', `upstreams in GOPROXY syntax (default: ${defaults.upstream})`)
    .option('--sumdb <gosumdb>', `checksum database to verify against, in GOSUMDB syntax, or off (default: $GOSUMDB, else ${defaults.sumdb})`)
    .option('--private <patterns>', 'GOPRIVATE-style globs of modules never sent to an upstream proxy or checksum database (default: $GOPRIVATE)')
    .option('--nosumdb <patterns>', 'GONOSUMDB-style globs of modules not verified against the checksum database (default: $GONOSUMDB)')
    .option('--config <file>', 'YAML or JSON file of godepot settings (default: $GODEPOT_CONFIG)')
    .option('--concurrency <n>', `module versions fetched at once (default: ${DEFAULT_CONCURRENCY})`)
    .option('--quiet', 'no progress line, so no count of retried requests either; warnings and errors are still written')
    .option('--log-format <format>', 'how warnings are written on stderr: pretty, a line to read, or json, one object per line (default: pretty)')
    .addHelpText('after', "\nThe upstream settings are serve's: each also comes from GODEPOT_<NAME> (GODEPOT_UPSTREAM) and the config file.");
}

/** The upstream settings of `godepot serve` (flags, GODEPOT_* variables, config file, GOSUMDB). */
export async function upstreamSettings(flags: FetchFlags): Promise<UpstreamSettings> {
  const given: Record<string, string> = {};
  for (const key of ['upstream', 'private', 'sumdb', 'nosumdb', 'config'] as const) if (flags[key] !== undefined) given[key] = flags[key];
  const config = await loadConfig({ flags: given, env: process.env, cwd: process.cwd() });
  return upstreamSettingsOf(config);
}

/**
 * The checked --concurrency and --log-format, progress reporting as `label` unless --quiet, `note` to
 * write lines on stderr (--quiet or not) without tearing the progress line, and a warn-level log
 * written the same way whose retries the progress line counts.
 */
export function fetchRun(flags: FetchFlags, label: string): { concurrency: number; progress: Progress; note: (text: string) => void } & LoggerHandle {
  const concurrency = flags.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new ConfigError(`--concurrency: must be a whole number from 1 to 256, not ${flags.concurrency}`);
  const format = flags.logFormat ?? 'pretty';
  if (!(logFormats as readonly string[]).includes(format)) throw new ConfigError(`--log-format: must be ${logFormats.join(' or ')}, not ${JSON.stringify(format)}`);
  const progress = flags.quiet ? silentProgress : streamProgress(process.stderr, label);
  const write = flags.quiet ? (text: string) => void process.stderr.write(text) : (text: string) => progress.note(text);
  return { concurrency, progress, note: write, ...consoleLogger({ format: format as LogFormat, write, retried: (reason) => progress.retried(reason) }) };
}
