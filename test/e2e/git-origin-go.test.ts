// go decides: for modules served straight from git repositories (served over smart HTTP on loopback and
// reached through the same git configuration), GitOrigin must give exactly what go 1.19's direct mode
// gives: `go mod download -json` (Version, Time, Sum, GoModSum, the .info go caches, the zip's file
// list) and `go list -m -versions` (the version list), for tags, prereleases, pseudo-versions, /vN
// modules in place and in major subdirectories, modules in subdirectories with prefixed tags, modules
// without go.mod, "+incompatible", and trees with .gitattributes, links, a submodule and an LFS pointer.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotFoundError } from '../../src/errors.js';
import { hashGoMod, hashZip } from '../../src/module/hash.js';
import { ZipReader } from '../../src/module/zipreader.js';
import { GitOrigin } from '../../src/origin/git.js';
import type { GitHttpServer } from '../support/git-http.js';
import { resolveByThreeElements, serveRepositories, testGitEnv, TestRepo } from '../support/git-repos.js';
import { makeGoWorld, parseJsonStream, type GoWorld } from '../support/go.js';

interface Downloaded {
  Path: string;
  Version: string;
  Query?: string;
  Info: string;
  GoMod: string;
  Zip: string;
  Sum: string;
  GoModSum: string;
  Error?: string;
}

const LFS_POINTER = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n';

let work: string;
let server: GitHttpServer;
let gitconfig: string;
let world: GoWorld;
let origin: GitOrigin;
const hashes = new Map<string, string>();

const gomod = (path: string, extra = ''): string => `module ${path}\n\ngo 1.17\n${extra}`;

