// Where each GOPROXY artifact lives in storage. The keys are the module cache download layout
// ($GOMODCACHE/cache/download), so a disk store's root is also a `GOPROXY=file://` tree that go and any
// static web server can serve as it is.
import { escapePath, escapeVersion, InvalidPathError, unescapePath, unescapeVersion } from '../module/path.js';
import { InvalidVersionError } from '../module/version.js';

/** The per-version files: go's four, `.ziphash` holding the zip's `h1:` as go's module cache keeps it. */
export type VersionFile = 'info' | 'mod' | 'zip' | 'ziphash';

/** The per-module files: `@v/list` and `@latest`, the last answers of the origin, kept for when it is down. */
export type ModuleFile = 'list' | 'latest';

/**
 * The storage key of a module's file: `<escaped path>/@v/list`, `<escaped path>/@latest`, or
 * `<escaped path>/@v/<escaped version>.<file>`. Throws InvalidPathError / InvalidVersionError for a path
 * or version that cannot be escaped, so a key never leaves the module's own folder.
 */
export function storageKey(modulePath: string, file: ModuleFile): string;
export function storageKey(modulePath: string, file: VersionFile, version: string): string;
export function storageKey(modulePath: string, file: ModuleFile | VersionFile, version?: string): string {
  const escapedPath = escapePath(modulePath);
  if (file === 'list') return `${escapedPath}/@v/list`;
  if (file === 'latest') return `${escapedPath}/@latest`;
  return `${escapedPath}/@v/${escapeVersion(version ?? '')}.${file}`;
}

/** The prefix (a folder) under which every per-version file of the module is stored. */
export function versionsPrefix(modulePath: string): string {
  return `${escapePath(modulePath)}/@v`;
}

/**
 * The version a key under versionsPrefix() names when it is a `.<file>` key, or null for any other key
 * (`list`, another kind of file, a name that is not a valid escaped version).
 */
export function versionOfKey(key: string, file: VersionFile): string | null {
  const suffix = `.${file}`;
  if (!key.endsWith(suffix)) return null;
  const escapedVersion = key.slice(key.lastIndexOf('/') + 1, -suffix.length);
  try {
    return unescapeVersion(escapedVersion);
  } catch (err) {
    if (err instanceof InvalidVersionError) return null;
    throw err;
  }
}

/** What a module's file key names: the module and, for a per-version file, the version. */
export type ModuleFileKey = { modulePath: string; file: ModuleFile } | { modulePath: string; file: VersionFile; version: string };

/**
 * The module file `key` is the storage key of (the inverse of storageKey), or null for any other key:
 * another name, or a path or version that is not a valid escaping. A key under a top-level name with
 * no dot (`sumdb/`, godepot's records) is no module's: a module path's first element has one.
 */
export function moduleFileOfKey(key: string): ModuleFileKey | null {
  const at = key.lastIndexOf('/@');
  const rest = key.slice(at + 1);
  let file: ModuleFile | VersionFile | null = null;
  let version: string | null = null;
  if (rest === '@latest') file = 'latest';
  else if (rest === '@v/list') file = 'list';
  else if (rest.startsWith('@v/') && !rest.includes('/', 3)) {
    for (const kind of ['info', 'mod', 'zip', 'ziphash'] as const) {
      version = versionOfKey(key, kind);
      if (version !== null) {
        file = kind;
        break;
      }
    }
  }
  if (at <= 0 || file === null) return null;
  let modulePath: string;
  try {
    modulePath = unescapePath(key.slice(0, at));
  } catch (err) {
    if (err instanceof InvalidPathError) return null;
    throw err;
  }
  return file === 'list' || file === 'latest' ? { modulePath, file } : { modulePath, file, version: version! };
}
