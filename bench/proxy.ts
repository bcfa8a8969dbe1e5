// bench/proxy: godepot serve beside nginx serving the very same storage folder from disk, in one run:
// requests/s and p99 latency for a cached .info, MB/s for a cached ≥50 MB .zip, godepot's peak RSS while
// 64 clients download that zip at once, and the cold fill of the test module graph through godepot
// against `go mod download` straight from the same upstream. Installs nginx and wrk with apt-get when
// they are missing. godepot is measured with each worker count of --workers (default 1,2; `serve --workers`).
// Usage: npm run bench:proxy [-- --seconds N] [-- --workers 1,2] [-- --cpu-prof DIR] [-- --cold-fill-only]
// (--cold-fill-only measures the cold fill alone, without nginx, wrk or the 64 MB module).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startGodepot, type GodepotServer } from '../test/support/godepot-server.js';
import { freePort } from '../test/support/gitdaemon.js';
import { makeGoWorld } from '../test/support/go.js';
import { addBigModule, buildModuleGraph, type ProxyEntry } from '../test/support/modgraph.js';
import { startUpstream } from '../test/support/upstream.js';

const execFileAsync = promisify(execFile);
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const seconds = Number(arg('--seconds')) || 10;
const cpuProfDir = arg('--cpu-prof');
const bigMegabytes = 64;
const coldRuns = 5;
const coldFillOnly = process.argv.includes('--cold-fill-only');
const workerCounts = (arg('--workers') ?? '1,2').split(',').map(Number);

async function has(command: string): Promise<boolean> {
  return execFileAsync('sh', ['-c', `command -v ${command}`]).then(
    () => true,
    () => false,
  );
}

/** Installs what is missing of nginx and wrk through apt-get, saying so. */
async function ensureTools(): Promise<void> {
  const missing = [];
  for (const tool of ['nginx', 'wrk']) if (!(await has(tool))) missing.push(tool);
  if (missing.length === 0) return;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  console.log(`installing ${missing.join(' and ')}: ${[...sudo, 'apt-get', 'install', '-y', ...missing].join(' ')}`);
  await run([...sudo, 'apt-get', 'update', '-qq']);
  await run([...sudo, 'apt-get', 'install', '-y', '-qq', ...missing], { DEBIAN_FRONTEND: 'noninteractive' });
}

function run(command: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command.join(' ')} exited ${code}`))));
  });
}

/** nginx serving `root` on `port`, configured like a static file server tuned for it, in its own temp prefix. */
async function startNginx(root: string, port: number, prefix: string): Promise<ChildProcess> {
  await mkdir(join(prefix, 'logs'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off;
worker_processes auto;
user root;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  client_body_temp_path ${join(prefix, 'body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  types { application/json info; application/zip zip; text/plain mod; }
  default_type text/plain;
  server {
    listen 127.0.0.1:${port} reuseport;
    root ${root};
  }
}
`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', prefix], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    if ((await fetch(`http://127.0.0.1:${port}/`).catch(() => null)) !== null) return child;
    await sleep(50);
  }
  throw new Error('nginx did not start');
}

interface WrkResult {
  requestsPerSecond: number;
  p99Ms: number;
  megabytesPerSecond: number;
}

