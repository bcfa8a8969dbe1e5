// One retention run over a store: `storage gc`, serve's --gc-schedule and --gc-on-full all run this.
import type { Audit, AuditActor } from '../audit/audit.js';
import type { Storage } from '../storage/storage.js';
import { removeVersion } from './remove-version.js';
import { selectRemovals, type Pins, type RetentionPolicy } from './retention.js';
import { listStoredVersions } from './stored-versions.js';

/** A version a run removed, or would remove. */
export interface RetentionRemoval {
  path: string;
  version: string;
  /** Bytes of its `.info`, `.mod` and `.zip`: those freed. */
  bytes: number;
  stored: Date;
  lastDownloaded: Date | null;
}

/** What a run did, or would do. */
export interface RetentionReport {
  dryRun: boolean;
  /** Sorted by module path, then by semantic version. */
  removals: RetentionRemoval[];
  /** Their bytes together. */
  bytes: number;
}

/** What a run needs: a dry run only says what would go, and neither removes nor records anything. */
export type RetentionRunOptions = {
  storage: Storage;
  policy: RetentionPolicy;
  pins: Pins;
  now?: Date;
} & (
  | { dryRun: true }
  | {
      dryRun: false;
      /** Where each removal is recorded, once done and before the run goes on. */
      audit: Audit;
      /** Who runs it, as the audit log names them (`cli:<user>` from `cli`; `serve` for the server's own runs). */
      by: { actor: AuditActor; from: string };
      /** Told of each version removed, so that a running server forgets what it remembers of it. */
      removed?: (modulePath: string, version: string) => void;
    }
);

/**
 * Lists the store, selects what `policy` removes (pins kept), and removes each version with
 * removeVersion, recording a `storage.gc` event for each. A failure stops the run; what was removed
 * before it stays removed, and recorded.
 */
export async function runRetention(options: RetentionRunOptions): Promise<RetentionReport> {
  const { storage, policy, pins } = options;
  const selected = selectRemovals(await listStoredVersions(storage), policy, pins, options.now ?? new Date());
  if (options.dryRun) return { dryRun: true, removals: selected.map(({ path, version, bytes, stored, lastDownloaded }) => ({ path, version, bytes, stored, lastDownloaded })), bytes: total(selected) };
  const removals: RetentionRemoval[] = [];
  for (const { path, version, stored, lastDownloaded } of selected) {
    const freed = await removeVersion(storage, path, version);
    options.removed?.(path, version);
    await options.audit.record({
      action: 'storage.gc',
      ...options.by,
      target: `${path}@${version}`,
      outcome: 'ok',
      detail: { bytes: freed, stored: stored.toISOString(), lastDownloaded: lastDownloaded?.toISOString() ?? 'never', policy: describePolicy(policy) },
    });
    removals.push({ path, version, bytes: freed, stored, lastDownloaded });
  }
  return { dryRun: false, removals, bytes: total(removals) };
}

function total(versions: readonly { bytes: number }[]): number {
  return versions.reduce((sum, v) => sum + v.bytes, 0);
}

/** A report as JSON carries it (`storage gc --json`, POST /admin/gc): times as RFC 3339 text. */
export interface RetentionReportJson {
  dryRun: boolean;
  removals: Array<{ path: string; version: string; bytes: number; stored: string; lastDownloaded: string | null }>;
  bytes: number;
}

/** `report` as JSON carries it. */
export function reportJson(report: RetentionReport): RetentionReportJson {
  return {
    dryRun: report.dryRun,
    removals: report.removals.map((r) => ({ path: r.path, version: r.version, bytes: r.bytes, stored: r.stored.toISOString(), lastDownloaded: r.lastDownloaded?.toISOString() ?? null })),
    bytes: report.bytes,
  };
}

/** The policy as the flags that set it: `unused-for 30, keep-latest 3`. */
export function describePolicy(policy: RetentionPolicy): string {
  const parts: string[] = [];
  if (policy.unusedFor !== null) parts.push(`unused-for ${policy.unusedFor}`);
  if (policy.olderThan !== null) parts.push(`older-than ${policy.olderThan}`);
  if (policy.keepLatest !== null) parts.push(`keep-latest ${policy.keepLatest}`);
  return parts.join(', ');
}
