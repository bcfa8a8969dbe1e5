// `godepot mirror` as a user runs it: a child process with its own TMPDIR, so that what it leaves there is seen.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runGodepot } from '../../test/support/cli.js';
import { filesUnder } from '../../test/support/godepot-server.js';
import { missingModule, writeMissingModuleGraph, type MissingModuleGraph } from '../../test/support/missing-module.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';

let work: string;
let graph: MissingModuleGraph;
let upstream: Upstream;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-cli-mirror-'));
  graph = await writeMissingModuleGraph(work);
  upstream = await startUpstream({ root: graph.tree });
  // The other go.mod files answer late: their fetches are still under way when the missing one fails.
  for (const path of graph.otherMods) upstream.fault(path, { delayMs: 300 });
});
after(async () => {
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

test('mirror --storage reports a module missing upstream as not found and leaves no temporary file', async () => {
  const list = join(work, 'list.txt');
  await writeFile(list, `${graph.wants}\n`);
  for (let run = 0; run < 2; run++) {
    const tmp = join(work, `tmp-${run}`);
    await mkdir(tmp);
    const storage = join(work, `storage-${run}`);
    const result = await runGodepot(['mirror', list, '--quiet', '--storage', storage, '--upstream', upstream.url, '--sumdb', 'off'], {
      env: { TMPDIR: tmp, GODEPOT_UPSTREAM: '', GOSUMDB: '' },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^godepot: (.*\\n\\t)+${missingModule}@v1\\.0\\.0: not found: /${missingModule}/@v/v1\\.0\\.0\\.mod\\n`, 'm'));
    assert.doesNotMatch(result.stderr, /ENOTEMPTY|ENOENT|destroyed|\n\s+at /, 'no file-system error, no fetch cut off, no stack');
    assert.deepEqual(await readdir(tmp), [], 'nothing left in the temporary folder');
    const files = await filesUnder(storage);
    assert.deepEqual(files.filter((f) => f.startsWith('.tmp/')), [], 'no half-written file in the storage');
    assert.ok(files.includes(`example.com/gone/wants/@v/v1.0.0.mod`), files.join('\n'));
  }
});
