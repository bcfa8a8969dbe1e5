import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { generateKey } from '../checksum/note.js';
import { EMPTY_TREE_HASH, formatHash } from '../checksum/tlog.js';
import { DiskStorage } from '../storage/disk.js';
import { LayeredStorage } from '../storage/layered.js';
import { BundleStorage } from './bundle-storage.js';
import { exportRelease, exportVerifiedBundle } from './export.js';
import { makeFixture, opener, sha256Hex, type FixtureModule } from '../../test/support/bundle-fixtures.js';
import { openBundle, writeBundle, type Bundle } from './format.js';
import { BundleBaseMissingError, importVerifiedBundle } from './import.js';
import { manifestId, type Manifest, type ManifestFile } from './manifest.js';

const NAME = 'sum.example.test';
const tree = (n: number): string => `go.sum database tree\n${n}\n${formatHash(EMPTY_TREE_HASH)}\n\n— ${NAME} AAAA\n`;
const lookup = (n: number): Buffer => Buffer.from(`1\nexample.com/a v1.0.0 h1:x\n\n${tree(n)}`);

const modules: FixtureModule[] = [
  { path: 'example.com/Upper', version: 'v1.1.0', mod: 'module example.com/Upper\n' },
  { path: 'example.com/a', version: 'v1.0.0', info: '{"Version":"v1.0.0","Time":"2023-01-02T03:04:05Z"}\n', mod: 'module example.com/a\n', zip: Buffer.from('zip of a') },
];

/** Writes a bundle of `modules` plus proofs of tree size `n`; sumdb files are made to import, not to verify. */
async function bundleOf(dir: string, n: number): Promise<Bundle> {
  const { manifest, contents } = makeFixture(modules);
  const files = new Map<string, Buffer>([
    [`sumdb/${NAME}/latest`, Buffer.from(tree(n))],
    [`sumdb/${NAME}/lookup/example.com/a@v1.0.0`, lookup(n)],
    [`sumdb/${NAME}/tile/8/0/000.p/1`, Buffer.alloc(32, 1)],
  ]);
  for (const [name, data] of files) contents.set(name, data);
  const described = (name: string): ManifestFile => {
    const data = contents.get(name)!;
    return { name, size: data.length, sha256: sha256Hex(data) };
  };
  const full: Manifest = {
    ...manifest,
    modules: manifest.modules.map((m) => ({ ...m, files: m.files.map((f) => described(f.name)) })),
    sumdb: [{ name: NAME, verifierKey: generateKey(NAME).verifierKey, treeSize: n, files: [...files.keys()].sort().map(described) }],
  };
  const file = join(dir, `b-${n}-${Math.random().toString(36).slice(2)}.tar.gz`);
  await writeBundle(file, full, opener(contents));
  return openBundle(file);
}

