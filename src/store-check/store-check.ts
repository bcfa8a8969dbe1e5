// `godepot storage verify`: every object a storage folder holds for modules read again, and what an
// interrupted write left behind. Only reads: nothing is written, moved or removed (repair.ts does that).
import { relative, sep } from 'node:path';
import { isStorableVersion, readInfo } from '../depot/verify.js';
import { isValid } from '../module/semver.js';
import { moduleFileOfKey, storageKey, type ModuleFile } from '../protocol/keys.js';
import type { Leftover } from '../storage/disk.js';
import { readStored } from '../storage/read-stored.js';
import type { ChecksumRecords } from './checksum-records.js';
import { checkVersion, type CheckedStorage, type ExpectedHashes, type Problem } from './version-check.js';

/** A storage folder as storage verify reads it (DiskStorage). */
export interface CheckedFolder extends CheckedStorage {
  readonly root: string;
  /** The files of writes that never finished. */
  leftovers(): Promise<Leftover[]>;
}

/** What checkStore found. */
export interface StoreReport {
  /** Module versions checked. */
  versions: number;
  /** Objects read, and their bytes. */
  objects: number;
  bytes: number;
  /** Every problem: leftovers first, then by module and version. */
  problems: Problem[];
  /** For each damaged version (`module@version`), the hashes a copy fetched again must have. */
  expected: ReadonlyMap<string, ExpectedHashes>;
}

// Versions checked at once: zip checks share the process's zip budget, and a disk serves a few readers well.
const CONCURRENCY = 4;

/**
 * Checks every module version in `storage` (checkVersion), every module's stored `list` and `@latest`
 * (the origin's last answers, kept for when it is down), and lists the leftovers of unfinished writes.
 * Keys that are no module's file (checksum database records, godepot's own, anything else) are not read.
 */
export async function checkStore(storage: CheckedFolder, records: ChecksumRecords): Promise<StoreReport> {
  // Leftovers first: what follows must not be mistaken for one.
  const leftovers = (await storage.leftovers()).map(
    (leftover): Problem => ({
      module: null,
      version: null,
      file: 'leftover',
      objects: [leftover.file],
      problem: `${relative(storage.root, leftover.file).split(sep).join('/')}: left by a write that never finished (${leftover.size} bytes, last written ${leftover.modified.toISOString()})`,
    }),
  );
  const versions = new Map<string, { modulePath: string; version: string }>();
  const answers: Array<{ modulePath: string; file: ModuleFile }> = [];
  for (const key of await storage.list('')) {
    const found = moduleFileOfKey(key);
    if (found === null) continue;
    if (!('version' in found)) answers.push(found);
    else if (isStorableVersion(found.modulePath, found.version)) versions.set(`${found.modulePath}@${found.version}`, found);
  }

  const report = { versions: versions.size, objects: 0, bytes: 0, problems: [] as Problem[], expected: new Map<string, ExpectedHashes>() };
  const found = new Map<string, Problem[]>();
  const queue = [...versions];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [name, { modulePath, version }] = next;
      const check = await checkVersion(storage, records, modulePath, version);
      report.objects += check.objects;
      report.bytes += check.bytes;
      if (check.problems.length === 0) continue;
      found.set(name, check.problems);
      report.expected.set(name, check.expected);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  for (const answer of answers) {
    const body = await readStored(storage, storageKey(answer.modulePath, answer.file));
    if (body === null) continue;
    report.objects++;
    report.bytes += body.length;
    const problem = checkModuleAnswer(answer.modulePath, answer.file, body);
    if (problem !== null) found.set(`${answer.modulePath} ${answer.file}`, [problem]);
  }
  report.problems = [...leftovers, ...[...found.keys()].sort().flatMap((name) => found.get(name)!)];
  return report;
}

/**
 * Checks a module's stored `list` (a version a line) or `@latest` (an `.info` of a version of the
 * module) and returns its problem, or null.
 */
export function checkModuleAnswer(modulePath: string, file: ModuleFile, body: Buffer): Problem | null {
  let problem: string | null = null;
  if (file === 'list') {
    const lines = body.toString('utf8').split('\n');
    const bad = lines.findIndex((line, i) => (line === '' ? i !== lines.length - 1 : !isValid(line)));
    if (bad >= 0) problem = `@v/list: line ${bad + 1} is not a version: ${JSON.stringify(lines[bad]!.slice(0, 60))}`;
  } else {
    const read = readInfo(modulePath, body);
    if ('problem' in read) problem = `@latest ${read.problem}`;
  }
  return problem === null ? null : { module: modulePath, version: null, file, objects: [storageKey(modulePath, file)], problem };
}
