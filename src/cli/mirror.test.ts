// `godepot mirror` as a user runs it: a child process with its own TMPDIR, so that what it leaves there is seen.
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runGodepot } from '../../test/support/cli.js';
import { filesUnder } from '../../test/support/godepot-server.js';
import { missingModule, startMissingModuleWorld, type MissingModuleGraph, type MissingModuleWorld } from '../../test/support/missing-module.js';
import type { Upstream } from '../../test/support/upstream.js';

let world: MissingModuleWorld;
let work: string;
let graph: MissingModuleGraph;
let upstream: Upstream;
before(async () => {
  world = await startMissingModuleWorld('godepot-cli-mirror-');
  ({ work, graph, upstream } = world);
});
after(() => world?.dispose());

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
    // The line is named, then the upstream that answered 404, whose own "not found: " is not repeated.
    const mod = `${missingModule}/@v/v1.0.0.mod`;
    const [failure, summary] = result.stderr.split(/\n(?=godepot: )/);
    assert.ok(failure!.startsWith(`${list}:1: ${graph.wants}: `), result.stderr);
    assert.ok(failure!.endsWith(`\t${missingModule}@v1.0.0: ${upstream.url}/${mod} answered 404: /${mod}`), result.stderr);
    assert.equal(summary, `godepot: 1 of 1 lines of ${list} failed (reported above); everything else is there\n`);
    assert.doesNotMatch(result.stderr, /ENOTEMPTY|ENOENT|destroyed|\n\s+at /, 'no file-system error, no fetch cut off, no stack');
    assert.deepEqual(await readdir(tmp), [], 'nothing left in the temporary folder');
    const files = await filesUnder(storage);
    assert.deepEqual(files.filter((f) => f.startsWith('.tmp/')), [], 'no half-written file in the storage');
    assert.ok(files.includes(`example.com/gone/wants/@v/v1.0.0.mod`), files.join('\n'));
  }
});
