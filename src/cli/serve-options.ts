// The settings of `godepot serve` as flags, defined once: serve takes them all, and a command that works
// on serve's storage or upstream side (storage verify) takes the ones it needs, with the same names, help
// and defaults, so that it reads the same config file and GODEPOT_* variables the way serve does.
import { Option, type Command } from 'commander';
import type { ConfigSources } from '../config/load.js';
import { defaults, type ConfigKey } from '../config/schema.js';

/** A setting given as a flag: one of serve's, or `config`, the file the others may come from. */
export type ServeSetting = ConfigKey | 'config';

// Flag syntax and help of each setting, in the order serve's help lists them.
const serveFlags: Readonly<Record<ServeSetting, readonly [flags: string, description: string]>> = {
  listen: ['--listen <host:port>', `address to listen on (default: ${defaults.listen})`],
  storage: ['--storage <dir>', `storage folder, in module-cache download layout (default: ${defaults.storage})`],
  upstream: ['--upstream <list>', `upstreams in GOPROXY syntax: URLs separated by , or |, direct, off (default: ${defaults.upstream})`],
  private: ['--private <patterns>', 'GOPRIVATE-style globs of modules fetched direct, never sent to an upstream proxy or checksum database (default: $GOPRIVATE)'],
  sumdb: ['--sumdb <gosumdb>', `checksum database to trust, in GOSUMDB syntax, or off (default: $GOSUMDB, else ${defaults.sumdb})`],
  nosumdb: ['--nosumdb <patterns>', 'GONOSUMDB-style globs of modules stored without asking that database; --private ones never are asked (default: $GONOSUMDB)'],
  'sumdb-host': ['--sumdb-host <name>', 'also serve a checksum database of godepot\'s own at /sumdb/<name>/, recording every stored module the trusted one does not vouch for'],
  'sumdb-key': ['--sumdb-key <keyfile>', 'the signer key of that database, as `godepot sumdb key generate <name> --output <keyfile>` writes it'],
  config: ['--config <file>', 'YAML or JSON file of these settings (default: $GODEPOT_CONFIG)'],
  'list-ttl': ['--list-ttl <seconds>', `how long an upstream list or @latest answer is reused (default: ${defaults['list-ttl']})`],
  prefetch: ['--prefetch <n>', `zips fetched ahead at a time once their .info had to be fetched, since go asks for them next; 0 for none (default: ${defaults.prefetch})`],
  'upstream-timeout': ['--upstream-timeout <seconds>', `time an upstream has to send its response headers, and the window of --upstream-min-rate (default: ${defaults['upstream-timeout']})`],
  'upstream-min-rate': ['--upstream-min-rate <rate>', `bytes per second an upstream body must keep over any --upstream-timeout window, as 65536, 64KiB or 1MiB; 0 cuts only a stopped body (default: ${defaults['upstream-min-rate']})`],
  'shutdown-timeout': ['--shutdown-timeout <seconds>', `how long a graceful shutdown may wait for requests in flight (default: ${defaults['shutdown-timeout']})`],
  'log-level': ['--log-level <level>', `trace, debug, info, warn, error, fatal or silent (default: ${defaults['log-level']})`],
  'log-format': ['--log-format <format>', 'json, one object per line, or pretty, a line to read with local time and level (default: pretty when stdout is a terminal, else json)'],
  bundle: ['--bundle <file>', 'serve this bundle read-only in front of storage, without importing it (repeat for several; first wins)'],
  'bundle-key': ['--bundle-key <keyfile>', 'the Ed25519 public key every served or uploaded bundle must be signed with'],
  'import-token': ['--import-token <token>', 'accept bundle uploads (godepot bundle import --server) bearing this token (at least 16 characters)'],
  insecure: ['--insecure <patterns>', 'GOINSECURE-style globs of hosts whose repositories and go-get pages may be reached over http and insecure git transports (default: $GOINSECURE)'],
  'state-dir': ['--state-dir <dir>', `godepot's own state that is not module content (git mirrors), outside the storage folder (default: ${defaults['state-dir']})`],
  'vcs-concurrency': ['--vcs-concurrency <n>', `git processes run at once (default: ${defaults['vcs-concurrency']})`],
  'vcs-timeout': ['--vcs-timeout <seconds>', `time limit of one git command, a first fetch of a large repository included (default: ${defaults['vcs-timeout']})`],
  'publish-token': ['--publish-token <token>', 'accept godepot publish uploads bearing this token (at least 16 characters)'],
  'tls-cert': ['--tls-cert <file>', 'serve HTTPS with this certificate chain (PEM, the server\'s certificate first), read again when it changes or on SIGHUP; with --tls-key'],
  'tls-key': ['--tls-key <file>', 'the private key (PEM, unencrypted) of the --tls-cert certificate'],
  tokens: ['--tokens <file>', 'the token file godepot token keeps, followed without a restart (default: <state-dir>/tokens.json)'],
  'audit-log': ['--audit-log <file>', 'the hash-chained audit log of refusals, publishes, imports, removals and token changes (default: <state-dir>/audit.log)'],
  anonymous: ['--anonymous <read|none>', `read: requests without a token may read modules that are not private; none: every request but /healthz and /readyz needs a token (default: ${defaults.anonymous})`],
  'metrics-token': ['--metrics-token <token>', '/metrics needs this token (Bearer, or Basic password) or an admin token (default: open to all)'],
  'rate-limit': ['--rate-limit <rate>', `requests per second of each token, RATE or RATE:BURST, or off (default: ${defaults['rate-limit']})`],
  'anonymous-rate-limit': ['--anonymous-rate-limit <rate>', `requests per second of each address sending no token, RATE or RATE:BURST, or off (default: ${defaults['anonymous-rate-limit']})`],
  'max-cold-fetches': ['--max-cold-fetches <n>', `requests of one token or address waiting on an origin at once; 0 for no cap (default: ${defaults['max-cold-fetches']})`],
  'max-upload-size': ['--max-upload-size <size>', `largest bundle upload, as 16GiB or bytes (default: ${defaults['max-upload-size']})`],
  'max-publish-size': ['--max-publish-size <size>', `largest published module zip, at most go's 500MiB (default: ${defaults['max-publish-size']})`],
  workers: ['--workers <n>', `processes serving side by side on the one socket, or auto for one per core; more than one cannot be used with --sumdb-host (default: ${defaults.workers})`],
};

