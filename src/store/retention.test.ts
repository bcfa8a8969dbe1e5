import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeFixture, opener } from '../../test/support/bundle-fixtures.js';
import { writeTree } from '../../test/support/git.js';
import { writeBundle } from '../bundle/format.js';
import { ConfigError } from '../errors.js';
import { readPins } from './pins.js';
import { pinKey, selectRemovals, type RetentionPolicy } from './retention.js';
import type { StoredVersion } from './stored-versions.js';

const now = new Date('2026-12-01T00:00:00Z');
const daysAgo = (days: number): Date => new Date(now.getTime() - days * 24 * 60 * 60 * 1000);

function stored(id: string, storedDaysAgo: number, downloadedDaysAgo: number | null = null): StoredVersion {
  const [path, version] = id.split('@') as [string, string];
  return { path, version, files: ['info', 'mod', 'zip'], bytes: 100, stored: daysAgo(storedDaysAgo), lastDownloaded: downloadedDaysAgo === null ? null : daysAgo(downloadedDaysAgo), origin: null };
}

const none: RetentionPolicy = { unusedFor: null, olderThan: null, keepLatest: null };
const noPins = new Set<string>();
const ids = (versions: readonly StoredVersion[]): string[] => versions.map((v) => `${v.path}@${v.version}`);

test('unused-for: days since the last download, or since it was stored when never downloaded', () => {
  const store = [
    stored('example.com/a@v1.0.0', 100, 40),
    stored('example.com/a@v1.1.0', 100, 5),
    stored('example.com/a@v1.2.0', 40),
    stored('example.com/a@v1.3.0', 5),
    stored('example.com/a@v1.4.0', 100, 30),
  ];
  assert.deepEqual(ids(selectRemovals(store, { ...none, unusedFor: 30 }, noPins, now)), ['example.com/a@v1.0.0', 'example.com/a@v1.2.0', 'example.com/a@v1.4.0'], 'exactly 30 days unused counts as 30');
});

test('older-than: days since it was stored, whatever its downloads', () => {
  const store = [stored('example.com/a@v1.0.0', 100, 0), stored('example.com/a@v1.1.0', 10, 0), stored('example.com/b@v0.1.0', 91)];
  assert.deepEqual(ids(selectRemovals(store, { ...none, olderThan: 90 }, noPins, now)), ['example.com/a@v1.0.0', 'example.com/b@v0.1.0']);
});

test('keep-latest: the N newest of each module by semantic version as go orders it, pseudo-versions and pre-releases included', () => {
  const versions = [
    'v0.0.0-20190101000000-aaaaaaaaaaaa',
    'v1.9.0',
    'v1.10.0-rc.1',
    'v1.10.0',
    // A pseudo-version made on a commit after v1.10.0: newer than it, older than v1.10.1.
    'v1.10.1-0.20240101000000-bbbbbbbbbbbb',
    'v1.2.0',
  ];
  const store = [...versions.map((v) => stored(`example.com/a@${v}`, 1, 0)), stored('example.com/a/v2@v2.0.0', 1, 0), stored('example.com/b@v2.0.0+incompatible', 1, 0), stored('example.com/b@v1.0.0', 1, 0)];
  assert.deepEqual(ids(selectRemovals(store, { ...none, keepLatest: 2 }, noPins, now)), [
    'example.com/a@v0.0.0-20190101000000-aaaaaaaaaaaa',
    'example.com/a@v1.9.0',
    'example.com/a@v1.10.0-rc.1',
    'example.com/a@v1.2.0',
  ]);
  assert.deepEqual(ids(selectRemovals(store, { ...none, keepLatest: 1 }, noPins, now)), [
    'example.com/a@v0.0.0-20190101000000-aaaaaaaaaaaa',
    'example.com/a@v1.9.0',
    'example.com/a@v1.10.0-rc.1',
    'example.com/a@v1.10.0',
    'example.com/a@v1.2.0',
    'example.com/b@v1.0.0',
  ], 'a /v2 path is a module of its own; +incompatible sorts as its release');
  assert.deepEqual(ids(selectRemovals(store, { ...none, keepLatest: 0 }, noPins, now)), ids(store), 'keep-latest 0 keeps none by itself');
});

test('a version goes only when it meets every condition given', () => {
  const store = [
    stored('example.com/a@v1.0.0', 200, 100), // old, unused, not among the newest: goes
    stored('example.com/a@v1.1.0', 200, 1), // used lately: stays
    stored('example.com/a@v1.2.0', 20, 20), // stored lately: stays
    stored('example.com/a@v1.3.0', 200, 100), // among the newest 2: stays
    stored('example.com/a@v1.4.0', 200, 100), // among the newest 2: stays
  ];
  assert.deepEqual(ids(selectRemovals(store, { unusedFor: 30, olderThan: 90, keepLatest: 2 }, noPins, now)), ['example.com/a@v1.0.0']);
  assert.deepEqual(ids(selectRemovals(store, { ...none, unusedFor: 30, keepLatest: 2 }, noPins, now)), ['example.com/a@v1.0.0']);
  assert.deepEqual(ids(selectRemovals(store, { ...none, unusedFor: 10 }, noPins, now)), ['example.com/a@v1.0.0', 'example.com/a@v1.2.0', 'example.com/a@v1.3.0', 'example.com/a@v1.4.0']);
});

