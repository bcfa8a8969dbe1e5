// The golang.org/x/mod/zip test vectors (check_files, check_dir, check_zip, create, create_from_dir,
// unzip), read in place and run the way x/mod's zip_test.go runs them; then the cases zip_test.go writes
// in code rather than in files (size limits, links, empty and vendor directories).

import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, test } from 'node:test';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { hashDir, hashZip } from '../../src/module/hash.js';
import {
  checkDir,
  checkFiles,
  checkZip,
  createZip,
  createZipFromDir,
  MAX_GO_MOD,
  MAX_LICENSE,
  MAX_ZIP_FILE,
  unzip,
  ZipError,
  type CheckedFiles,
  type ModuleFile,
} from '../../src/module/zip.js';
import { conformanceDir } from '../support/conformance.js';
import { writeRawZip } from '../support/rawzip.js';
import { discard, zeros } from '../support/streams.js';
import { parseTxtar, type TxtarFile } from '../support/txtar.js';

const scratch = mkdtempSync(join(tmpdir(), 'godepot-zip-conformance-'));
after(() => rm(scratch, { recursive: true, force: true }));
let scratchCount = 0;
async function freshDir(): Promise<string> {
  const dir = join(scratch, String(scratchCount++));
  await mkdir(dir);
  return dir;
}

interface Vector {
  /** Kept as bytes: three vectors give the module path as the single byte 0xFF. */
  path: Buffer;
  version: string;
  wantErr: string | undefined;
  hash: string | undefined;
  files: TxtarFile[];
}

// The header rules of zip_test.go's readTest: "#" comments, blank lines, key=value, four known keys.
function parseVector(data: Buffer): Vector {
  const archive = parseTxtar(data);
  const v: Vector = { path: Buffer.alloc(0), version: '', wantErr: undefined, hash: undefined, files: archive.files };
  let start = 0;
  const comment = archive.comment;
  while (start < comment.length) {
    let end = comment.indexOf(0x0a, start);
    if (end < 0) end = comment.length;
    let line = comment.subarray(start, end);
    start = end + 1;
    const hashMark = line.indexOf('#');
    if (hashMark >= 0) line = line.subarray(0, hashMark);
    const eq = line.indexOf('=');
    const trimmed = line.toString('latin1').trim();
    if (trimmed === '') continue;
    assert.ok(eq >= 0, `header line without "=": ${trimmed}`);
    const key = line.subarray(0, eq).toString('latin1').trim();
    const raw = line.subarray(eq + 1);
    const value = raw.toString('utf8').trim();
    switch (key) {
      case 'path':
        v.path = Buffer.from(raw.toString('latin1').trim(), 'latin1');
        break;
      case 'version':
        v.version = value;
        break;
      case 'wantErr':
        v.wantErr = value;
        break;
      case 'hash':
        v.hash = value;
        break;
      default:
        assert.fail(`unknown header key ${key}`);
    }
  }
  return v;
}

// zip_test.go's formatCheckedFiles.
function formatChecked(cf: CheckedFiles): string {
  let out = 'valid:\n';
  for (const p of cf.valid) out += p + '\n';
  out += '\nomitted:\n';
  for (const p of cf.omitted) out += `${p.path}: ${p.reason}\n`;
  out += '\ninvalid:\n';
  for (const p of cf.invalid) out += `${p.path}: ${p.reason}\n`;
  return out;
}

// The error must be exactly the list of invalid files (no vector exercises a size error).
function assertErrorIsInvalidList(cf: CheckedFiles): void {
  const want = cf.invalid.map((p) => `${p.path}: ${p.reason}`).join('\n');
  assert.equal(cf.error?.message ?? '', want);
  if (cf.error !== null) assert.equal(cf.error.code, 'INVALID_ZIP_CONTENT');
}

function splitWant(files: TxtarFile[]): { want: string; inputs: TxtarFile[] } {
  const i = files.findIndex((f) => f.name === 'want');
  assert.ok(i >= 0, 'vector has no want file');
  return { want: files[i]!.data.toString('utf8'), inputs: [...files.slice(0, i), ...files.slice(i + 1)] };
}

function memoryFile(path: string, data: Buffer): ModuleFile {
  return { path, size: data.length, open: () => Readable.from([data]) };
}

async function writeTree(dir: string, files: TxtarFile[]): Promise<void> {
  for (const f of files) {
    const p = join(dir, ...f.name.split('/'));
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, f.data);
  }
}


// For create, create_from_dir and unzip: the operation fails with wantErr in its message, or succeeds
// with the expected hash.
async function expectOutcome(v: Vector, run: () => Promise<string>): Promise<void> {
  if (v.wantErr !== undefined) {
    await assert.rejects(run(), (err: unknown) => {
      assert.ok(err instanceof ZipError, `expected a ZipError, got ${String(err)}`);
      assert.ok(err.message.includes(v.wantErr!), `error ${JSON.stringify(err.message)} lacks ${JSON.stringify(v.wantErr)}`);
      return true;
    });
    return;
  }
  const got = await run();
  if (v.hash !== undefined) assert.equal(got, v.hash);
}

