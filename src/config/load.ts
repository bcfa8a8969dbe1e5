// Builds the one ServeConfig from its four sources, lowest precedence first: defaults (the go command's
// own variables where go has the setting: GOSUMDB, GOPRIVATE, GONOSUMDB, GOINSECURE), the config file
// (--config or GODEPOT_CONFIG), GODEPOT_<NAME> variables, flags. Every value given is checked, even one
// a higher source overrides, and an error names the setting and where the bad value came from. The
// outbound proxies, SSL_CERT_FILE, GONOPROXY and GOVCS come from the environment alone, under the names
// go reads; the routing rules from the config file alone.
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { z } from 'zod';
import { parseGosumdb } from '../checksum/gosumdb.js';
import { ConfigError } from '../errors.js';
import { outboundProxyFromEnv } from '../http/outbound-proxy.js';
import { trustedRootsFromEnv } from '../http/trusted-roots.js';
import { checkPrefixPatterns } from '../module/patterns.js';
import { parseGovcs } from '../origin/govcs.js';
import { deadRule, describeRule, type RouteRule } from '../origin/routing.js';
import { CertificateError, loadCertificate, type CertificateFiles } from '../server/tls.js';
import type { LogFormat, LogLevel } from '../telemetry/logger.js';
import { configFileSchema, configKeys, defaults, envName, flagOf, gcKeys, routeRuleSchema, settingSchemas, type ConfigKey, type ServeConfig } from './schema.js';

/** The raw inputs; only src/cli reads them from the process. */
export interface ConfigSources {
  /** Flag values by setting name (`list-ttl`), plus `config`; absent when the flag was not given. */
  flags: Partial<Record<ConfigKey | 'config', string>>;
  /**
   * The environment: GODEPOT_* variables; the go command's GOSUMDB, GOPRIVATE, GONOSUMDB and GOINSECURE
   * as defaults, GONOPROXY and GOVCS; the outbound proxy variables (HTTPS_PROXY...) and SSL_CERT_FILE.
   */
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
  // As a go user expects, the go command's own variables hold unless godepot is told otherwise.
  for (const [key, variable] of goDefaults) {
    const value = env[variable];
    if (nonEmpty(value)) defaultsLayer[key] = { value, source: variable, base: cwd };
  }
  layers.push(defaultsLayer);

  const file = flags.config ?? (nonEmpty(env.GODEPOT_CONFIG) ? env.GODEPOT_CONFIG : undefined);
  let rules: RouteRule[] = [];
  if (file !== undefined) {
    const read = await readConfigFile(file, cwd);
    layers.push(read.layer);
    rules = read.rules;
  }

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
    if (value !== undefined) flagLayer[key] = { value, source: flagOf(key), base: cwd };
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
  const sourceOf = (key: ConfigKey): string => layers.findLast((layer) => layer[key] !== undefined)?.[key]?.source ?? key;
  checkHosting(p, sourceOf);
  const storage = resolve(bases.storage ?? cwd, p.storage);
  const stateDir = resolve(bases['state-dir'] ?? cwd, p['state-dir']);
  const tokens = p.tokens === null ? join(stateDir, 'tokens.json') : resolve(bases.tokens ?? cwd, p.tokens);
  const auditLog = p['audit-log'] === null ? join(stateDir, 'audit.log') : resolve(bases['audit-log'] ?? cwd, p['audit-log']);
  for (const [key, path] of [['state-dir', stateDir], ['tokens', tokens], ['audit-log', auditLog]] as const) checkOutsideStorage(key, path, storage, sourceOf);
  const bundles = await checkReadableFiles('bundle', p.bundle, bases.bundle ?? cwd, cwd, sourceOf);
  const [bundleKey = null] = await checkReadableFiles('bundle-key', p['bundle-key'] === null ? [] : [p['bundle-key']], bases['bundle-key'] ?? cwd, cwd, sourceOf);
  const tls = await checkTls(p, bases, cwd, sourceOf);
  checkRetention(p, sourceOf);
  const noProxy = goNoProxy(env);
  return deepFreeze({
    listen: p.listen,
    storage,
    upstream: p.upstream,
    private: p.private,
    noProxy,
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
    logFormat: p['log-format'] as LogFormat | null,
    workers: p.workers,
    bundles,
    bundleKey,
    importToken: p['import-token'],
    insecure: p.insecure,
    govcs: parseGovcs(env.GOVCS ?? ''),
    routes: [
      ...rules,
      ...(p.private.length > 0 ? [{ match: p.private, route: 'direct', sumdb: false, source: sourceOf('private') } as const] : []),
      ...(noProxy.length > 0 ? [{ match: noProxy, route: 'direct', sumdb: true, source: 'GONOPROXY' } as const] : []),
    ],
    stateDir,
    vcsConcurrency: p['vcs-concurrency'],
    vcsTimeout: p['vcs-timeout'],
    publishToken: p['publish-token'],
    tokens,
    auditLog,
    anonymous: p.anonymous as 'read' | 'none',
    metricsToken: p['metrics-token'],
    rateLimit: p['rate-limit'],
    anonymousRateLimit: p['anonymous-rate-limit'],
    maxColdFetches: p['max-cold-fetches'],
    maxUploadSize: p['max-upload-size'],
    maxPublishSize: p['max-publish-size'],
    tls,
    maxStorage: p['max-storage'],
    storageWarning: p['storage-warning'],
    gcOnFull: p['gc-on-full'],
    gcSchedule: p['gc-schedule'],
    gc: {
      unusedFor: p['gc.unusedFor'],
      olderThan: p['gc.olderThan'],
      keepLatest: p['gc.keepLatest'],
      keep: p['gc.keep'].map((path) => resolve(bases['gc.keep'] ?? cwd, path)),
    },
  });
}

