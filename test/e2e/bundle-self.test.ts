// `bundle create --self` on the far side of an air gap: a bundle made from this source checkout carries
// godepot's release archive; on a host with no godepot and no registry, tar alone takes the archive out
// of the bundle, the archive unpacks into an empty folder, and the godepot in it verifies the bundle and
// exports it, through which go builds the project. That installed godepot then packs itself again,
// byte for byte, for the next bundle, and one installed by other means says why it cannot.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { runGodepot, runProgram, type CliResult } from '../support/cli.js';
import { sha256 } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { buildModuleGraph, consumerOutput, writeConsumer } from '../support/modgraph.js';
import { repositoryRoot } from '../support/repository.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const execFileAsync = promisify(execFile);
const { version } = JSON.parse(await readFile(join(repositoryRoot(), 'package.json'), 'utf8')) as { version: string };
const archiveName = `godepot-${version}-linux-x64.tar.gz`;
const releaseEntry = `release/${archiveName}`;

// Every command sees a registry nobody answers at: whatever would need npm's registry fails at once.
const offline: NodeJS.ProcessEnv = { npm_config_registry: 'http://127.0.0.1:9', SOURCE_DATE_EPOCH: '1700000000', GOSUMDB: '', GODEPOT_UPSTREAM: '' };

/** Runs a godepot launcher (an unpacked release's bin/godepot) as `runGodepot` runs the build's. */
function runLauncher(launcher: string, args: string[]): Promise<CliResult> {
  return runProgram(launcher, args, { env: offline });
}

function succeeded(result: CliResult, what: string): CliResult {
  if (result.code !== 0) assert.fail(`${what} exited ${result.code}: ${result.stderr}`);
  return result;
}

describe('a bundle made with --self installs godepot where there is none', { concurrency: false }, () => {
  let work: string;
  let upstream: Upstream;
  let consumer: string;
  let bundle: string;
  let launcher: string;
  let installed: string;
  const worlds: GoWorld[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-e2e-self-'));
    const graph = await buildModuleGraph(join(work, 'graph'));
    upstream = await startUpstream({ root: graph.tree });
    consumer = join(work, 'consumer');
    await writeConsumer(consumer);
    const tidy = await makeGoWorld(upstream.url);
    worlds.push(tidy);
    await tidy.go(['mod', 'tidy'], { cwd: consumer });
    bundle = join(work, 'self.tar.gz');
    const created = succeeded(
      await runGodepot(['bundle', 'create', '--quiet', '--self', '--upstream', upstream.url, '--sumdb', 'off', '--output', bundle, consumer], { env: offline }),
      'bundle create --self',
    );
    assert.match(created.stdout, new RegExp(`with godepot ${version.replaceAll('.', '\\.')}'s release archive`));
  });

  after(async () => {
    await upstream?.stop();
    await Promise.all(worlds.map((w) => w.dispose()));
    await rm(work, { recursive: true, force: true });
  });

  it('holds the archive, signed like the rest: list names it and the format is 2', async () => {
    const listed = succeeded(await runGodepot(['bundle', 'list', '--json', bundle]), 'bundle list');
    const listing = JSON.parse(listed.stdout) as { format: number; release: { name: string; version: string; platform: string } };
    assert.equal(listing.format, 2);
    const { name, version: releaseVersion, platform } = listing.release;
    assert.deepEqual({ name, releaseVersion, platform }, { name: releaseEntry, releaseVersion: version, platform: 'linux-x64' });
  });

  it('on a host without godepot: tar takes the archive out, it unpacks, and its godepot verifies and exports the bundle go builds from', async () => {
    const host = join(work, 'far');
    await mkdir(host);
    // No godepot yet: the bundle is a tar.gz, and the manifest holds the archive's sha256.
    await execFileAsync('tar', ['-xzf', bundle, '-C', host, 'manifest.json', releaseEntry]);
    const manifest = JSON.parse(await readFile(join(host, 'manifest.json'), 'utf8')) as { release: { file: { sha256: string } } };
    const archive = await readFile(join(host, releaseEntry));
    assert.equal(sha256(archive), manifest.release.file.sha256);

    installed = join(host, 'opt');
    await mkdir(installed);
    await execFileAsync('tar', ['xzf', join(host, releaseEntry), '-C', installed]);
    assert.deepEqual(await readdir(installed), [`godepot-${version}`]);
    launcher = join(installed, `godepot-${version}`, 'bin', 'godepot');

    assert.match(succeeded(await runLauncher(launcher, ['bundle', 'verify', bundle]), 'verify').stdout, /: ok: \d+ module versions/);
    const tree = join(host, 'goproxy');
    succeeded(await runLauncher(launcher, ['bundle', 'export', bundle, '--dir', tree]), 'export');
    const world = await makeGoWorld(pathToFileURL(tree).href);
    worlds.push(world);
    const project = join(host, 'consumer');
    await cp(consumer, project, { recursive: true });
    await world.go(['build', '-o', 'consumer.bin', '.'], { cwd: project });
    const { stdout } = await execFileAsync(join(project, 'consumer.bin'));
    assert.deepEqual(stdout.trim().split('\n'), consumerOutput);
  });

  it('the installed godepot packs itself again, byte for byte, and export --self writes it out', async () => {
    const again = join(work, 'again.tar.gz');
    succeeded(await runLauncher(launcher, ['bundle', 'create', '--quiet', '--self', '--upstream', upstream.url, '--sumdb', 'off', '--output', again, consumer]), 'installed bundle create --self');
    const out = join(work, 'taken-out');
    const exported = succeeded(await runLauncher(launcher, ['bundle', 'export', again, '--self', out]), 'export --self');
    assert.equal(exported.stdout, `${join(out, archiveName)}: written\n`);
    const original = await readFile(join(work, 'far', releaseEntry));
    assert.equal(sha256(await readFile(join(out, archiveName))), sha256(original), 'the archive the release was unpacked from');
    assert.equal(succeeded(await runLauncher(launcher, ['bundle', 'export', again, '--self', out]), 'export --self again').stdout, `${join(out, archiveName)}: already there, the same bytes\n`);
  });

  it('a godepot that is neither an unpacked release nor a source checkout says so, before fetching, and writes nothing', async () => {
    // What npm installs: the same files without the release's record.
    const npmInstalled = join(work, 'npm-installed');
    await cp(join(installed, `godepot-${version}`), npmInstalled, { recursive: true });
    await rm(join(npmInstalled, 'release.json'));
    const output = join(work, 'refused.tar.gz');
    const refused = await runLauncher(join(npmInstalled, 'bin', 'godepot'), ['bundle', 'create', '--quiet', '--self', '--upstream', 'http://127.0.0.1:9', '--output', output, consumer]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^godepot: godepot in .*npm-installed runs neither from a release archive \(no release\.json\) nor from a source checkout \(no scripts\/release\.mjs\)/);
    await assert.rejects(readFile(output), { code: 'ENOENT' });
  });
});
