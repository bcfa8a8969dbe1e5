// Version ordering as go sees it: the list go prints for `go list -m -versions` from a static proxy list
// must be exactly godepot's ordering of the same versions.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isValid, sortVersions } from '../../src/module/semver.js';
import { isPseudoVersion } from '../../src/module/version.js';
import { makeGoWorld } from '../support/go.js';

const versions = [
  'v1.0.0', 'v1.0.0-alpha', 'v1.0.0-alpha.1', 'v1.0.0-alpha.beta', 'v1.0.0-beta', 'v1.0.0-beta.2',
  'v1.0.0-beta.11', 'v1.0.0-rc.1', 'v0.9.0', 'v0.10.0', 'v1.10.0', 'v1.2.0', 'v1.0.1-0', 'v1.0.1-0a',
  'v1.0.1-a0', 'v1.0.1-A0', 'v1.0.1-0.0', 'v1.0.1-00a', 'v1.0.1-1.2.3', 'v1.0.1-1.2', 'v0.0.1',
  'v2.0.0+incompatible', 'v2.0.0-rc.1+incompatible', 'v1.2', 'v1', 'v1.0.0+meta', 'v1.0.0+build.2',
  'v0.0.0-20230101000000-abcdefabcdef', 'v1.0.1-0.20230101000000-abcdefabcdef', 'not-a-version', 'v1.0.0-',
];

/** A fixed permutation, so the list go reads is not already sorted. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('godepot orders versions exactly as go list -m -versions does', async () => {
  const tree = await mkdtemp(join(tmpdir(), 'godepot-e2e-order-'));
  const world = await makeGoWorld(pathToFileURL(tree).href);
  try {
    const vdir = join(tree, 'example.com', 'ordered', '@v');
    await mkdir(vdir, { recursive: true });
    await writeFile(join(vdir, 'list'), shuffled(versions).join('\n') + '\n');
    // go reads the go.mod of the version it picks as latest, to look for retractions.
    for (const v of ['v2.0.0+incompatible', 'v1.10.0']) {
      await writeFile(join(vdir, `${v}.mod`), 'module example.com/ordered\n');
      await writeFile(join(vdir, `${v}.info`), JSON.stringify({ Version: v, Time: '2023-01-01T00:00:00Z' }));
    }
    const { stdout } = await world.go(['list', '-m', '-versions', '-json', 'example.com/ordered']);
    const listed = (JSON.parse(stdout) as { Versions: string[] }).Versions;
    const ours = sortVersions(versions.filter((v) => isValid(v) && !isPseudoVersion(v)));
    assert.deepEqual(ours, listed);
    assert.ok(listed.length >= 25, 'the comparison covered most of the list');
  } finally {
    await world.dispose();
    await rm(tree, { recursive: true, force: true });
  }
});
