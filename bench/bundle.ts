// bench/bundle: `godepot bundle create` against the manual route it replaces — `go mod download all`
// into an empty module cache, then `tar czf` of that cache — for the largest test project (the module
// graph of test/support/projects.ts: replace, exclude, pruned and unpruned modules, a test-only
// dependency), both against the same static upstream on loopback, with no checksum database on either
// side. Prints wall time (median of --runs runs, each from an empty cache) and the size of each result,
// for the test project as the tests have it (modules of a few hundred bytes: fixed costs only) and with
// each module grown by --module-kb KiB of Go source in a package of its own (default 1024; golang.org/x
// modules are several MiB).
// Usage: npm run bench:bundle [-- --runs N] [-- --module-kb K]
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { elapsedMs, median } from './figures.js';
import { godepotBin } from '../test/support/cli.js';
import { makeGoWorld } from '../test/support/go.js';
import { seededRandom } from '../test/support/garbage.js';
import { addProjectModules, writeProject } from '../test/support/projects.js';
import { startUpstream } from '../test/support/upstream.js';

const execFileAsync = promisify(execFile);
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const runs = Number(arg('--runs')) || 5;
const moduleKb = Number(arg('--module-kb') ?? 1024);

const syllables = ['re', 'ad', 'val', 'ue', 'con', 'fig', 'buf', 'fer', 'ser', 'ver', 'han', 'dle', 'quer', 'y', 'ca', 'che', 'lo', 'ad', 'pars', 'er', 'tok', 'en'];

/**
 * About `kb` KiB of Go source in files of 8 KiB, with names and numbers drawn at random (seeded by the
 * module path) so that it compresses about as real Go code does (3-4x), not as a repeated template would.
 */
function goSources(modulePath: string, kb: number): Record<string, string> {
  let seed = 0;
  for (const c of modulePath) seed = (seed * 31 + c.charCodeAt(0)) >>> 0;
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const name = (): string => Array.from({ length: 2 + Math.floor(random() * 3) }, () => pick(syllables)).join('');
  const files: Record<string, string> = {};
  for (let f = 0; f * 8 < kb; f++) {
    let text = 'package gen\n\n';
    while (text.length < 8192) {
      const fn = name();
      const [a, b, c] = [name(), name(), name()];
      text +=
        `// ${fn[0]!.toUpperCase()}${fn.slice(1)} ${pick(['returns', 'computes', 'merges', 'checks'])} the ${a} of ${b} (${Math.floor(random() * 1e6)}).\n` +
        `func ${fn[0]!.toUpperCase()}${fn.slice(1)}(${a} int, ${b} string) (int, error) {\n` +
        `\tif len(${b}) > ${Math.floor(random() * 4096)} {\n\t\treturn 0, fmt.Errorf("${c}: %d", ${a})\n\t}\n` +
        `\t${c} := ${a}*${Math.floor(random() * 1e4)} + len(${b})%${1 + Math.floor(random() * 97)}\n\treturn ${c}, nil\n}\n\n`;
    }
    files[`gen/gen${f}.go`] = text.replace('package gen\n\n', 'package gen\n\nimport "fmt"\n\n');
  }
  return files;
}

interface Figures {
  manualMs: number;
  godepotMs: number;
  tarball: number;
  bundle: number;
}

async function measure(kb: number): Promise<Figures> {
  const work = await mkdtemp(join(tmpdir(), 'godepot-bench-bundle-'));
  const upstream = await startUpstream({ root: join(work, 'goproxy') });
  try {
    await addProjectModules(join(work, 'goproxy'), work, (modulePath) => (kb === 0 ? {} : goSources(modulePath, kb)));
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
        await elapsedMs(async () => {
          await world.go(['mod', 'download', 'all'], { cwd: project });
          await execFileAsync('tar', ['czf', tgz, '-C', world.env.GOMODCACHE!, '.']);
        }),
      );
      tarball = (await stat(tgz)).size;
      await world.dispose();

      const out = join(work, `bundle-${i}.tar.gz`);
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, TMPDIR: tmpdir() };
      godepot.push(
        await elapsedMs(() => execFileAsync(process.execPath, [godepotBin, 'bundle', 'create', '--quiet', '--upstream', upstream.url, '--sumdb', 'off', '--output', out, project], { env })),
      );
      bundle = (await stat(out)).size;
    }
    return { manualMs: median(manual), godepotMs: median(godepot), tarball, bundle };
  } finally {
    await upstream.stop();
    await rm(work, { recursive: true, force: true });
  }
}

function report(label: string, f: Figures): void {
  console.log(label);
  console.log(`  manual route      ${f.manualMs.toFixed(0).padStart(6)} ms   ${String(f.tarball).padStart(10)} bytes`);
  console.log(`  godepot bundle    ${f.godepotMs.toFixed(0).padStart(6)} ms   ${String(f.bundle).padStart(10)} bytes`);
  console.log(`  ratio             ${(f.godepotMs / f.manualMs).toFixed(2).padStart(6)}x time  ${(f.bundle / f.tarball).toFixed(2)}x size   (targets: < 1.00x time, <= 1.00x size)`);
}

async function main(): Promise<void> {
  console.log(`bundle create vs go mod download all + tar czf, project graph of test/support/projects.ts, median of ${runs} runs`);
  report('modules as the tests have them (a few hundred bytes each)', await measure(0));
  if (moduleKb > 0) report(`every module with ${moduleKb} KiB of Go source`, await measure(moduleKb));
}

await main();