async function makeRepos(root: string): Promise<void> {
  // A module with releases, a prerelease (retracted by the latest release), an annotated tag, a
  // branch and commits after the last tag.
  const widget = await TestRepo.create(root, 'github.com/acme/widget');
  hashes.set('widget v1.0.0', await widget.commit({ 'go.mod': gomod('github.com/acme/widget'), 'w.go': 'package widget\n' }, '2023-01-02T03:04:05Z'));
  await widget.tag('v1.0.0');
  hashes.set('widget rc', await widget.commit({ 'rc.go': 'package widget\n' }, '2023-02-03T04:05:06+02:00'));
  await widget.tag('v1.1.0-rc.1');
  await widget.commit({ 'go.mod': gomod('github.com/acme/widget', '\nretract v1.1.0-rc.1 // broken\n'), 'final.go': 'package widget\n' }, '2023-03-04T05:06:07Z');
  await widget.tag('v1.1.0', { annotated: true, date: '2023-03-05T00:00:00Z' });
  hashes.set('widget head', await widget.commit({ 'later.go': 'package widget\n' }, '2023-04-05T06:07:08Z'));
  await widget.run(['branch', 'feature', 'v1.0.0']);
  await widget.run(['checkout', '-q', 'feature']);
  hashes.set('widget feature', await widget.commit({ 'feature.go': 'package widget\n' }, '2023-01-10T00:00:00Z'));
  await widget.run(['checkout', '-q', 'main']);
  await widget.publish();

  // Only prereleases: latest is the highest of them.
  const prerel = await TestRepo.create(root, 'github.com/acme/prerel');
  await prerel.commit({ 'go.mod': gomod('github.com/acme/prerel'), 'p.go': 'package prerel\n' }, '2022-05-06T07:08:09Z');
  await prerel.tag('v0.2.0-beta.1');
  await prerel.commit({ 'q.go': 'package prerel\n' }, '2022-05-07T07:08:09Z');
  await prerel.tag('v0.2.0-beta.2');
  // A tag with build metadata is no version, only a pseudo-version base.
  await prerel.commit({ 'r.go': 'package prerel\n' }, '2022-05-08T07:08:09Z');
  await prerel.tag('v0.3.0+build.7');
  await prerel.publish();

  // No tags at all: latest is a v0.0.0 pseudo-version of the default branch.
  const untagged = await TestRepo.create(root, 'github.com/acme/untagged', 'trunk');
  await untagged.commit({ 'go.mod': gomod('github.com/acme/untagged'), 'u.go': 'package untagged\n' }, '2021-01-01T00:00:00Z');
  hashes.set('untagged head', await untagged.commit({ 'v.go': 'package untagged\n' }, '2021-06-30T12:00:00-07:00'));
  await untagged.publish();

  // /v2 in place: v1 tags for the unversioned path, v2 tags for the /v2 path (same folder).
  const major = await TestRepo.create(root, 'github.com/acme/major');
  await major.commit({ 'go.mod': gomod('github.com/acme/major'), 'm.go': 'package major\n' }, '2022-01-01T00:00:00Z');
  await major.tag('v1.0.0');
  await major.commit({ 'go.mod': gomod('github.com/acme/major/v2'), 'm.go': 'package major // v2\n' }, '2022-02-01T00:00:00Z');
  await major.tag('v2.0.0');
  await major.commit({ 'n.go': 'package major\n' }, '2022-03-01T00:00:00Z');
  await major.tag('v2.1.0');
  await major.publish();

  // A major-version subdirectory: v3/go.mod claims the v3 tags for the /v3 module.
  const majorsub = await TestRepo.create(root, 'github.com/acme/majorsub');
  await majorsub.commit(
    { 'go.mod': gomod('github.com/acme/majorsub'), 'root.go': 'package majorsub\n', 'v3/go.mod': gomod('github.com/acme/majorsub/v3'), 'v3/m.go': 'package majorsub\n', LICENSE: 'root license\n' },
    '2022-04-01T00:00:00Z',
  );
  await majorsub.tag('v1.5.0');
  await majorsub.tag('v3.0.0');
  await majorsub.publish();

  // A monorepo: the sub module is tagged sub/vX; it has no LICENSE of its own, so the root's goes in.
  const mono = await TestRepo.create(root, 'github.com/acme/mono');
  await mono.commit(
    { 'go.mod': gomod('github.com/acme/mono'), 'root.go': 'package mono\n', LICENSE: 'mono license\n', 'sub/go.mod': gomod('github.com/acme/mono/sub'), 'sub/s.go': 'package sub\n' },
    '2022-06-01T00:00:00Z',
  );
  await mono.tag('v1.0.0');
  await mono.tag('sub/v0.1.0');
  await mono.commit({ 'sub/t.go': 'package sub\n' }, '2022-06-02T00:00:00Z');
  await mono.tag('sub/v0.2.0');
  await mono.tag('sub/v0.3') /* not canonical: ignored */;
  hashes.set('mono head', await mono.commit({ 'sub/u.go': 'package sub\n' }, '2022-06-03T00:00:00Z'));
  await mono.publish();

  // No go.mod anywhere: a go.mod is made up; v2+ tags are "+incompatible".
  const nomod = await TestRepo.create(root, 'github.com/acme/nomod');
  await nomod.commit({ 'x.go': 'package nomod\n', README: 'no go.mod\n' }, '2019-01-01T00:00:00Z');
  await nomod.tag('v1.0.0');
  await nomod.commit({ 'y.go': 'package nomod\n' }, '2019-02-01T00:00:00Z');
  await nomod.tag('v2.0.0');
  await nomod.commit({ 'z.go': 'package nomod\n' }, '2019-03-01T00:00:00Z');
  await nomod.tag('v2.1.0');
  await nomod.tag('not-a-version');
  await nomod.publish();

  // v2 tags on a module whose latest v1 has a go.mod: never "+incompatible".
  const modded = await TestRepo.create(root, 'github.com/acme/modded');
  await modded.commit({ 'go.mod': gomod('github.com/acme/modded'), 'a.go': 'package modded\n' }, '2020-01-01T00:00:00Z');
  await modded.tag('v1.0.0');
  await modded.commit({ 'b.go': 'package modded\n' }, '2020-02-01T00:00:00Z');
  await modded.tag('v2.0.0');
  await modded.publish();

  // Every release retracted by the latest one: latest falls back to a pseudo-version.
  const retracted = await TestRepo.create(root, 'github.com/acme/retracted');
  await retracted.commit({ 'go.mod': gomod('github.com/acme/retracted'), 'r.go': 'package retracted\n' }, '2021-01-01T00:00:00Z');
  await retracted.tag('v1.0.0');
  await retracted.commit({ 'go.mod': gomod('github.com/acme/retracted', '\nretract [v1.0.0, v1.1.0]\n') }, '2021-02-01T00:00:00Z');
  await retracted.tag('v1.1.0');
  await retracted.publish();

  // The tree's oddities: .gitattributes (eol conversion, export-ignore, export-subst), a symbolic link,
  // a submodule, a Git LFS pointer, vendored packages, a nested module, .hg_archival.txt.
  const edge = await TestRepo.create(root, 'github.com/acme/edge');
  await edge.commit(
    {
      'go.mod': gomod('github.com/acme/edge'),
      'e.go': 'package edge\n',
      '.gitattributes': '*.txt text eol=crlf\nignored.md export-ignore\nsubst.go export-subst\nbig.bin filter=lfs diff=lfs merge=lfs -text\n',
      'notes.txt': 'line one\nline two\n',
      'ignored.md': 'export-ignore is turned off by go\n',
      'subst.go': 'package edge\n\n// $Format:%H$\n',
      'big.bin': LFS_POINTER,
      'vendor/modules.txt': '# x v1.0.0\n',
      'vendor/x/x.go': 'package x\n',
      'nested/go.mod': gomod('github.com/acme/edge/nested'),
      'nested/n.go': 'package nested\n',
      '.hg_archival.txt': 'repo: x\n',
      '.gitmodules': '[submodule "lib"]\n\tpath = lib\n\turl = https://github.com/acme/widget\n',
    },
    '2023-05-06T07:08:09Z',
  );
  // A submodule that is not checked out: its folder is empty, and `git add -A` keeps the gitlink.
  await mkdir(join(edge.work, 'lib'));
  await edge.run(['update-index', '--add', '--cacheinfo', `160000,${hashes.get('widget v1.0.0')},lib`]);
  await symlink('e.go', join(edge.work, 'link.go'));
  await edge.commit({}, '2023-05-06T07:08:10Z');
  await edge.tag('v0.9.0');
  await edge.publish();
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-gitorigin-'));
  const root = join(work, 'repos');
  await mkdir(root, { recursive: true });
  await makeRepos(root);
  ({ server, gitconfig } = await serveRepositories(root, ['github.com']));
  world = await makeGoWorld('direct', { GIT_CONFIG_GLOBAL: gitconfig, GOPRIVATE: 'github.com/acme' });
  origin = new GitOrigin({
    stateDir: join(work, 'state'),
    vcsConcurrency: 4,
    timeoutMs: 60_000,
    // The insteadOf rule sends github.com to plain http on loopback.
    insecure: ['github.com/acme'],
    gitEnv: testGitEnv(gitconfig, join(work, 'home')),
    resolve: resolveByThreeElements,
  });
});

