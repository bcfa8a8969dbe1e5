// Builds the one ServeConfig from its four sources, lowest precedence first: defaults, the config file
// (--config or GODEPOT_CONFIG), GODEPOT_<NAME> variables, flags. Every value given is checked, even one
// a higher source overrides, and an error names the setting and where the bad value came from. The
// outbound proxies and SSL_CERT_FILE come from the environment alone, under the names the go command reads.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { parseGosumdb } from '../checksum/gosumdb.js';
import { ConfigError } from '../errors.js';
import { outboundProxyFromEnv } from '../http/outbound-proxy.js';
import { trustedRootsFromEnv } from '../http/trusted-roots.js';
import type { LogLevel } from '../telemetry/logger.js';
import { configFileSchema, configKeys, defaults, envName, settingSchemas, type ConfigKey, type ServeConfig } from './schema.js';

/** The raw inputs; only src/cli reads them from the process. */
export interface ConfigSources {
  /** Flag values by setting name (`list-ttl`), plus `config`; absent when the flag was not given. */
  flags: Partial<Record<ConfigKey | 'config', string>>;
  /** The environment: GODEPOT_* variables, GOSUMDB as the default of `sumdb`, the outbound proxy variables (HTTPS_PROXY...), SSL_CERT_FILE. */
  env: Readonly<Record<string, string | undefined>>;
  /** Relative paths given by flags or variables are resolved against it. */
  cwd: string;
}

/** One value of a setting and where it came from, for error messages and relative paths. */
interface Given {
  value: unknown;
  /** How an error names it: `--listen`, `GODEPOT_LISTEN`, `config file godepot.yaml: listen`, `GOSUMDB`. */
  source: string;
  /** Folder a relative `storage` is resolved against: the config file's, or the working folder. */
  base: string;
}

type Parsed = { [K in ConfigKey]: z.output<(typeof settingSchemas)[K]> };

/** Loads, checks and freezes the configuration; throws ConfigError naming the bad setting and its source. */
export async function loadConfig(sources: ConfigSources): Promise<ServeConfig> {
  const { flags, env, cwd } = sources;
  const layers: Array<Partial<Record<ConfigKey, Given>>> = [];

  const defaultsLayer: Partial<Record<ConfigKey, Given>> = {};
  for (const key of configKeys) defaultsLayer[key] = { value: defaults[key], source: `default ${key}`, base: cwd };
  // As for the go command, the environment's GOSUMDB is the checksum database unless told otherwise.
  if (nonEmpty(env.GOSUMDB)) defaultsLayer.sumdb = { value: env.GOSUMDB, source: 'GOSUMDB', base: cwd };
  layers.push(defaultsLayer);

  const file = flags.config ?? (nonEmpty(env.GODEPOT_CONFIG) ? env.GODEPOT_CONFIG : undefined);
  if (file !== undefined) layers.push(await readConfigFile(file, cwd));

  const envLayer: Partial<Record<ConfigKey, Given>> = {};
  for (const key of configKeys) {
    const value = env[envName(key)];
    // An empty variable is an unset one, as the go command treats its own.
    if (nonEmpty(value)) envLayer[key] = { value, source: envName(key), base: cwd };
  }
  layers.push(envLayer);

  const flagLayer: Partial<Record<ConfigKey, Given>> = {};
  for (const key of configKeys) {
    const value = flags[key];
    if (value !== undefined) flagLayer[key] = { value, source: `--${key}`, base: cwd };
  }
  layers.push(flagLayer);

  const parsed: Partial<Record<ConfigKey, unknown>> = {};
  const bases: Partial<Record<ConfigKey, string>> = {};
  for (const layer of layers) {
    for (const key of configKeys) {
      const given = layer[key];
      if (given === undefined) continue;
      parsed[key] = check(key, given);
      bases[key] = given.base;
    }
  }
  const p = parsed as Parsed;
  checkHosting(p, layers);
  return deepFreeze({
    listen: p.listen,
    storage: resolve(bases.storage ?? cwd, p.storage),
    upstream: p.upstream,
    private: p.private,
    sumdb: p.sumdb,
    noSumdb: p.nosumdb,
    sumdbHost: p['sumdb-host'],
    sumdbKey: p['sumdb-key'] === null ? null : resolve(bases['sumdb-key'] ?? cwd, p['sumdb-key']),
    listTtl: p['list-ttl'],
    prefetch: p.prefetch,
    upstreamTimeout: p['upstream-timeout'],
    upstreamMinRate: p['upstream-min-rate'],
    outboundProxy: outboundProxyFromEnv(env),
    trustedRoots: await trustedRootsFromEnv(env, cwd),
    shutdownTimeout: p['shutdown-timeout'],
    logLevel: p['log-level'] as LogLevel,
    workers: p.workers,
    bundles: p.bundle.map((file) => resolve(bases.bundle ?? cwd, file)),
    bundleKey: p['bundle-key'] === null ? null : resolve(bases['bundle-key'] ?? cwd, p['bundle-key']),
    importToken: p['import-token'],
  });
}

