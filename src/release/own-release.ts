// The running godepot's own release archive, for `bundle create --self`. An installed release (the
// folder of a release archive, which holds release.json) packs its folder again exactly as
// scripts/release.mjs packed it, which gives back the archive it was unpacked from; a source checkout
// makes one as `npm run release` does, from the current build and without the network.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import { ReleaseArchiveError, writeReleaseArchive } from './release-archive.js';

const execFileAsync = promisify(execFile);

/** A release archive on disk: `godepot-<version>-<platform>.tar.gz`. */
export interface ReleaseArchive {
  file: string;
  version: string;
  platform: string;
}

/** The file scripts/release.mjs writes into the release's top folder: that the folder is an installed release, and how it was packed. */
export const RELEASE_RECORD = 'release.json';

const releaseRecord = z.object({
  name: z.literal('godepot'),
  version: z.string().regex(/^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?$/),
  platform: z.string().regex(/^[a-z0-9]+-[a-z0-9]+$/),
  /** The SOURCE_DATE_EPOCH every entry of the archive was dated with. */
  sourceDateEpoch: z.number().int().nonnegative(),
});

/** The folder godepot runs from: the nearest one above this file holding a package.json. */
export function installationRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new ReleaseArchiveError(`no package.json above ${fileURLToPath(import.meta.url)}: godepot's files are not where it was installed`);
}

/**
 * Writes the running godepot's release archive into `workDir` and says what it is. Throws
 * ReleaseArchiveError when godepot runs neither from a release archive's folder nor from a source
 * checkout (installed by npm, say), or when packing or building fails.
 */
export async function ownReleaseArchive(workDir: string, signal?: AbortSignal): Promise<ReleaseArchive> {
  const root = installationRoot();
  const recordFile = join(root, RELEASE_RECORD);
  if (existsSync(recordFile)) {
    const record = await readRecord(recordFile);
    const name = `godepot-${record.version}`;
    const file = join(workDir, `${name}-${record.platform}.tar.gz`);
    await writeReleaseArchive(root, name, file, record.sourceDateEpoch, signal);
    return { file, version: record.version, platform: record.platform };
  }
  const script = join(root, 'scripts', 'release.mjs');
  if (existsSync(script)) return buildRelease(root, script, workDir, signal);
  throw new ReleaseArchiveError(
    `godepot in ${root} runs neither from a release archive (no ${RELEASE_RECORD}) nor from a source checkout (no scripts/release.mjs): ` +
      'run bundle create --self with a godepot installed from a release archive, or from its source',
  );
}

async function readRecord(file: string): Promise<z.infer<typeof releaseRecord>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ReleaseArchiveError(`${file}: ${(err as Error).message}`, { cause: err });
  }
  const result = releaseRecord.safeParse(parsed);
  if (!result.success) throw new ReleaseArchiveError(`${file}: not a release record: ${result.error.issues[0]!.path.join('.')}: ${result.error.issues[0]!.message}`);
  return result.data;
}

// scripts/release.mjs on the current build, with this Node; it prints the archive it wrote.
async function buildRelease(root: string, script: string, workDir: string, signal?: AbortSignal): Promise<ReleaseArchive> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(process.execPath, [script, '--out', workDir], { cwd: root, maxBuffer: 16 << 20, ...(signal === undefined ? {} : { signal }) }));
  } catch (err) {
    const detail = ((err as { stderr?: string }).stderr ?? '').trim() || (err as Error).message;
    throw new ReleaseArchiveError(`making the release archive of the source checkout ${root} (node scripts/release.mjs) failed: ${detail}`, { cause: err });
  }
  const file = stdout.trim().split('\n').at(-1) ?? '';
  const named = /(?:^|\/)godepot-([0-9][^/]*)-([a-z0-9]+-[a-z0-9]+)\.tar\.gz$/.exec(file);
  if (named === null || dirname(file) !== workDir) throw new ReleaseArchiveError(`scripts/release.mjs printed ${JSON.stringify(file)}, not the archive it should have written into ${workDir}`);
  return { file, version: named[1]!, platform: named[2]! };
}
