import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeFixture, opener } from '../../test/support/bundle-fixtures.js';
import { BundleFormatError, writeBundle } from '../bundle/format.js';
import { InvalidContentError } from '../errors.js';
import { GoSumSyntaxError } from '../module/gosum.js';
import { writeTree } from '../../test/support/git.js';
import { addModule, type ProxyEntry } from '../../test/support/modgraph.js';
import { ModuleSet } from './module-set.js';
import { ModuleSourceError } from './module-source-error.js';
import { readModuleSource } from './read-module-source.js';

let work: string;
let tree: string;
let upper: ProxyEntry;
let plain: ProxyEntry;

const lineA = 'example.com/a v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const lineB = 'example.com/b v1.0.0/go.mod h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=';
const lineC = 'example.com/c v0.1.0/go.mod h1:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-fingerprint-'));
  tree = join(work, 'goproxy');
  upper = await addModule(tree, work, 'example.com/Upper/Mixed', 'v1.0.0', { 'go.mod': 'module example.com/Upper/Mixed\n', 'm.go': 'package mixed\n' });
  plain = await addModule(tree, work, 'example.com/plain', 'v0.1.0-rc.1', { 'p.go': 'package plain\n' });
  // What a godepot storage folder also holds, none of it a module.
  await writeTree(join(tree, 'sumdb'), { 'sum.golang.org/lookup/example.com/plain@v0.1.0-rc.1': 'record\n', 'x.com/@v/v1.0.0.mod': 'module x.com\n' });
  await writeTree(join(tree, '.tmp'), { 'example.com/@v/v1.0.0.mod': 'module example.com\n' });
  await writeTree(join(tree, 'godepot', 'quarantine', '20240102T030405Z'), { 'example.com/q/@v/v1.0.0.mod': 'module example.com/q\n' });
});

after(() => rm(work, { recursive: true, force: true }));

const linesOf = async (location: string): Promise<readonly string[]> => (await readModuleSource(location)).set.lines();

test('a project folder is its go.sum; go.mod names its folder; a folder with only go.mod has no entries', async () => {
  const project = join(work, 'project');
  await writeTree(project, { 'go.mod': 'module example.com/p\n', 'go.sum': `${lineB}\n${lineA}\n${lineA}\n` });
  const source = await readModuleSource(project);
  assert.equal(source.kind, 'project');
  assert.equal(source.location, project);
  assert.deepEqual(source.set.lines(), [lineA, lineB]);
  assert.deepEqual(await linesOf(join(project, 'go.mod')), [lineA, lineB]);
  const bare = join(work, 'bare');
  await writeTree(bare, { 'go.mod': 'module example.com/bare\n' });
  assert.equal((await readModuleSource(bare)).set.size, 0);
});

test('a go.sum file is read as one; a malformed one fails with the line number', async () => {
  const file = join(work, 'other.sum');
  await writeFile(file, `${lineC}\n`);
  const source = await readModuleSource(file);
  assert.equal(source.kind, 'go.sum');
  assert.deepEqual(source.set.lines(), [lineC]);
  await writeFile(file, `${lineC}\nexample.com/x v1.0.0\n`);
  await assert.rejects(readModuleSource(file), (err: unknown) => err instanceof GoSumSyntaxError && err.line === 2);
});

test("a workspace is go.work.sum and every used module's go.sum; a missing use folder is an error", async () => {
  const ws = join(work, 'ws');
  await writeTree(ws, {
    'go.work': 'go 1.19\n\nuse (\n\t./one\n\t./two\n)\n',
    'go.work.sum': `${lineC}\n`,
    'one/go.mod': 'module example.com/one\n',
    'one/go.sum': `${lineA}\n`,
    'two/go.mod': 'module example.com/two\n',
    'two/go.sum': `${lineB}\n${lineA}\n`,
    // A module the go.work does not use does not count.
    'three/go.mod': 'module example.com/three\n',
    'three/go.sum': 'example.com/z v1.0.0 h1:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ=\n',
  });
  const source = await readModuleSource(ws);
  assert.equal(source.kind, 'workspace');
  assert.deepEqual(source.set.lines(), [lineA, lineB, lineC]);
  assert.equal((await readModuleSource(join(ws, 'go.work'))).kind, 'workspace');
  assert.deepEqual(await linesOf(join(ws, 'two', 'go.mod')), [lineA, lineB], 'go.mod names its module alone');
  await writeFile(join(ws, 'go.work'), 'go 1.19\n\nuse ./four\n');
  await assert.rejects(readModuleSource(ws), (err: unknown) => err instanceof ModuleSourceError && /use \.\/four: directory .*four does not exist/.test(err.message));
});

test('a GOPROXY tree holds the h1 of each .mod and each zip, with escaped paths read back', async () => {
  const source = await readModuleSource(tree);
  assert.equal(source.kind, 'goproxy-tree');
  assert.deepEqual(source.set.lines(), [
    `example.com/Upper/Mixed v1.0.0 ${upper.zipH1}`,
    `example.com/Upper/Mixed v1.0.0/go.mod ${upper.modH1}`,
    `example.com/plain v0.1.0-rc.1 ${plain.zipH1}`,
    `example.com/plain v0.1.0-rc.1/go.mod ${plain.modH1}`,
  ]);
});

