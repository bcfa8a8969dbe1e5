import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { containedEnv } from './contained.js';

const execFileAsync = promisify(execFile);

/** The compiled `godepot` entry point, next to this file in the same build output. */
export const godepotBin = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Result of one `godepot` run; `code` is the exit status. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the godepot command as a user would (kept on this machine: containedEnv) and never throws on a non-zero exit. */
export function runGodepot(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return runProgram(process.execPath, [godepotBin, ...args], options);
}

/** Runs `program` (a godepot launcher, say) as runGodepot runs the build's entry point. */
export async function runProgram(program: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(program, args, {
      cwd: options.cwd,
      env: { ...process.env, ...containedEnv, ...options.env },
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
