// bench/bundle: `godepot bundle create` against the manual route it replaces — `go mod download all`
// into an empty module cache, then `tar czf` of that cache — for the largest test project (the module
// graph of test/support/projects.ts: replace, exclude, pruned and unpruned modules, a test-only
// dependency), both against the same static upstream on loopback, with no checksum database on either
// side. Prints wall time (median of --runs runs, each from an empty cache) and the size of each result.
// Usage: npm run bench:bundle [-- --runs N]
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { godepotBin } from '../test/support/cli.js';
import { makeGoWorld } from '../test/support/go.js';
import { addProjectModules, writeProject } from '../test/support/projects.js';
import { startUpstream } from '../test/support/upstream.js';

const execFileAsync = promisify(execFile);
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const runs = Number(arg('--runs')) || 5;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'godepot-bench-bundle-'));
  const upstream = await startUpstream({ root: join(work, 'goproxy') });
  try {
    await addProjectModules(join(work, 'goproxy'), work);
    const project = join(work, 'project');
    await writeProject(project);
    const tidy = await makeGoWorld(upstream.url, { GOFLAGS: '-modcacherw -mod=mod' });
    await tidy.go(['mod', 'tidy'], { cwd: project });
    await tidy.dispose();

    const manual: number[] = [];
    const godepot: number[] = [];
    let tarball = 0;
    let bundle = 0;
    for (let i = 0; i < runs; i++) {
      const world = await makeGoWorld(upstream.url, { GOFLAGS: '-modcacherw -mod=mod' });
      const tgz = join(work, `manual-${i}.tar.gz`);
      manual.push(
        await timed(async () => {
          await world.go(['mod', 'download', 'all'], { cwd: project });
          await execFileAsync('tar', ['czf', tgz, '-C', world.env.GOMODCACHE!, '.']);
        }),
      );
      tarball = (await stat(tgz)).size;
      await world.dispose();

      const out = join(work, `bundle-${i}.tar.gz`);
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, TMPDIR: tmpdir() };
      godepot.push(
        await timed(() => execFileAsync(process.execPath, [godepotBin, 'bundle', 'create', '--quiet', '--upstream', upstream.url, '--sumdb', 'off', '--output', out, project], { env })),
      );
      bundle = (await stat(out)).size;
    }

    const m = median(manual);
    const g = median(godepot);
    console.log(`bundle create vs go mod download all + tar czf (project graph of test/support/projects.ts, ${runs} runs, median)`);
    console.log(`  manual route      ${m.toFixed(0).padStart(6)} ms   ${String(tarball).padStart(9)} bytes`);
    console.log(`  godepot bundle    ${g.toFixed(0).padStart(6)} ms   ${String(bundle).padStart(9)} bytes`);
    console.log(`  ratio             ${(g / m).toFixed(2).padStart(6)}x time  ${(bundle / tarball).toFixed(2)}x size   (targets: < 1.00x time, <= 1.00x size)`);
  } finally {
    await upstream.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