test('pins always win; with no condition at all nothing is selected but an error', () => {
  const store = [stored('example.com/a@v1.0.0', 200), stored('example.com/a@v1.1.0', 200)];
  assert.deepEqual(ids(selectRemovals(store, { ...none, olderThan: 1 }, new Set([pinKey('example.com/a', 'v1.0.0')]), now)), ['example.com/a@v1.1.0']);
  assert.throws(() => selectRemovals(store, none, noPins, now), (err: unknown) => err instanceof ConfigError && /at least one condition/.test(err.message));
});

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-pins-'));
});
after(() => rm(work, { recursive: true, force: true }));

const h1 = (c: string): string => `h1:${c.repeat(43)}=`;

test('pins from a go.sum: every version it names, a /go.mod line pinning its version', async () => {
  const file = join(work, 'deps.sum');
  await writeFile(file, `example.com/a v1.0.0 ${h1('A')}\nexample.com/a v1.0.0/go.mod ${h1('B')}\nexample.com/b v0.2.0/go.mod ${h1('C')}\n`);
  assert.deepEqual([...(await readPins([file], '--keep'))].sort(), ['example.com/a@v1.0.0', 'example.com/b@v0.2.0']);
});

test("pins from a project folder: its go.sum, and its go.mod's requirements and versioned replacements", async () => {
  const project = join(work, 'project');
  await writeTree(project, {
    'go.mod': 'module example.com/p\n\ngo 1.19\n\nrequire (\n\texample.com/req v1.2.3\n\texample.com/ind v0.0.0-20240101000000-abcdefabcdef // indirect\n)\n\nreplace example.com/old => example.com/new v1.0.1\n\nreplace example.com/local => ../local\n',
    'go.sum': `example.com/summed v1.0.0/go.mod ${h1('D')}\n`,
  });
  const expected = ['example.com/ind@v0.0.0-20240101000000-abcdefabcdef', 'example.com/new@v1.0.1', 'example.com/req@v1.2.3', 'example.com/summed@v1.0.0'];
  assert.deepEqual([...(await readPins([project], '--keep'))].sort(), expected);
  assert.deepEqual([...(await readPins([join(project, 'go.mod')], '--keep'))].sort(), expected, 'its go.mod names the project too');
  const bare = join(work, 'bare');
  await writeTree(bare, { 'go.mod': 'module example.com/bare\n\nrequire example.com/only v0.1.0\n' });
  assert.deepEqual([...(await readPins([bare], '--keep'))], ['example.com/only@v0.1.0'], 'a project without go.sum pins what go.mod requires');
});

test('pins from a bundle: every module version it holds; several sources add up', async () => {
  const fixture = makeFixture([
    { path: 'example.com/bundled', version: 'v1.0.0', mod: 'module example.com/bundled\n', zip: Buffer.from('zip') },
    { path: 'example.com/modonly', version: 'v0.3.0', mod: 'module example.com/modonly\n' },
  ]);
  const bundle = join(work, 'deps.tar.gz');
  await writeBundle(bundle, fixture.manifest, opener(fixture.contents));
  const sum = join(work, 'one.sum');
  await writeFile(sum, `example.com/a v1.0.0 ${h1('A')}\n`);
  assert.deepEqual([...(await readPins([bundle, sum], 'gc.keep'))].sort(), ['example.com/a@v1.0.0', 'example.com/bundled@v1.0.0', 'example.com/modonly@v0.3.0']);
});

test('a pin that cannot be read stops with an error naming the setting and the path, never an empty pin', async () => {
  const store = join(work, 'store');
  await writeTree(store, { 'example.com/a/@v/v1.0.0.mod': 'module example.com/a\n' });
  const badSum = join(work, 'bad.sum');
  await writeFile(badSum, 'example.com/a v1.0.0\n');
  const badMod = join(work, 'badmod');
  await writeTree(badMod, { 'go.mod': 'module example.com/x\nrequire example.com/y\n' });
  const cases: Array<[string, RegExp]> = [
    [join(work, 'missing'), /^--keep: .*missing: no such file or directory$/],
    [store, /^--keep: .*store: a folder without go\.mod, go\.sum or go\.work/],
    [badSum, /^--keep: malformed go\.sum:\n.*bad\.sum:1: wrong number of fields 2$/],
    [badMod, /^--keep: .*go\.mod:2/],
  ];
  for (const [path, message] of cases) {
    await assert.rejects(readPins([path], '--keep'), (err: unknown) => err instanceof ConfigError && message.test(err.message), path);
  }
});
