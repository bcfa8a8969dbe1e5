import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, test } from 'node:test';
import yauzl from 'yauzl';
import { seededRandom } from '../../test/support/garbage.js';
import { writeRawZip, type RawEntry } from '../../test/support/rawzip.js';
import { discard, zeros } from '../../test/support/streams.js';
import { GodepotError } from '../errors.js';
import { hashDir, hashZip } from './hash.js';
import {
  checkDir,
  checkFiles,
  checkZip,
  createZip,
  createZipFromDir,
  isVendoredPackage,
  MAX_GO_MOD,
  MAX_LICENSE,
  MAX_ZIP_FILE,
  unzip,
  ZipError,
  type ModuleFile,
  type ModuleFileType,
} from './zip.js';

const work = await mkdtemp(join(tmpdir(), 'godepot-zip-test-'));
after(() => rm(work, { recursive: true, force: true }));
let count = 0;
async function fresh(): Promise<string> {
  const dir = join(work, String(count++));
  await mkdir(dir);
  return dir;
}

const M = 'example.com/m';
const V = 'v1.0.0';
const PREFIX = `${M}@${V}/`;

function file(path: string, data: string | Buffer = '', type: ModuleFileType = 'file'): ModuleFile {
  const bytes = Buffer.from(data);
  return { path, size: bytes.length, type, open: () => Readable.from([bytes]) };
}


