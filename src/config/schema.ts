// What `godepot serve` can be told, under the names users and scripts rely on: one zod schema per
// setting, shared by the flag, the GODEPOT_<NAME> variable and the config file key, so a value means
// the same wherever it comes from. Values are checked here with the parsers the parts that use them
// have (GOPROXY lists, GOPRIVATE patterns, GOSUMDB), so a bad value stops the start, never a request.
// The routing `rules` come from the config file alone (routeRuleSchema).
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { checkHostedName, DEFAULT_GOSUMDB, parseGosumdb } from '../checksum/gosumdb.js';
import type { OutboundProxySettings } from '../http/outbound-proxy.js';
import { parseGoproxyList } from '../origin/chain.js';
import type { GovcsRule } from '../origin/govcs.js';
import { routeNames, type RouteRule } from '../origin/routing.js';
import { checkPrefixPatterns } from '../module/patterns.js';
import type { CertificateFiles } from '../server/tls.js';
import { logFormats, logLevels, type LogFormat, type LogLevel } from '../telemetry/logger.js';

/** Every setting, by its flag and config-file name; the variable is GODEPOT_ and the name in upper snake case. */
export const configKeys = [
  'listen',
  'storage',
  'upstream',
  'private',
  'sumdb',
  'nosumdb',
  'sumdb-host',
  'sumdb-key',
  'list-ttl',
  'prefetch',
  'upstream-timeout',
  'upstream-min-rate',
  'shutdown-timeout',
  'log-level',
  'log-format',
  'workers',
  'bundle',
  'bundle-key',
  'import-token',
  'insecure',
  'state-dir',
  'vcs-concurrency',
  'vcs-timeout',
  'publish-token',
  'tokens',
  'audit-log',
  'anonymous',
  'metrics-token',
  'rate-limit',
  'anonymous-rate-limit',
  'max-cold-fetches',
  'max-upload-size',
  'max-publish-size',
  'tls-cert',
  'tls-key',
  'max-storage',
  'storage-warning',
  'gc-on-full',
  'gc-schedule',
  'gc.unusedFor',
  'gc.olderThan',
  'gc.keepLatest',
  'gc.keep',
] as const;
export type ConfigKey = (typeof configKeys)[number];

/** The retention settings: the config file's `gc` mapping, under their names there (`unusedFor`). */
export const gcKeys = ['unusedFor', 'olderThan', 'keepLatest', 'keep'] as const;

/** How a flag names a setting: `--list-ttl`; a retention setting by its name in the mapping: `gc.unusedFor` is `--unused-for`. */
export function flagOf(key: ConfigKey | 'config'): string {
  return `--${kebab(key.startsWith('gc.') ? key.slice(3) : key)}`;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (upper) => `-${upper.toLowerCase()}`);
}

