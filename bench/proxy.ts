// bench/proxy: godepot serve beside nginx serving the very same storage folder from disk, in one run:
// requests/s and p99 latency for a cached .info, MB/s for a cached ≥50 MB .zip, godepot's peak RSS while
// 64 clients download that zip at once, and the cold fill of the test module graph through godepot
// against `go mod download` straight from the same upstream (beside two bare forwarding proxies, one in
// Node and one in Go, the floor of what putting any proxy on loopback adds here, and again with the
// upstream 20 ms away, as across a network). Installs nginx and wrk with apt-get when they are missing.
// godepot is measured with each worker count of --workers (default 1,2; `serve --workers`).
// The machines this runs on are shared and swing by a third from one run to the next, so every figure
// is measured --rounds times (default 3), nginx and godepot taking turns within each round, and the
// median is printed (peak RSS: the highest of the rounds).
// The cached .info is also asked with a token (Basic, as go sends one from .netrc), on the same godepot
// process right after or before the run without one (the order alternating by round), so that the two
// share the machine's noise; the cost of authentication is their paired ratio, the median of the rounds'.
// Every godepot here runs with its rate limits off: at the default limits (a token 1000/s after a burst
// of 40000, an address without one 500/s after 20000) wrk at tens of thousands of requests a second would
// be refused with 429 within seconds, and refusals are cheap answers, so both rates would measure the
// limiter instead of the server. A row with the default limits would measure only that, so there is
// none. wrk's report of any non-2xx answer (a 401 or 429 would fake a great rate) stops the bench.
// Usage: npm run bench:proxy [-- --seconds N] [-- --rounds N] [-- --workers 1,2] [-- --cpu-prof DIR] [-- --cold-fill-only]
// (--cold-fill-only measures the cold fill alone, without nginx, wrk or the 64 MB module).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median } from './figures.js';
import { runGodepot } from '../test/support/cli.js';
import { startGodepot, type GodepotServer } from '../test/support/godepot-server.js';
import { freePort } from '../test/support/gitdaemon.js';
import { makeGoWorld } from '../test/support/go.js';
import { addBigModule, addModule, buildModuleGraph } from '../test/support/modgraph.js';
import { startUpstream } from '../test/support/upstream.js';

const execFileAsync = promisify(execFile);
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const seconds = Number(arg('--seconds')) || 5;
const rounds = Number(arg('--rounds')) || 3;
const cpuProfDir = arg('--cpu-prof');
const bigMegabytes = 64;
const coldRuns = 7;
// The cold fill is measured again with every upstream answer this much delayed, fewer times (each takes seconds).
const remoteLatencyMs = 20;
const remoteRuns = 3;
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
  requests: number;
}

/**
 * Runs wrk with 2 threads (the machine has 2 cores), sending `headers` ("Name: value") with every
 * request, and parses its summary; throws when any answer was not 2xx or 3xx.
 */