async function expectZipError(p: Promise<unknown>, code: string, text: string): Promise<ZipError> {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof ZipError, `expected a ZipError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.includes(text), `${JSON.stringify(caught.message)} lacks ${JSON.stringify(text)}`);
  return caught;
}


async function zipNames(zipFile: string): Promise<string[]> {
  const zip = await yauzl.openPromise(zipFile, { lazyEntries: true });
  const names: string[] = [];
  for await (const e of zip.eachEntry()) names.push(e.fileName);
  zip.close();
  return names;
}

async function createToFile(files: ModuleFile[], modulePath = M, version = V): Promise<string> {
  const zipFile = join(await fresh(), 'out.zip');
  await createZip(createWriteStream(zipFile), modulePath, version, files);
  return zipFile;
}

// Everything below `dir`, as sorted relative paths.
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const name of await readdir(d)) {
      const p = rel === '' ? name : `${rel}/${name}`;
      out.push(p);
      if ((await lstat(join(d, name))).isDirectory()) await walk(join(d, name), p);
    }
  };
  await walk(dir, '');
  return out.sort();
}

test('isVendoredPackage keeps go’s pre-1.24 quirk and its 1.24 fix', () => {
  const cases: [string, boolean, boolean][] = [
    // path, before go 1.24, from go 1.24
    ['vendor/modules.txt', false, true],
    ['vendor/a.go', false, false],
    ['vendor/x/a.go', true, true],
    ['pkg/vendor/vendor.go', true, false],
    ['pkg/vendor/x/a.go', true, true],
    ['sub/vendor/sub.txt', true, false],
    ['a/vendor', false, false],
    ['x/vendorish/a.go', false, false],
    // Before 1.24 the search for another "/" starts at byte 8 of the whole path, which is inside any
    // "/vendor/" but the one at the very start.
    ['é/vendor/x', true, false],
    ['/vendor/x', false, false],
  ];
  for (const [p, old, now] of cases) {
    assert.equal(isVendoredPackage(p, false), old, `${p} before 1.24`);
    assert.equal(isVendoredPackage(p, true), now, `${p} from 1.24`);
  }
});

test('checkFiles: file types, size limits and where go.mod may be', async () => {
  const cf = await checkFiles([
    file('a.go', 'package a'),
    file('dir', '', 'dir'),
    file('link', '', 'symlink'),
    file('fifo', '', 'other'),
    { path: 'go.mod', size: MAX_GO_MOD + 1, open: () => zeros(0) },
    { path: 'LICENSE', size: MAX_LICENSE + 1, open: () => zeros(0) },
    file('.git/config'),
  ]);
  assert.deepEqual(cf.valid, ['a.go', '.git/config']);
  assert.deepEqual(cf.omitted, [
    { path: 'dir', reason: 'not a regular file' },
    { path: 'link', reason: 'file is a symbolic link' },
    { path: 'fifo', reason: 'not a regular file' },
  ]);
  assert.deepEqual(cf.invalid, [
    { path: 'go.mod', reason: `go.mod file too large (max size is ${MAX_GO_MOD} bytes)` },
    { path: 'LICENSE', reason: `LICENSE file too large (max size is ${MAX_LICENSE} bytes)` },
  ]);
  assert.equal(cf.error?.code, 'INVALID_ZIP_CONTENT');
  assert.equal(cf.error?.problems.length, 2);
  assert.equal(
    cf.error?.message,
    `go.mod: go.mod file too large (max size is ${MAX_GO_MOD} bytes)\nLICENSE: LICENSE file too large (max size is ${MAX_LICENSE} bytes)`,
  );
});

test('checkFiles: the size error wins over invalid files, and counts every valid byte', async () => {
  const half = MAX_ZIP_FILE / 2;
  const ok = await checkFiles([{ path: 'a', size: half, open: () => zeros(0) }, { path: 'b', size: half, open: () => zeros(0) }]);
  assert.equal(ok.error, null);
  const over = await checkFiles([
    { path: 'a', size: half, open: () => zeros(0) },
    { path: 'b', size: half + 1, open: () => zeros(0) },
    file('bad\''),
  ]);
  assert.equal(over.error?.code, 'ZIP_TOO_LARGE');
  assert.equal(over.error?.message, `module source tree too large (max size is ${MAX_ZIP_FILE} bytes)`);
  assert.equal(over.invalid.length, 1);
});

test('checkFiles reads the go version from the root go.mod, leniently', async () => {
  const withGo = (goMod: string) => checkFiles([file('go.mod', goMod), file('vendor/modules.txt'), file('pkg/vendor/v.go')]);
  const old = await withGo('module example.com/m\n\ngo 1.23\n');
  assert.deepEqual(old.valid, ['go.mod', 'vendor/modules.txt']);
  const now = await withGo('module example.com/m\n\nThis line is prose, not a directive.\ngo 1.24.1\n');
  assert.deepEqual(now.valid, ['go.mod', 'pkg/vendor/v.go']);
  // A go.mod that does not parse leaves the old rules in force.
  const broken = await withGo('module "unterminated\ngo 1.24\n');
  assert.deepEqual(broken.valid, ['go.mod', 'vendor/modules.txt']);
});

test('createZip writes the same bytes every time: fixed order and times, no directory entries', async () => {
  const files = [file('go.mod', 'module example.com/m\n'), file('b/z.go', 'package b\n'), file('a.go', 'package m\n')];
  const first = await readFile(await createToFile(files));
  const second = await readFile(await createToFile(files));
  assert.ok(first.equals(second));
  const zipFile = await createToFile(files);
  assert.deepEqual(await zipNames(zipFile), [`${PREFIX}go.mod`, `${PREFIX}b/z.go`, `${PREFIX}a.go`]);
});

test('createZip writes the same bytes in every time zone', async () => {
  const files = [file('a.go', 'package m\n')];
  const saved = process.env.TZ;
  const bytesIn = async (tz: string): Promise<Buffer> => {
    process.env.TZ = tz;
    return readFile(await createToFile(files));
  };
  try {
    assert.ok((await bytesIn('Asia/Tokyo')).equals(await bytesIn('America/Sao_Paulo')));
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

test('a destination that fails is reported by the promise, and the file being copied is closed', async () => {
  // A file stream that cannot even be opened fails while the directory is still being listed.
  const dir = await fresh();
  await writeFile(join(dir, 'a.go'), 'package m\n');
  await assert.rejects(
    createZipFromDir(createWriteStream(join(dir, 'no', 'such', 'dir.zip')), M, V, dir),
    (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT',
  );
  let closed = false;
  const big: ModuleFile = {
    path: 'big',
    size: 64 << 20,
    open: () => zeros(64 << 20).on('close', () => (closed = true)),
  };
  let written = 0;
  const failing = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      written += chunk.length;
      done(written > 1024 ? new Error('disk full') : null);
    },
  });
  await assert.rejects(createZip(failing, M, V, [big]), /disk full/);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(closed, 'the source stream is still open');
});

test('createZip opens one file at a time', async () => {
  let open = 0;
  let most = 0;
  const files: ModuleFile[] = Array.from({ length: 20 }, (_, i) => ({
    path: `f${i}.go`,
    size: 3,
    open: () => {
      open++;
      most = Math.max(most, open);
      const r = Readable.from([Buffer.from('abc')]);
      r.on('close', () => open--);
      return r;
    },
  }));
  await createZip(discard(), M, V, files);
  assert.equal(most, 1);
});

test('createZip fails when a file yields more than it declared, leaving a typed error', async () => {
  const lie: ModuleFile = { path: 'lie.go', size: 1, open: () => Readable.from([Buffer.from('package large')]) };
  await expectZipError(
    createZip(createWriteStream(join(await fresh(), 'lie.zip')), M, V, [file('a.go', 'x'), lie]),
    'INVALID_ZIP_CONTENT',
    'create zip: file "lie.go" is larger than declared size',
  );
  // An I/O failure of the source is not ours to rename: it comes through as it was.
  const broken: ModuleFile = {
    path: 'broken.go',
    size: 5,
    open: () =>
      new Readable({
        read() {
          this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', syscall: 'read' }));
        },
      }),
  };
  await assert.rejects(createZip(discard(), M, V, [broken]), (err: unknown) => !(err instanceof GodepotError) && (err as NodeJS.ErrnoException).code === 'EIO');
});

test('createZip refuses a bad module before writing anything', async () => {
  await expectZipError(createZip(discard(), 'example.com/m', 'v1.0.0+bad', []), 'INVALID_VERSION', 'create zip: version "v1.0.0+bad" is not canonical (should be "v1.0.0")');
  await expectZipError(createZip(discard(), 'cache', V, []), 'INVALID_PATH', 'create zip: malformed module path "cache": missing dot in first path element');
  await expectZipError(createZip(discard(), Buffer.from([0x61, 0xff]), V, []), 'INVALID_PATH', 'malformed module path "a\\xff": invalid UTF-8');
  await expectZipError(createZip(discard(), M, 'v2.0.0', []), 'INVALID_VERSION', 'example.com/m@v2.0.0: invalid version: should be v0 or v1, not v2');
});

test('createZipFromDir walks in byte order and leaves out VCS data, links, nested modules and vendored packages', async () => {
  const dir = await fresh();
  const put = async (p: string, data = p): Promise<void> => {
    await mkdir(join(dir, p, '..'), { recursive: true });
    await writeFile(join(dir, p), data);
  };
  await put('go.mod', 'module example.com/m\n\ngo 1.20\n');
  for (const p of ['b.go', 'a.go', 'Z.go', 'é.go', '\u{10000}.go', '\uff71.go', '.git/HEAD', '.hg/x', 'sub/go.mod', 'sub/s.go', 'vendor/x/y.go', 'vendor/modules.txt', 'pkg/p.go']) {
    await put(p);
  }
  await symlink('a.go', join(dir, 'link.go'));
  await mkdir(join(dir, 'empty'));
  const zipFile = join(await fresh(), 'dir.zip');
  await createZipFromDir(createWriteStream(zipFile), M, V, dir);
  assert.deepEqual(
    await zipNames(zipFile),
    ['Z.go', 'a.go', 'b.go', 'go.mod', 'pkg/p.go', 'vendor/modules.txt', 'é.go', '\uff71.go', '\u{10000}.go'].map((p) => PREFIX + p),
  );
  const report = await checkDir(dir);
  assert.deepEqual(
    report.omitted.map((o) => [o.path.slice(dir.length + 1), o.reason]),
    [
      ['.git', 'directory is a version control repository'],
      ['.hg', 'directory is a version control repository'],
      ['link.go', 'not a regular file'],
      ['sub', 'directory is in another module'],
      ['vendor/x/y.go', 'file is in vendor directory'],
    ],
  );
});

test('createZipFromDir reports a missing directory as the I/O error it is', async () => {
  await assert.rejects(createZipFromDir(discard(), M, V, join(work, 'does-not-exist')), (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT');
});

test('unzip writes read-only regular files and the tree hashes like the zip', async () => {
  const zipFile = join(await fresh(), 'in.zip');
  await writeRawZip(zipFile, [
    { name: `${PREFIX}go.mod`, data: 'module example.com/m\n', deflate: true },
    { name: `${PREFIX}a/b.go`, data: 'package a\n' },
    // A "symbolic link" entry becomes a plain file holding the link text.
    { name: `${PREFIX}link`, data: '/etc/passwd', mode: 0o120777 },
  ]);
  const target = join(await fresh(), 'missing', 'target');
  await unzip(target, M, V, zipFile);
  assert.deepEqual(await tree(target), ['a', 'a/b.go', 'go.mod', 'link']);
  const link = await lstat(join(target, 'link'));
  assert.ok(link.isFile());
  assert.equal(link.mode & 0o777, 0o444);
  assert.equal(await readFile(join(target, 'link'), 'utf8'), '/etc/passwd');
  assert.equal(await hashDir(target, PREFIX), await hashZip(zipFile));
});

test('unzip skips directory entries and the bare module root entry', async () => {
  const zipFile = join(await fresh(), 'dirs.zip');
  await writeRawZip(zipFile, [
    { name: PREFIX, mode: 0o040755 },
    { name: `${PREFIX}a/`, mode: 0o040755 },
    { name: `${PREFIX}empty/`, mode: 0o040755 },
    { name: `${PREFIX}a/b.go`, data: 'package a\n' },
  ]);
  const target = await fresh();
  await unzip(target, M, V, zipFile);
  assert.deepEqual(await tree(target), ['a', 'a/b.go']);
});

test('unzip refuses a target that is not empty', async () => {
  const zipFile = join(await fresh(), 'in.zip');
  await writeRawZip(zipFile, [{ name: `${PREFIX}a.go`, data: 'x' }]);
  const target = await fresh();
  await writeFile(join(target, 'existing'), '');
  await expectZipError(unzip(target, M, V, zipFile), 'UNZIP_TARGET_NOT_EMPTY', `target directory ${target} exists and is not empty`);
});

test('unzip rejects entries that would escape or collide, writing nothing', async () => {
  // The expected texts are what go's zip.Unzip (x/mod v0.14.0, go 1.19) printed for the same zips.
  const cases: [RawEntry[], string][] = [
    [[{ name: '../x', data: 'x' }], 'unzip ZIP: ../x: path does not have prefix "example.com/m@v1.0.0/"'],
    [[{ name: `${PREFIX}../x`, data: 'x' }], `unzip ZIP: ${PREFIX}../x: malformed file path "../x": invalid path element ".."`],
    [[{ name: '/x', data: 'x' }], 'unzip ZIP: /x: path does not have prefix "example.com/m@v1.0.0/"'],
    [[{ name: `${PREFIX}/x`, data: 'x' }], `unzip ZIP: ${PREFIX}/x: malformed file path "/x": empty path element`],
    [[{ name: `${PREFIX}a\\..\\x`, data: 'x' }], `unzip ZIP: ${PREFIX}a\\..\\x: malformed file path "a\\\\..\\\\x": invalid char '\\\\'`],
    [[{ name: `${PREFIX}a.go` }, { name: `${PREFIX}a.go` }], `unzip ZIP: ${PREFIX}a.go: multiple entries for file "a.go"`],
    [[{ name: `${PREFIX}a.go` }, { name: `${PREFIX}A.go` }], `unzip ZIP: ${PREFIX}A.go: case-insensitive file name collision: "a.go" and "A.go"`],
    [[{ name: `${PREFIX}sub/go.mod` }], `unzip ZIP: ${PREFIX}sub/go.mod: go.mod file not in module root directory`],
    [[{ name: Buffer.concat([Buffer.from(PREFIX), Buffer.from([0xc3, 0x28])]) }], 'malformed file path "\\xc3(": invalid UTF-8'],
  ];
  for (const [entries, text] of cases) {
    const dir = await fresh();
    const zipFile = join(dir, 'in.zip');
    await writeRawZip(zipFile, entries);
    const target = join(dir, 'target');
    const err = await expectZipError(unzip(target, M, V, zipFile), 'INVALID_ZIP_CONTENT', text.replace('ZIP', zipFile));
    assert.equal(err.problems.length, 1);
    assert.deepEqual(await readdir(dir), ['in.zip']);
  }
});

test('unzip stops an entry that inflates past its declared size, and removes what it wrote', async () => {
  const dir = await fresh();
  const zipFile = join(dir, 'bomb.zip');
  await writeRawZip(zipFile, [
    { name: `${PREFIX}a.go`, data: 'package a\n' },
    { name: `${PREFIX}bomb`, data: Buffer.alloc(10 << 20), deflate: true, declaredSize: 100 },
  ]);
  const target = join(dir, 'target');
  await expectZipError(unzip(target, M, V, zipFile), 'INVALID_ZIP', `uncompressed size of file ${PREFIX}bomb is larger than declared size (100 bytes)`);
  assert.deepEqual(await readdir(dir), ['bomb.zip']);
  await expectZipError(hashZip(zipFile), 'INVALID_ZIP', 'larger than declared size');
  // An entry too large to be inflated in one piece is stopped while streaming, just the same.
  const streamed = join(dir, 'streamed.zip');
  await writeRawZip(streamed, [{ name: `${PREFIX}big`, data: Buffer.alloc(3 << 20, 'x'), deflate: true, declaredSize: 2 << 20 }]);
  await expectZipError(hashZip(streamed), 'INVALID_ZIP', `uncompressed size of file ${PREFIX}big is larger than declared size (${2 << 20} bytes)`);
  await rm(streamed);
  // A target that existed (empty) stays, emptied again.
  await mkdir(target);
  await expectZipError(unzip(target, M, V, zipFile), 'INVALID_ZIP', 'larger than declared size');
  assert.deepEqual(await readdir(target), []);
});

test('checks use declared sizes: a huge declared size fails before any data is read', async () => {
  const zipFile = join(await fresh(), 'huge.zip');
  await writeRawZip(zipFile, [{ name: `${PREFIX}big`, data: 'small', deflate: true, declaredSize: 0xffffffff }]);
  const cf = await checkZip(M, V, zipFile);
  assert.equal(cf.error?.code, 'ZIP_TOO_LARGE');
  assert.equal(cf.error?.message, `total uncompressed size of module contents too large (max size is ${MAX_ZIP_FILE} bytes)`);
  await expectZipError(unzip(join(await fresh(), 't'), M, V, zipFile), 'ZIP_TOO_LARGE', 'total uncompressed size of module contents too large');
});

test('entries that end short or fail their CRC are typed errors', async () => {
  const short = join(await fresh(), 'short.zip');
  await writeRawZip(short, [{ name: `${PREFIX}a`, data: 'abc', deflate: true, declaredSize: 10 }]);
  await expectZipError(hashZip(short), 'INVALID_ZIP', 'ends after 3 of its declared 10 bytes');
  const badCrc = join(await fresh(), 'crc.zip');
  await writeRawZip(badCrc, [{ name: `${PREFIX}a`, data: 'abc', crc: 12345 }]);
  await expectZipError(hashZip(badCrc), 'INVALID_ZIP', 'checksum error');
  await expectZipError(unzip(join(await fresh(), 't'), M, V, badCrc), 'INVALID_ZIP', `unzip ${badCrc}: zip: checksum error`);
});

test('random bytes, a truncated zip and an empty file are INVALID_ZIP, never a bare library error', async () => {
  const dir = await fresh();
  const valid = await readFile(await createToFile([file('go.mod', 'module example.com/m\n'), file('a.go', 'package m\n'.repeat(100))]));
  const inputs: [string, Buffer][] = [
    ['random', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251))],
    ['truncated', valid.subarray(0, valid.length - 30)],
    ['cut-in-half', valid.subarray(0, valid.length >> 1)],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [name, data] of inputs) {
    const zipFile = join(dir, `${name}.zip`);
    await writeFile(zipFile, data);
    await expectZipError(checkZip(M, V, zipFile), 'INVALID_ZIP', 'zip: not a valid zip file');
    await expectZipError(hashZip(zipFile), 'INVALID_ZIP', 'zip: not a valid zip file');
    await expectZipError(unzip(join(dir, `${name}-target`), M, V, zipFile), 'INVALID_ZIP', `unzip ${zipFile}: zip: not a valid zip file`);
  }
});


test('fuzz: mutated, truncated and random zips give success or our typed errors, and unzip stays inside its target', async () => {
  const next = seededRandom(0x5eed);
  const random = (n: number): number => Math.floor(next() * n);
  const base = await readFile(
    await createToFile([
      file('go.mod', 'module example.com/m\n\ngo 1.21\n'),
      file('a.go', 'package m\n\nfunc A() {}\n'.repeat(20)),
      file('pkg/b.go', 'package pkg\n'),
      file('LICENSE', 'BSD\n'),
    ]),
  );
  const stored = join(await fresh(), 'stored.zip');
  await writeRawZip(stored, [
    { name: `${PREFIX}go.mod`, data: 'module example.com/m\n' },
    { name: `${PREFIX}x/y.go`, data: 'package x\n', deflate: true },
  ]);
  const bases = [base, await readFile(stored)];
  const sandbox = await fresh();
  let succeeded = 0;
  for (let i = 0; i < 300; i++) {
    const src = bases[random(bases.length)]!;
    let data: Buffer;
    switch (random(4)) {
      case 0:
        data = Buffer.from(Array.from({ length: random(600) }, () => random(256)));
        break;
      case 1:
        data = src.subarray(0, random(src.length + 1));
        break;
      default:
        data = Buffer.from(src);
        for (let k = 1 + random(6); k > 0; k--) data[random(data.length)] = random(256);
    }
    const caseDir = join(sandbox, `case${i}`);
    await mkdir(caseDir);
    const zipFile = join(caseDir, 'in.zip');
    await writeFile(zipFile, data);
    const target = join(caseDir, 'target');
    const ours = (err: unknown): boolean => {
      assert.ok(err instanceof GodepotError, `case ${i}: untyped ${(err as Error)?.stack ?? String(err)}`);
      return true;
    };
    await checkZip(M, V, zipFile).catch(ours);
    await hashZip(zipFile).catch(ours);
    try {
      await unzip(target, M, V, zipFile);
      succeeded++;
      assert.deepEqual((await readdir(caseDir)).sort(), ['in.zip', 'target']);
      assert.equal(await hashDir(target, PREFIX), await hashZip(zipFile));
    } catch (err) {
      ours(err);
      assert.deepEqual(await readdir(caseDir), ['in.zip'], `case ${i}: unzip left files behind`);
    }
  }
  // Nothing was written anywhere but in the case directories.
  assert.equal((await readdir(sandbox)).length, 300);
  assert.ok(succeeded > 0 && succeeded < 300, `only ${succeeded} of 300 cases extracted: the mutations are not exercising both paths`);
});

test('a zip file over the limit is refused before it is opened', async () => {
  const zipFile = join(await fresh(), 'sparse.zip');
  const { open } = await import('node:fs/promises');
  const handle = await open(zipFile, 'w');
  await handle.truncate(MAX_ZIP_FILE + 1);
  await handle.close();
  assert.equal((await stat(zipFile)).size, MAX_ZIP_FILE + 1);
  const cf = await checkZip(M, V, zipFile);
  assert.equal(cf.error?.code, 'ZIP_TOO_LARGE');
  assert.equal(cf.error?.message, `module zip file is too large (${MAX_ZIP_FILE + 1} bytes; limit is ${MAX_ZIP_FILE} bytes)`);
  await expectZipError(unzip(join(await fresh(), 't'), M, V, zipFile), 'ZIP_TOO_LARGE', 'module zip file is too large');
});