describe('importing a verified bundle into storage', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'godepot-import-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('adds every file in the depot layout, with the zip\'s .ziphash, and a second import adds nothing', async () => {
    const root = join(dir, 'once');
    const storage = new DiskStorage({ root });
    const bundle = await bundleOf(dir, 5);
    const first = await importVerifiedBundle(bundle, storage);
    assert.deepEqual(first.added, ['example.com/Upper@v1.1.0', 'example.com/a@v1.0.0']);
    assert.equal(first.conflicts.length, 0);
    assert.equal(first.sumdbWritten, 3);
    assert.equal(await readFile(join(root, 'example.com/a/@v/v1.0.0.ziphash'), 'utf8'), `${bundle.manifest.modules[1]!.zipHash}\n`);
    assert.equal(await readFile(join(root, 'example.com/!upper/@v/v1.1.0.mod'), 'utf8'), 'module example.com/Upper\n');
    const second = await importVerifiedBundle(bundle, storage);
    assert.deepEqual(second, { added: [], unchanged: 2, conflicts: [], sumdbWritten: 0, notes: [] });
    assert.deepEqual(await readdir(join(root, 'godepot', 'bundles')), [`${manifestId(bundle.manifestBytes)}.json`], 'one record of the bundle, however often it is imported');
    await bundle.close();
  });

  it('refuses an incremental bundle whose base the storage never took in, naming the base, unless partial is allowed', async () => {
    const base = await bundleOf(dir, 5);
    const baseId = manifestId(base.manifestBytes);
    const { manifest, contents } = makeFixture([{ path: 'example.com/b', version: 'v1.0.0', mod: 'module example.com/b\n' }]);
    manifest.since = { sha256: baseId, modules: 2 };
    await writeBundle(join(dir, 'increment.tar.gz'), manifest, opener(contents));
    const increment = await openBundle(join(dir, 'increment.tar.gz'));
    try {
      const root = join(dir, 'increments');
      const storage = new DiskStorage({ root });
      await assert.rejects(
        importVerifiedBundle(increment, storage),
        (err) => err instanceof BundleBaseMissingError && err.base === baseId && err.message.includes(`manifest id is ${baseId} (2 module versions`) && /--allow-partial/.test(err.message),
      );
      assert.deepEqual(await readdir(root).catch(() => []), [], 'nothing imported');

      // Once the base is in, the increment follows; each records its manifest under godepot/bundles/.
      await importVerifiedBundle(base, storage);
      assert.deepEqual(await readFile(join(root, 'godepot', 'bundles', `${baseId}.json`)), base.manifestBytes);
      const report = await importVerifiedBundle(increment, storage);
      assert.deepEqual(report.added, ['example.com/b@v1.0.0']);
      assert.deepEqual(report.notes, []);
      assert.deepEqual((await readdir(join(root, 'godepot', 'bundles'))).sort(), [`${baseId}.json`, `${manifestId(increment.manifestBytes)}.json`].sort());

      // Elsewhere, alone, with partial allowed: imported, and the report says what is missing.
      const alone = await importVerifiedBundle(increment, new DiskStorage({ root: join(dir, 'alone') }), { allowPartial: true });
      assert.deepEqual(alone.added, ['example.com/b@v1.0.0']);
      assert.match(alone.notes.join('\n'), new RegExp(`without its base, the bundle whose manifest id is ${baseId}`));
    } finally {
      await Promise.all([base.close(), increment.close()]);
    }
  });

  it('reports a version storage holds with other content and leaves all of that version alone', async () => {
    const root = join(dir, 'conflict');
    const storage = new DiskStorage({ root });
    await storage.put('example.com/a/@v/v1.0.0.mod', Buffer.from('module example.com/a // another\n'));
    const bundle = await bundleOf(dir, 5);
    const report = await importVerifiedBundle(bundle, storage);
    assert.deepEqual(report.conflicts.map((c) => c.subject), ['example.com/a@v1.0.0']);
    assert.match(report.conflicts[0]!.reason, /another \.mod/);
    assert.equal(await storage.stat('example.com/a/@v/v1.0.0.zip'), null, 'nothing of the conflicting version is written');
    assert.equal(await readFile(join(root, 'example.com/a/@v/v1.0.0.mod'), 'utf8'), 'module example.com/a // another\n');
    assert.deepEqual(report.added, ['example.com/Upper@v1.1.0']);
    await bundle.close();
  });

  it('takes a stored zip with the same h1 as the same module, and one with another h1 as a conflict', async () => {
    const storage = new DiskStorage({ root: join(dir, 'zips') });
    const bundle = await bundleOf(dir, 5);
    await importVerifiedBundle(bundle, storage);
    await storage.put('example.com/a/@v/v1.0.0.ziphash', Buffer.from('h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n'));
    const report = await importVerifiedBundle(bundle, storage);
    assert.equal(report.conflicts.length, 1);
    assert.match(report.conflicts[0]!.reason, /zip with h1:AAAA/);
    await bundle.close();
  });

  it('keeps the lookup and head of the larger tree, whichever bundle comes first, and reports a differing tile', async () => {
    const storage = new DiskStorage({ root: join(dir, 'sumdb') });
    const older = await bundleOf(dir, 5);
    const newer = await bundleOf(dir, 9);
    await importVerifiedBundle(newer, storage);
    const report = await importVerifiedBundle(older, storage);
    assert.equal(report.sumdbWritten, 0);
    assert.match(await text(await storage.get(`sumdb/${NAME}/latest`)), /\n9\n/);
    const forked = await bundleOf(dir, 9);
    await storage.put(`sumdb/${NAME}/tile/8/0/000.p/1`, Buffer.alloc(32, 2));
    const fork = await importVerifiedBundle(forked, storage);
    assert.deepEqual(fork.conflicts.map((c) => c.subject), [`sumdb/${NAME}/tile/8/0/000.p/1`]);
    assert.match(fork.conflicts[0]!.reason, /forked/);
    await Promise.all([older.close(), newer.close(), forked.close()]);
  });

  it('leaves the proofs of a database the storage hosts itself alone, saying so', async () => {
    const storage = new DiskStorage({ root: join(dir, 'hosted') });
    await storage.put(`sumdb/${NAME}/tile/8/data/000.p/1`, Buffer.from('record\n'));
    const bundle = await bundleOf(dir, 5);
    const report = await importVerifiedBundle(bundle, storage);
    assert.equal(report.sumdbWritten, 0);
    assert.match(report.notes.join('\n'), /hosts it/);
    assert.equal(await storage.stat(`sumdb/${NAME}/latest`), null);
    await bundle.close();
  });

  it('accepts an .info that differs only in fields go does not read', async () => {
    const storage = new DiskStorage({ root: join(dir, 'info') });
    await storage.put('example.com/a/@v/v1.0.0.info', Buffer.from('{"Version":"v1.0.0","Time":"2023-01-02T03:04:05Z","Origin":{"VCS":"git"}}'));
    const bundle = await bundleOf(dir, 5);
    const report = await importVerifiedBundle(bundle, storage);
    assert.deepEqual(report.conflicts, []);
    await bundle.close();
  });
});

