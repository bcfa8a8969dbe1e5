// Running git as go runs it (cmd/go/internal/modfetch/codehost.Run): the `git` binary with an argument
// list, never through a shell, inheriting git's own configuration (insteadOf, credential helpers, .netrc,
// GIT_SSH_COMMAND), and never waiting for a person: no terminal prompts, ssh in batch mode. On top of
// what go does, every command here has a time limit (the whole process group is stopped when it passes),
// a bound on what it may write, an allow-list of transports, and a place among a fixed number of git
// processes running at once.
import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Metrics } from '../telemetry/metrics.js';
import { gitFailure, GitOutputTooLargeError, GitTimeoutError } from './git-error.js';
import { ProcessSlots } from './process-slots.js';

/** The transports godepot lets git use for any repository. */
export const SECURE_PROTOCOLS: readonly string[] = ['https', 'ssh'];
/** The transports added for repositories of modules matching the insecure patterns (GOINSECURE). */
export const INSECURE_PROTOCOLS: readonly string[] = ['http', 'git'];

/** Options of GitRunner. */
export interface GitRunnerOptions {
  /**
   * The environment git runs in: PATH, HOME and whatever configures git and its helpers
   * (GIT_CONFIG_GLOBAL, SSH_AUTH_SOCK, GIT_SSH_COMMAND, HTTPS_PROXY, ...). Variables that would point
   * git at another repository (GIT_DIR, GIT_WORK_TREE, ...) are dropped.
   */
  env: Readonly<Record<string, string | undefined>>;
  /** Milliseconds one git command may run before it and its children are stopped. */
  timeoutMs: number;
  /** Git processes that may run at once (`--vcs-concurrency`). */
  concurrency: number;
  logger?: Logger;
  /** Git commands are observed in `upstreamSeconds` as origin `direct`, kind `git <subcommand>`. */
  metrics?: Metrics;
}

/** One git command. */
export interface GitCommand {
  args: readonly string[];
  /** The repository the command works in (GIT_DIR), also its working directory. */
  gitDir: string;
  /**
   * The transports the command may use (GIT_ALLOW_PROTOCOL, which also binds redirects and insteadOf
   * rewrites); none for a command that must stay local.
   */
  protocols?: readonly string[];
  /** The most stdout may hold; past it the command is stopped and GitOutputTooLargeError thrown. */
  maxOutput: number;
  /** What stdout is, for that error's message ("zip archive", "go.mod"). */
  output: string;
  /** Where stdout goes: kept and returned (the default), written to a new file, or handed over chunk by chunk. */
  stdoutTo?: { file: string } | { consume: (chunk: Buffer) => void };
  /** How the command is shown in messages and logs (the remote's URL rather than `origin`). */
  display?: string;
}

/** How a command ended: its exit status, what it wrote (when kept) and the end of its stderr. */
export interface GitResult {
  exitCode: number;
  stdout: Buffer;
  /** Bytes written to stdout, wherever they went. */
  outputBytes: number;
  stderr: string;
  display: string;
}

// Git's stderr can be long (progress lines); the end says why it failed.
const MAX_STDERR = 64 << 10;
// After SIGTERM, git removes its lock files and exits; what is still running this much later is killed.
const KILL_GRACE_MS = 2000;

// Variables that choose the repository or the objects git works on: ours are set per command.
const repositoryVariables = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_CEILING_DIRECTORIES',
  'GIT_DISCOVERY_ACROSS_FILESYSTEM',
  'GIT_PREFIX',
  'GIT_SHALLOW_FILE',
  'GIT_QUARANTINE_PATH',
];

/**
 * Runs git commands: no shell, stdin closed, English messages, a process group per command that is
 * stopped as a whole on timeout, and at most `concurrency` processes at once.
 */
export class GitRunner {
  private readonly slots: ProcessSlots;
  private readonly baseEnv: Record<string, string>;
  /** The protocols the given environment allows (its own GIT_ALLOW_PROTOCOL), or undefined for any. */
  private readonly envProtocols: readonly string[] | undefined;

