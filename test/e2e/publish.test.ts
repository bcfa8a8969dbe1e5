// `godepot publish` to a running `godepot serve --publish-token`, as a team publishes its private
// modules: from a folder, and from git tags in a repository made here; then the real go downloads and
// builds consumers of them through godepot, with the checksum database off and with godepot's own on.
// What go fetches straight from the same git repository must hash the same as what was published.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runGodepot, type CliResult } from '../support/cli.js';
import { startGitDaemon, type GitDaemon } from '../support/gitdaemon.js';
import { commitAll, git, writeTree } from '../support/git.js';
import { startGodepot, urlWithToken, type GodepotServer } from '../support/godepot-server.js';
import { makeTlsServing, type TlsServing } from '../support/tls-serving.js';
import { makeGoWorld, parseJsonStream, type GoWorld } from '../support/go.js';

const token = 'publish-token-of-the-e2e-test';
let readerToken: string;
let tls: TlsServing;
const NAME = 'sumdb.corp.example.com';
const TAG_DATE = '2023-03-04T05:06:07Z';

interface Downloaded {
  Path: string;
  Version: string;
  Sum: string;
  GoModSum: string;
  Error?: string;
}

describe('godepot publish: published modules are fetched, verified and built by go', () => {
  let work: string;
  let godepot: GodepotServer;
  let daemon: GitDaemon;
  /** go through godepot, checksum database off. */
  let world: GoWorld;
  /** go through godepot, verifying against godepot's own checksum database. */
  let verifying: GoWorld;
  /** go straight from the git repositories, through the local git daemon. */
  let direct: GoWorld;
  let repo: string;
  const outputs: CliResult[] = [];

  async function publish(dir: string, version: string, ...args: string[]): Promise<CliResult> {
    const result = await runGodepot(['publish', dir, '--version', version, '--server', godepot.url, ...args], { env: { GODEPOT_TOKEN: token, SSL_CERT_FILE: tls.caFile } });
    outputs.push(result);
    return result;
  }

  /** The go.sum lines `go mod download` reports for `targets`, failing on any error. */
  async function download(goWorld: GoWorld, targets: string[]): Promise<Downloaded[]> {
    const downloads = parseJsonStream<Downloaded>((await goWorld.go(['mod', 'download', '-json', ...targets])).stdout);
    for (const d of downloads) assert.equal(d.Error, undefined, `${d.Path}: ${d.Error}`);
    return downloads;
  }

  /** Builds and runs a consumer whose main prints `expression`, requiring `requires`; returns what it printed. */
  async function runConsumer(goWorld: GoWorld, name: string, imports: string[], requires: string[], expression: string): Promise<string> {
    const dir = join(work, name);
    await writeTree(dir, {
      'go.mod': `module example.org/${name}\n\ngo 1.19\n\nrequire (\n${requires.map((r) => `\t${r}\n`).join('')})\n`,
      'main.go': `package main\n\nimport (\n\t"fmt"\n${imports.map((i) => `\t${i}\n`).join('')})\n\nfunc main() { fmt.Print(${expression}) }\n`,
    });
    await goWorld.go(['mod', 'tidy'], { cwd: dir });
    await goWorld.go(['build', '-o', join(dir, 'consumer'), '.'], { cwd: dir });
    return new Promise((resolve, reject) => execFile(join(dir, 'consumer'), (err, stdout) => (err === null ? resolve(stdout) : reject(err))));
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-e2e-publish-'));
    const keyFile = join(work, 'sumdb.key');
    const generated = await runGodepot(['sumdb', 'key', 'generate', NAME, '--output', keyFile]);
    assert.equal(generated.code, 0, generated.stderr);
    // Publishes are taken for the paths routed hosted.
    const config = join(work, 'godepot.yaml');
    await writeFile(config, 'rules:\n  - match: "corp.example.com,example.com"\n    route: hosted\n');
    // Hosted modules are private: go reads them with a token, carried by the URL, which it sends over
    // https only.
    tls = await makeTlsServing(join(work, 'tls'));
    godepot = await startGodepot({ upstream: 'off', sumdb: 'off', config, args: ['--publish-token', token, '--sumdb-host', NAME, '--sumdb-key', keyFile, ...tls.args] });
    const reader = await urlWithToken(godepot, 'reader', ['read']);
    readerToken = reader.token;
    world = await makeGoWorld(reader.url, { SSL_CERT_FILE: tls.caFile });
    verifying = await makeGoWorld(reader.url, { GOSUMDB: generated.stdout.trim(), SSL_CERT_FILE: tls.caFile });
    await mkdir(join(work, 'repos', 'example.com'), { recursive: true });
    daemon = await startGitDaemon(join(work, 'repos'), ['example.com']);
    direct = await makeGoWorld('direct', { GIT_CONFIG_GLOBAL: daemon.gitconfig, GOPRIVATE: 'example.com', GONOSUMDB: 'example.com' });
  });

  after(async () => {
    await godepot?.dispose();
    await daemon?.stop();
    await tls?.close();
    for (const w of [world, verifying, direct]) await w?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('publishes a folder; go downloads it, builds a consumer, and records the published hashes', async () => {
    const folder = join(work, 'greet');
    await writeTree(folder, { 'go.mod': 'module corp.example.com/greet\n\ngo 1.19\n', 'greet.go': 'package greet\n\nfunc Hello() string { return "hello from a folder" }\n' });
    const published = await publish(folder, 'v1.0.0');
    assert.equal(published.code, 0, published.stderr);
    assert.equal(published.stderr, `publishing corp.example.com/greet@v1.0.0 from folder ${folder}\n`);
    const h1 = published.stdout.trim().split(' ')[3];
    assert.match(published.stdout, /^published corp\.example\.com\/greet v1\.0\.0 h1:[A-Za-z0-9+/]{43}=\n$/);

    const printed = await runConsumer(world, 'greeter', ['"corp.example.com/greet"'], ['corp.example.com/greet v1.0.0'], 'greet.Hello()');
    assert.equal(printed, 'hello from a folder');
    const sum = await readFile(join(work, 'greeter', 'go.sum'), 'utf8');
    assert.ok(sum.includes(`corp.example.com/greet v1.0.0 ${h1}\n`), sum);
  });

  it('republishing identical bytes is a no-op; other bytes are refused (409) naming both hashes; a bad token is 401, a path not taken 403', async () => {
    const folder = join(work, 'greet');
    const same = await publish(folder, 'v1.0.0');
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /^already published corp\.example\.com\/greet v1\.0\.0 h1:\S+ \(the same content; nothing changed\)\n$/);
    const firstH1 = same.stdout.split(' ')[4];

    await writeTree(folder, { 'greet.go': 'package greet\n\nfunc Hello() string { return "hello, changed" }\n' });
    const changed = await publish(folder, 'v1.0.0');
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /godepot: corp\.example\.com\/greet@v1\.0\.0 is already published with other content, and a published version never changes\n/);
    const hashes = [...changed.stderr.matchAll(/(published|uploaded): +(h1:\S+),/g)].map((m) => [m[1], m[2]]);
    assert.equal(hashes.length, 2, changed.stderr);
    assert.deepEqual(hashes[0], ['published', firstH1]);
    assert.notEqual(hashes[1]![1], firstH1);
    // The first bytes are still what go gets.
    assert.equal(await runConsumer(world, 'greeter-again', ['"corp.example.com/greet"'], ['corp.example.com/greet v1.0.0'], 'greet.Hello()'), 'hello from a folder');

    const badToken = await runGodepot(['publish', folder, '--version', 'v1.0.1', '--server', godepot.url, '--token', 'not-the-publish-token'], { env: { SSL_CERT_FILE: tls.caFile } });
    outputs.push(badToken);
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /refused corp\.example\.com\/greet@v1\.0\.1 \(401\): unauthorized: the token is not valid \(unknown or revoked\)/);
    const readOnly = await runGodepot(['publish', folder, '--version', 'v1.0.1', '--server', godepot.url, '--token', readerToken], { env: { SSL_CERT_FILE: tls.caFile } });
    outputs.push(readOnly);
    assert.equal(readOnly.code, 1);
    assert.match(readOnly.stderr, /refused corp\.example\.com\/greet@v1\.0\.1 \(403\): forbidden: token "reader" may not publish corp\.example\.com\/greet/);

    const publicFolder = join(work, 'public');
    await writeTree(publicFolder, { 'go.mod': 'module github.com/someone/lib\n', 'lib.go': 'package lib\n' });
    const notTaken = await publish(publicFolder, 'v1.0.0');
    assert.equal(notTaken.code, 1);
    assert.match(notTaken.stderr, /refused github\.com\/someone\/lib@v1\.0\.0 \(403\): forbidden: github\.com\/someone\/lib: this server takes no publishes for this module path/);
  });

  it('go list -m -versions shows every published version, a new one at once', async () => {
    const before = (await world.go(['list', '-m', '-versions', 'corp.example.com/greet'])).stdout;
    assert.equal(before, 'corp.example.com/greet v1.0.0\n');
    const folder = join(work, 'greet');
    await writeTree(folder, { 'greet.go': 'package greet\n\nfunc Hello() string { return "hello from v1.1.0" }\n' });
    assert.equal((await publish(folder, 'v1.1.0')).code, 0);
    assert.equal((await world.go(['list', '-m', '-versions', 'corp.example.com/greet'])).stdout, 'corp.example.com/greet v1.0.0 v1.1.0\n');
    const latest = JSON.parse((await world.go(['list', '-m', '-json', 'corp.example.com/greet@latest'])).stdout) as { Version: string };
    assert.equal(latest.Version, 'v1.1.0');
  });

  it('publishes git tags from their trees, not the work tree, with the zips and commit times go makes from git', async () => {
    repo = join(work, 'repos', 'example.com', 'mono.git');
    await mkdir(repo);
    await git(repo, ['init', '-q', '-b', 'main']);
    await writeTree(repo, {
      'go.mod': 'module example.com/mono.git\n\ngo 1.17\n',
      'mono.go': 'package mono\n\nfunc Says() string { return "the tagged tree" }\n',
      LICENSE: 'the repository license\n',
      // go turns export-ignore and export-subst off, and converts line endings as the attributes say.
      '.gitattributes': 'notes.txt export-ignore\nversion.txt export-subst\n*.bat text eol=crlf\n',
      'notes.txt': 'left out of archives, but not by go\n',
      'version.txt': 'commit $Format:%H$\n',
      'run.bat': 'echo run\n',
      '.gitignore': '*.log\n',
      'tools/go.mod': 'module example.com/mono.git/tools\n\ngo 1.17\n',
      'tools/tools.go': 'package tools\n\nfunc Name() string { return "tools" }\n',
      'v2/go.mod': 'module example.com/mono.git/v2\n\ngo 1.17\n',
      'v2/mono.go': 'package mono\n\nfunc Says() string { return "v2" }\n',
    });
    await symlink('LICENSE', join(repo, 'COPYING'));
    await commitAll(repo, 'first', TAG_DATE);
    for (const tag of ['v1.1.0', 'tools/v0.1.0', 'v2.0.0']) await git(repo, ['tag', tag]);
    // What lies in the work tree and is in no commit: changed, new and ignored files.
    await writeTree(repo, { 'mono.go': 'package mono\n\nfunc Says() string { return "uncommitted" }\n', 'new.go': 'package mono\n', 'build.log': 'ignored\n' });

    const root = await publish(repo, 'v1.1.0');
    assert.equal(root.code, 0, root.stderr);
    assert.match(root.stderr, /^note: .*mono\.git has uncommitted changes; they are not published: the zip is made from tag v1\.1\.0\n/);
    assert.match(root.stderr, /publishing example\.com\/mono\.git@v1\.1\.0 from tag v1\.1\.0 \(commit [0-9a-f]{12}, 2023-03-04T05:06:07\.000Z\) of the git repository /);
    const tools = await publish(join(repo, 'tools'), 'v0.1.0');
    assert.equal(tools.code, 0, tools.stderr);
    assert.match(tools.stderr, /from tag tools\/v0\.1\.0 /);
    const v2 = await publish(join(repo, 'v2'), 'v2.0.0');
    assert.equal(v2.code, 0, v2.stderr);
    assert.match(v2.stderr, /from tag v2\.0\.0 /);

    const targets = ['example.com/mono.git@v1.1.0', 'example.com/mono.git/tools@v0.1.0', 'example.com/mono.git/v2@v2.0.0'];
    const sums = (downloads: Downloaded[]): string[] => downloads.map((d) => `${d.Path} ${d.Version} ${d.Sum} ${d.GoModSum}`).sort();
    const fromGodepot = await download(world, targets);
    assert.deepEqual(sums(fromGodepot), sums(await download(direct, targets)), 'the same zips go makes from the git repository');
    for (const [published, d] of [root, tools, v2].map((r, i) => [r, fromGodepot.find((x) => x.Path === targets[i]!.split('@')[0])!] as const)) {
      assert.ok(published.stdout.endsWith(` ${d.Sum}\n`), published.stdout);
    }
    const time = async (goWorld: GoWorld): Promise<string> => (JSON.parse((await goWorld.go(['list', '-m', '-json', 'example.com/mono.git@v1.1.0'])).stdout) as { Time: string }).Time;
    assert.equal(await time(world), '2023-03-04T05:06:07Z');
    assert.equal(await time(direct), '2023-03-04T05:06:07Z');

    const printed = await runConsumer(
      world,
      'mono-consumer',
      ['"example.com/mono.git"', '"example.com/mono.git/tools"', 'mono2 "example.com/mono.git/v2"'],
      ['example.com/mono.git v1.1.0', 'example.com/mono.git/tools v0.1.0', 'example.com/mono.git/v2 v2.0.0'],
      'mono.Says(), " ", tools.Name(), " ", mono2.Says()',
    );
    assert.equal(printed, 'the tagged tree tools v2');
  });

  it('a folder in git without the tag of the version is refused, naming the tag to create', async () => {
    const missing = await publish(join(repo, 'tools'), 'v0.2.0');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /godepot: .*tools is in the git repository .*mono\.git, which has no tag tools\/v0\.2\.0: .*\(create it with `git tag tools\/v0\.2\.0`\)/);
    assert.equal(missing.stdout, '');
  });

  it('with --sumdb-host, go verifies the published modules against godepot\'s own checksum database', async () => {
    const downloads = await download(verifying, ['corp.example.com/greet@v1.1.0', 'example.com/mono.git@v1.1.0']);
    const lookups = await godepot.untilLogged((l) => l.route === 'sumdb' && typeof l.sumdb === 'string' && l.sumdb.startsWith(`${NAME}/lookup/`), 2);
    assert.deepEqual(lookups.map((l) => [l.sumdb, l.status]).sort(), [
      [`${NAME}/lookup/corp.example.com/greet@v1.1.0`, 200],
      [`${NAME}/lookup/example.com/mono.git@v1.1.0`, 200],
    ]);
    for (const d of downloads) {
      const res = await tls.fetch(`${godepot.url}/sumdb/${NAME}/lookup/${d.Path}@${d.Version}`, { headers: { authorization: `Bearer ${readerToken}` } });
      const record = (await res.text()).split('\n\n')[0]!.split('\n').slice(1);
      assert.deepEqual(record, [`${d.Path} ${d.Version} ${d.Sum}`, `${d.Path} ${d.Version}/go.mod ${d.GoModSum}`]);
    }
  });

  it('the publish token appears in no log line and no output', async () => {
    assert.ok((await godepot.untilLogged((l) => l.route === 'publish' && l.status === 409)).length > 0, 'publishes are logged');
    const logs = godepot.logs.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of [token, readerToken]) {
      assert.ok(!logs.includes(secret) && !godepot.stderr.includes(secret), 'not in the server log');
      for (const o of outputs) assert.ok(!o.stdout.includes(secret) && !o.stderr.includes(secret), o.stderr);
    }
  });
});
