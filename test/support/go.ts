import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { containedEnv } from './contained.js';

const execFileAsync = promisify(execFile);

/** An isolated go world: its own GOPATH, module cache and HOME, so tests never see the user's cache. */
export interface GoWorld {
  root: string;
  env: NodeJS.ProcessEnv;
  /** Runs `go args...` in `cwd`; rejects with go's stderr in the message when go fails. */
  go(args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<{ stdout: string; stderr: string }>;
  dispose(): Promise<void>;
}

// One build cache for the whole run: compiling the standard library again in every test costs minutes.
const sharedGoCache = join(tmpdir(), 'godepot-test-gocache');

/** Makes a fresh go world pointed at `goproxy` with the checksum database off unless `env` says otherwise. */
export async function makeGoWorld(goproxy: string, env: NodeJS.ProcessEnv = {}): Promise<GoWorld> {
  const root = await mkdtemp(join(tmpdir(), 'godepot-go-'));
  const worldEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    GOPATH: join(root, 'gopath'),
    GOMODCACHE: join(root, 'gopath', 'pkg', 'mod'),
    GOCACHE: sharedGoCache,
    GOFLAGS: '-modcacherw',
    GOPROXY: goproxy,
    GOSUMDB: 'off',
    GONOSUMDB: '',
    GOPRIVATE: '',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    ...containedEnv,
    ...env,
  };
  return {
    root,
    env: worldEnv,
    async go(args, options = {}) {
      try {
        const { stdout, stderr } = await execFileAsync('go', args, {
          cwd: options.cwd ?? root,
          env: { ...worldEnv, ...options.env },
          maxBuffer: 64 << 20,
          timeout: 300_000,
        });
        return { stdout, stderr };
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new Error(`go ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
      }
    },
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

/** Parses the concatenated JSON objects `go mod download -json` prints. */
export function parseJsonStream<T>(text: string): T[] {
  const out: T[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as T);
  }
  return out;
}
