import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, test } from 'node:test';
import yazl from 'yazl';
import { manyFileZip, manyFileZipH1, writeRawZip, type RawEntry } from '../../test/support/rawzip.js';
import { hashZip } from './hash.js';
import { checkZip, readZipModuleVersion, unzip } from './zip.js';
import { ZipBudget } from './zipbudget.js';
import { ZipError } from './ziperror.js';
import { ZipReader } from './zipreader.js';

const work = await mkdtemp(join(tmpdir(), 'godepot-zipreader-test-'));
after(() => rm(work, { recursive: true, force: true }));

const M = 'example.com/many';
const V = 'v1.0.0';
const PREFIX = `${M}@${V}/`;
const MANY = 100_000;

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
// Go's Hash1 written out for a few files, given in the order go sorts their names.
const summaryHash = (files: [string, Buffer][]): string =>
  'h1:' + createHash('sha256').update(files.map(([name, data]) => `${sha256(data)}  ${name}\n`).join('')).digest('base64');

async function written(name: string, data: Buffer): Promise<string> {
  const file = join(work, name);
  await writeFile(file, data);
  return file;
}

test('a zip of 100,000 files reads as go reads it, whichever way its end record counts them', async () => {
  const want = manyFileZipH1(PREFIX, MANY);
  // go's archive/zip writes a zip64 end record past 65534 entries; other writers keep the low 16 bits of
  // the count, and go then reads records until the directory ends.
  for (const style of ['go', 'truncated'] as const) {
    const zipFile = await written(`many-${style}.zip`, manyFileZip(PREFIX, MANY, style));
    const checked = await checkZip(M, V, zipFile);
    assert.equal(checked.error, null, style);
    assert.equal(checked.valid.length, MANY, style);
    assert.equal(checked.valid[MANY - 1], `${PREFIX}d0097/f0099999`);
    assert.equal(await hashZip(zipFile), want, style);
    assert.deepEqual(await readZipModuleVersion(zipFile), { modulePath: M, version: V });
  }
});

test('an end record whose count disagrees with the directory beyond its 16 bits is not a valid zip', async () => {
  const zip = manyFileZip(PREFIX, 1000, 'truncated');
  zip.writeUInt16LE(1001, zip.length - 22 + 10);
  const zipFile = await written('miscounted.zip', zip);
  await assert.rejects(hashZip(zipFile), (err) => err instanceof ZipError && err.code === 'INVALID_ZIP' && /not a valid zip file/.test(err.message));
  await assert.rejects(checkZip(M, V, zipFile), (err) => err instanceof ZipError && err.code === 'INVALID_ZIP');
});

test('bytes before the first entry (a self-extracting stub) are skipped as go skips them', async () => {
  const plain = join(work, 'plain.zip');
  await writeRawZip(plain, [
    { name: `${PREFIX}go.mod`, data: `module ${M}\n` },
    { name: `${PREFIX}a.go`, data: 'package many\n', deflate: true },
  ]);
  const zip = await readFile(plain);
  const stubbed = await written('stubbed.zip', Buffer.concat([Buffer.alloc(1000, 'x'), zip]));
  assert.equal((await checkZip(M, V, stubbed)).error, null);
  assert.equal(await hashZip(stubbed), await hashZip(plain));
  assert.equal(await hashZip(plain), summaryHash([[`${PREFIX}a.go`, Buffer.from('package many\n')], [`${PREFIX}go.mod`, Buffer.from(`module ${M}\n`)]]));
});

test('entries the directory lists out of file order, of every size and kind, hash and extract right', async () => {
  const big = Buffer.alloc(3 << 20, 'big file ');
  const medium = Buffer.from('medium '.repeat(30_000));
  const entries: RawEntry[] = [
    { name: `${PREFIX}z.txt`, data: 'last by name, first in the file' },
    { name: `${PREFIX}big.bin`, data: big, deflate: true },
    { name: `${PREFIX}medium.txt`, data: medium, deflate: true },
    { name: `${PREFIX}small.txt`, data: 'small', deflate: true },
    { name: `${PREFIX}empty` },
    { name: `${PREFIX}stored-big.bin`, data: big },
  ];
  const zipFile = join(work, 'shuffled.zip');
  await writeRawZip(zipFile, entries, { directoryOrder: [3, 5, 0, 2, 4, 1] });
  const want = summaryHash(
    [...entries]
      .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
      .map((e) => [String(e.name), Buffer.from(e.data ?? '')]),
  );
  assert.equal(await hashZip(zipFile), want);
  const target = join(work, 'shuffled');
  await unzip(target, M, V, zipFile);
  assert.deepEqual(await readFile(join(target, 'big.bin')), big);
  assert.deepEqual(await readFile(join(target, 'medium.txt')), medium);
});