describe('exporting a bundle', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'godepot-export-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes a GOPROXY tree: files, merged @v/list of downloadable versions, sumdb supported, no scratch folder', async () => {
    const out = join(dir, 'tree');
    await new DiskStorage({ root: out }).put('example.com/a/@v/list', Buffer.from('v0.9.0\n'));
    const bundle = await bundleOf(dir, 5);
    await exportVerifiedBundle(bundle, { dir: out });
    assert.equal(await readFile(join(out, 'example.com/a/@v/list'), 'utf8'), 'v0.9.0\nv1.0.0\n');
    await assert.rejects(readFile(join(out, 'example.com/!upper/@v/list')), { code: 'ENOENT' }, 'a go.mod-only version is not listed');
    assert.equal(await readFile(join(out, `sumdb/${NAME}/supported`), 'utf8'), '');
    assert.ok(!(await readdir(out)).includes('.tmp'));
    await bundle.close();
  });

  it('refuses an incremental bundle whose base was never exported to the same folder', async () => {
    const { manifest, contents } = makeFixture([{ path: 'example.com/b', version: 'v1.0.0', mod: 'module example.com/b\n' }]);
    manifest.since = { sha256: 'e'.repeat(64), modules: 9 };
    await writeBundle(join(dir, 'increment.tar.gz'), manifest, opener(contents));
    const increment = await openBundle(join(dir, 'increment.tar.gz'));
    try {
      await assert.rejects(exportVerifiedBundle(increment, { dir: join(dir, 'no-base') }), BundleBaseMissingError);
      await assert.rejects(readdir(join(dir, 'no-base', 'example.com')), { code: 'ENOENT' });
      await exportVerifiedBundle(increment, { dir: join(dir, 'no-base') }, { allowPartial: true });
      assert.equal(await readFile(join(dir, 'no-base', 'example.com/b/@v/v1.0.0.mod'), 'utf8'), 'module example.com/b\n');
    } finally {
      await increment.close();
    }
  });

  it('writes the release archive a bundle carries, whole, and never over other bytes', async () => {
    const archive = Buffer.alloc(100_000, 7);
    const { manifest, contents } = makeFixture(modules, { release: archive });
    await writeBundle(join(dir, 'self.tar.gz'), manifest, opener(contents));
    const bundle = await openBundle(join(dir, 'self.tar.gz'));
    const out = join(dir, 'release-out');
    try {
      const first = await exportRelease(bundle, out);
      assert.deepEqual(first, { file: join(out, 'godepot-9.8.7-linux-x64.tar.gz'), written: true });
      assert.deepEqual(await readFile(first.file), archive);
      assert.deepEqual(await exportRelease(bundle, out), { file: first.file, written: false }, 'the same bytes: left as they are');
      await writeFile(first.file, 'another archive');
      await assert.rejects(exportRelease(bundle, out), /already exists with other bytes/);
      assert.equal(await readFile(first.file, 'utf8'), 'another archive');
      assert.deepEqual((await readdir(out)).sort(), ['godepot-9.8.7-linux-x64.tar.gz'], 'no temporary left');
    } finally {
      await bundle.close();
    }
    const plain = await bundleOf(dir, 5);
    await assert.rejects(exportRelease(plain, out), /carries no godepot release archive \(bundle create --self puts one in\)/);
    await plain.close();
  });

  it('fills a module cache under cache/download, where go also reads checksum-database proofs', async () => {
    const cache = join(dir, 'modcache');
    const bundle = await bundleOf(dir, 5);
    await exportVerifiedBundle(bundle, { gomodcache: cache });
    assert.equal(await readFile(join(cache, 'cache/download/example.com/a/@v/v1.0.0.zip'), 'utf8'), 'zip of a');
    assert.match(await readFile(join(cache, `cache/download/sumdb/${NAME}/lookup/example.com/a@v1.0.0`), 'utf8'), /^1\n/);
    await assert.rejects(readFile(join(cache, `cache/download/sumdb/${NAME}/supported`)), { code: 'ENOENT' });
    await bundle.close();
  });
});