  constructor(private readonly options: GitRunnerOptions) {
    this.slots = new ProcessSlots(options.concurrency);
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.env)) if (value !== undefined) env[name] = value;
    for (const name of repositoryVariables) delete env[name];
    this.envProtocols = env.GIT_ALLOW_PROTOCOL?.split(':');
    // As go does (modload.Init): a prompt would hang a server for ever; ssh must not keep a master
    // connection around holding our pipes open; Git Credential Manager must not open a window.
    env.GIT_TERMINAL_PROMPT = '0';
    env.GCM_INTERACTIVE = 'never';
    if (env.GIT_SSH === undefined && env.GIT_SSH_COMMAND === undefined) env.GIT_SSH_COMMAND = 'ssh -o ControlMaster=no -o BatchMode=yes';
    // Failures are classified by git's English messages.
    env.LC_ALL = 'C';
    this.baseEnv = env;
  }

  /** The time limit of one command. */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** Git processes running now. */
  get running(): number {
    return this.slots.inUse;
  }

  /**
   * Runs `command` and resolves with how it ended, whatever its exit status. Rejects with
   * GitTimeoutError, GitOutputTooLargeError, or the spawn's error (git missing).
   */
  async run(command: GitCommand): Promise<GitResult> {
    const release = await this.slots.take();
    try {
      return await this.spawnOnce(command);
    } finally {
      release();
    }
  }

  /** Runs `command` and returns its stdout; a non-zero exit becomes the typed error git's stderr calls for. */
  async output(command: GitCommand): Promise<Buffer> {
    const result = await this.run(command);
    if (result.exitCode !== 0) throw gitFailure(result.display, result.stderr, result.exitCode, null);
    return result.stdout;
  }

  private environment(command: GitCommand): Record<string, string> {
    let protocols = command.protocols ?? [];
    const allowed = this.envProtocols;
    if (allowed !== undefined) protocols = protocols.filter((p) => allowed.includes(p));
    // Set even when empty: an empty list allows no transport at all.
    return { ...this.baseEnv, GIT_DIR: command.gitDir, GIT_ALLOW_PROTOCOL: protocols.join(':') };
  }

  private spawnOnce(command: GitCommand): Promise<GitResult> {
    const display = command.display ?? `git ${command.args.join(' ')}`;
    const started = performance.now();
    const { logger, metrics, timeoutMs } = this.options;
    return new Promise<GitResult>((resolve, reject) => {
      const child = spawn('git', command.args, {
        cwd: command.gitDir,
        env: this.environment(command),
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so that a timeout stops git's helpers too (remote-https, ssh).
        detached: true,
      });
      let outcome: Error | undefined;
      const kept: Buffer[] = [];
      let outputBytes = 0;
      let stderr = '';
      let file: WriteStream | undefined;
      let fileDone: Promise<void> = Promise.resolve();
      const stopGroup = (): void => {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
        signalGroup(child.pid, 'SIGTERM');
        setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), KILL_GRACE_MS).unref();
      };
      const timer = setTimeout(() => {
        outcome ??= new GitTimeoutError(display, timeoutMs);
        stopGroup();
      }, timeoutMs);

      const target = command.stdoutTo;
      const outFile = target !== undefined && 'file' in target ? target.file : undefined;
      if (outFile !== undefined) {
        file = createWriteStream(outFile, { flags: 'wx' });
        fileDone = new Promise<void>((done, fail) => {
          file!.on('close', done);
          file!.on('error', (err) => {
            outcome ??= err;
            stopGroup();
            // Nothing will drain a paused stdout any more: let it run dry, or git's end is never seen.
            child.stdout.resume();
            fail(err);
          });
        });
        // Backpressure: git waits while the disk catches up.
        file.on('drain', () => child.stdout.resume());
      }
      child.stdout.on('data', (chunk: Buffer) => {
        if (outcome !== undefined) return;
        outputBytes += chunk.length;
        if (outputBytes > command.maxOutput) {
          outcome = new GitOutputTooLargeError(display, command.maxOutput, command.output);
          stopGroup();
          return;
        }
        if (file !== undefined) {
          if (!file.write(chunk)) child.stdout.pause();
        } else if (target !== undefined && 'consume' in target) {
          try {
            target.consume(chunk);
          } catch (err) {
            outcome = err as Error;
            stopGroup();
          }
        } else {
          kept.push(chunk);
        }
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        stderr += text;
        if (stderr.length > MAX_STDERR) stderr = stderr.slice(-MAX_STDERR);
      });
      child.on('error', (err) => {
        outcome ??= err;
        // A git that never started (not installed) ends here; one that did still closes below.
        if (child.pid === undefined) {
          clearTimeout(timer);
          file?.destroy();
          if (outFile !== undefined) void rm(outFile, { force: true });
          reject(err);
        }
      });
      // A helper that left git's process group (an ssh ControlMaster of the user's own GIT_SSH_COMMAND)
      // can keep git's pipes open long after git ended (golang.org/issue/13453): once git has exited,
      // its pipes get a moment to drain, then are closed from this side.
      const closeLingering = (): void => {
        // Output still waiting for the disk is git's, not a helper's: wait for it.
        if (child.stdout.isPaused() && outcome === undefined) {
          setTimeout(closeLingering, KILL_GRACE_MS).unref();
          return;
        }
        child.stdout.destroy();
        child.stderr.destroy();
      };
      child.on('exit', () => setTimeout(closeLingering, KILL_GRACE_MS).unref());
      child.on('close', (exitCode, signal) => {
        clearTimeout(timer);
        file?.end();
        const seconds = (performance.now() - started) / 1000;
        const finish = async (): Promise<void> => {
          await fileDone.catch(() => undefined);
          if (outcome !== undefined && outFile !== undefined) await rm(outFile, { force: true });
          const result = outcome === undefined ? (exitCode === 0 ? 'ok' : 'error') : outcome instanceof GitTimeoutError ? 'timeout' : 'error';
          metrics?.upstreamSeconds.observe({ origin: 'direct', kind: `git ${subcommandOf(command.args)}`, outcome: result }, seconds);
          logger?.debug({ git: display, exitCode, signal, ms: Math.round(seconds * 1000) }, 'git');
          if (outcome !== undefined) {
            reject(outcome);
            return;
          }
          if (exitCode === null) {
            reject(gitFailure(display, stderr, exitCode, signal));
            return;
          }
          resolve({ exitCode, stdout: Buffer.concat(kept), outputBytes, stderr, display });
        };
        void finish();
      });
    });
  }
}

// The git subcommand of an argument list (`archive` in `-c core.eol=lf archive ...`), for metrics.
function subcommandOf(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c') i++;
    else if (!args[i]!.startsWith('-')) return args[i]!;
  }
  return '';
}

// Signals every process of the group; one already gone is no error.
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group has ended.
  }
}