after(async () => {
  await server?.stop();
  await world?.dispose();
  await rm(work, { recursive: true, force: true });
});

async function zipNames(file: string): Promise<string[]> {
  const reader = await ZipReader.open(file);
  try {
    return Array.from({ length: reader.count }, (_, i) => reader.directory.nameText(i));
  } finally {
    await reader.close();
  }
}

interface Case {
  module: string;
  query: string;
}

const cases: Case[] = [
  { module: 'github.com/acme/widget', query: 'v1.0.0' },
  { module: 'github.com/acme/widget', query: 'v1.1.0-rc.1' },
  { module: 'github.com/acme/widget', query: 'v1.1.0' },
  { module: 'github.com/acme/widget', query: 'latest' },
  { module: 'github.com/acme/widget', query: 'main' },
  { module: 'github.com/acme/widget', query: 'feature' },
  { module: 'github.com/acme/prerel', query: 'latest' },
  { module: 'github.com/acme/prerel', query: 'v0.3.0+build.7' },
  { module: 'github.com/acme/untagged', query: 'latest' },
  { module: 'github.com/acme/major', query: 'v1.0.0' },
  { module: 'github.com/acme/major/v2', query: 'latest' },
  { module: 'github.com/acme/major/v2', query: 'v2.0.0' },
  { module: 'github.com/acme/majorsub/v3', query: 'v3.0.0' },
  { module: 'github.com/acme/majorsub', query: 'latest' },
  { module: 'github.com/acme/mono/sub', query: 'v0.1.0' },
  { module: 'github.com/acme/mono/sub', query: 'latest' },
  { module: 'github.com/acme/mono/sub', query: 'main' },
  { module: 'github.com/acme/mono', query: 'latest' },
  { module: 'github.com/acme/nomod', query: 'v1.0.0' },
  { module: 'github.com/acme/nomod', query: 'v2.1.0' },
  { module: 'github.com/acme/nomod', query: 'latest' },
  { module: 'github.com/acme/modded', query: 'latest' },
  { module: 'github.com/acme/edge', query: 'v0.9.0' },
  { module: 'github.com/acme/retracted', query: 'latest' },
  { module: 'github.com/acme/retracted', query: 'v1.0.0' },
];