test('entries with data descriptors, as streaming writers make them, hash as go hashes them', async () => {
  const zipFile = join(work, 'described.zip');
  const zip = new yazl.ZipFile();
  const files: [string, Buffer][] = [
    [`${PREFIX}a.go`, Buffer.from('package many\n'.repeat(100))],
    [`${PREFIX}b.go`, Buffer.alloc(200_000, 'b')],
    [`${PREFIX}c.go`, Buffer.alloc(2 << 20, 'c')],
  ];
  for (const [name, data] of files) zip.addReadStream(Readable.from([data]), name);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(zipFile));
  assert.equal(await hashZip(zipFile), summaryHash(files));
  // A descriptor whose CRC-32 disagrees with the directory's fails the entry.
  const bytes = await readFile(zipFile);
  const descriptor = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x07, 0x08]));
  bytes.writeUInt32LE((bytes.readUInt32LE(descriptor + 4) ^ 1) >>> 0, descriptor + 4);
  const tampered = await written('tampered.zip', bytes);
  await assert.rejects(hashZip(tampered), (err) => err instanceof ZipError && /checksum error/.test(err.message));
});

test('checking and hashing a zip of many entries lets other work run meanwhile', async () => {
  const zipFile = await written('many-again.zip', manyFileZip(PREFIX, MANY));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  try {
    await checkZip(M, V, zipFile);
    const afterCheck = ticks;
    await hashZip(zipFile);
    assert.ok(afterCheck > 0, 'a timer fired while the zip was checked');
    assert.ok(ticks > afterCheck, 'a timer fired while the zip was hashed');
  } finally {
    clearInterval(timer);
  }
});

test('an open reader holds its share of the budget until closed; the next one waits for room', async () => {
  const zipFile = await written('budgeted.zip', manyFileZip(PREFIX, 10_000));
  const budget = new ZipBudget(1 << 20);
  const first = await ZipReader.open(zipFile, budget);
  // The share is the whole (small) budget: the zip costs more than it holds, so it runs alone.
  assert.equal(budget.reserved, 1 << 20);
  let secondOpened = false;
  const second = ZipReader.open(zipFile, budget).then((reader) => {
    secondOpened = true;
    return reader;
  });
  while (budget.queued === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(secondOpened, false, 'the second reader waits while the first holds the budget');
  assert.equal(first.count, 10_000);
  await first.close();
  const reader = await second;
  assert.equal(reader.count, 10_000);
  await reader.close();
  assert.equal(budget.reserved, 0);
  // A zip that is not one reserves nothing that stays reserved.
  await assert.rejects(ZipReader.open(await written('junk.zip', Buffer.alloc(100)), budget), ZipError);
  assert.equal(budget.reserved, 0);
});

test('a reader of a 100,000-entry zip reserves a few hundred bytes per entry, not the kilobyte an entry once cost', async () => {
  const zipFile = await written('reserved.zip', manyFileZip(PREFIX, MANY));
  const budget = new ZipBudget(256 << 20);
  const reader = await ZipReader.open(zipFile, budget);
  try {
    const perEntry = budget.reserved / MANY;
    assert.ok(perEntry < 400, `${perEntry.toFixed(0)} bytes reserved per entry`);
  } finally {
    await reader.close();
  }
});

test('paths thousands of directories deep are checked, and a case collision deep down is found', async () => {
  const deep = 'a/'.repeat(20_000);
  const zipFile = join(work, 'deep.zip');
  await writeRawZip(zipFile, [
    ...Array.from({ length: 20 }, (_, i) => ({ name: `${PREFIX}x${i}/${deep}f.go`, data: 'package a\n' })),
    { name: `${PREFIX}x3/${'a/'.repeat(12_345)}A/g.go`, data: 'package a\n' },
  ]);
  const checked = await checkZip(M, V, zipFile);
  assert.equal(checked.valid.length, 20);
  assert.equal(checked.invalid.length, 1);
  const upper = `x3/${'a/'.repeat(12_345)}A`;
  assert.equal(checked.invalid[0]!.reason, `case-insensitive file name collision: "${upper.toLowerCase()}" and "${upper}"`);
});