/** Every setting, in serve's order. */
export const serveSettings = Object.keys(serveFlags) as ServeSetting[];

// Repeatable: each --bundle adds a file.
const collect = (file: string, files: string[] = []): string[] => [...files, file];

/** Adds the flags of `settings` to `command`, in serve's order, as serve defines them. */
export function withServeOptions(command: Command, settings: readonly ServeSetting[]): Command {
  for (const setting of serveSettings) {
    if (!settings.includes(setting)) continue;
    const [flags, description] = serveFlags[setting];
    const option = new Option(flags, description);
    command.addOption(setting === 'bundle' ? option.argParser(collect) : option);
  }
  return command;
}

/** The values of the `settings` flags given on `command`'s line, as loadConfig takes them (repeated --bundle joined by commas). */
export function givenSettings(command: Command, settings: readonly ServeSetting[]): ConfigSources['flags'] {
  return settingsOf(command.opts<Record<string, unknown>>(), settings);
}

/** givenSettings of options commander already parsed (an action's flags). */
export function settingsOf(values: Readonly<Record<string, unknown>>, settings: readonly ServeSetting[]): ConfigSources['flags'] {
  const given: ConfigSources['flags'] = {};
  for (const setting of settings) {
    const value = values[new Option(serveFlags[setting][0]).attributeName()];
    if (typeof value === 'string') given[setting] = value;
    else if (Array.isArray(value)) given[setting] = value.join(',');
  }
  return given;
}