test('a .ziphash is believed unless --rehash, which refuses one that disagrees with its zip', async () => {
  const copy = join(work, 'storage');
  await cp(tree, copy, { recursive: true });
  const zip = join(copy, 'example.com', 'plain', '@v', 'v0.1.0-rc.1.zip');
  const wrong = 'h1:WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW=';
  await writeFile(`${zip}hash`, wrong);
  const believed = (await readModuleSource(copy)).set;
  assert.deepEqual(believed.hashesOf({ path: 'example.com/plain', version: 'v0.1.0-rc.1', file: 'zip' }), [wrong]);
  await assert.rejects(
    readModuleSource(copy, { rehash: true }),
    (err: unknown) => err instanceof InvalidContentError && err.message.includes(plain.zipH1) && err.message.includes(wrong) && err.message.includes(zip),
  );
  await writeFile(`${zip}hash`, `${plain.zipH1}\n`);
  assert.deepEqual((await readModuleSource(copy, { rehash: true })).set.lines(), (await readModuleSource(tree)).set.lines());
  await writeFile(`${zip}hash`, 'not a hash');
  await assert.rejects(readModuleSource(copy), (err: unknown) => err instanceof InvalidContentError && err.message.includes(`${zip}hash`));
});

test('a zip that is not a zip is an error naming the file', async () => {
  const broken = join(work, 'broken');
  await writeTree(broken, { 'example.com/x/@v/v1.0.0.zip': 'PK but not really', 'example.com/x/@v/v1.0.0.mod': 'module example.com/x\n' });
  await assert.rejects(
    readModuleSource(broken),
    (err: unknown) => err instanceof InvalidContentError && err.message.startsWith(join(broken, 'example.com/x/@v/v1.0.0.zip')),
  );
});

test('a folder holding cache/download is a module cache', async () => {
  const gomodcache = join(work, 'gomodcache');
  await mkdir(join(gomodcache, 'cache'), { recursive: true });
  await cp(tree, join(gomodcache, 'cache', 'download'), { recursive: true });
  await writeTree(join(gomodcache, 'example.com', 'plain@v0.1.0-rc.1'), { 'p.go': 'package plain\n' });
  const source = await readModuleSource(gomodcache);
  assert.equal(source.kind, 'module-cache');
  assert.deepEqual(source.set.lines(), (await readModuleSource(tree)).set.lines());
  const emptyCache = join(work, 'empty-gomodcache');
  await mkdir(join(emptyCache, 'cache', 'download'), { recursive: true });
  assert.deepEqual(await readModuleSource(emptyCache), { kind: 'module-cache', location: emptyCache, set: new ModuleSet([]) });
});

test('what is none of the kinds is refused with a ModuleSourceError that says so', async () => {
  const empty = join(work, 'empty');
  await writeTree(empty, { 'notes.txt': 'hello\n' });
  await assert.rejects(readModuleSource(empty), (err: unknown) => err instanceof ModuleSourceError && /is not a Go project .* a module cache .* a GOPROXY tree/.test(err.message));
  await assert.rejects(readModuleSource(join(work, 'nowhere')), (err: unknown) => err instanceof ModuleSourceError && err.message.endsWith('nowhere: no such file or directory'));
  const badPath = join(work, 'badpath');
  await writeTree(badPath, { 'example.com/Bad/@v/v1.0.0.mod': 'module example.com/Bad\n' });
  await assert.rejects(readModuleSource(badPath), (err: unknown) => err instanceof InvalidContentError && /example\.com\/Bad is not an escaped module path/.test(err.message));
});

test("a bundle holds the hashes its manifest records; --rehash holds the bundle's files to them", async () => {
  const withZip = { path: plain.modulePath, version: plain.version, mod: plain.goMod, zip: await readFile(plain.zipFile), zipHash: plain.zipH1 };
  const modules = [{ path: upper.modulePath, version: upper.version, mod: upper.goMod }, withZip];
  const good = join(work, 'good.bundle.tar.gz');
  const fixture = makeFixture(modules);
  await writeBundle(good, fixture.manifest, opener(fixture.contents));
  const source = await readModuleSource(good);
  assert.equal(source.kind, 'bundle');
  const expected = [
    `example.com/Upper/Mixed v1.0.0/go.mod ${upper.modH1}`,
    `example.com/plain v0.1.0-rc.1 ${plain.zipH1}`,
    `example.com/plain v0.1.0-rc.1/go.mod ${plain.modH1}`,
  ];
  assert.deepEqual(source.set.lines(), expected);
  assert.deepEqual((await readModuleSource(good, { rehash: true })).set.lines(), expected);

  const lying = join(work, 'lying.bundle.tar.gz');
  const wrong = 'h1:WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW=';
  const lie = makeFixture([{ ...withZip, zipHash: wrong }]);
  await writeBundle(lying, lie.manifest, opener(lie.contents));
  assert.deepEqual((await readModuleSource(lying)).set.hashesOf({ path: plain.modulePath, version: plain.version, file: 'zip' }), [wrong]);
  await assert.rejects(
    readModuleSource(lying, { rehash: true }),
    (err: unknown) =>
      err instanceof InvalidContentError && err.message === `${lying}: example.com/plain/@v/v0.1.0-rc.1.zip hashes to ${plain.zipH1} but the manifest says ${wrong}`,
  );
});

test('a gzip-compressed file that is not a bundle is refused as one, not read as a go.sum', async () => {
  const file = join(work, 'some.tar.gz');
  await writeFile(file, gzipSync(Buffer.from(`${lineA}\n`)));
  await assert.rejects(readModuleSource(file), BundleFormatError);
});