/** The validated settings of `godepot serve`; built once, then frozen. */
export interface ServeConfig {
  listen: Readonly<{ host: string; port: number }>;
  /** Absolute path of the storage folder. */
  storage: string;
  /** The GOPROXY-syntax upstream list, as given (a config file's list joined by `,`). */
  upstream: string;
  /** GOPRIVATE-style patterns, one glob per item: routed `direct` (after the file's rules) and never looked up. */
  private: readonly string[];
  /** GONOPROXY-style patterns (the GONOPROXY variable): routed `direct` too, after `private`. */
  noProxy: readonly string[];
  /** The GOSUMDB-syntax checksum database godepot trusts, as given (`off` for none). */
  sumdb: string;
  /** GONOSUMDB-style patterns of modules stored without asking that database (as `private` ones are). */
  noSumdb: readonly string[];
  /** The name of the checksum database godepot hosts at `/sumdb/<name>/`, or null when it hosts none. */
  sumdbHost: string | null;
  /** Absolute path of that database's signer key file; set exactly when sumdbHost is. */
  sumdbKey: string | null;
  /** Seconds an upstream `list`/`@latest` answer is reused. */
  listTtl: number;
  /** Zips fetched ahead at a time once their `.info` had to be fetched; 0 fetches none ahead. */
  prefetch: number;
  /** Seconds an upstream has to send its response headers; also the window over which a body must keep upstreamMinRate. */
  upstreamTimeout: number;
  /** Bytes per second an upstream body must average over any upstreamTimeout window; 0: only a stopped body is cut. */
  upstreamMinRate: number;
  /** HTTP_PROXY, HTTPS_PROXY and NO_PROXY (or their lower-case names) as checked. */
  outboundProxy: OutboundProxySettings;
  /** The certificates (PEM) https connections trust when SSL_CERT_FILE is set (see trustedRootsFromEnv); null: Node's own. */
  trustedRoots: readonly string[] | null;
  /** Seconds a graceful shutdown may take before the remaining connections are cut. */
  shutdownTimeout: number;
  logLevel: LogLevel;
  /** How log lines are written; null: pretty when stdout is a terminal, else JSON. */
  logFormat: LogFormat | null;
  /** How many processes serve, side by side on the one listening socket; `auto` became the core count. */
  workers: number;
  /** Absolute paths of bundles served read-only in front of storage. */
  bundles: readonly string[];
  /** Absolute path of the Ed25519 public key every served or uploaded bundle must be signed with, or null. */
  bundleKey: string | null;
  /** The bearer token that authorises bundle uploads (POST /admin/bundles), or null when uploads are off. */
  importToken: string | null;
  /** GOINSECURE-style patterns: hosts whose repositories and go-get pages may be reached over http and insecure git transports. */
  insecure: readonly string[];
  /** The GOVCS variable's rules (go's defaults not included: Routing adds them). */
  govcs: readonly GovcsRule[];
  /**
   * The routing rules in the order they are tried: the config file's `rules`, then `private` (direct, no
   * checksum database) and `noProxy` (direct) as rules of their own; a module none matches goes upstream.
   */
  routes: readonly RouteRule[];
  /** Absolute path of godepot's own state that is not module content (git mirrors under vcs/); never inside `storage`. */
  stateDir: string;
  /** Git processes run at once. */
  vcsConcurrency: number;
  /** Seconds one git command may take (a first fetch of a large repository is one command). */
  vcsTimeout: number;
  /** The bearer token accepting `godepot publish` uploads (16 characters or more), or null when publishing is off. */
  publishToken: string | null;
  /** Absolute path of the token file `godepot token` keeps (default `<stateDir>/tokens.json`). */
  tokens: string;
  /** Absolute path of the audit log (default `<stateDir>/audit.log`). */
  auditLog: string;
  /** What a request without credentials may do: read what is not private, or nothing. */
  anonymous: 'read' | 'none';
  /** The token `/metrics` requires (16 characters or more), or null when it requires none. */
  metricsToken: string | null;
  /** Requests per second and burst of each token; null: no limit. */
  rateLimit: Readonly<{ ratePerSecond: number; burst: number }> | null;
  /** Requests per second and burst of each client address sending no token; null: no limit. */
  anonymousRateLimit: Readonly<{ ratePerSecond: number; burst: number }> | null;
  /** Requests of one principal (a token, or an address) waiting on an origin at once; 0: no cap. */
  maxColdFetches: number;
  /** Largest bundle upload accepted, in bytes. */
  maxUploadSize: number;
  /** Largest published module zip accepted, in bytes (at most go's 500 MiB). */
  maxPublishSize: number;
  /** Absolute paths of the certificate chain and private key served over HTTPS, read again when they change; null serves plain HTTP. */
  tls: Readonly<CertificateFiles> | null;
  /** Bytes the stored versions may take (StoredInventory's count); at it new versions are refused; null: no limit. */
  maxStorage: number | null;
  /** Percent of maxStorage above which /readyz and /metrics warn. */
  storageWarning: number;
  /** At maxStorage, run retention (`gc`) before refusing a new version. */
  gcOnFull: boolean;
  /** Milliseconds between the server's retention runs; null: none. */
  gcSchedule: number | null;
  /** Retention: the conditions a version must all meet to be removed (null: not a condition), and the pins. */
  gc: Readonly<{
    unusedFor: number | null;
    olderThan: number | null;
    keepLatest: number | null;
    /** Absolute paths of go.sum files, project folders and bundles whose module versions are never removed. */
    keep: readonly string[];
  }>;
}

/** The environment variable of a setting: `list-ttl` → `GODEPOT_LIST_TTL`, `gc.unusedFor` → `GODEPOT_GC_UNUSED_FOR`. */
export function envName(key: ConfigKey | 'config'): string {
  return 'GODEPOT_' + kebab(key).toUpperCase().replace(/[-.]/g, '_');
}

// The parsers of other parts throw ConfigError with messages starting "<key>: "; the caller names the
// key (and where the value came from) itself.
function checkedBy(key: string, check: (value: string) => unknown) {
  return (value: string, ctx: z.RefinementCtx): void => {
    try {
      check(value);
    } catch (err) {
      const message = (err as Error).message;
      ctx.addIssue({ code: 'custom', message: message.startsWith(`${key}: `) ? message.slice(key.length + 2) : message });
    }
  };
}