/** The settings that default to a go command variable, as go's own setting of the same meaning. */
const goDefaults: ReadonlyArray<readonly [ConfigKey, string]> = [
  ['sumdb', 'GOSUMDB'],
  ['private', 'GOPRIVATE'],
  ['nosumdb', 'GONOSUMDB'],
  ['insecure', 'GOINSECURE'],
];

// go defaults GONOPROXY to GOPRIVATE; here `private` is routed direct whatever GONOPROXY says, so
// GONOPROXY can only add direct routes.
function goNoProxy(env: ConfigSources['env']): string[] {
  const globs = (env.GONOPROXY ?? '')
    .split(',')
    .map((glob) => glob.trim())
    .filter((glob) => glob !== '');
  checkPrefixPatterns(globs, 'GONOPROXY');
  return globs;
}

// Git mirrors, tokens and the audit log are not modules: inside the storage folder they would be served
// as a module tree, listed by a GOPROXY=file:// client and carried by whatever copies the folder.
function checkOutsideStorage(key: ConfigKey, path: string, storage: string, sourceOf: (key: ConfigKey) => string): void {
  const rel = relative(storage, path);
  if (rel === '' || (rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel))) {
    throw new ConfigError(`${sourceOf(key)}: ${path} is inside the storage folder ${storage} (${sourceOf('storage')}); godepot's own state must live outside the modules it serves`);
  }
}

/**
 * A hosted database needs both its name and its key, and must not share its name with the database
 * godepot trusts: one `/sumdb/<name>/` cannot be both the passthrough's and godepot's own.
 * Only one process may host it.
 */
