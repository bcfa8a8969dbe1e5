// `godepot storage verify --repair`: what checkStore found damaged is taken out into quarantine, never
// deleted, and fetched again through a depot assembled as serve's is, which checks and stores it as it
// stores anything it fetches. Every damaged version is then checked again: only what that check finds
// whole counts as repaired.
import type { Depot } from '../depot/depot.js';
import type { Storage } from '../storage/storage.js';
import type { ChecksumRecords } from './checksum-records.js';
import { quarantine } from './quarantine.js';
import { keepRemovedHashes } from '../store/removed-versions.js';
import type { StoreReport } from './store-check.js';
import { checkModuleAnswer } from './store-check.js';
import { checkVersion, type CheckedFile, type CheckedStorage, type Problem } from './version-check.js';
import { readStored } from '../storage/read-stored.js';
import { storageKey } from '../protocol/keys.js';

/** What the repair did about one problem. */
export interface Repair {
  /**
   * `refetched`: a good copy is stored again; `removed`: a leftover, deleted; `quarantined`: taken out
   * and not fetched again (`reason` says why); `left`: still there (`reason` says why).
   */
  outcome: 'refetched' | 'removed' | 'quarantined' | 'left';
  /** Where the problem's objects went (quarantine keys). */
  quarantined: string[];
  reason?: string;
}

/** What repairStore did. */
export interface StoreRepair {
  /** For each problem of the report, in its order. */
  repairs: Repair[];
  /** Problems the check after the repair found that the report did not have (a refetched zip's missing `.info`, say). */
  found: Problem[];
}

/** What repairStore works with. */
export interface RepairOptions {
  /** The storage folder; discard() removes a leftover (DiskStorage's staging). */
  storage: CheckedStorage & { discard(file: string): Promise<void> };
  /** Fetches what was taken out again; closed (its stores waited for) before the check that follows. */
  depot: Depot;
  records: ChecksumRecords;
  /** The quarantine folder of this run (quarantineStamp). */
  stamp: string;
}

// A version's files are fetched in this order: the zip's commit stores a missing .mod and .info too.
const fetchOrder: readonly CheckedFile[] = ['zip', 'mod', 'info', 'list', 'latest'];

/**
 * Repairs what `report` found: leftovers are removed; every other damaged object is moved to
 * quarantine, and its file fetched again (a zip with its `.ziphash`; a `.mod` a whole zip beside it
 * gives again without asking the origin). Versions are repaired one after the other.
 */
export async function repairStore(report: StoreReport, options: RepairOptions): Promise<StoreRepair> {
  const { storage, depot, stamp } = options;
  const repairs = new Map<Problem, Repair>();
  const groups = new Map<string, Problem[]>();
  for (const problem of report.problems) {
    if (problem.file === 'leftover') {
      repairs.set(problem, await removeLeftover(storage, problem.objects[0]!));
      continue;
    }
    const name = problem.version === null ? `${problem.module} ${problem.file}` : `${problem.module}@${problem.version}`;
    groups.set(name, [...(groups.get(name) ?? []), problem]);
  }

  const attempts = new Map<string, { moved: Map<string, string>; failed: Map<CheckedFile, string> }>();
  for (const [name, problems] of groups) {
    const moved = new Map<string, string>();
    const failed = new Map<CheckedFile, string>();
    attempts.set(name, { moved, failed });
    const { module: modulePath, version } = problems[0]!;
    // A damaged zip taken out leaves its hash (the .ziphash stored with it) on record, as storage rm does,
    // so that the version comes back only with its content: a published one, by publishing it again.
    // Not with a damaged .mod beside it, whose hash is not the version's.
    if (version !== null && problems.some((p) => p.file === 'zip') && !problems.some((p) => p.file === 'mod')) {
      await keepRemovedHashes(storage, modulePath!, version, new Date(), { goMod: false });
    }
    for (const key of new Set(problems.flatMap((problem) => problem.objects))) moved.set(key, await quarantine(storage, stamp, key));
    for (const file of fetchOrder.filter((f) => problems.some((problem) => problem.file === f))) {
      try {
        await fetchAgain(depot, file, modulePath!, version);
      } catch (err) {
        failed.set(file, (err as Error).message);
      }
    }
  }
  // The small files a fetch answered are stored behind the answer: all of them, before looking.
  await depot.close();

  const found: Problem[] = [];
  for (const [name, problems] of groups) {
    const { moved, failed } = attempts.get(name)!;
    const { module: modulePath, version } = problems[0]!;
    const remaining = await checkAgain(options, modulePath!, version, problems[0]!.file);
    for (const problem of problems) {
      const quarantined = problem.objects.map((key) => moved.get(key)!);
      const still = remaining.find((r) => r.file === problem.file);
      const stored = await storedAgain(storage, problem);
      const reason =
        failed.get(problem.file) ?? (still !== undefined ? `after fetching it again: ${still.problem}` : stored ? undefined : 'not stored again: the origin did not give it');
      if (reason === undefined) repairs.set(problem, { outcome: 'refetched', quarantined });
      else repairs.set(problem, { outcome: quarantined.length > 0 ? 'quarantined' : 'left', quarantined, reason });
    }
    found.push(...remaining.filter((r) => !problems.some((problem) => problem.file === r.file)));
  }
  return { repairs: report.problems.map((problem) => repairs.get(problem)!), found };
}

async function removeLeftover(storage: RepairOptions['storage'], file: string): Promise<Repair> {
  try {
    await storage.discard(file);
    return { outcome: 'removed', quarantined: [] };
  } catch (err) {
    return { outcome: 'left', quarantined: [], reason: (err as Error).message };
  }
}

/** True when storage holds the problem's file again (a zip with its `.ziphash`). */
async function storedAgain(storage: Storage, problem: Problem): Promise<boolean> {
  const { module: modulePath, version, file } = problem;
  if (file === 'list' || file === 'latest') return (await storage.stat(storageKey(modulePath!, file))) !== null;
  const files = file === 'zip' ? (['zip', 'ziphash'] as const) : file === 'mod' ? (['mod'] as const) : (['info'] as const);
  const stats = await Promise.all(files.map((f) => storage.stat(storageKey(modulePath!, f, version!))));
  return stats.every((stat) => stat !== null);
}

/** Asks the depot for the file, as a client of serve would: a file storage lacks is fetched and stored. */
async function fetchAgain(depot: Depot, file: CheckedFile, modulePath: string, version: string | null): Promise<void> {
  if (file === 'list') await depot.list(modulePath);
  else if (file === 'latest') await depot.latest(modulePath);
  else if (file === 'zip') await depot.zip(modulePath, version!);
  else if (file === 'mod') await depot.mod(modulePath, version!);
  else await depot.info(modulePath, version!);
}

/** The problems a check of the version (or of the module's `list` or `@latest`) finds now. */
async function checkAgain(options: RepairOptions, modulePath: string, version: string | null, file: CheckedFile): Promise<Problem[]> {
  if (version !== null) return (await checkVersion(options.storage, options.records, modulePath, version)).problems;
  const answer = file === 'list' ? 'list' : 'latest';
  const body = await readStored(options.storage, storageKey(modulePath, answer));
  const problem = body === null ? null : checkModuleAnswer(modulePath, answer, body);
  return problem === null ? [] : [problem];
}