/** Runs wrk with 2 threads (the machine has 2 cores) and parses its summary. */
async function wrk(url: string, connections: number, duration: number): Promise<WrkResult> {
  // A 64 MB answer to each of 64 clients takes longer than wrk's default 2 s timeout.
  const args = ['-t2', `-c${connections}`, `-d${duration}s`, '--timeout', '60s', '--latency', url];
  const { stdout } = await execFileAsync('wrk', args, { maxBuffer: 1 << 20 });
  const number = (re: RegExp) => {
    const m = re.exec(stdout);
    if (m === null) throw new Error(`wrk printed no ${re}:\n${stdout}`);
    return m;
  };
  const p99 = number(/99%\s+([\d.]+)(us|ms|s)\b/);
  const scale = { us: 1e-3, ms: 1, s: 1e3 }[p99[2] as 'us' | 'ms' | 's'];
  const transfer = number(/Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/);
  const unit = { B: 1 / 2 ** 20, KB: 1 / 1024, MB: 1, GB: 1024 }[transfer[2] as 'B' | 'KB' | 'MB' | 'GB'];
  if (/Non-2xx or 3xx responses/.test(stdout) || /Socket errors/.test(stdout)) console.log(`  note: wrk on ${url} saw errors:\n${stdout}`);
  return {
    requestsPerSecond: Number(number(/Requests\/sec:\s+([\d.]+)/)[1]),
    p99Ms: Number(p99[1]) * scale,
    megabytesPerSecond: Number(transfer[1]) * unit,
  };
}