const text = z.string({ error: 'must be a string' }).trim().min(1, { error: 'must not be empty' });

const host = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*)$/;

/** `HOST:PORT`, `[IPv6]:PORT`, or `:PORT` for every interface. */
export function parseListen(value: string): { host: string; port: number } | null {
  const colon = value.lastIndexOf(':');
  if (colon < 0) return null;
  const hostPart = value.slice(0, colon);
  const portPart = value.slice(colon + 1);
  if (!host.test(hostPart) || !/^[0-9]{1,5}$/.test(portPart) || Number(portPart) > 65535) return null;
  const bare = hostPart.startsWith('[') ? hostPart.slice(1, -1) : hostPart;
  return { host: bare === '' ? '0.0.0.0' : bare, port: Number(portPart) };
}

const listen = text.transform((value, ctx) => {
  const parsed = parseListen(value);
  if (parsed === null) {
    ctx.addIssue({ code: 'custom', message: `invalid listen address ${JSON.stringify(value)} (want HOST:PORT)` });
    return z.NEVER;
  }
  return parsed;
});

// A comma-separated string (flag, variable, or file) or a list of strings (file).
function patterns(key: string) {
  return z
    .union([z.string(), z.array(z.string({ error: 'must be a string' }))], { error: 'must be a string or a list of strings' })
    .transform((value) =>
      (typeof value === 'string' ? value.split(',') : value.flatMap((item) => item.split(',')))
        .map((glob) => glob.trim())
        .filter((glob) => glob !== ''),
    )
    .superRefine((globs, ctx) => checkedBy(key, (value) => checkPrefixPatterns(value, key))(globs.join(','), ctx));
}

// File paths: comma-separated (flag, variable, file) or a list (file).
const files = z
  .union([z.string(), z.array(z.string({ error: 'must be a string' }))], { error: 'must be a string or a list of strings' })
  .transform((value) => (typeof value === 'string' ? value.split(',') : value).map((item) => item.trim()).filter((item) => item !== ''));

// A GOPROXY string (flag, variable, file), or in the file a list like `private`'s whose items are the
// elements, joined by `,`: the next is asked only when one answers not found, the usual choice. A `|`
// (next on any error) needs the string form, so an item is one element, never a list of its own.
const upstream = z
  .union([z.string(), z.array(text)], { error: 'must be a GOPROXY string or a list of proxy URLs, direct and off' })
  .superRefine((value, ctx) => {
    if (typeof value === 'string') return;
    const i = value.findIndex((item) => /[,|]/.test(item));
    if (i >= 0) ctx.addIssue({ code: 'custom', path: [i], message: `one proxy URL, direct or off per item, not ${JSON.stringify(value[i])} (for | write the list as one string)` });
  })
  .transform((value) => (typeof value === 'string' ? value : value.join(',')))
  .pipe(text.superRefine(checkedBy('upstream', parseGoproxyList)));

// A setting that may be left unset: empty means unset, anywhere.
const optionalText = z
  .string({ error: 'must be a string' })
  .trim()
  .transform((value) => (value === '' ? null : value));

function seconds(min: number, inclusive: boolean) {
  const bound = inclusive ? z.number().min(min, { error: `must be at least ${min}` }) : z.number().gt(min, { error: `must be more than ${min}` });
  return z
    .union([z.number(), z.string().regex(/^\s*[0-9]+(\.[0-9]+)?\s*$/).transform(Number)], { error: 'must be a number of seconds' })
    .pipe(bound.finite());
}

// A whole number from `min` to `max`, as a number (file) or digits (flag, variable, file).
function count(min: number, max: number) {
  return z
    .union([z.number(), z.string().regex(/^\s*[0-9]+\s*$/).transform(Number)], { error: 'must be a whole number' })
    .pipe(z.number().int({ error: 'must be a whole number' }).min(min, { error: `must be at least ${min}` }).max(max, { error: `must be at most ${max}` }));
}

const rateUnits: Readonly<Record<string, number>> = { '': 1, b: 1, kib: 1 << 10, mib: 1 << 20, gib: 1 << 30 };

/** A rate in bytes per second: `65536`, `64KiB`, `1.5MiB`, `1GiB/s`; null when it is none of these. */
export function parseRate(value: string): number | null {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(b|kib|mib|gib)?(?:\/s)?\s*$/i.exec(value);
  if (match === null) return null;
  return Math.floor(Number(match[1]) * rateUnits[(match[2] ?? '').toLowerCase()]!);
}

