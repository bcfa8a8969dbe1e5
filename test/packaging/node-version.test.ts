// The Node.js godepot needs is said in three places that must agree: package.json's engines (what npm
// checks), the README (what a reader installs) and the release launcher (what it refuses below). The
// LTS that CI also tests on and release archives carry is pinned once, in scripts/node-lts.mjs.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repositoryRoot } from '../support/repository.js';

test('the README and the release launcher ask for the Node.js version package.json engines does', async () => {
  const root = repositoryRoot();
  const { engines } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
  const minimum = /^>=(\d+\.\d+\.\d+)$/.exec(engines.node)?.[1];
  assert.ok(minimum !== undefined, `engines.node is a plain minimum (>=X.Y.Z), not ${engines.node}`);

  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const stated = [...readme.matchAll(/Node(?:\.js)? (?:≥ ?|>= ?)?(\d+(?:\.\d+)*)(?: or later)?/g)].filter((m) => /≥|>=|or later/.test(m[0]));
  assert.ok(stated.length > 0, 'the README says which Node.js it needs');
  assert.deepEqual(stated.map((m) => m[0]).filter((text) => !text.includes(minimum)), [], `every Node.js requirement in the README is ${minimum}`);

  const launcher = await readFile(join(root, 'scripts', 'launcher.sh'), 'utf8');
  const [major, minor, patch] = minimum.split('.');
  for (const comparison of [`"$major" -lt ${major} ]`, `"$minor" -lt ${minor} ]`, `"\${patch%%[!0-9]*}" -lt ${patch} ]`]) {
    assert.ok(launcher.includes(comparison), `the launcher compares: ${comparison}`);
  }
  assert.ok(launcher.includes(`needs ${minimum} or later`), `the launcher names ${minimum} when it refuses`);
});

test('the README names the Node.js LTS pinned in scripts/node-lts.mjs, which engines allows and CI runs', async () => {
  const root = repositoryRoot();
  const { nodeLts } = (await import(pathToFileURL(join(root, 'scripts', 'node-lts.mjs')).href)) as { nodeLts: { version: string } };
  const { engines } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
  const minimum = engines.node.slice('>='.length).split('.').map(Number);
  const pinned = nodeLts.version.split('.').map(Number);
  const newer = pinned.findIndex((part, i) => part !== minimum[i]);
  assert.ok(newer === -1 || pinned[newer]! > minimum[newer]!, `${nodeLts.version} is allowed by engines ${engines.node}`);

  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const versions = [...readme.matchAll(/Node(?:\.js)? (\d+\.\d+\.\d+)/g)].map((m) => m[1]).filter((v) => v !== engines.node.slice('>='.length));
  assert.ok(versions.includes(nodeLts.version), `the README names Node.js ${nodeLts.version}`);
  assert.deepEqual(versions.filter((v) => v !== nodeLts.version), [], 'every other full Node.js version in the README is the pinned one');

  const ci = await readFile(join(root, '.ci', 'run'), 'utf8');
  assert.match(ci, /node scripts\/node-lts\.mjs /, 'CI fetches the pinned Node.js');
  assert.equal(ci.match(/^[^#\n]*npm test$/gm)?.length, 2, 'CI runs npm test twice: under the machine\'s Node.js and under the pinned one');
});
