// go makes its own module zips when it fetches straight from git. godepot, given the same trees, must
// make zips with the same h1 hashes (the same files, byte for byte), and derive the same pseudo-versions.
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hashGoMod, hashZip } from '../../src/module/hash.js';
import { pseudoVersion, pseudoVersionBase, pseudoVersionRev, pseudoVersionTime } from '../../src/module/version.js';
import { createZipFromDir } from '../../src/module/zip.js';
import { startGitDaemon, type GitDaemon } from '../support/gitdaemon.js';
import { commitAll, git, writeTree } from '../support/git.js';
import { makeGoWorld, parseJsonStream, type GoWorld } from '../support/go.js';

interface Downloaded {
  Path: string;
  Version: string;
  Sum: string;
  GoModSum: string;
  GoMod: string;
  Error?: string;
}

/** A repository go fetches directly; `moduleDir` is where the module root sits inside it. */
interface RepoCase {
  name: string;
  modulePath: string;
  query: string;
  moduleDir: string;
  files: Record<string, string>;
  tags: string[];
}

// go 1.17 lines keep both sides on the pre-1.24 vendor rules: Go 1.19 knows no others.
const goMod = (p: string) => `module ${p}\n\ngo 1.17\n`;

const zipCases: RepoCase[] = [
  {
    name: 'vendoring',
    modulePath: 'example.com/vendoring.git',
    query: 'v1.0.0',
    moduleDir: '',
    tags: ['v1.0.0'],
    files: {
      'go.mod': goMod('example.com/vendoring.git'),
      'a.go': 'package a\n',
      'vendor/modules.txt': '# x v1.0.0\n',
      'vendor/x/y.go': 'package y\n',
      'vendor/top.go': 'package vendor\n',
      'pkg/vendor/vendor.go': 'package vendor\n',
      'sub/vendor/sub.txt': 'sub\n',
      'deep/er/vendor/z/z.go': 'package z\n',
      'testdata/vendor/t.txt': 't\n',
    },
  },
  {
    name: 'nesting',
    modulePath: 'example.com/nesting.git',
    query: 'v1.2.0',
    moduleDir: '',
    tags: ['v1.2.0'],
    files: {
      'go.mod': goMod('example.com/nesting.git'),
      'n.go': 'package n\n',
      'sub/go.mod': goMod('example.com/nesting.git/sub'),
      'sub/s.go': 'package s\n',
      'sub/deeper/d.go': 'package deeper\n',
      'go.mod.d/kept.txt': 'kept\n',
      '.hg_archival.txt': 'archival\n',
      LICENSE: 'license text\n',
      'odd name [1] {2} (3) ~!#$%&+,=@^_.txt': 'odd\n',
      'ünïcödé/ファイル.txt': 'unicode\n',
    },
  },
  {
    name: 'nomod',
    modulePath: 'example.com/nomod.git',
    query: 'v1.0.1',
    moduleDir: '',
    tags: ['v1.0.1'],
    files: { 'x.go': 'package x\n', 'README': 'no go.mod here\n' },
  },
  {
    name: 'legacy',
    modulePath: 'example.com/legacy.git',
    query: 'v2.1.0+incompatible',
    moduleDir: '',
    tags: ['v2.1.0'],
    files: { 'l.go': 'package l\n' },
  },
  {
    name: 'majorsub',
    modulePath: 'example.com/majorsub.git/v2',
    query: 'v2.0.0',
    moduleDir: 'v2',
    tags: ['v2.0.0'],
    files: { 'go.mod': goMod('example.com/majorsub.git'), 'v1.go': 'package m\n', 'v2/go.mod': goMod('example.com/majorsub.git/v2'), 'v2/m.go': 'package m\n' },
  },
  {
    name: 'mono',
    modulePath: 'example.com/mono.git/tools',
    query: 'v0.4.0',
    moduleDir: 'tools',
    tags: ['tools/v0.4.0'],
    files: { 'go.mod': goMod('example.com/mono.git'), 'root.go': 'package root\n', 'tools/go.mod': goMod('example.com/mono.git/tools'), 'tools/t.go': 'package tools\n', 'tools/testdata/x': 'x\n' },
  },
];

let work: string;
let daemon: GitDaemon;
let world: GoWorld;

