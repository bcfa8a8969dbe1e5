// The golang.org/x/mod/zip test vectors (check_files, check_dir, check_zip, create, create_from_dir,
// unzip), read in place and run the way x/mod's zip_test.go runs them; then the cases zip_test.go writes
// in code rather than in files (size limits, links, empty and vendor directories).

import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { after, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { hashDir, hashZip } from '../../src/module/hash.js';
import {
  checkDir,
  checkFiles,
  checkZip,
  createZip,
  createZipFromDir,
  unzip,
  ZipError,
  type CheckedFiles,
  type ModuleFile,
} from '../../src/module/zip.js';
import { conformanceDir } from '../support/conformance.js';
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

// A zip with the given names byte for byte (yazl refuses names like "not/../clean"), stored, no
// directory entries: what zip_test.go's extractTxtarToTempZip builds with archive/zip.
async function writeRawZip(file: string, entries: { name: Buffer; data: Buffer }[]): Promise<void> {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(0, 8);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(e.name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x800, 8);
    cd.writeUInt16LE(0x21, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(e.data.length, 20);
    cd.writeUInt32LE(e.data.length, 24);
    cd.writeUInt16LE(e.name.length, 28);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, e.name, e.data);
    central.push(cd, e.name);
    offset += 30 + e.name.length + e.data.length;
  }
  const cdBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  await writeFile(file, Buffer.concat([...parts, cdBytes, end]));
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