async function wrk(url: string, connections: number, duration: number, headers: string[] = []): Promise<WrkResult> {
  // A 64 MB answer to each of 64 clients takes longer than wrk's default 2 s timeout.
  const args = ['-t2', `-c${connections}`, `-d${duration}s`, '--timeout', '60s', '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  const { stdout } = await execFileAsync('wrk', args, { maxBuffer: 1 << 20 });
  const number = (re: RegExp) => {
    const m = re.exec(stdout);
    if (m === null) throw new Error(`wrk printed no ${re}:\n${stdout}`);
    return m;
  };
  if (/Non-2xx or 3xx responses/.test(stdout)) throw new Error(`wrk on ${url} got answers other than 2xx or 3xx; the figures would be those of the refusals:\n${stdout}`);
  if (/Socket errors/.test(stdout)) console.log(`  note: wrk on ${url} saw socket errors:\n${stdout}`);
  const p99 = number(/99%\s+([\d.]+)(us|ms|s)\b/);
  const scale = { us: 1e-3, ms: 1, s: 1e3 }[p99[2] as 'us' | 'ms' | 's'];
  const transfer = number(/Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/);
  const unit = { B: 1 / 2 ** 20, KB: 1 / 1024, MB: 1, GB: 1024 }[transfer[2] as 'B' | 'KB' | 'MB' | 'GB'];
  return {
    requestsPerSecond: Number(number(/Requests\/sec:\s+([\d.]+)/)[1]),
    p99Ms: Number(p99[1]) * scale,
    megabytesPerSecond: Number(transfer[1]) * unit,
    requests: Number(number(/(\d+) requests in/)[1]),
  };
}

/** The pids of `pid` and of each of its children (a `--workers` primary's workers). */
async function processTree(pid: number): Promise<number[]> {
  const { stdout } = await execFileAsync('ps', ['--ppid', String(pid), '-o', 'pid=']).catch(() => ({ stdout: '' }));
  return [pid, ...stdout.split('\n').filter((line) => line.trim() !== '').map(Number)];
}

/** The peak RSS of `pid` plus that of each of its children (a `--workers` primary's workers): a bound on the peak of the whole. */
async function peakRssMb(pid: number): Promise<number> {
  let total = 0;
  for (const one of await processTree(pid)) {
    const status = await readFile(`/proc/${one}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status);
    if (kb === null) throw new Error(`no VmHWM for ${one}`);
    total += Number(kb[1]) / 1024;
  }
  return total;
}

/** A cached-.info run against godepot: wrk's figures, and the CPU the server (all its processes) spent per request. */
interface InfoRun extends WrkResult {
  cpuUsPerRequest: number;
}

/** wrk on `url` (64 connections, --seconds) sending `headers`, with the CPU the server of `pid` and its workers spent meanwhile. */
async function infoRun(url: string, pid: number, headers: string[]): Promise<InfoRun> {
  const pids = await processTree(pid);
  const cpu = async () => (await Promise.all(pids.map(cpuMs))).reduce((a, b) => a + b, 0);
  const before = await cpu();
  const result = await wrk(url, 64, seconds, headers);
  return { ...result, cpuUsPerRequest: (((await cpu()) - before) * 1000) / result.requests };
}

/** Seconds `go mod download` of `modules` (module@version) takes from an empty module cache through `goproxy`. */
async function coldDownload(goproxy: string, modules: string[]): Promise<number> {
  const world = await makeGoWorld(goproxy);
  try {
    const start = process.hrtime.bigint();
    await world.go(['mod', 'download', ...modules]);
    return Number(process.hrtime.bigint() - start) / 1e9;
  } finally {
    await world.dispose();
  }
}

/** Milliseconds of CPU the process `pid` has used so far, all its threads (libuv's pool included). */
async function cpuMs(pid: number): Promise<number> {
  let ns = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) {
    const schedstat = await readFile(`/proc/${pid}/task/${task}/schedstat`, 'utf8').catch(() => '0');
    ns += Number(schedstat.split(' ')[0]);
  }
  return ns / 1e6;
}

/** `coldDownload` through the server of `pid`, with the CPU milliseconds that server spent meanwhile. */
async function measuredFill(url: string, pid: number, modules: string[]): Promise<Fill> {
  const before = await cpuMs(pid);
  const seconds = await coldDownload(url, modules);
  return { seconds, cpu: (await cpuMs(pid)) - before };
}

/**
 * A bare forwarding proxy (`command` plus the upstream URL: bench/pass-through or the binary of
 * bench/pass-through-go), started in front of `upstreamUrl`; it prints its own URL once it listens.
 */
async function startPassThrough(command: string[], upstreamUrl: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(command[0]!, [...command.slice(1), upstreamUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Builds bench/pass-through-go into `dir` with the go that runs the fills; it needs nothing but the standard library. */
async function buildGoPassThrough(dir: string): Promise<string> {
  const bin = join(dir, 'pass-through-go');
  const source = fileURLToPath(new URL('../../bench/pass-through-go', import.meta.url));
  await execFileAsync('go', ['build', '-o', bin, '.'], { cwd: source, env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' } });
  return bin;
}

/** A cold-fill row: `go mod download` of the graph through godepot against straight from the upstream. */
function coldFillRow(what: string, versions: number, through: number, direct: number): string[] {
  return [`cold fill s (${versions} versions, ${what})`, through.toFixed(2), `${direct.toFixed(2)} direct`, `${(through / direct).toFixed(2)}x`, '<= 1.2x direct', through <= 1.2 * direct ? 'yes' : 'NO'];
}

/** Seconds of a fill and the CPU milliseconds the server in front spent on it. */
interface Fill {
  seconds: number;
  cpu: number;
}

interface ColdFills {
  direct: number;
  /** Through the bare forwarding proxies, in Node and in Go. */
  passThrough: Fill;
  goPassThrough: Fill;
  fresh: number;
  serving: Fill;
}

/**
 * The cold fill, `runs` rounds, each: straight from the upstream, through the bare forwarding proxies,
 * through a godepot just started, and through a godepot that has already filled itself with
 * `warmUp[round]` (other modules of the same upstream), as one that has been serving for a while would
 * be. Every godepot starts with empty storage. Medians of the rounds.
 */
async function coldFills(upstreamUrl: string, goPassThroughBin: string, graph: string[], warmUp: string[][], runs: number): Promise<ColdFills> {
  const direct: number[] = [];
  const passThrough: Fill[] = [];
  const goPassThrough: Fill[] = [];
  const fresh: number[] = [];
  const serving: Fill[] = [];
  const forwarding = await startPassThrough([process.execPath, fileURLToPath(new URL('./pass-through.js', import.meta.url))], upstreamUrl);
  const goForwarding = await startPassThrough([goPassThroughBin], upstreamUrl);
  try {
    // Their first requests open connections (and compile the Node one's code): not part of any round.
    await coldDownload(forwarding.url, warmUp[0]!);
    await coldDownload(goForwarding.url, warmUp[0]!);
    for (let round = 0; round < runs; round++) {
      direct.push(await coldDownload(upstreamUrl, graph));
      passThrough.push(await measuredFill(forwarding.url, forwarding.pid, graph));
      goPassThrough.push(await measuredFill(goForwarding.url, goForwarding.pid, graph));
      const started = await startGodepot({ upstream: upstreamUrl, discardLogs: true });
      try {
        fresh.push(await coldDownload(started.url, graph));
      } finally {
        await started.dispose();
      }
      const warm = await startGodepot({ upstream: upstreamUrl, discardLogs: true });
      try {
        await coldDownload(warm.url, warmUp[round]!);
        serving.push(await measuredFill(warm.url, warm.pid, graph));
      } finally {
        await warm.dispose();
      }
    }
  } finally {
    await forwarding.stop();
    await goForwarding.stop();
  }
  const medianFill = (fills: Fill[]): Fill => ({ seconds: median(fills.map((f) => f.seconds)), cpu: median(fills.map((f) => f.cpu)) });
  return { direct: median(direct), passThrough: medianFill(passThrough), goPassThrough: medianFill(goPassThrough), fresh: median(fresh), serving: medianFill(serving) };
}

/** The table rows of a coldFills() result; `where` says how far away the upstream is. */
function coldFillRows(cold: ColdFills, versions: number, where: string): string[][] {
  const reference = (what: string, fill: Fill): string[] => [`  ${what}, for reference${where}`, fill.seconds.toFixed(2), `${cold.direct.toFixed(2)} direct`, `${(fill.seconds / cold.direct).toFixed(2)}x`, '', ''];
  const cpu = (what: string, fill: Fill): string[] => [`  CPU ms per fill: godepot serving / ${what}${where}`, cold.serving.cpu.toFixed(0), `${fill.cpu.toFixed(0)} fwd`, `${(cold.serving.cpu / fill.cpu).toFixed(2)}x`, '', ''];
  return [
    coldFillRow(`godepot just started${where}`, versions, cold.fresh, cold.direct),
    coldFillRow(`godepot already serving${where}`, versions, cold.serving.seconds, cold.direct),
    reference('bare forwarding proxy in Node', cold.passThrough),
    reference('bare forwarding proxy in Go', cold.goPassThrough),
    cpu('Node forwarder', cold.passThrough),
    cpu('Go forwarder', cold.goPassThrough),
  ];
}

/** `coldRuns` sets of `count` small modules for godepot to fill itself with before the measured fill. */
async function addWarmUpModules(tree: string, work: string, count: number): Promise<string[][]> {
  const sets: string[][] = [];
  for (let round = 0; round < coldRuns; round++) {
    const set: string[] = [];
    for (let i = 0; i < count; i++) {
      const modulePath = `example.org/warmup${round}/m${i}`;
      await addModule(tree, work, modulePath, 'v1.0.0', { 'go.mod': `module ${modulePath}\n\ngo 1.17\n`, 'm.go': 'package m\n' });
      set.push(`${modulePath}@v1.0.0`);
    }
    sets.push(set);
  }
  return sets;
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

    const modules = graph.entries.map((e) => `${e.modulePath}@${e.version}`);
    const warmUp = await addWarmUpModules(graph.tree, join(work, 'warmup'), modules.length);
    console.log(`cold fill: go mod download of ${modules.length} versions, ${coldRuns} rounds of direct / forwarding proxies / fresh godepot / serving godepot...`);
    const goPassThrough = await buildGoPassThrough(work);
    const coldRows = coldFillRows(await coldFills(upstream.url, goPassThrough, modules, warmUp, coldRuns), modules.length, '');
    // What a team sees when the upstream is across a network: every upstream answer delayed.
    console.log(`cold fill again with the upstream ${remoteLatencyMs} ms away, ${remoteRuns} rounds...`);
    upstream.fault('*', { delayMs: remoteLatencyMs });
    coldRows.push(...coldFillRows(await coldFills(upstream.url, goPassThrough, modules, warmUp, remoteRuns), modules.length, `, upstream ${remoteLatencyMs} ms away`));
    upstream.clearFaults();
    if (big === undefined) {
      printTable([header, ...coldRows]);
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

    // The token the authenticated runs send, as go sends a .netrc password: Basic, any user name.
    const stateDir = join(work, 'state');
    const created = await runGodepot(['token', 'create', '--name', 'ci', '--role', 'read', '--state-dir', stateDir]);
    if (created.code !== 0) throw new Error(`godepot token create failed:\n${created.stderr}`);
    const withToken = [`Authorization: Basic ${Buffer.from(`ci:${created.stdout.trim()}`).toString('base64')}`];

    console.log(`measuring (wrk -t2, ${seconds} s per run, ${rounds} rounds; godepot with rate limits off, see bench/proxy.ts)...`);
    await godepot.stop();
    const bigMb = (await readFile(big.zipFile)).length / 2 ** 20;
    const nginxInfo: WrkResult[] = [];
    const nginxZip: number[] = [];
    const byWorkers = new Map(workerCounts.map((w) => [w, { info: [] as InfoRun[], infoToken: [] as InfoRun[], zip: [] as number[], rss: [] as number[] }]));
    for (let round = 0; round < rounds; round++) {
      await wrk(nginxUrl + info, 64, 2);
      nginxInfo.push(await wrk(nginxUrl + info, 64, seconds));
      nginxZip.push((await wrk(nginxUrl + big.urls.zip, 64, seconds)).megabytesPerSecond);
      for (const workers of workerCounts) {
        const measured = byWorkers.get(workers)!;
        const serve = {
          upstream: upstream.url,
          storage,
          nodeArgs,
          discardLogs: true,
          args: ['--workers', String(workers), '--state-dir', stateDir],
          env: { GODEPOT_RATE_LIMIT: 'off', GODEPOT_ANONYMOUS_RATE_LIMIT: 'off' },
        };
        godepot = await startGodepot(serve);
        await wrk(godepot.url + info, 64, 2);
        await wrk(godepot.url + info, 64, 2, withToken);
        // Without a token first in even rounds, with one first in odd rounds.
        for (const token of round % 2 === 0 ? [false, true] : [true, false]) {
          const run = await infoRun(godepot.url + info, godepot.pid, token ? withToken : []);
          (token ? measured.infoToken : measured.info).push(run);
        }
        // A fresh process for the zip run, so its peak RSS is that of 64 clients downloading the zip.
        await godepot.stop();
        godepot = await startGodepot(serve);
        measured.zip.push((await wrk(godepot.url + big.urls.zip, 64, seconds)).megabytesPerSecond);
        measured.rss.push(await peakRssMb(godepot.pid));
        await godepot.stop();
      }
    }
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    const infoNginx = median(nginxInfo.map((r) => r.requestsPerSecond));
    const p99Nginx = median(nginxInfo.map((r) => r.p99Ms));
    const zipNginx = median(nginxZip);
    const rows = [header];
    for (const [workers, measured] of byWorkers) {
      const w = `${workers} worker${workers === 1 ? '' : 's'}`;
      const infoGodepot = median(measured.info.map((r) => r.requestsPerSecond));
      const p99Godepot = median(measured.info.map((r) => r.p99Ms));
      const zipGodepot = median(measured.zip);
      // Summed over the primary and its workers, each at its own peak; the highest of the rounds.
      const rss = Math.max(...measured.rss);
      // With a token against without, each round's pair compared, the median of those ratios.
      const paired = (of: (r: InfoRun) => number) => median(measured.info.map((plain, i) => of(measured.infoToken[i]!) / of(plain)));
      const tokenRate = paired((r) => r.requestsPerSecond);
      rows.push(
        [`.info requests/s (64 conns, ${w})`, infoGodepot.toFixed(0), `${infoNginx.toFixed(0)} nginx`, ratio(infoGodepot, infoNginx), '>= 0.4x nginx', infoGodepot >= 0.4 * infoNginx ? 'yes' : 'NO'],
        [`.info p99 latency ms (${w})`, p99Godepot.toFixed(2), `${p99Nginx.toFixed(2)} nginx`, ratio(p99Godepot, p99Nginx), '', ''],
        [
          `  .info requests/s with a token (Basic, ${w})`,
          median(measured.infoToken.map((r) => r.requestsPerSecond)).toFixed(0),
          `${infoGodepot.toFixed(0)} no token`,
          `${tokenRate.toFixed(2)}x`,
          '>= 0.9x no token',
          tokenRate >= 0.9 ? 'yes' : 'NO',
        ],
        [`  .info p99 latency ms with a token (${w})`, median(measured.infoToken.map((r) => r.p99Ms)).toFixed(2), `${p99Godepot.toFixed(2)} no token`, `${paired((r) => r.p99Ms).toFixed(2)}x`, '', ''],
        [
          `  .info server CPU us/request with a token (${w})`,
          median(measured.infoToken.map((r) => r.cpuUsPerRequest)).toFixed(1),
          `${median(measured.info.map((r) => r.cpuUsPerRequest)).toFixed(1)} no token`,
          `${paired((r) => r.cpuUsPerRequest).toFixed(2)}x`,
          '',
          '',
        ],
        [`.zip MB/s (${bigMb.toFixed(0)} MB, 64 conns, ${w})`, zipGodepot.toFixed(0), `${zipNginx.toFixed(0)} nginx`, ratio(zipGodepot, zipNginx), '>= 1.0x nginx', zipGodepot >= zipNginx ? 'yes' : 'NO'],
        [`peak RSS MB, 64 zip clients (${w})`, rss.toFixed(0), '', '', '< 150 MB', rss < 150 ? 'yes' : 'NO'],
      );
    }
    rows.push(...coldRows);
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
