// Issue 11, "a remote crash": checking a fetched zip held about a kilobyte of heap per entry, and nothing
// bounded how many checks ran at once. 60 cold requests for legal zips of 100,000 one-byte files each
// (go accepts them) drove godepot to 4.9 GB and out of heap. Here godepot serve, in front of a static
// upstream, answers all 60 at once, right, with its peak RSS under 1 GB, and keeps answering a cached
// module meanwhile.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { manyFileZip, manyFileZipH1, writeRawZip } from '../support/rawzip.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const MODULE = 'example.com/many';
const VERSIONS = Array.from({ length: 60 }, (_, i) => `v1.0.${10 + i}`);
const FILES = 100_000;
const PROBE = 'example.com/probe';
const MAX_PEAK_RSS = 1 << 30;
// A liveness bound, not a benchmark: a cached answer taking this long means the event loop is stuck.
const MAX_CACHED_ANSWER_MS = 2000;

let work: string;
let upstream: Upstream;
let godepot: GodepotServer;
const expected = new Map<string, { sha256: string; h1: string }>();

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-many-'));
  const tree = join(work, 'upstream');
  const versionDir = join(tree, MODULE, '@v');
  await mkdir(versionDir, { recursive: true });
  for (const version of VERSIONS) {
    const prefix = `${MODULE}@${version}/`;
    const zip = manyFileZip(prefix, FILES);
    await writeFile(join(versionDir, `${version}.zip`), zip);
    await writeFile(join(versionDir, `${version}.info`), JSON.stringify({ Version: version, Time: '2024-01-01T00:00:00Z' }));
    // The zips hold no go.mod, so this is the one go makes up for them.
    await writeFile(join(versionDir, `${version}.mod`), `module ${MODULE}\n`);
    expected.set(version, { sha256: createHash('sha256').update(zip).digest('hex'), h1: manyFileZipH1(prefix, FILES) });
  }
  await writeFile(join(versionDir, 'list'), VERSIONS.join('\n') + '\n');
  const probeDir = join(tree, PROBE, '@v');
  await mkdir(probeDir, { recursive: true });
  await writeRawZip(join(probeDir, 'v1.0.0.zip'), [
    { name: `${PROBE}@v1.0.0/go.mod`, data: `module ${PROBE}\n` },
    { name: `${PROBE}@v1.0.0/probe.go`, data: 'package probe\n' },
  ]);
  await writeFile(join(probeDir, 'v1.0.0.info'), JSON.stringify({ Version: 'v1.0.0', Time: '2024-01-01T00:00:00Z' }));
  await writeFile(join(probeDir, 'v1.0.0.mod'), `module ${PROBE}\n`);
  upstream = await startUpstream({ root: tree });
  godepot = await startGodepot({ upstream: upstream.url, storage: join(work, 'storage') });
});

after(async () => {
  await godepot?.dispose();
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

// The godepot process's resident memory now and at its peak, from /proc (0 once it has died).
async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

test('60 concurrent cold zips of 100,000 files each: all answered right, peak RSS under 1 GB, cached answers keep coming', async () => {
  const agent = new Agent({ connections: 128 });
  try {
    const get = async (path: string): Promise<{ status: number; sha256: string; ms: number }> => {
      const started = performance.now();
      const res = await request(godepot.url + path, { dispatcher: agent });
      const hash = createHash('sha256');
      for await (const chunk of res.body) hash.update(chunk as Buffer);
      return { status: res.statusCode, sha256: hash.digest('hex'), ms: performance.now() - started };
    };

    // The probe is fetched and stored first: during the storm it is a cached answer.
    assert.equal((await get(`/${PROBE}/@v/v1.0.0.zip`)).status, 200);
    assert.equal((await get(`/${PROBE}/@v/v1.0.0.info`)).status, 200);

    let storming = true;
    let peak = 0;
    let highestSample = 0;
    const sampling = (async () => {
      while (storming) {
        const now = await memory(godepot.pid);
        peak = Math.max(peak, now.peak);
        highestSample = Math.max(highestSample, now.rss);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const cachedAnswers: { status: number; ms: number }[] = [];
    const probing = (async () => {
      while (storming) {
        for (const path of [`/${PROBE}/@v/v1.0.0.info`, `/${PROBE}/@v/v1.0.0.zip`]) cachedAnswers.push(await get(path));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    // Settled below, once the storm is over; a failure meanwhile (godepot gone) must not count as unhandled.
    for (const loop of [sampling, probing]) loop.catch(() => undefined);
    let answers: PromiseSettledResult<Awaited<ReturnType<typeof get>>>[];
    try {
      answers = await Promise.allSettled(VERSIONS.map((version) => get(`/${MODULE}/@v/${version}.zip`)));
    } finally {
      storming = false;
    }
    const [, probed] = await Promise.allSettled([sampling, probing]);
    // Read once more unless godepot is gone: its peak until the end of the storm.
    peak = Math.max(peak, (await memory(godepot.pid).catch(() => ({ peak: 0 }))).peak);

    const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MB`;
    const slowest = Math.max(0, ...cachedAnswers.map((a) => a.ms));
    const report = `peak RSS ${mb(peak)}, highest sample ${mb(highestSample)}; ${cachedAnswers.length} cached answers, slowest ${slowest.toFixed(0)} ms`;
    process.stderr.write(`proxy-many-entries: ${report}\n`);

    for (const [i, answer] of answers.entries()) {
      const version = VERSIONS[i]!;
      assert.equal(answer.status, 'fulfilled', `${version}: ${String((answer as PromiseRejectedResult).reason)}\n${godepot.stderr.slice(-2000)}`);
      const { status, sha256 } = (answer as PromiseFulfilledResult<Awaited<ReturnType<typeof get>>>).value;
      assert.equal(status, 200, version);
      assert.equal(sha256, expected.get(version)!.sha256, `${version}: the upstream's bytes`);
      const stored = await readFile(join(godepot.storage, MODULE, '@v', `${version}.ziphash`), 'utf8');
      assert.equal(stored, expected.get(version)!.h1, `${version}: the h1 go computes`);
    }
    assert.equal(probed.status, 'fulfilled', 'every cached request was answered');
    assert.ok(peak < MAX_PEAK_RSS, report);
    // The storm lasts seconds, so the probe was asked several times; every answer came, and in time.
    assert.ok(cachedAnswers.length >= 4, report);
    for (const answer of cachedAnswers) {
      assert.equal(answer.status, 200);
      assert.ok(answer.ms < MAX_CACHED_ANSWER_MS, report);
    }
  } finally {
    await agent.close();
  }
});