function checkHosting(p: Parsed, source: (key: ConfigKey) => string): void {
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

/**
 * The server runs retention (gc-schedule, gc-on-full) only with a condition to run it with, and
 * gc-on-full only with a limit to be full at.
 */
function checkRetention(p: Parsed, source: (key: ConfigKey) => string): void {
  const conditions = p['gc.unusedFor'] !== null || p['gc.olderThan'] !== null || p['gc.keepLatest'] !== null;
  for (const key of ['gc-schedule', 'gc-on-full'] as const) {
    const on = key === 'gc-schedule' ? p[key] !== null : p[key];
    if (on && !conditions) {
      throw new ConfigError(`${source(key)}: needs a retention condition: gc.unusedFor, gc.olderThan or gc.keepLatest in the config file's gc mapping (or GODEPOT_GC_UNUSED_FOR, …); with none, retention would remove every stored version`);
    }
  }
  if (p['gc-on-full'] && p['max-storage'] === null) throw new ConfigError(`${source('gc-on-full')}: needs max-storage too, the limit at which retention runs`);
}

/**
 * The certificate files, given both or neither; at start they must hold a PEM certificate and the key
 * that goes with it (later, a bad replacement only keeps the one in use: see server/tls.ts).
 */
async function checkTls(p: Parsed, bases: Partial<Record<ConfigKey, string>>, cwd: string, source: (key: ConfigKey) => string): Promise<CertificateFiles | null> {
  const cert = p['tls-cert'];
  const key = p['tls-key'];
  if (cert === null && key === null) return null;
  if (cert === null) throw new ConfigError(`${source('tls-key')}: needs tls-cert too, the certificate (PEM) the key belongs to`);
  if (key === null) throw new ConfigError(`${source('tls-cert')}: needs tls-key too, the certificate's private key (PEM)`);
  const files = { certFile: resolve(bases['tls-cert'] ?? cwd, cert), keyFile: resolve(bases['tls-key'] ?? cwd, key) };
  try {
    await loadCertificate(files);
  } catch (err) {
    if (err instanceof CertificateError) throw new ConfigError(`${source(err.setting)}: ${err.message}`, { cause: err });
    throw err;
  }
  return files;
}

/**
 * The absolute paths of files a setting names, each checked to be a readable file now, so that a wrong
 * one is reported as the setting and where it came from, not as a bare ENOENT from deep in serve.
 */
async function checkReadableFiles(key: ConfigKey, files: readonly string[], base: string, cwd: string, source: (key: ConfigKey) => string): Promise<string[]> {
  const paths: string[] = [];
  for (const file of files) {
    const path = resolve(base, file);
    // A relative path from a config file is resolved against that file's folder, not where godepot runs.
    const named = isAbsolute(file) || base === cwd ? file : `${file} (${path})`;
    let why: string | null = null;
    try {
      if (!(await stat(path)).isFile()) why = 'not a file';
      else await access(path, constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      why = code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : `cannot be read: ${(err as Error).message}`;
    }
    if (why !== null) throw new ConfigError(`${source(key)}: ${named}: ${why}`);
    paths.push(path);
  }
  return paths;
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function check(key: ConfigKey, given: Given): unknown {
  const result = settingSchemas[key].safeParse(given.value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // Items counted from 1, as the file's rules are.
  const where = issue !== undefined && issue.path.length > 0 ? ` (item ${issue.path.map((step) => (typeof step === 'number' ? step + 1 : String(step))).join('.')})` : '';
  throw new ConfigError(`${given.source}: ${issue?.message ?? 'invalid value'}${where}`);
}

/** The settings and routing rules a YAML or JSON config file gives (JSON is YAML too); unknown names are errors, to catch typos. */
async function readConfigFile(file: string, cwd: string): Promise<{ layer: Partial<Record<ConfigKey, Given>>; rules: RouteRule[] }> {
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
  if (document === null || document === undefined) return { layer: {}, rules: [] };
  const mapping = configFileSchema.safeParse(document);
  if (!mapping.success || Array.isArray(document)) {
    throw new ConfigError(`${label}: must be a mapping of setting names to values`);
  }
  const layer: Partial<Record<ConfigKey, Given>> = {};
  let rules: RouteRule[] = [];
  for (const [name, value] of Object.entries(mapping.data)) {
    if (name === 'rules') {
      rules = readRules(value, label);
      continue;
    }
    if (name === 'gc') {
      Object.assign(layer, readGc(value, label, dirname(path)));
      continue;
    }
    if (!fileKeys.includes(name)) {
      throw new ConfigError(`${label}: unknown setting ${JSON.stringify(name)} (known: ${fileKeys.join(', ')}, gc, rules)`);
    }
    layer[name as ConfigKey] = { value, source: `${label}: ${name}`, base: dirname(path) };
  }
  return { layer, rules };
}

// The names a config file takes at its top level, besides `gc` and `rules`.
const fileKeys: readonly string[] = configKeys.filter((key) => !key.startsWith('gc.'));

/** The retention settings of a config file's `gc` mapping (unusedFor, olderThan, keepLatest, keep). */
function readGc(value: unknown, label: string, base: string): Partial<Record<ConfigKey, Given>> {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${label}: gc: must be a mapping of ${gcKeys.join(', ')}`);
  const layer: Partial<Record<ConfigKey, Given>> = {};
  for (const [name, setting] of Object.entries(value)) {
    if (!(gcKeys as readonly string[]).includes(name)) throw new ConfigError(`${label}: gc: unknown setting ${JSON.stringify(name)} (known: ${gcKeys.join(', ')})`);
    layer[`gc.${name}` as ConfigKey] = { value: setting, source: `${label}: gc.${name}`, base };
  }
  return layer;
}

/**
 * The `rules` of a config file, each named `<label>: rule N` (counted from 1). `sumdb` defaults to true
 * for `upstream` and `direct` and to false for `hosted` (published modules exist nowhere a database
 * could have seen them); a `deny` rule takes none, as a denied module is never looked up. A rule that
 * can never match (deadRule) stops the start too.
 */
function readRules(value: unknown, label: string): RouteRule[] {
  if (value === null) return [];
  if (!Array.isArray(value)) throw new ConfigError(`${label}: rules: must be a list of rules, each with match, route and optionally sumdb`);
  const rules = value.map((item: unknown, i): RouteRule => {
    const source = `${label}: rule ${i + 1}`;
    const result = routeRuleSchema.safeParse(item);
    if (!result.success) {
      const issue = result.error.issues[0];
      const key = issue !== undefined && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      throw new ConfigError(`${source}: ${key}${issue?.message ?? 'invalid rule'}`);
    }
    const { match, route, sumdb } = result.data;
    if (route === 'deny' && sumdb !== undefined) throw new ConfigError(`${source}: sumdb: a deny rule takes none (its modules are never looked up)`);
    return { match, route, sumdb: sumdb ?? (route === 'upstream' || route === 'direct'), source };
  });
  const dead = deadRule(rules);
  if (dead !== null) {
    const why =
      dead.shadowedBy.length === 0
        ? 'its patterns have an empty path element, and module paths have none'
        : `every module path it matches is taken first by ${dead.shadowedBy.map(describeRule).join(' and ')}; move it before, or remove it`;
    throw new ConfigError(`${describeRule(dead.rule)}: can never match: ${why}`);
  }
  return rules;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
