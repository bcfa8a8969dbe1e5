import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, test } from 'node:test';
import yazl from 'yazl';
import { DirHashError, hash1, hashDir, hashGoMod, hashZip } from './hash.js';
import { createZip } from './zip.js';
import { ZipError } from './ziperror.js';

const EMPTY_H1 = 'h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const work = await mkdtemp(join(tmpdir(), 'godepot-hash-test-'));
after(() => rm(work, { recursive: true, force: true }));

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
// The Hash1 definition, written out for small inputs: names already in the order go sorts them.
const summaryHash = (files: [string | Buffer, string | Buffer][]): string =>
  'h1:' +
  createHash('sha256')
    .update(Buffer.concat(files.map(([name, data]) => Buffer.concat([Buffer.from(`${sha256(data)}  `), Buffer.from(name), Buffer.from('\n')]))))
    .digest('base64');

const contents = (s: string | Buffer) => Readable.from([Buffer.from(s)]);

test('hash1 of nothing is the sha256 of nothing', async () => {
  assert.equal(await hash1([], () => contents('')), EMPTY_H1);
});

test('hash1 sorts names by UTF-8 bytes, not UTF-16 code units', async () => {
  // U+FF61 sorts after U+10000 in UTF-16 (a surrogate pair starts 0xD800) but before it in UTF-8.
  const names = ['\u{10000}', '\uff61', 'b', 'a'];
  const data: Record<string, string> = { '\u{10000}': 'astral', '\uff61': 'bmp', b: 'bee', a: 'ay' };
  const got = await hash1(names, (n) => contents(data[n]!));
  assert.equal(got, summaryHash([['a', 'ay'], ['b', 'bee'], ['\uff61', 'bmp'], ['\u{10000}', 'astral']]));
});

test('hash1 refuses a name with a newline, as dirhash does', async () => {
  await assert.rejects(hash1(['a\nb'], () => contents('')), (err: unknown) => {
    assert.ok(err instanceof DirHashError);
    assert.equal(err.code, 'DIRHASH_NEWLINE_IN_NAME');
    assert.equal(err.message, 'dirhash: filenames with newlines are not supported');
    return true;
  });
});

test('hashGoMod matches the go.sum /go.mod hash go computed for the same file', () => {
  // `go mod download -json` reported this GoModSum for a module whose go.mod is exactly this text.
  assert.equal(hashGoMod(Buffer.from('module example.com/a\n\ngo 1.16\n')), 'h1:zmAAEKYOJls/YuOGNOp6WockgZUEzT6OLskIog130As=');
  assert.equal(hashGoMod(Buffer.alloc(0)), 'h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=');
});

test('hashDir and hashZip agree on a module and its zip', async () => {
  const dir = join(work, 'tree');
  await mkdir(join(dir, 'pkg', 'sub'), { recursive: true });
  const files: Record<string, string> = { 'go.mod': 'module example.com/m\n', 'pkg/a.go': 'package pkg\n', 'pkg/sub/b.go': 'package sub\n', 'é.txt': 'accent\n' };
  for (const [p, d] of Object.entries(files)) await writeFile(join(dir, p), d);
  const zipFile = join(work, 'tree.zip');
  await createZip(
    createWriteStream(zipFile),
    'example.com/m',
    'v1.0.0',
    Object.entries(files).map(([path, d]) => ({ path, size: Buffer.byteLength(d), open: () => contents(d) })),
  );
  const fromZip = await hashZip(zipFile);
  assert.equal(await hashDir(dir, 'example.com/m@v1.0.0/'), fromZip);
  // The prefix is joined and cleaned as filepath.Join does: a missing slash or an empty prefix are fine.
  assert.equal(await hashDir(dir, 'example.com/m@v1.0.0'), fromZip);
  const expected = summaryHash(
    Object.keys(files)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map((p) => [p, files[p]!]),
  );
  assert.equal(await hashDir(dir, ''), expected);
});

test('hashDir counts a symbolic link as a file and reads through it, as dirhash does', async () => {
  const dir = join(work, 'links');
  await mkdir(join(dir, 'real'), { recursive: true });
  await writeFile(join(dir, 'real', 'f'), 'data');
  await symlink('real/f', join(dir, 'link'));
  assert.equal(await hashDir(dir, 'p'), summaryHash([['p/link', 'data'], ['p/real/f', 'data']]));
});

test('hashDir of a file is an error', async () => {
  const file = join(work, 'plain');
  await writeFile(file, 'x');
  await assert.rejects(hashDir(file, ''), (err: unknown) => err instanceof DirHashError && err.code === 'DIRHASH_NOT_A_DIRECTORY');
});

test('hashZip hashes a name stored twice twice, with the last entry’s contents, as go does', async () => {
  // Go's HashZip keeps one entry per name in a map (the last), but lists every name.
  const zipFile = join(work, 'dup.zip');
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('first'), 'm@v/a');
  zip.addBuffer(Buffer.from('second'), 'm@v/a');
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(zipFile));
  assert.equal(await hashZip(zipFile), summaryHash([['m@v/a', 'second'], ['m@v/a', 'second']]));
});

test('hashZip of something that is not a zip is a typed error', async () => {
  const file = join(work, 'not.zip');
  await writeFile(file, 'this is not a zip file at all, just text');
  await assert.rejects(hashZip(file), (err: unknown) => err instanceof ZipError && err.code === 'INVALID_ZIP');
});