async function makeRepo(c: RepoCase, date: string): Promise<string> {
  const dir = join(work, 'repos', 'example.com', c.modulePath.split('/')[1]!);
  await mkdir(dir, { recursive: true });
  await git(dir, ['init', '-q', '-b', 'main']);
  await writeTree(dir, c.files);
  await commitAll(dir, 'first', date);
  for (const tag of c.tags) await git(dir, ['tag', tag]);
  return dir;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-git-'));
  await mkdir(join(work, 'repos'), { recursive: true });
  daemon = await startGitDaemon(join(work, 'repos'), ['example.com']);
  world = await makeGoWorld('direct', { GIT_CONFIG_GLOBAL: daemon.gitconfig, GOPRIVATE: 'example.com', GONOSUMDB: 'example.com' });
});

after(async () => {
  await daemon?.stop();
  await world?.dispose();
  await rm(work, { recursive: true, force: true });
});

test('godepot zips the same files as go does when go fetches from git', async () => {
  const repos = new Map<string, string>();
  for (const c of zipCases) repos.set(c.modulePath, await makeRepo(c, '2023-03-04T05:06:07Z'));
  const { stdout } = await world.go(['mod', 'download', '-json', ...zipCases.map((c) => `${c.modulePath}@${c.query}`)]);
  const downloads = parseJsonStream<Downloaded>(stdout);
  assert.equal(downloads.length, zipCases.length);
  for (const d of downloads) {
    assert.equal(d.Error, undefined, `${d.Path}: ${d.Error}`);
    const c = zipCases.find((x) => x.modulePath === d.Path)!;
    assert.equal(d.Version, c.query);
    const ours = join(work, `${c.name}.zip`);
    const out = createWriteStream(ours);
    await createZipFromDir(out, c.modulePath, c.query, join(repos.get(c.modulePath)!, c.moduleDir));
    assert.equal(await hashZip(ours), d.Sum, `zip h1 of ${c.name}`);
    assert.equal(hashGoMod(await readFile(d.GoMod)), d.GoModSum, `go.mod h1 of ${c.name}`);
  }
});

test('pseudo-versions: godepot builds the version go derives from tags, commit time and hash', async () => {
  const cases = [
    { name: 'untagged', modulePath: 'example.com/untagged.git', tags: [] as string[], major: 'v0' },
    { name: 'released', modulePath: 'example.com/released.git', tags: ['v1.2.3'], major: 'v1' },
    { name: 'prerelease', modulePath: 'example.com/prerelease.git', tags: ['v1.3.0-beta.1'], major: 'v1' },
    { name: 'majorv3', modulePath: 'example.com/majorv3.git/v3', tags: [], major: 'v3' },
    { name: 'majorv3tag', modulePath: 'example.com/majorv3tag.git/v3', tags: ['v3.1.0'], major: 'v3' },
  ];
  for (const c of cases) {
    const dir = join(work, 'repos', 'example.com', c.modulePath.split('/')[1]!);
    await mkdir(dir, { recursive: true });
    await git(dir, ['init', '-q', '-b', 'main']);
    await writeTree(dir, { 'go.mod': goMod(c.modulePath), 'p.go': 'package p\n' });
    await commitAll(dir, 'tagged', '2022-12-31T23:59:59Z');
    for (const tag of c.tags) await git(dir, ['tag', tag]);
    await writeTree(dir, { 'q.go': 'package p\n' });
    const hash = await commitAll(dir, 'after the tag', '2023-06-07T08:09:10+02:00');
    const { stdout } = await world.go(['mod', 'download', '-json', `${c.modulePath}@main`]);
    const [d] = parseJsonStream<Downloaded>(stdout);
    assert.equal(d?.Error, undefined, `${c.name}: ${d?.Error}`);
    const older = c.tags[0] ?? '';
    const ours = pseudoVersion(c.major, older, new Date('2023-06-07T06:09:10Z'), hash.slice(0, 12));
    assert.equal(ours, d!.Version, `pseudo-version for ${c.name}`);
    assert.equal(pseudoVersionRev(d!.Version), hash.slice(0, 12));
    assert.equal(pseudoVersionTime(d!.Version).toISOString(), '2023-06-07T06:09:10.000Z');
    // The base of a pseudo-version is the tag it was derived from ('' when there was none), as go defines it.
    assert.equal(pseudoVersionBase(d!.Version), older);
  }
});
