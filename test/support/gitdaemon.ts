import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A `git daemon` on loopback serving every repository below `base`. */
export interface GitDaemon {
  port: number;
  /**
   * A git config file that rewrites `https://<host>/` to this daemon. go resolves a `.git`-qualified module
   * path (`example.com/x.git`) by running git on `https://example.com/x.git`; with GIT_CONFIG_GLOBAL set to
   * this file, git reaches the local daemon instead, so go computes versions from real repos offline.
   */
  gitconfig: string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1, for servers (like git daemon) that cannot report the port they bound. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`git daemon exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`git daemon did not listen on ${port}`);
}

/** Starts a git daemon for `base`, rewriting `https://host/` for each of `hosts` to it. */
export async function startGitDaemon(base: string, hosts: string[]): Promise<GitDaemon> {
  const port = await freePort();
  const child = spawn(
    'git',
    ['daemon', `--base-path=${base}`, '--export-all', '--reuseaddr', '--listen=127.0.0.1', `--port=${port}`, base],
    { stdio: 'ignore' },
  );
  await waitForPort(port, child);
  const gitconfig = join(base, '.gitconfig-daemon');
  const rules = hosts.map((h) => `[url "git://127.0.0.1:${port}/${h}/"]\n\tinsteadOf = https://${h}/\n`).join('');
  await writeFile(gitconfig, rules);
  return {
    port,
    gitconfig,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