async function createToFile(make: (out: Writable) => Promise<void>): Promise<string> {
  const zipFile = join(await freshDir(), 'out.zip');
  await make(createWriteStream(zipFile));
  return hashZip(zipFile);
}

const runners: Record<string, (v: Vector) => Promise<void>> = {
  async check_files(v) {
    const { want, inputs } = splitWant(v.files);
    // zip_test.go drops every file named want here, not just the first.
    const cf = await checkFiles(inputs.filter((f) => f.name !== 'want').map((f) => memoryFile(f.name, f.data)));
    assert.equal(formatChecked(cf), want);
    assertErrorIsInvalidList(cf);
  },
  async check_dir(v) {
    const { want, inputs } = splitWant(v.files);
    const dir = await freshDir();
    await writeTree(dir, inputs);
    const cf = await checkDir(dir);
    assert.equal(formatChecked(cf).split(dir).join('$work').split(sep).join('/'), want);
    assertErrorIsInvalidList(cf);
  },
  async check_zip(v) {
    const { want, inputs } = splitWant(v.files);
    const zipFile = join(await freshDir(), 'in.zip');
    await writeRawZip(zipFile, inputs.map((f) => ({ name: Buffer.from(f.name), data: f.data })));
    const cf = await checkZip(v.path, v.version, zipFile);
    assert.equal(formatChecked(cf), want);
    assertErrorIsInvalidList(cf);
  },
  async create(v) {
    const files = v.files.map((f) => memoryFile(f.name, f.data));
    await expectOutcome(v, () => createToFile((out) => createZip(out, v.path, v.version, files)));
  },
  async create_from_dir(v) {
    const dir = await freshDir();
    await writeTree(dir, v.files);
    await expectOutcome(v, () => createToFile((out) => createZipFromDir(out, v.path, v.version, dir)));
  },
  async unzip(v) {
    const zipFile = join(await freshDir(), 'in.zip');
    await writeRawZip(zipFile, v.files.map((f) => ({ name: Buffer.from(f.name), data: f.data })));
    const target = await freshDir();
    await expectOutcome(v, async () => {
      await unzip(target, v.path, v.version, zipFile);
      return hashDir(target, `${v.path.toString('utf8')}@${v.version}/`);
    });
  },
};

const root = conformanceDir();
if (root === null) {
  test('golang.org/x/mod zip conformance vectors', { skip: 'conformance vectors absent: see test/support/conformance.ts' }, () => {});
} else {
  const testdata = join(root, 'zip', 'testdata');
  let count = 0;
  for (const kind of Object.keys(runners)) {
    const names = readdirSync(join(testdata, kind)).filter((n) => n.endsWith('.txt')).sort();
    for (const name of names) {
      count++;
      const data = readFileSync(join(testdata, kind, name));
      test(`x/mod zip ${kind}/${name}`, () => runners[kind]!(parseVector(data)));
    }
  }
  test('every x/mod zip vector was found', () => assert.equal(count, 54));
}

// ---- The cases zip_test.go writes in code: TestCreateSizeLimits, TestUnzipSizeLimits,
// TestUnzipSizeLimitsSpecial and TestCreateFromDirSpecial. Large files are streams of zeros, never buffers.

const EMPTY_H1 = 'h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const M = 'example.com/m';
const V = 'v1.0.0';


async function outcome(p: Promise<unknown>, wantErr: string | undefined, what: string): Promise<void> {
  if (wantErr === undefined) {
    await p;
    return;
  }
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ZipError, `${what}: expected a ZipError, got ${String(err)}`);
    assert.ok(err.message.includes(wantErr), `${what}: ${JSON.stringify(err.message)} lacks ${JSON.stringify(wantErr)}`);
    return true;
  });
}

interface SizeLimitCase {
  desc: string;
  files: { path: string; size: number }[];
  wantErr?: string;
  wantCheckFilesErr?: string;
  wantCreateErr?: string;
  wantCheckZipErr?: string;
  wantUnzipErr?: string;
}

const tooLargeTree = {
  wantCheckFilesErr: 'module source tree too large',
  wantCreateErr: 'module source tree too large',
  wantCheckZipErr: 'total uncompressed size of module contents too large',
  wantUnzipErr: 'total uncompressed size of module contents too large',
};

