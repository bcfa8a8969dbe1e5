// serve's settings as command-line options, for every command that takes some of them (serve, storage
// ls/du/rm/gc/verify): one flag, help text and default per setting, so that a setting reads the same wherever it is
// given, and the flags a command was given as the loader takes them.
import type { Command } from 'commander';
import { defaults, flagOf, type ConfigKey } from '../config/schema.js';

/** A setting a flag can give: every ConfigKey, and `config` (the file of the others). */
export type Setting = ConfigKey | 'config';

interface SettingOption {
  /** What the flag's value is called in --help; none for a switch (`--gc-on-full`). */
  value?: string;
  help: string;
  /** Given several times, its values are joined by `,`, as the variable and the file list them. */
  repeatable?: true;
}

const settingOptions: Record<Setting, SettingOption> = {
  listen: { value: 'host:port', help: `address to listen on (default: ${defaults.listen})` },
  storage: { value: 'dir', help: `storage folder, in module-cache download layout (default: ${defaults.storage})` },
  upstream: { value: 'list', help: `upstreams in GOPROXY syntax: URLs separated by , or |, direct, off (default: ${defaults.upstream})` },
  private: { value: 'patterns', help: 'GOPRIVATE-style globs of modules fetched direct, never sent to an upstream proxy or checksum database (default: $GOPRIVATE)' },
  sumdb: { value: 'gosumdb', help: `checksum database to trust, in GOSUMDB syntax, or off (default: $GOSUMDB, else ${defaults.sumdb})` },
  nosumdb: { value: 'patterns', help: 'GONOSUMDB-style globs of modules stored without asking that database; --private ones never are asked (default: $GONOSUMDB)' },
  'sumdb-host': { value: 'name', help: 'also serve a checksum database of godepot\'s own at /sumdb/<name>/, recording every stored module the trusted one does not vouch for' },
  'sumdb-key': { value: 'keyfile', help: 'the signer key of that database, as `godepot sumdb key generate <name> --output <keyfile>` writes it' },
  config: { value: 'file', help: 'YAML or JSON file of these settings (default: $GODEPOT_CONFIG)' },
  'list-ttl': { value: 'seconds', help: `how long an upstream list or @latest answer is reused (default: ${defaults['list-ttl']})` },
  prefetch: { value: 'n', help: `zips fetched ahead at a time once their .info had to be fetched, since go asks for them next; 0 for none (default: ${defaults.prefetch})` },
  'upstream-timeout': { value: 'seconds', help: `time an upstream has to send its response headers, and the window of --upstream-min-rate (default: ${defaults['upstream-timeout']})` },
  'upstream-min-rate': { value: 'rate', help: `bytes per second an upstream body must keep over any --upstream-timeout window, as 65536, 64KiB or 1MiB; 0 cuts only a stopped body (default: ${defaults['upstream-min-rate']})` },
  'shutdown-timeout': { value: 'seconds', help: `how long a graceful shutdown may wait for requests in flight (default: ${defaults['shutdown-timeout']})` },
  'log-level': { value: 'level', help: `trace, debug, info, warn, error, fatal or silent (default: ${defaults['log-level']})` },
  'log-format': { value: 'format', help: 'json, one object per line, or pretty, a line to read with local time and level (default: pretty when stdout is a terminal, else json)' },
  bundle: { value: 'file', help: 'serve this bundle read-only in front of storage, without importing it (repeat for several; first wins)', repeatable: true },
  'bundle-key': { value: 'keyfile', help: 'the Ed25519 public key every served or uploaded bundle must be signed with' },
  'import-token': { value: 'token', help: 'accept bundle uploads (godepot bundle import --server) bearing this token (at least 16 characters)' },
  insecure: { value: 'patterns', help: 'GOINSECURE-style globs of hosts whose repositories and go-get pages may be reached over http and insecure git transports (default: $GOINSECURE)' },
  'state-dir': { value: 'dir', help: `godepot's own state that is not module content (git mirrors), outside the storage folder (default: ${defaults['state-dir']})` },
  'vcs-concurrency': { value: 'n', help: `git processes run at once (default: ${defaults['vcs-concurrency']})` },
  'vcs-timeout': { value: 'seconds', help: `time limit of one git command, a first fetch of a large repository included (default: ${defaults['vcs-timeout']})` },
  'publish-token': { value: 'token', help: 'accept godepot publish uploads bearing this token (at least 16 characters)' },
  'tls-cert': { value: 'file', help: 'serve HTTPS with this certificate chain (PEM, the server\'s certificate first), read again when it changes or on SIGHUP; with --tls-key' },
  'tls-key': { value: 'file', help: 'the private key (PEM, unencrypted) of the --tls-cert certificate' },
  tokens: { value: 'file', help: 'the token file godepot token keeps, followed without a restart (default: <state-dir>/tokens.json)' },
  'audit-log': { value: 'file', help: 'the hash-chained audit log of refusals, publishes, imports, removals and token changes (default: <state-dir>/audit.log)' },
  anonymous: { value: 'read|none', help: `read: requests without a token may read modules that are not private; none: every request but /healthz and /readyz needs a token (default: ${defaults.anonymous})` },
  'metrics-token': { value: 'token', help: '/metrics needs this token (Bearer, or Basic password) or an admin token (default: open to all)' },
  'rate-limit': { value: 'rate', help: `requests per second of each token, RATE or RATE:BURST, or off (default: ${defaults['rate-limit']})` },
  'anonymous-rate-limit': { value: 'rate', help: `requests per second of each address sending no token, RATE or RATE:BURST, or off (default: ${defaults['anonymous-rate-limit']})` },
  'max-cold-fetches': { value: 'n', help: `requests of one token or address waiting on an origin at once; 0 for no cap (default: ${defaults['max-cold-fetches']})` },
  'max-upload-size': { value: 'size', help: `largest bundle upload, as 16GiB or bytes (default: ${defaults['max-upload-size']})` },
  'max-publish-size': { value: 'size', help: `largest published module zip, at most go's 500MiB (default: ${defaults['max-publish-size']})` },
  'max-storage': { value: 'size', help: 'the most bytes stored module versions may take, as 1073741824, 500MiB or 2GB (KB=1000, KiB=1024); at it new modules are refused with 507, stored ones still served (default: no limit)' },
  'storage-warning': { value: 'percent', help: `percent of --max-storage above which /readyz and /metrics warn (default: ${defaults['storage-warning']})` },
  'gc-on-full': { help: 'at --max-storage, run retention (the config file\'s gc settings) before refusing a new module' },
  'gc-schedule': { value: 'interval', help: `run retention (the config file's gc settings) this often: off, hourly, daily, weekly, or 30m, 6h, 7d (default: ${defaults['gc-schedule']})` },
  'gc.unusedFor': { value: 'days', help: 'a version goes only when not downloaded for DAYS days (never downloaded: counted from when it was stored)' },
  'gc.olderThan': { value: 'days', help: 'a version goes only when stored more than DAYS days ago' },
  'gc.keepLatest': { value: 'n', help: 'a version goes only when not among the N newest versions of its module' },
  'gc.keep': { value: 'path', help: 'never remove a module version this go.sum, project folder or bundle names (repeatable)', repeatable: true },
  workers: { value: 'n', help: `processes serving side by side on the one socket, or auto for one per core; more than one cannot be used with --sumdb-host (default: ${defaults.workers})` },
};

/** Adds the options of `settings` to `command`, in that order. */
export function withSettingOptions(command: Command, settings: readonly Setting[]): Command {
  for (const setting of settings) {
    const { value, help, repeatable } = settingOptions[setting];
    const flags = value === undefined ? flagOf(setting) : `${flagOf(setting)} <${value}>`;
    if (repeatable === true) command.option(flags, help, (item: string, items: string[] = []) => [...items, item]);
    else command.option(flags, help);
  }
  return command;
}

/** The settings among `settings` that `flags` (commander's parsed options) gives, as loadConfig takes them. */
export function givenSettings(flags: Readonly<Record<string, unknown>>, settings: readonly Setting[]): Partial<Record<Setting, string>> {
  const given: Partial<Record<Setting, string>> = {};
  for (const setting of settings) {
    // commander names an option's value after its flag in camel case: --list-ttl is listTtl.
    const value = flags[flagOf(setting).slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())];
    if (value === undefined) continue;
    given[setting] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return given;
}
