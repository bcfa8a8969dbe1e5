// bench/direct: godepot's git origin beside go's own direct mode on the same local bare repository,
// served over smart HTTP (git http-backend) from loopback. The repository: a large module (32 MiB of
// files at its tip and last tag) with a long, bulky history (3,000 commits, a 256 KiB file rewritten
// every tenth one: some 75 MiB of history that only a full fetch carries). Timed as a user sees them,
// `go mod download` into an empty module cache, with GOPROXY=direct or GOPROXY=<godepot>:
// - the cold zip of v1.0.0, a tag (go and godepot fetch it shallow);
// - a second version of the already-mirrored repository: the pseudo-version of main, once godepot's
//   mirror holds the whole history (it served a pseudo-version of an older commit, which needs the
//   history to find its base tag); go, from nothing, must fetch that history for it too;
// and godepot's peak RSS while it builds those zips. Rounds alternate the two sides, medians printed;
// each round starts both from nothing (fresh godepot storage and state, fresh go caches).
// Usage: npm run bench:direct [-- --rounds N]
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elapsedMs, median } from './figures.js';
import { buildLargeRepository } from '../test/support/git-fixtures.js';
import { startGitHttpServer } from '../test/support/git-http.js';
import { startGodepot, type GodepotServer } from '../test/support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../test/support/go.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const rounds = Number(arg('--rounds')) || 3;
const MODULE = 'github.com/godepot-bench/large';

/** Seconds `run` takes. */
const timed = async (run: () => Promise<unknown>): Promise<number> => (await elapsedMs(run)) / 1000;

/** The peak resident memory of a process so far, in MB (VmHWM). */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'godepot-bench-direct-'));
  try {
    console.log('building the large repository (32 MiB of files, 3,000 commits, ~75 MiB of history)...');
    const repos = join(work, 'repos');
    await mkdir(repos, { recursive: true });
    const repo = await buildLargeRepository(repos, 'large', MODULE, { churnBytes: 256 << 10 });
    const older = repo.commits.c2500!.hash;
    const server = await startGitHttpServer({ root: repos });
    const gitconfig = join(work, 'gitconfig');
    await writeFile(gitconfig, `[url "${server.url}/large.git"]\n\tinsteadOf = https://${MODULE}\n[init]\n\tdefaultBranch = main\n`);
    const gitEnv = { GIT_CONFIG_GLOBAL: gitconfig, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };

    // What go makes of main with no tag on it: the second version, asked for by its pseudo-version.
    const probe = await makeGoWorld('direct', gitEnv);
    const second = JSON.parse((await probe.go(['mod', 'download', '-json', `${MODULE}@main`])).stdout) as { Version: string };
    await probe.dispose();

    const rows = { goCold: [] as number[], goSecondCold: [] as number[], goSecondWarm: [] as number[], godepotCold: [] as number[], godepotSecond: [] as number[], rss: [] as number[], floor: [] as number[] };
    console.log(`${rounds} rounds: v1.0.0 cold, then ${second.Version}, by go direct and through godepot...`);
    for (let round = 0; round < rounds; round++) {
      // go direct: v1.0.0 into an empty cache, then the second version with its vcs cache warm, then cold.
      const direct = await makeGoWorld('direct', gitEnv);
      rows.goCold.push(await timed(() => direct.go(['mod', 'download', `${MODULE}@v1.0.0`])));
      rows.goSecondWarm.push(await timed(() => direct.go(['mod', 'download', `${MODULE}@${second.Version}`])));
      await direct.dispose();
      const fresh = await makeGoWorld('direct', gitEnv);
      rows.goSecondCold.push(await timed(() => fresh.go(['mod', 'download', `${MODULE}@${second.Version}`])));
      await fresh.dispose();

      // godepot from nothing: v1.0.0 (the mirror is made), then the second version (the mirror is there).
      const state = join(work, `state-${round}`);
      const godepot: GodepotServer = await startGodepot({
        upstream: 'direct',
        args: ['--state-dir', state, '--insecure', MODULE],
        discardLogs: true,
        env: { ...gitEnv, HOME: work },
      });
      try {
        const clients: GoWorld[] = [await makeGoWorld(godepot.url), await makeGoWorld(godepot.url)];
        rows.godepotCold.push(await timed(() => clients[0]!.go(['mod', 'download', `${MODULE}@v1.0.0`])));
        // The mirror takes the whole history in, as serving any pseudo-version of it does.
        await clients[0]!.go(['mod', 'download', `${MODULE}@${older}`]);
        rows.godepotSecond.push(await timed(() => clients[1]!.go(['mod', 'download', `${MODULE}@${second.Version}`])));
        rows.rss.push(await peakRss(godepot.pid));
        // The same zip again, stored this time: what go itself spends downloading, checking and
        // unpacking 32 MiB, the part no proxy can take off.
        const again = await makeGoWorld(godepot.url);
        rows.floor.push(await timed(() => again.go(['mod', 'download', `${MODULE}@${second.Version}`])));
        clients.push(again);
        for (const c of clients) await c.dispose();
      } finally {
        await godepot.dispose();
        await rm(state, { recursive: true, force: true });
      }
    }
    await server.stop();

    const line = (what: string, godepot: number, reference: number, target: string): void => {
      console.log(`${what.padEnd(62)} ${godepot.toFixed(2).padStart(7)} s ${reference.toFixed(2).padStart(7)} s ${(godepot / reference).toFixed(2).padStart(6)}x  ${target}`);
    };
    console.log(`${'what'.padEnd(62)} ${'godepot'.padStart(9)} ${'go direct'.padStart(9)}  ratio  target`);
    line('cold .zip of v1.0.0 (32 MiB, 3,000 commits)', median(rows.godepotCold), median(rows.goCold), '<= 1.0x');
    line(`second version (main, ${second.Version.slice(0, 8)}…), go's caches empty`, median(rows.godepotSecond), median(rows.goSecondCold), '<= 0.3x');
    line(`second version, go's own vcs cache warm (reference)`, median(rows.godepotSecond), median(rows.goSecondWarm), '');
    console.log(`${'  the same, already stored in godepot: go\'s own part (the floor)'.padEnd(62)} ${median(rows.floor).toFixed(2).padStart(7)} s`);
    console.log(`godepot peak RSS while building both zips: ${Math.max(...rows.rss).toFixed(0)} MB`);
    console.log(`rounds: go cold ${rows.goCold.map((t) => t.toFixed(2)).join(' ')}; godepot cold ${rows.godepotCold.map((t) => t.toFixed(2)).join(' ')}; go second cold ${rows.goSecondCold.map((t) => t.toFixed(2)).join(' ')}; godepot second ${rows.godepotSecond.map((t) => t.toFixed(2)).join(' ')}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