describe('GitOrigin against go 1.19 direct mode', () => {
  it('gives every version, time, .info, go.mod, zip hash and zip file list go gives', async () => {
    const { stdout } = await world.go(['mod', 'download', '-json', ...cases.map((c) => `${c.module}@${c.query}`)]);
    const downloads = parseJsonStream<Downloaded>(stdout);
    assert.equal(downloads.length, cases.length);
    for (const [i, d] of downloads.entries()) {
      const c = cases[i]!;
      const what = `${c.module}@${c.query}`;
      assert.equal(d.Error, undefined, `${what}: go failed: ${d.Error}`);
      assert.equal(d.Path, c.module);
      const answer = JSON.parse((await origin.query(c.module, c.query)).toString()) as { Version: string; Time: string };
      assert.equal(answer.Version, d.Version, `${what}: version`);
      const zip = join(work, `ours-${i}.zip`);
      const download = origin.download(c.module, d.Version, { info: true, mod: true, zipTo: zip });
      const info = (await download.info!).toString();
      const goInfo = JSON.parse(await readFile(d.Info, 'utf8')) as { Time: string };
      assert.equal(answer.Time, goInfo.Time, `${what}: time`);
      // go caches the .info of its first look-up of a version; for a tag asked by name that is ours exactly.
      if (c.query === d.Version) assert.equal(info, await readFile(d.Info, 'utf8'), `${what}: .info`);
      assert.equal(hashGoMod(await download.mod!), d.GoModSum, `${what}: go.mod hash`);
      assert.deepEqual(await download.mod!, await readFile(d.GoMod), `${what}: go.mod`);
      await download.zip!;
      assert.deepEqual(await zipNames(zip), await zipNames(d.Zip), `${what}: zip files`);
      assert.equal(await hashZip(zip), d.Sum, `${what}: zip hash`);
    }
  });

  it('lists the versions go lists, retracted and "+incompatible" ones included', async () => {
    const modules = [...new Set(cases.map((c) => c.module))];
    for (const module of modules) {
      const { stdout } = await world.go(['list', '-m', '-retracted', '-versions', module]);
      const goList = stdout.trim().split(/\s+/).slice(1);
      assert.deepEqual(await origin.list(module), goList, `${module}: versions`);
    }
  });

  it('resolves tag, branch, full and short hash queries to the version go resolves them to', async () => {
    const queries: Case[] = [
      { module: 'github.com/acme/widget', query: hashes.get('widget v1.0.0')! },
      { module: 'github.com/acme/widget', query: hashes.get('widget v1.0.0')!.slice(0, 7) },
      { module: 'github.com/acme/widget', query: hashes.get('widget rc')! },
      { module: 'github.com/acme/widget', query: hashes.get('widget head')!.slice(0, 12) },
      { module: 'github.com/acme/widget', query: hashes.get('widget feature')!.slice(0, 9) },
      { module: 'github.com/acme/untagged', query: 'trunk' },
      { module: 'github.com/acme/untagged', query: hashes.get('untagged head')!.slice(0, 10) },
      { module: 'github.com/acme/mono/sub', query: hashes.get('mono head')! },
      { module: 'github.com/acme/nomod', query: 'v2.0.0' },
      { module: 'github.com/acme/mono/sub', query: 'sub/v0.2.0' },
      { module: 'github.com/acme/nomod', query: 'v2.0.0+incompatible' },
    ];
    for (const q of queries) {
      const { stdout } = await world.go(['mod', 'download', '-json', `${q.module}@${q.query}`]);
      const [d] = parseJsonStream<Downloaded>(stdout);
      assert.equal(d?.Error, undefined, `${q.module}@${q.query}: go failed: ${d?.Error}`);
      const ours = JSON.parse((await origin.query(q.module, q.query)).toString()) as { Version: string };
      assert.equal(ours.Version, d!.Version, `${q.module}@${q.query}`);
    }
  });

  it('refuses the versions go refuses, with go\'s reason', async () => {
    const refused: Case[] = [
      { module: 'github.com/acme/majorsub', query: 'v3.0.0' },
      { module: 'github.com/acme/modded', query: 'v2.0.0' },
      { module: 'github.com/acme/widget', query: 'v9.9.9' },
      { module: 'github.com/acme/mono/sub', query: 'v1.0.0' },
      { module: 'github.com/acme/major/v2', query: 'v1.0.0' },
    ];
    for (const q of refused) {
      const goFailure = await world.go(['mod', 'download', '-json', `${q.module}@${q.query}`]).then(
        ({ stdout }) => parseJsonStream<Downloaded>(stdout)[0]?.Error ?? '',
        (err: Error) => parseJsonStream<Downloaded>((err.cause as { stdout: string }).stdout)[0]?.Error ?? err.message,
      );
      assert.notEqual(goFailure, '', `${q.module}@${q.query}: go accepted it`);
      await assert.rejects(origin.query(q.module, q.query), (err: unknown) => err instanceof NotFoundError && err.message === goFailure, `${q.module}@${q.query}`);
    }
  });
});
