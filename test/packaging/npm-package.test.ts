// What `npm pack` (and so `npm publish` and `npm install -g`) carries, and the bin the build leaves: a
// user installing godepot gets the program and its documents, not our tests or source maps, and the
// `godepot` that `npm link` made keeps working after `npm run build`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { containedEnv } from '../support/contained.js';
import { repositoryRoot } from '../support/repository.js';

const execFileAsync = promisify(execFile);

test('npm pack carries the compiled program, the documents and packaging/, and no tests, contract suites, fixtures or source maps', async () => {
  const root = repositoryRoot();
  // --dry-run only lists; the closed registry makes sure npm answers from this folder alone.
  const { stdout } = await execFileAsync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    env: { ...process.env, ...containedEnv, npm_config_registry: 'http://127.0.0.1:9' },
    maxBuffer: 16 << 20,
  });
  const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string; mode: number }> }>;
  assert.ok(pack !== undefined, 'npm pack described one package');
  const paths = pack.files.map((f) => f.path);
  for (const path of ['package.json', 'README.md', 'docs/bundle-format.md', 'packaging/godepot.service', 'packaging/godepot.yaml', 'dist/src/cli/main.js', 'dist/src/server/app.js']) {
    assert.ok(paths.includes(path), `the package holds ${path}`);
  }
  const unwanted = paths.filter((p) => /\.test\.js$|\.contract\.js$|\.map$|(^|\/)(test|fixtures?)\//.test(p) || !/^(dist\/src\/|docs\/|packaging\/|package\.json$|README\.md$)/.test(p));
  assert.deepEqual(unwanted, [], 'nothing but the program and its documents');
  const bin = pack.files.find((f) => f.path === 'dist/src/cli/main.js');
  assert.equal((bin!.mode & 0o111) !== 0, true, `the packed bin is executable (mode ${bin!.mode.toString(8)})`);
});

test('the build leaves the bin executable', async () => {
  const { mode } = await stat(join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js'));
  assert.equal(mode & 0o111, 0o111, `dist/src/cli/main.js has mode ${(mode & 0o777).toString(8)}`);
});
