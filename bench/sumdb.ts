// bench/sumdb: what checksum verification costs and what godepot's own database serves. A database of
// --records records (default 20,000: tiles on two levels) is written to storage and served by `godepot
// serve --sumdb-host`; then
//   - verification cost per module: godepot's SumdbClient verifying --modules random modules against it
//     over loopback (lookup, signed head, record proof through hash tiles), cold (empty store) and from
//     its store (what a restart or a second request costs), beside the bare lookup fetch without proofs;
//   - lookups/s served by godepot's database (random records, 64 connections, wrk), beside the signed
//     head and /healthz on the same server as references.
// Installs wrk with apt-get when it is missing. Usage: npm run bench:sumdb [-- --records N] [-- --modules M] [-- --seconds S]
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import { StorageClientStore, SumdbClient, type SumdbFetch } from '../src/checksum/client.js';
import { ChecksumDatabase } from '../src/checksum/database.js';
import { generateKey } from '../src/checksum/note.js';
import { recordHash } from '../src/checksum/tlog.js';
import { NotFoundError } from '../src/errors.js';
import { DiskStorage } from '../src/storage/disk.js';
import { startGodepot } from '../test/support/godepot-server.js';

const execFileAsync = promisify(execFile);
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const records = Number(arg('--records')) || 20_000;
const modules = Number(arg('--modules')) || 200;
const seconds = Number(arg('--seconds')) || 5;
const NAME = 'sumdb.bench.test';

const fakeH1 = (seed: string) => `h1:${recordHash(Buffer.from(seed)).toString('base64')}`;
const modulePath = (i: number) => `example.com/bench/m${i}`;

async function has(command: string): Promise<boolean> {
  return execFileAsync('sh', ['-c', `command -v ${command}`]).then(
    () => true,
    () => false,
  );
}

