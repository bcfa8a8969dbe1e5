// `godepot mirror` with a list some lines of which fail, as a platform engineer runs it against an
// upstream that also has hiccups: every failure reported as FILE:LINE: module: reason, everything
// else stored (go builds from it with the upstream gone), retries counted on the progress line
// rather than logged as JSON, no MaxListenersExceededWarning, and a second run counts no bytes it did
// not fetch. bundle create over the same upstream prints no warning either.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runGodepot, type CliResult } from '../support/cli.js';
import { filesUnder, startGodepot } from '../support/godepot-server.js';
import { writeTree } from '../support/git.js';
import { makeGoWorld } from '../support/go.js';
import { writeMissingModuleGraph } from '../support/missing-module.js';
import { addModule } from '../support/modgraph.js';
import { goModText } from '../support/projects.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const width = 20;
const others = Array.from({ length: width }, (_, i) => `example.com/gone/m${i}`);
const env = { GODEPOT_UPSTREAM: '', GOSUMDB: '' };

/** What must never be among a command's output: raw log lines, Node's listener warning, a stack. */
function assertReadable(result: CliResult): void {
  const text = result.stdout + result.stderr;
  assert.doesNotMatch(text, /MaxListenersExceededWarning/);
  assert.doesNotMatch(text, /^\s*\{"level"/m, 'no raw JSON log line');
  assert.doesNotMatch(text, /\n\s+at /, 'no stack');
}

describe('mirror with failing lines, against an upstream with hiccups', { concurrency: false }, () => {
  let work: string;
  let upstream: Upstream;
  let consumer: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-mirror-e2e-'));
    // m0…m19, `wants` (which requires the missing module too), and the missing module nowhere.
    const graph = await writeMissingModuleGraph(work, width);
    // `top` needs every m and imports each; `nozip` has a go.mod upstream but its zip is gone.
    await addModule(graph.tree, work, 'example.com/gone/top', 'v1.0.0', {
      'go.mod': goModText('example.com/gone/top', '1.17', others.map((path) => `${path} v1.0.0`)),
      'top.go': `package top\n\nimport (\n${others.map((path, i) => `\tm${i} "${path}"\n`).join('')})\n\nvar Names = []string{${others.map((_, i) => `m${i}.Name`).join(', ')}}\n`,
    });
    for (const [i, path] of others.entries()) {
      await addModule(graph.tree, work, path, 'v1.0.0', { 'go.mod': goModText(path, '1.17'), 'm.go': `package m${i}\n\nconst Name = "m${i}"\n` });
    }
    await addModule(graph.tree, work, 'example.com/gone/nozip', 'v1.0.0', { 'go.mod': goModText('example.com/gone/nozip', '1.17'), 'n.go': 'package nozip\n' });
    upstream = await startUpstream({ root: graph.tree });
    upstream.fault('/example.com/gone/nozip/@v/v1.0.0.zip', { status: 404 });
    consumer = join(work, 'consumer');
    await writeTree(consumer, {
      'go.mod': goModText('example.com/consumer', '1.17', ['example.com/gone/top v1.0.0']),
      'main.go': 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/gone/top"\n)\n\nfunc main() { fmt.Println(len(top.Names)) }\n',
    });
  });
  after(async () => {
    await upstream?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('reports each failing line as FILE:LINE: module: reason, stores the rest, exits 1; go builds from what it stored', async () => {
    // Every zip of the graph answers 503 once: retried, and counted on the progress line.
    for (const path of others) upstream.fault(`/${path}/@v/v1.0.0.zip`, { status: 503, times: 1 });
    const list = join(work, 'list.txt');
    await writeFile(
      list,
      [
        '# what the teams use',
        'example.com/gone/top@v1.0.0',
        'not a module line',
        'example.com/gone/missing@v1.0.0',
        'example.com/gone/wants@v1.0.0',
        'example.com/gone/m3@latest',
        'example.com/gone/nozip@v1.0.0',
        '',
      ].join('\n'),
    );
    const storage = join(work, 'storage');
    const result = await runGodepot(['mirror', list, '--storage', storage, '--upstream', upstream.url, '--sumdb', 'off', '--concurrency', '16'], { env });
    assert.equal(result.code, 1, result.stderr);
    assertReadable(result);
    const failures = result.stderr.split('\n').filter((line) => line.startsWith(`${list}:`));
    // Each failing line once, in the order found: the list read, then the graphs resolved, then the files fetched.
    assert.deepEqual(
      failures.map((line) => line.slice(list.length + 1).split(': ', 2).join(': ')),
      ['3: not a module line', '4: example.com/gone/missing@v1.0.0', '5: example.com/gone/wants@v1.0.0', '7: example.com/gone/nozip@v1.0.0'],
    );
    // The reasons say what is wrong and which origin said so.
    assert.match(result.stderr, new RegExp(`:3: not a module line: want module@version or module@latest\\n`));
    assert.match(result.stderr, new RegExp(`:4: example\\.com/gone/missing@v1\\.0\\.0: .*${upstream.url}.*404`));
    assert.match(result.stderr, /:5: example\.com\/gone\/wants@v1\.0\.0: .*requires\n\texample\.com\/gone\/wants@v1\.0\.0 requires\n\texample\.com\/gone\/missing@v1\.0\.0: .*404/);
    assert.match(result.stderr, /:7: example\.com\/gone\/nozip@v1\.0\.0: example\.com\/gone\/nozip@v1\.0\.0 \(zip\): .*404/);
    assert.match(result.stderr, /^godepot: 4 of 6 lines of .*list\.txt failed \(reported above\); everything else is there$/m);
    // top, its 20 modules (m3 among them), and nozip's .mod: 21 present, nozip not.
    assert.equal(result.stdout, `${storage}: 21 module versions present (6 listed, 4 failed)\n`);
    // Retries were one count on the progress line, never a line each.
    assert.match(result.stderr, /^mirroring: 21\/22 modules, [0-9.]+ KB, .*, 20 retries \(last: .*503 Service Unavailable\)$/m);

    const files = await filesUnder(storage);
    assert.deepEqual(files.filter((f) => f.startsWith('.tmp/')), []);
    for (const path of ['example.com/gone/top', ...others]) assert.ok(files.includes(`${path}/@v/v1.0.0.zip`), `${path} stored`);
    assert.ok(!files.includes('example.com/gone/nozip/@v/v1.0.0.zip'));

    // With the upstream out of reach, go builds the consumer from what was stored.
    const server = await startGodepot({ storage, upstream: 'off' });
    const world = await makeGoWorld(server.url, { GOFLAGS: '-modcacherw -mod=mod' });
    try {
      await world.go(['build', '-o', join(work, 'consumer-bin'), '.'], { cwd: consumer });
    } finally {
      await world.dispose();
      await server.stop();
    }

    // A second run of the good lines fetches nothing, and says so: no byte counted that was not fetched.
    const good = join(work, 'good.txt');
    await writeFile(good, 'example.com/gone/top@v1.0.0\nexample.com/gone/m3@latest\n');
    const again = await runGodepot(['mirror', good, '--storage', storage, '--upstream', upstream.url, '--sumdb', 'off'], { env });
    assert.equal(again.code, 0, again.stderr);
    assertReadable(again);
    assert.match(again.stderr, /^mirroring: 21\/21 modules, 0 B, 0 B\/s$/m);
    assert.equal(again.stdout, `${storage}: 21 module versions present (2 listed)\n`);
  });

  it('--quiet leaves the progress line and its retry count out, never a failure', async () => {
    for (const path of others) upstream.fault(`/${path}/@v/v1.0.0.zip`, { status: 503, times: 1 });
    const list = join(work, 'quiet.txt');
    await writeFile(list, 'example.com/gone/top@v1.0.0\nexample.com/gone/nozip@v1.0.0\n');
    const result = await runGodepot(['mirror', list, '--quiet', '--storage', join(work, 'quiet-storage'), '--upstream', upstream.url, '--sumdb', 'off'], { env });
    assert.equal(result.code, 1, result.stderr);
    assertReadable(result);
    assert.deepEqual(
      result.stderr.split('\n').filter((line) => line !== '').map((line) => line.replace(/: example\.com\/gone\/nozip@v1\.0\.0 \(zip\): .*/, ': …')),
      [`${list}:2: example.com/gone/nozip@v1.0.0: …`, `godepot: 1 of 2 lines of ${list} failed (reported above); everything else is there`],
    );
  });

  it('a checksum database out of reach: the failure says what to set instead (--nosumdb, --sumdb off) or to bring a bundle', async () => {
    const keyFile = join(work, 'sumdb.key');
    const key = (await runGodepot(['sumdb', 'key', 'generate', 'sum.mirror.test', '--output', keyFile], { env })).stdout.trim();
    const list = join(work, 'sumdb.txt');
    await writeFile(list, 'example.com/gone/m5@v1.0.0\n');
    // Port 1 on loopback: refused at once.
    const result = await runGodepot(['mirror', list, '--quiet', '--storage', join(work, 'sumdb-storage'), '--upstream', upstream.url, '--sumdb', `${key} http://127.0.0.1:1`], { env });
    assert.equal(result.code, 1, result.stderr);
    assertReadable(result);
    // The line's report, with the graph's chain under it (tab-indented, as go writes it).
    const failure = /^.*:1: [^\n]*(?:\n\t[^\n]*)*/m.exec(result.stderr)?.[0] ?? '';
    assert.ok(failure.startsWith(`${list}:1: example.com/gone/m5@v1.0.0: `), result.stderr);
    assert.match(failure, /checksum database sum\.mirror\.test cannot be reached to verify it \(.*ECONNREFUSED.*\)/);
    for (const hint of ["godepot's --nosumdb PATTERN (GONOSUMDB-style, e.g. example.com/gone/m5)", '--sumdb off', 'bring it in a bundle']) assert.ok(failure.includes(hint), `${hint} in ${failure}`);
  });

  it('bundle create of a graph fetched 16 at a time prints neither a listener warning nor a JSON line', async () => {
    for (const path of others) upstream.fault(`/${path}/@v/v1.0.0.zip`, { status: 503, times: 1 });
    const result = await runGodepot(['bundle', 'create', consumer, '--output', join(work, 'consumer.tar.gz'), '--upstream', upstream.url, '--sumdb', 'off', '--concurrency', '16'], { env });
    assert.equal(result.code, 0, result.stderr);
    assertReadable(result);
    assert.match(result.stderr, /^fetching: 21\/21 modules, .*, 20 retries \(last: .*503 Service Unavailable\)$/m);
  });
});