/**
 * A hosted database needs both its name and its key, and must not share its name with the database
 * godepot trusts: one `/sumdb/<name>/` cannot be both the passthrough's and godepot's own.
 * Only one process may host it.
 */
function checkHosting(p: Parsed, layers: ReadonlyArray<Partial<Record<ConfigKey, Given>>>): void {
  const source = (key: ConfigKey): string => layers.findLast((layer) => layer[key] !== undefined)?.[key]?.source ?? key;
  const host = p['sumdb-host'];
  if (host !== null && p['sumdb-key'] === null) {
    throw new ConfigError(`${source('sumdb-host')}: needs sumdb-key too, the signer key file \`godepot sumdb key generate\` writes`);
  }
  if (host === null && p['sumdb-key'] !== null) throw new ConfigError(`${source('sumdb-key')}: needs sumdb-host too, the name of the database it signs for`);
  if (host !== null && parseGosumdb(p.sumdb)?.name === host) {
    throw new ConfigError(`${source('sumdb-host')}: ${host} is also the checksum database godepot trusts (${source('sumdb')}); a database cannot vouch for itself`);
  }
  // Records are appended by one process only: several would each extend the log from their own view of it.
  if (host !== null && p.workers > 1) {
    throw new ConfigError(`${source('workers')}: ${p.workers} workers cannot host a checksum database (${source('sumdb-host')}); only one process may append its records, so serve it with workers 1`);
  }
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function check(key: ConfigKey, given: Given): unknown {
  const result = settingSchemas[key].safeParse(given.value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue !== undefined && issue.path.length > 0 ? ` (item ${issue.path.join('.')})` : '';
  throw new ConfigError(`${given.source}: ${issue?.message ?? 'invalid value'}${where}`);
}

/** The settings a YAML or JSON config file gives (JSON is YAML too); unknown names are errors, to catch typos. */
async function readConfigFile(file: string, cwd: string): Promise<Partial<Record<ConfigKey, Given>>> {
  const path = resolve(cwd, file);
  const label = `config file ${file}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${label}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  let document: unknown;
  try {
    // Loaded only when a config file is given: the YAML parser is a good part of a command's start-up time.
    const { parse } = await import('yaml');
    document = parse(text);
  } catch (err) {
    throw new ConfigError(`${label}: not valid YAML or JSON: ${(err as Error).message}`, { cause: err });
  }
  // An empty file sets nothing.
  if (document === null || document === undefined) return {};
  const mapping = configFileSchema.safeParse(document);
  if (!mapping.success || Array.isArray(document)) {
    throw new ConfigError(`${label}: must be a mapping of setting names to values`);
  }
  const layer: Partial<Record<ConfigKey, Given>> = {};
  for (const [name, value] of Object.entries(mapping.data)) {
    if (!(configKeys as readonly string[]).includes(name)) {
      throw new ConfigError(`${label}: unknown setting ${JSON.stringify(name)} (known: ${configKeys.join(', ')})`);
    }
    layer[name as ConfigKey] = { value, source: `${label}: ${name}`, base: dirname(path) };
  }
  return layer;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
