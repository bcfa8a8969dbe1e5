// `godepot bundle` as a user runs it: a child process with its own TMPDIR, so that what it leaves there is seen.
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runGodepot } from '../../test/support/cli.js';
import { missingModule, startMissingModuleWorld, type MissingModuleGraph, type MissingModuleWorld } from '../../test/support/missing-module.js';
import type { Upstream } from '../../test/support/upstream.js';

let world: MissingModuleWorld;
let work: string;
let graph: MissingModuleGraph;
let upstream: Upstream;
before(async () => {
  world = await startMissingModuleWorld('godepot-cli-bundle-');
  ({ work, graph, upstream } = world);
});
after(() => world?.dispose());

test('bundle create reports a module missing upstream as not found, writes no bundle and leaves no temporary folder', async () => {
  for (let run = 0; run < 2; run++) {
    const tmp = join(work, `tmp-${run}`);
    await mkdir(tmp);
    const output = join(work, `out-${run}.tar.gz`);
    const result = await runGodepot(['bundle', 'create', '--quiet', '--upstream', upstream.url, '--sumdb', 'off', '--output', output, graph.project], {
      env: { TMPDIR: tmp, GODEPOT_UPSTREAM: '', GOSUMDB: '' },
    });
    assert.equal(result.code, 1, result.stderr);
    // The upstream that answered 404 is named, and its own "not found: " is not repeated.
    const mod = `${missingModule}/@v/v1.0.0.mod`;
    assert.ok(result.stderr.endsWith(`\t${missingModule}@v1.0.0: ${upstream.url}/${mod} answered 404: /${mod}\n`), result.stderr);
    assert.match(result.stderr, /^godepot: /);
    assert.doesNotMatch(result.stderr, /ENOTEMPTY|ENOENT|\n\s+at /, 'no file-system error and no stack');
    assert.deepEqual(await readdir(tmp), [], 'the work folder is removed');
    assert.deepEqual((await readdir(work)).filter((name) => name.startsWith(`out-${run}`)), [], 'no bundle, whole or partial');
  }
});