// Bytes per second, as a number (file) or with a binary unit (flag, variable, file).
const rate = z.union([z.number(), z.string()], { error: 'must be a rate in bytes per second' }).transform((value, ctx) => {
  const parsed = typeof value === 'number' ? (Number.isFinite(value) && value >= 0 ? Math.floor(value) : null) : parseRate(value);
  if (parsed === null) {
    ctx.addIssue({ code: 'custom', message: `must be bytes per second, as 65536, 64KiB or 1MiB (0 for no minimum), not ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return parsed;
});

// A count of processes, or `auto` for one per core this process may use.
const workers = z
  .union([z.number(), z.string().trim()], { error: 'must be a whole number or auto' })
  .transform((value, ctx) => {
    if (value === 'auto') return availableParallelism();
    const count = typeof value === 'number' ? value : /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(count) || count < 1 || count > 256) {
      ctx.addIssue({ code: 'custom', message: `must be auto or a whole number from 1 to 256, not ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return count;
  });

// `RATE` or `RATE:BURST` requests per second (a burst of RATE×40 by default: the requests of one large
// `go mod download` at once); 0 or `off` for no limit.
const requestRate = z.union([z.number(), z.string()], { error: 'must be a request rate' }).transform((value, ctx) => {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(?::\s*([0-9]+)\s*)?$/.exec(String(value));
  if (String(value).trim() === 'off' || (match !== null && Number(match[1]) === 0)) return null;
  if (match === null || (match[2] !== undefined && Number(match[2]) < 1)) {
    ctx.addIssue({ code: 'custom', message: `must be requests per second as RATE or RATE:BURST (500, 500:20000), or off, not ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  const ratePerSecond = Number(match[1]);
  return { ratePerSecond, burst: match[2] !== undefined ? Number(match[2]) : Math.ceil(ratePerSecond * 40) };
});

const sizeUnits: Readonly<Record<string, number>> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** A size in bytes: `1048576`, `500MiB`, `2GB`, `1.5GiB`; null when it is none of these. */
export function parseSize(value: string): number | null {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\s*$/i.exec(value);
  if (match === null) return null;
  return Math.floor(Number(match[1]) * sizeUnits[(match[2] ?? '').toLowerCase()]!);
}

const size = z.union([z.number(), z.string()], { error: 'must be a size in bytes' }).transform((value, ctx) => {
  const parsed = typeof value === 'number' ? (Number.isSafeInteger(value) && value > 0 ? value : null) : parseSize(value);
  if (parsed === null || parsed < 1) {
    ctx.addIssue({ code: 'custom', message: `must be a size in bytes, as 1073741824, 500MiB or 2GB, not ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return parsed;
});

// `schema`'s value, or null when unset: empty, or null in the file.
function unsetOr<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' || value === null ? undefined : value), schema.optional()).transform((value) => value ?? null);
}

// `true` or `false`: a YAML boolean, or the text a flag or variable gives.
const flag = z
  .union([z.boolean(), z.enum(['true', 'false'])], { error: 'must be true or false' })
  .transform((value) => value === true || value === 'true');

// `off`, or an interval: `30m`, `6h`, `1d`, `hourly`, `daily`, `weekly`; in milliseconds.
const intervalUnits: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const namedIntervals: Readonly<Record<string, number>> = { hourly: 3_600_000, daily: 86_400_000, weekly: 7 * 86_400_000 };
const schedule = z.string({ error: 'must be off or an interval' }).transform((value, ctx) => {
  const text = value.trim().toLowerCase();
  if (text === 'off' || text === '') return null;
  const named = namedIntervals[text];
  if (named !== undefined) return named;
  const match = /^([0-9]+)(s|m|h|d)$/.exec(text);
  if (match === null || Number(match[1]) === 0) {
    ctx.addIssue({ code: 'custom', message: `must be off, hourly, daily, weekly or an interval such as 30m, 6h or 7d, not ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return Number(match[1]) * intervalUnits[match[2]!]!;
});

// At least 16 characters, as a bearer token should be; empty means none.
const token = optionalText.refine((value) => value === null || value.length >= 16, { error: 'must be at least 16 characters' });

/**
 * One item of the config file's `rules`: `match` (GOPRIVATE-style globs, a string or a list), `route`
 * (upstream, direct, hosted, deny) and `sumdb` (false keeps the checksum database from being asked).
 */
export const routeRuleSchema = z.strictObject(
  {
    match: patterns('match').refine((globs) => globs.length > 0, { error: 'must name at least one pattern' }),
    route: z.enum(routeNames, { error: `must be one of ${routeNames.join(', ')}` }),
    sumdb: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (known: match, route, sumdb)` : 'must be a mapping of match, route and sumdb') },
);

/** The schema of each setting, reading a string (flag, variable) or a YAML/JSON value (config file). */
export const settingSchemas = {
  listen,
  storage: text,
  upstream,
  private: patterns('private'),
  sumdb: text.superRefine(checkedBy('sumdb', parseGosumdb)),
  nosumdb: patterns('nosumdb'),
  'sumdb-host': optionalText.superRefine((value, ctx) => {
    if (value !== null) checkedBy('sumdb-host', checkHostedName)(value, ctx);
  }),
  'sumdb-key': optionalText,
  'list-ttl': seconds(0, true),
  prefetch: count(0, 64),
  'upstream-timeout': seconds(0, false),
  'upstream-min-rate': rate,
  'shutdown-timeout': seconds(0, true),
  'log-level': z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }),
  'log-format': optionalText.refine((value) => value === null || (logFormats as readonly string[]).includes(value), { error: `must be ${logFormats.join(' or ')}` }),
  workers,
  bundle: files,
  'bundle-key': optionalText,
  'import-token': token,
  insecure: patterns('insecure'),
  'state-dir': text,
  'vcs-concurrency': count(1, 64),
  'vcs-timeout': seconds(0, false),
  'publish-token': token,
  tokens: optionalText,
  'audit-log': optionalText,
  anonymous: z.enum(['read', 'none'], { error: 'must be read or none' }),
  'metrics-token': token,
  'rate-limit': requestRate,
  'anonymous-rate-limit': requestRate,
  'max-cold-fetches': count(0, 100_000),
  'max-upload-size': size,
  'max-publish-size': size.refine((n) => n <= 500 * 2 ** 20, { error: "must be at most 500MiB, go's limit for a module zip" }),
  'tls-cert': optionalText,
  'tls-key': optionalText,
  'max-storage': unsetOr(size),
  'storage-warning': count(1, 100),
  'gc-on-full': flag,
  'gc-schedule': schedule,
  'gc.unusedFor': unsetOr(count(0, 100 * 365)),
  'gc.olderThan': unsetOr(count(0, 100 * 365)),
  'gc.keepLatest': unsetOr(count(0, 1_000_000)),
  'gc.keep': files,
} satisfies Record<ConfigKey, z.ZodType>;

/** A config file: a mapping of setting names to values, nothing else. */
export const configFileSchema = z.record(z.string(), z.unknown(), { error: 'must be a mapping of setting names to values' });

/**
 * The values used when no flag, variable or file sets one; as for the go command, `sumdb`, `private`,
 * `nosumdb` and `insecure` fall back to GOSUMDB, GOPRIVATE, GONOSUMDB and GOINSECURE first.
 */
export const defaults: Readonly<Record<ConfigKey, string>> = {
  listen: '127.0.0.1:3000',
  storage: './.godepot',
  upstream: 'https://proxy.golang.org,direct',
  private: '',
  sumdb: DEFAULT_GOSUMDB,
  nosumdb: '',
  'sumdb-host': '',
  'sumdb-key': '',
  'list-ttl': '60',
  prefetch: '4',
  'upstream-timeout': '30',
  'upstream-min-rate': '64KiB',
  'shutdown-timeout': '30',
  'log-level': 'info',
  // Unset: pretty on a terminal, JSON otherwise (a log collector, a pipe).
  'log-format': '',
  workers: '1',
  bundle: '',
  'bundle-key': '',
  'import-token': '',
  insecure: '',
  'state-dir': './.godepot-state',
  'vcs-concurrency': '4',
  'vcs-timeout': '300',
  'publish-token': '',
  tokens: '',
  'audit-log': '',
  anonymous: 'read',
  'metrics-token': '',
  // Far above what one build asks: go does not retry a 429, so a limit met by a real build breaks it.
  'rate-limit': '1000:40000',
  'anonymous-rate-limit': '500:20000',
  'max-cold-fetches': '64',
  'max-upload-size': '16GiB',
  'max-publish-size': '500MiB',
  'tls-cert': '',
  'tls-key': '',
  'max-storage': '',
  'storage-warning': '90',
  'gc-on-full': 'false',
  'gc-schedule': 'off',
  'gc.unusedFor': '',
  'gc.olderThan': '',
  'gc.keepLatest': '',
  'gc.keep': '',
};