/** Peak resident set size of `pid` in MB, as the kernel kept it (VmHWM). */
/** The peak RSS of `pid` plus that of each of its children (a `--workers` primary's workers): a bound on the peak of the whole. */
async function peakRssMb(pid: number): Promise<number> {
  const { stdout } = await execFileAsync('ps', ['--ppid', String(pid), '-o', 'pid=']).catch(() => ({ stdout: '' }));
  const pids = [pid, ...stdout.split('\n').filter((line) => line.trim() !== '').map(Number)];
  let total = 0;
  for (const one of pids) {
    const status = await readFile(`/proc/${one}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status);
    if (kb === null) throw new Error(`no VmHWM for ${one}`);
    total += Number(kb[1]) / 1024;
  }
  return total;
}

async function median(runs: number, fn: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < runs; i++) values.push(await fn());
  return values.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** Seconds `go mod download` of every version in `entries` takes from an empty module cache through `goproxy`. */
async function coldDownload(goproxy: string, entries: ProxyEntry[]): Promise<number> {
  const world = await makeGoWorld(goproxy);
  try {
    const start = process.hrtime.bigint();
    await world.go(['mod', 'download', ...entries.map((e) => `${e.modulePath}@${e.version}`)]);
    return Number(process.hrtime.bigint() - start) / 1e9;
  } finally {
    await world.dispose();
  }
}

/** The cold-fill row: `go mod download` of the graph through godepot against straight from the upstream. */
function coldFillRow(versions: number, through: number, direct: number): string[] {
  return [`cold fill s (${versions} versions)`, through.toFixed(2), `${direct.toFixed(2)} direct`, `${(through / direct).toFixed(2)}x`, '<= 1.2x direct', through <= 1.2 * direct ? 'yes' : 'NO'];
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

const header = ['what', 'godepot', 'reference', 'ratio', 'target', 'met'];

async function main(): Promise<void> {
  if (!coldFillOnly) await ensureTools();
  const work = await mkdtemp(join(tmpdir(), 'godepot-bench-proxy-'));
  const stops: Array<() => Promise<unknown>> = [];
  let nginx: ChildProcess | undefined;
  let godepot: GodepotServer | undefined;
  try {
    console.log(`building the module graph and a ${bigMegabytes} MB module...`);
    const graph = await buildModuleGraph(work);
    const big = coldFillOnly ? undefined : await addBigModule(graph.tree, work, 'example.com/big', 'v1.0.0', bigMegabytes << 20);
    const upstream = await startUpstream({ root: graph.tree });
    stops.push(() => upstream.stop());

    console.log(`cold fill: go mod download of ${graph.entries.length} versions, median of ${coldRuns} runs each way...`);
    const direct = await median(coldRuns, () => coldDownload(upstream.url, graph.entries));
    const through = await median(coldRuns, async () => {
      const cold = await startGodepot({ upstream: upstream.url, discardLogs: true });
      try {
        return await coldDownload(cold.url, graph.entries);
      } finally {
        await cold.dispose();
      }
    });
    if (big === undefined) {
      printTable([header, coldFillRow(graph.entries.length, through, direct)]);
      return;
    }

    // One storage folder, filled through godepot, then served by both godepot and nginx.
    const storage = join(work, 'storage');
    const nodeArgs = cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfDir];
    // godepot logs every request as it would in production; the bench reads those lines but never parses them.
    godepot = await startGodepot({ upstream: upstream.url, storage, nodeArgs, discardLogs: true });
    const info = graph.entry('example.com/app/log', 'v1.2.0').urls.info;
    for (const path of [info, big.urls.zip]) {
      const res = await fetch(godepot.url + path);
      if (res.status !== 200) throw new Error(`godepot answered ${res.status} for ${path}`);
      await res.arrayBuffer();
    }
    await upstream.stop();
    const nginxPort = await freePort();
    nginx = await startNginx(storage, nginxPort, join(work, 'nginx'));
    const nginxUrl = `http://127.0.0.1:${nginxPort}`;

    console.log(`measuring (wrk -t2, ${seconds} s per run)...`);
    await godepot.stop();
    await wrk(nginxUrl + info, 64, 2);
    const infoNginx = await wrk(nginxUrl + info, 64, seconds);
    const zipNginx = await wrk(nginxUrl + big.urls.zip, 64, seconds);
    const bigMb = (await readFile(big.zipFile)).length / 2 ** 20;
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    const rows = [header];
    for (const workers of workerCounts) {
      const serve = { upstream: upstream.url, storage, nodeArgs, discardLogs: true, args: ['--workers', String(workers)] };
      godepot = await startGodepot(serve);
      await wrk(godepot.url + info, 64, 2);
      const infoGodepot = await wrk(godepot.url + info, 64, seconds);
      // A fresh process for the zip run, so its peak RSS is that of 64 clients downloading the zip.
      await godepot.stop();
      godepot = await startGodepot(serve);
      const zipGodepot = await wrk(godepot.url + big.urls.zip, 64, seconds);
      const rss = await peakRssMb(godepot.pid);
      await godepot.stop();
      const w = `${workers} worker${workers === 1 ? '' : 's'}`;
      rows.push(
        [`.info requests/s (64 conns, ${w})`, infoGodepot.requestsPerSecond.toFixed(0), `${infoNginx.requestsPerSecond.toFixed(0)} nginx`, ratio(infoGodepot.requestsPerSecond, infoNginx.requestsPerSecond), '>= 0.4x nginx', infoGodepot.requestsPerSecond >= 0.4 * infoNginx.requestsPerSecond ? 'yes' : 'NO'],
        [`.info p99 latency ms (${w})`, infoGodepot.p99Ms.toFixed(2), `${infoNginx.p99Ms.toFixed(2)} nginx`, ratio(infoGodepot.p99Ms, infoNginx.p99Ms), '', ''],
        [`.zip MB/s (${bigMb.toFixed(0)} MB, 64 conns, ${w})`, zipGodepot.megabytesPerSecond.toFixed(0), `${zipNginx.megabytesPerSecond.toFixed(0)} nginx`, ratio(zipGodepot.megabytesPerSecond, zipNginx.megabytesPerSecond), '>= 1.0x nginx', zipGodepot.megabytesPerSecond >= zipNginx.megabytesPerSecond ? 'yes' : 'NO'],
        // Summed over the primary and its workers, each at its own peak.
        [`peak RSS MB, 64 zip clients (${w})`, rss.toFixed(0), '', '', '< 150 MB', rss < 150 ? 'yes' : 'NO'],
      );
    }
    rows.push(coldFillRow(graph.entries.length, through, direct));
    printTable(rows);
    if (cpuProfDir !== undefined) console.log(`CPU profiles of godepot in ${cpuProfDir}`);
  } finally {
    if (nginx !== undefined && nginx.exitCode === null) {
      nginx.kill('SIGQUIT');
      await new Promise((resolve) => nginx!.once('exit', resolve));
    }
    await godepot?.dispose();
    for (const stop of stops) await stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
