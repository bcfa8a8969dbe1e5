import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs git in `cwd` with a fixed identity and no user or system config. */
export async function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'godepot tests',
      GIT_AUTHOR_EMAIL: 'tests@godepot.invalid',
      GIT_COMMITTER_NAME: 'godepot tests',
      GIT_COMMITTER_EMAIL: 'tests@godepot.invalid',
      ...env,
    },
  });
  return stdout;
}

/** Writes `files` (relative path -> content) below `dir`, creating folders. */
export async function writeTree(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const full = join(dir, name);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
}

/** Commits everything in `dir` at a fixed `date` (ISO 8601) and returns the commit hash. */
export async function commitAll(dir: string, message: string, date: string): Promise<string> {
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '--allow-empty', '-m', message], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  return (await git(dir, ['rev-parse', 'HEAD'])).trim();
}
