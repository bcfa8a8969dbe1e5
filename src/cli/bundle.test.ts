// `godepot bundle` as a user runs it: a child process with its own TMPDIR, so that what it leaves there is seen.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runGodepot } from '../../test/support/cli.js';
import { missingModule, writeMissingModuleGraph, type MissingModuleGraph } from '../../test/support/missing-module.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';

let work: string;
let graph: MissingModuleGraph;
let upstream: Upstream;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-cli-bundle-'));
  graph = await writeMissingModuleGraph(work);
  upstream = await startUpstream({ root: graph.tree });
  // The other go.mod files answer late: their fetches are still under way when the missing one fails.
  for (const path of graph.otherMods) upstream.fault(path, { delayMs: 300 });
});
after(async () => {
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

test('bundle create reports a module missing upstream as not found, writes no bundle and leaves no temporary folder', async () => {
  for (let run = 0; run < 2; run++) {
    const tmp = join(work, `tmp-${run}`);
    await mkdir(tmp);
    const output = join(work, `out-${run}.tar.gz`);
    const result = await runGodepot(['bundle', 'create', '--quiet', '--upstream', upstream.url, '--sumdb', 'off', '--output', output, graph.project], {
      env: { TMPDIR: tmp, GODEPOT_UPSTREAM: '', GOSUMDB: '' },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^godepot: (.*\\n\\t)+${missingModule}@v1\\.0\\.0: not found: /${missingModule}/@v/v1\\.0\\.0\\.mod\\n`, 'm'));
    assert.doesNotMatch(result.stderr, /ENOTEMPTY|ENOENT|\n\s+at /, 'no file-system error and no stack');
    assert.deepEqual(await readdir(tmp), [], 'the work folder is removed');
    assert.deepEqual((await readdir(work)).filter((name) => name.startsWith(`out-${run}`)), [], 'no bundle, whole or partial');
  }
});
