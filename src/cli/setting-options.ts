// The flags of serve's settings that other commands take too (the `storage` commands work on the
// storage a server serves, so they find it as serve does): defined once, so that a flag is spelt,
// explained and defaulted the same wherever it is taken, and read through the same config loading.
import { Option } from 'commander';
import { defaults, type ConfigKey } from '../config/schema.js';

/** The settings whose flags are shared. */
export type SharedSetting = Extract<ConfigKey, 'storage' | 'upstream' | 'private' | 'state-dir' | 'audit-log'> | 'config';

const flags: Readonly<Record<SharedSetting, readonly [string, string]>> = {
  storage: ['--storage <dir>', `storage folder, in module-cache download layout (default: ${defaults.storage})`],
  upstream: ['--upstream <list>', `upstreams in GOPROXY syntax: URLs separated by , or |, direct, off (default: ${defaults.upstream})`],
  private: ['--private <patterns>', 'GOPRIVATE-style globs of modules fetched direct, never sent to an upstream proxy or checksum database (default: $GOPRIVATE)'],
  config: ['--config <file>', 'YAML or JSON file of these settings (default: $GODEPOT_CONFIG)'],
  'state-dir': ['--state-dir <dir>', `godepot's own state that is not module content (git mirrors), outside the storage folder (default: ${defaults['state-dir']})`],
  'audit-log': ['--audit-log <file>', 'the hash-chained audit log of refusals, publishes, imports, removals and token changes (default: <state-dir>/audit.log)'],
};

/** serve's flag of `setting`. */
export function settingOption(setting: SharedSetting): Option {
  const [syntax, description] = flags[setting];
  return new Option(syntax, description);
}

/** The values of `settings` among commander's parsed `options` (camelCased), as loadConfig takes flags. */
export function givenSettings(options: Readonly<Record<string, unknown>>, settings: readonly SharedSetting[]): Partial<Record<ConfigKey | 'config', string>> {
  const given: Partial<Record<ConfigKey | 'config', string>> = {};
  for (const setting of settings) {
    const value = options[setting.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())];
    if (typeof value === 'string') given[setting] = value;
  }
  return given;
}