const sizeLimitCases: SizeLimitCase[] = [
  { desc: 'one_large', files: [{ path: 'large.go', size: MAX_ZIP_FILE }] },
  { desc: 'one_too_large', files: [{ path: 'large.go', size: MAX_ZIP_FILE + 1 }], ...tooLargeTree },
  { desc: 'total_large', files: [{ path: 'small.go', size: 10 }, { path: 'large.go', size: MAX_ZIP_FILE - 10 }] },
  { desc: 'total_too_large', files: [{ path: 'small.go', size: 10 }, { path: 'large.go', size: MAX_ZIP_FILE - 9 }], ...tooLargeTree },
  { desc: 'large_gomod', files: [{ path: 'go.mod', size: MAX_GO_MOD }] },
  { desc: 'too_large_gomod', files: [{ path: 'go.mod', size: MAX_GO_MOD + 1 }], wantErr: 'go.mod file too large' },
  { desc: 'large_license', files: [{ path: 'LICENSE', size: MAX_LICENSE }] },
  { desc: 'too_large_license', files: [{ path: 'LICENSE', size: MAX_LICENSE + 1 }], wantErr: 'LICENSE file too large' },
];

for (const c of sizeLimitCases) {
  test(`x/mod zip size limits: ${c.desc} (checkFiles, createZip, checkZip, unzip)`, async () => {
    const files: ModuleFile[] = c.files.map((f) => ({ path: f.path, size: f.size, open: () => zeros(f.size) }));
    const checked = await checkFiles(files);
    const wantCheckFiles = c.wantCheckFilesErr ?? c.wantErr;
    if (wantCheckFiles === undefined) assert.equal(checked.error, null);
    else assert.ok(checked.error?.message.includes(wantCheckFiles), checked.error?.message);
    await outcome(createZip(discard(), M, V, files), c.wantCreateErr ?? c.wantErr, 'createZip');

    // The zip to check and extract is written by yazl directly, sizes honest, whatever the limits say.
    const dir = await freshDir();
    const zipFile = join(dir, 'in.zip');
    const zip = new yazl.ZipFile();
    for (const f of c.files) zip.addReadStreamLazy(`${M}@${V}/${f.path}`, (cb) => cb(null, zeros(f.size)));
    zip.end();
    await pipeline(zip.outputStream as Readable, createWriteStream(zipFile));
    const cz = await checkZip(M, V, zipFile);
    const wantCheckZip = c.wantCheckZipErr ?? c.wantErr;
    if (wantCheckZip === undefined) assert.equal(cz.error, null);
    else assert.ok(cz.error?.message.includes(wantCheckZip), cz.error?.message);
    await outcome(unzip(join(dir, 'target'), M, V, zipFile), c.wantUnzipErr ?? c.wantErr, 'unzip');
    await rm(dir, { recursive: true, force: true });
  });
}

test('x/mod zip size limits: a negative size and a size that lies (createZip)', async () => {
  await outcome(createZip(discard(), M, V, [{ path: 'neg.go', size: -1, open: () => zeros(0) }]), 'module source tree too large', 'negative');
  const lie: ModuleFile = { path: 'lie.go', size: 1, open: () => Readable.from([Buffer.from('package large')]) };
  await outcome(createZip(discard(), M, V, [lie]), 'larger than declared size', 'size_is_a_lie');
});

test('x/mod zip special unzip sizes: large_zip, too_large_zip, size_is_a_lie', async () => {
  const sparse = async (size: number): Promise<string> => {
    const zipFile = join(await freshDir(), 'sparse.zip');
    const handle = await open(zipFile, 'w');
    await handle.truncate(size);
    await handle.close();
    return zipFile;
  };
  // Exactly at the limit the file is opened, and found not to be a zip.
  await outcome(unzip(await freshDir(), M, V, await sparse(MAX_ZIP_FILE)), 'not a valid zip file', 'large_zip');
  await outcome(unzip(await freshDir(), M, V, await sparse(MAX_ZIP_FILE + 1)), 'module zip file is too large', 'too_large_zip');
  const lying = join(await freshDir(), 'lie.zip');
  await writeRawZip(lying, [{ name: Buffer.from(`${M}@${V}/go.mod`), data: Buffer.alloc(0x0bad), deflate: true, declaredSize: 0xac }]);
  await outcome(
    unzip(await freshDir(), M, V, lying),
    'uncompressed size of file example.com/m@v1.0.0/go.mod is larger than declared size',
    'size_is_a_lie',
  );
});

test('x/mod createZipFromDir special cases: an empty directory, a symlink, a root named vendor', async () => {
  const hashOf = async (dir: string): Promise<string> => createToFile((out) => createZipFromDir(out, M, V, dir));
  const empty = await freshDir();
  await mkdir(join(empty, 'empty'));
  assert.equal(await hashOf(empty), EMPTY_H1);
  const linked = await freshDir();
  await symlink(linked, join(linked, 'link'));
  assert.equal(await hashOf(linked), EMPTY_H1);
  const vendor = join(await freshDir(), 'vendor');
  await mkdir(vendor);
  await writeFile(join(vendor, 'go.mod'), 'module example.com/m\n\ngo 1.13\n');
  assert.equal(await hashOf(vendor), 'h1:XduFAgX/GaspZa8Jv4pfzoGEzNaU/r88PiCunijw5ok=');
});