describe('serving bundles in place', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'godepot-bundle-storage-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads files, ranges, the synthesised .ziphash and listings from the bundle, and refuses writes', async () => {
    const bundle = await bundleOf(dir, 5);
    const storage = await BundleStorage.over([bundle]);
    assert.equal(await text(await storage.get('example.com/a/@v/v1.0.0.zip', { start: 4, end: 5 })), 'of');
    assert.equal(await text(await storage.get('example.com/a/@v/v1.0.0.ziphash')), `${bundle.manifest.modules[1]!.zipHash}\n`);
    assert.equal((await storage.stat('example.com/a/@v/v1.0.0.mod'))?.size, 'module example.com/a\n'.length);
    assert.equal(await storage.stat('example.com/a/@v/v9.0.0.mod'), null);
    assert.deepEqual(await storage.list('example.com/a'), [
      'example.com/a/@v/v1.0.0.info',
      'example.com/a/@v/v1.0.0.mod',
      'example.com/a/@v/v1.0.0.zip',
      'example.com/a/@v/v1.0.0.ziphash',
    ]);
    await assert.rejects(storage.put('x/@v/v1.0.0.mod'), /read-only/);
    await bundle.close();
  });

  it('layers bundles over a disk storage: reads prefer the bundle, writes and deletes reach only the disk', async () => {
    const bundle = await bundleOf(dir, 5);
    const disk = new DiskStorage({ root: join(dir, 'disk') });
    await disk.put('example.com/a/@v/v1.0.0.mod', Buffer.from('module example.com/a // disk\n'));
    await disk.put('example.com/a/@v/v1.1.0.mod', Buffer.from('module example.com/a\n'));
    const storage = new LayeredStorage([await BundleStorage.over([bundle])], disk);
    assert.equal(await text(await storage.get('example.com/a/@v/v1.0.0.mod')), 'module example.com/a\n');
    assert.deepEqual((await storage.list('example.com/a')).filter((k) => k.endsWith('.mod')), ['example.com/a/@v/v1.0.0.mod', 'example.com/a/@v/v1.1.0.mod']);
    await storage.put('example.com/b/@v/v1.0.0.mod', Buffer.from('module example.com/b\n'));
    assert.equal(await readFile(join(dir, 'disk/example.com/b/@v/v1.0.0.mod'), 'utf8'), 'module example.com/b\n');
    await storage.delete('example.com/a/@v/v1.0.0.mod');
    assert.equal(await text(await storage.get('example.com/a/@v/v1.0.0.mod')), 'module example.com/a\n', 'the bundle still has it');
    await bundle.close();
  });
});