function run(command: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command.join(' ')} exited ${code}`))));
  });
}

async function ensureWrk(): Promise<void> {
  if (await has('wrk')) return;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  console.log(`installing wrk: ${[...sudo, 'apt-get', 'install', '-y', 'wrk'].join(' ')}`);
  await run([...sudo, 'apt-get', 'update', '-qq']);
  await run([...sudo, 'apt-get', 'install', '-y', '-qq', 'wrk'], { DEBIAN_FRONTEND: 'noninteractive' });
}

/** wrk with 2 threads and 64 connections on `url` for `duration` s, optionally a Lua script; requests/s and p99 in ms. */
async function wrk(url: string, script?: string, duration = seconds): Promise<{ rps: number; p99: number }> {
  const args = ['-t2', '-c64', `-d${duration}s`, '--latency', ...(script === undefined ? [] : ['-s', script]), url];
  const { stdout } = await execFileAsync('wrk', args, { maxBuffer: 1 << 20 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const p99 = /99%\s+([\d.]+)(us|ms|s)\b/.exec(stdout);
  if (rps === null || p99 === null) throw new Error(`wrk printed no summary:\n${stdout}`);
  if (/Non-2xx or 3xx responses|Socket errors/.test(stdout)) console.log(`  note: wrk on ${url} saw errors:\n${stdout}`);
  return { rps: Number(rps[1]), p99: Number(p99[1]) * { us: 1e-3, ms: 1, s: 1e3 }[p99[2] as 'us' | 'ms' | 's'] };
}

/** `count` distinct random record indexes. */
function sample(count: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, records)) picked.add(Math.floor(Math.random() * records));
  return [...picked];
}

async function main(): Promise<void> {
  await ensureWrk();
  const work = await mkdtemp(join(tmpdir(), 'godepot-bench-sumdb-'));
  try {
    const key = generateKey(NAME);
    const keyFile = join(work, 'sumdb.key');
    await writeFile(keyFile, `${key.signerKey}\n`, { mode: 0o600 });
    const storageRoot = join(work, 'storage');

    // The database, appended in batches as concurrent stores would append.
    let started = process.hrtime.bigint();
    const db = await ChecksumDatabase.open({ storage: new DiskStorage({ root: storageRoot }), signerKey: key.signerKey });
    for (let from = 0; from < records; from += 1000) {
      const batch = [];
      for (let i = from; i < Math.min(records, from + 1000); i++) batch.push(db.add(modulePath(i), 'v1.0.0', { zip: fakeH1(`z${i}`), mod: fakeH1(`m${i}`) }));
      await Promise.all(batch);
    }
    await db.signedTree();
    const appendSeconds = Number(process.hrtime.bigint() - started) / 1e9;

    const godepot = await startGodepot({ storage: storageRoot, sumdb: 'off', upstream: 'off', args: ['--sumdb-host', NAME, '--sumdb-key', keyFile], discardLogs: true });
    const pool = new Pool(godepot.url, { connections: 8 });
    try {
      const requests = { lookup: 0, tile: 0, latest: 0 };
      const fetchPath: SumdbFetch = async (path) => {
        const kind = path.split('/')[0] as keyof typeof requests;
        requests[kind]++;
        const res = await pool.request({ path: `/sumdb/${NAME}/${path}`, method: 'GET' });
        const body = Buffer.from(await res.body.arrayBuffer());
        if (res.statusCode === 404) throw new NotFoundError(path);
        if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode}`);
        return body;
      };
      const picks = sample(modules);
      const verifyAll = async (client: SumdbClient): Promise<number> => {
        const start = process.hrtime.bigint();
        for (const i of picks) await client.verify(modulePath(i), 'v1.0.0', fakeH1(`z${i}`));
        return Number(process.hrtime.bigint() - start) / 1e6 / picks.length;
      };
      const store = new StorageClientStore(new DiskStorage({ root: join(work, 'client') }));
      const cold = await verifyAll(new SumdbClient({ verifierKey: key.verifierKey, fetch: fetchPath, store }));
      const coldRequests = { ...requests };
      for (const k of Object.keys(requests) as Array<keyof typeof requests>) requests[k] = 0;
      const stored = await verifyAll(new SumdbClient({ verifierKey: key.verifierKey, fetch: fetchPath, store }));
      const storedRequests = requests.lookup + requests.tile + requests.latest;
      started = process.hrtime.bigint();
      for (const i of picks) await fetchPath(`lookup/${modulePath(i)}@v1.0.0`);
      const bare = Number(process.hrtime.bigint() - started) / 1e6 / picks.length;

      const script = join(work, 'lookups.lua');
      await writeFile(script, `request = function()\n  return wrk.format("GET", "/sumdb/${NAME}/lookup/example.com/bench/m" .. math.random(0, ${records - 1}) .. "@v1.0.0")\nend\n`);
      // A first second to warm the JIT, as every figure after it is measured on a warm server.
      await wrk(godepot.url, script, 1);
      const lookups = await wrk(godepot.url, script);
      const latest = await wrk(`${godepot.url}/sumdb/${NAME}/latest`);
      const tile = await wrk(`${godepot.url}/sumdb/${NAME}/tile/8/0/000`);
      const healthz = await wrk(`${godepot.url}/healthz`);

      const per = (n: number) => (n / picks.length).toFixed(2);
      const rows: Array<[string, string, string]> = [
        ['verify one module, cold store', `${cold.toFixed(2)} ms`, `bare lookup fetch, no proof: ${bare.toFixed(2)} ms`],
        ['  requests per module: lookup / tile / latest', `${per(coldRequests.lookup)} / ${per(coldRequests.tile)} / ${per(coldRequests.latest)}`, ''],
        ["verify one module, from the client's store", `${stored.toFixed(2)} ms`, `${storedRequests} requests to the database`],
        ['lookups/s served (random records, 64 conns)', `${Math.round(lookups.rps)} req/s`, `/healthz: ${Math.round(healthz.rps)} req/s`],
        ['  lookup p99', `${lookups.p99.toFixed(2)} ms`, `/healthz: ${healthz.p99.toFixed(2)} ms`],
        ['signed head (/latest)', `${Math.round(latest.rps)} req/s`, ''],
        ['full hash tile (tile/8/0/000)', `${Math.round(tile.rps)} req/s`, ''],
      ];
      const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length), ['measure', 'figure', 'reference'][c]!.length));
      const line = (r: readonly string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
      console.log(`\nchecksum database of ${records} records (appended in ${appendSeconds.toFixed(1)} s, ${Math.round(records / appendSeconds)} records/s); ${picks.length} modules verified\n`);
      console.log([line(['measure', 'figure', 'reference']), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
    } finally {
      await pool.close();
      await godepot.stop();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
