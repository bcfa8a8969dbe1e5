// Retention: which stored module versions go. The three conditions Artifactory reserves for its top
// edition (not downloaded for N days, stored more than N days ago, beyond the N newest of a module),
// combined so that a version goes only when it meets every condition given, and pins that always win.
import { ConfigError } from '../errors.js';
import { compare } from '../module/semver.js';
import type { StoredVersion } from './stored-versions.js';

/** The conditions a version must all meet to go; at least one is set. */
export interface RetentionPolicy {
  /** Days since its last download (or, never downloaded, since it was stored); null: no condition. */
  unusedFor: number | null;
  /** Days since it was stored; null: no condition. */
  olderThan: number | null;
  /** Versions of each module kept by semantic version, newest first; null: no condition. */
  keepLatest: number | null;
}

/** `module@version` of each pinned version: never removed, whatever the policy says. */
export type Pins = ReadonlySet<string>;

/** The key a pin is held under. */
export function pinKey(modulePath: string, version: string): string {
  return `${modulePath}@${version}`;
}

const dayMs = 24 * 60 * 60 * 1000;

/**
 * Throws ConfigError unless the policy sets a condition: with none, every version would qualify.
 * `settings` names them as the caller's user knows them (`--unused-for`, `gc.unusedFor`).
 */
export function checkPolicy(policy: RetentionPolicy, settings: string): void {
  if (policy.unusedFor === null && policy.olderThan === null && policy.keepLatest === null) {
    throw new ConfigError(`retention needs at least one condition (${settings}): with none it would remove every stored version`);
  }
}

/**
 * The versions of `stored` that go under `policy` at `now`, in the order given: those meeting every
 * condition set, none of them pinned. Ages are whole spans: a version last downloaded exactly N days
 * ago is unused for N days. The newest versions are counted among those stored, by semantic version as
 * go orders them (a pre-release or pseudo-version below its release, `+incompatible` as its release).
 */
export function selectRemovals(stored: readonly StoredVersion[], policy: RetentionPolicy, pins: Pins, now: Date): StoredVersion[] {
  checkPolicy(policy, 'unusedFor, olderThan, keepLatest');
  const newest = policy.keepLatest === null ? null : newestOfEachModule(stored, policy.keepLatest);
  const at = now.getTime();
  return stored.filter((version) => {
    if (pins.has(pinKey(version.path, version.version))) return false;
    if (policy.unusedFor !== null && at - (version.lastDownloaded ?? version.stored).getTime() < policy.unusedFor * dayMs) return false;
    if (policy.olderThan !== null && at - version.stored.getTime() < policy.olderThan * dayMs) return false;
    if (newest !== null && newest.has(version)) return false;
    return true;
  });
}

/** The `keep` newest versions of each module in `stored`. */
function newestOfEachModule(stored: readonly StoredVersion[], keep: number): Set<StoredVersion> {
  const byModule = new Map<string, StoredVersion[]>();
  for (const version of stored) {
    const versions = byModule.get(version.path);
    if (versions === undefined) byModule.set(version.path, [version]);
    else versions.push(version);
  }
  const newest = new Set<StoredVersion>();
  for (const versions of byModule.values()) {
    versions.sort((a, b) => compare(b.version, a.version));
    for (const version of versions.slice(0, keep)) newest.add(version);
  }
  return newest;
}
