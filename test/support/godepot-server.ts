// Runs the compiled `godepot serve` as a child process, the way an operator runs it, for end-to-end tests
// and benchmarks: its own storage folder, a free loopback port, its JSON log lines collected.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { request, type Dispatcher } from 'undici';
import { godepotBin, runGodepot } from './cli.js';
import { containedEnv } from './contained.js';

/** How to start `godepot serve`; every field maps to a flag (none means the flag is left out). */
export interface GodepotOptions {
  /** Storage folder; a fresh temporary one (removed by dispose()) when absent. */
  storage?: string;
  upstream?: string;
  private?: string;
  /** `--sumdb`; defaults to `off`, since tests have no checksum database to reach. */
  sumdb?: string;
  config?: string;
  /** Further arguments after `serve`. */
  args?: string[];
  /** Extra environment; GODEPOT_* variables and the go variables godepot reads (GOPRIVATE...) of the test's own environment are never passed on. */
  env?: NodeJS.ProcessEnv;
  /** Node options for the child (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** The godepot to run, as a command and its first arguments (a release archive's `bin/godepot`); default: this build's, under this Node. */
  command?: string[];
  /**
   * Throw stdout away unread once it logged `listening` (benchmarks: parsing every request's log line
   * would take CPU from the server being measured); `logs` then ends at that line.
   */
  discardLogs?: boolean;
}

/** How a godepot process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `godepot serve`. */
export interface GodepotServer {
  /** Where it listens, from its `listening` log line: `http://127.0.0.1:<port>`, or `https://` with `--tls-cert`. */
  readonly url: string;
  readonly storage: string;
  readonly pid: number;
  /** Every JSON line it printed on stdout so far, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  /**
   * Every line of `logs` that matches, once there are `count` of them (default 1), waiting `withinMs` at
   * most (default 5 s; then whatever there is): a line reaches stdout a moment after its answer, so a
   * client that is done does not mean its request's line is in `logs` yet.
   */
  untilLogged(match: (line: Record<string, unknown>) => boolean, count?: number, withinMs?: number): Promise<Array<Record<string, unknown>>>;
  /** Its stdout lines that were not JSON, and all of its stderr. */
  readonly stderr: string;
  /** Settles when the process exits. */
  readonly exited: Promise<Exit>;
  /** SIGTERM (graceful shutdown) and the exit that follows. */
  stop(): Promise<Exit>;
  /** SIGKILL (a crash) and the exit that follows. */
  kill(): Promise<Exit>;
  /** Stops it (if still running) and starts a new one with the same options and storage; the port may change. */
  restart(): Promise<GodepotServer>;
  /** Stops it and removes the storage folder if this helper made it. */
  dispose(): Promise<void>;
}

const startTimeoutMs = 15_000;

// The go variables godepot reads as defaults, kept from the test's own environment like GODEPOT_*.
const goVariables = new Set(['GOSUMDB', 'GOPROXY', 'GOPRIVATE', 'GONOPROXY', 'GONOSUMDB', 'GOINSECURE', 'GOVCS']);

function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('GODEPOT_') && !goVariables.has(name)) env[name] = value;
  }
  return { ...env, ...containedEnv, ...extra };
}

function serveArgs(options: GodepotOptions, storage: string): string[] {
  const args = ['serve', '--listen', '127.0.0.1:0', '--storage', storage, '--sumdb', options.sumdb ?? 'off'];
  if (options.upstream !== undefined) args.push('--upstream', options.upstream);
  if (options.private !== undefined) args.push('--private', options.private);
  if (options.config !== undefined) args.push('--config', options.config);
  // Its own state (git mirrors, tokens, the audit log) beside its storage, never the working folder's.
  if (!(options.args ?? []).includes('--state-dir') && options.env?.GODEPOT_STATE_DIR === undefined) args.push('--state-dir', stateDirOf(storage));
  return [...args, ...(options.args ?? [])];
}

/** The state folder a server started here gets unless told otherwise. */
export const stateDirOf = (storage: string): string => `${storage}-state`;

/** Starts `godepot serve` and resolves once it logged `listening`; rejects (with its output) if it exits first. */
export async function startGodepot(options: GodepotOptions = {}): Promise<GodepotServer> {
  const ownStorage = options.storage === undefined;
  const storage = options.storage ?? (await mkdtemp(join(tmpdir(), 'godepot-storage-')));
  try {
    return await spawnGodepot(options, storage, ownStorage);
  } catch (err) {
    if (ownStorage) await Promise.all([storage, stateDirOf(storage)].map((dir) => rm(dir, { recursive: true, force: true })));
    throw err;
  }
}

async function spawnGodepot(options: GodepotOptions, storage: string, ownStorage: boolean): Promise<GodepotServer> {
  const [program, ...programArgs] = options.command ?? [process.execPath, ...(options.nodeArgs ?? []), godepotBin];
  const child: ChildProcess = spawn(program!, [...programArgs, ...serveArgs(options, storage)], {
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  // 'close', not 'exit': by then its output has been read to the end, so `logs` holds every line.
  const exited = new Promise<Exit>((resolve) => child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => (stderr += text));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`godepot serve did not log "listening" within ${startTimeoutMs} ms:\n${stderr}`));
    }, startTimeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        stderr += line + '\n';
        return;
      }
      logs.push(entry);
      if (entry.msg === 'listening' && typeof entry.url === 'string') {
        clearTimeout(timer);
        if (options.discardLogs === true) {
          lines.close();
          child.stdout!.resume();
        }
        resolve(entry.url);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`godepot serve exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });

  const signal = async (name: NodeJS.Signals): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    return exited;
  };
  const server: GodepotServer = {
    url,
    storage,
    pid: child.pid!,
    logs,
    get stderr() {
      return stderr;
    },
    async untilLogged(match, count = 1, withinMs = 5_000) {
      for (let waited = 0; waited < withinMs && logs.filter(match).length < count; waited += 25) await sleep(25);
      return logs.filter(match);
    },
    exited,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    async restart() {
      await signal('SIGTERM');
      return spawnGodepot(options, storage, ownStorage);
    },
    async dispose() {
      await signal('SIGKILL');
      if (ownStorage) await Promise.all([storage, stateDirOf(storage)].map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
  return server;
}

/** Every regular file below `dir`, as sorted slash-separated relative paths: what a storage folder holds. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** SHA-256 of bytes as lower-case hex: how the e2e tests compare whole answers. */
export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** GETs `url` over `dispatcher` and returns its status and the SHA-256 of its whole body. */
export async function getDigest(url: string, dispatcher: Dispatcher): Promise<{ status: number; digest: string }> {
  const res = await request(url, { dispatcher });
  return { status: res.statusCode, digest: sha256(Buffer.from(await res.body.arrayBuffer())) };
}

/**
 * Makes a token with `roles` in `server`'s token file (`godepot token create`, as an operator would) and
 * returns the server's URL carrying it as Basic credentials (`http://ci:<token>@host:port`): the go
 * command sends a GOPROXY URL's user information with every request, also over plain http, where it
 * sends no `.netrc` credentials.
 */
export async function urlWithToken(server: GodepotServer, name: string, roles: readonly string[]): Promise<{ url: string; token: string }> {
  const made = await runGodepot(['token', 'create', '--name', name, ...roles.flatMap((role) => ['--role', role]), '--state-dir', stateDirOf(server.storage)]);
  if (made.code !== 0) throw new Error(`godepot token create failed: ${made.stderr}`);
  const token = made.stdout.trim();
  const url = new URL(server.url);
  url.username = 'ci';
  url.password = token;
  return { url: url.href.replace(/\/$/, ''), token };
}
