import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { BundleFormatError } from './format-error.js';
import { GZIP_HEADER, STORED_BLOCK, StoredGzipReader, StoredGzipWriter, compressedOffset, compressedSize, dataSizeOf } from './gzip.js';

async function gzip(data: Buffer, chunk = 1 << 16): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunk) pieces.push(data.subarray(at, at + chunk));
  return buffer(Readable.from(pieces, { objectMode: false }).pipe(new StoredGzipWriter()));
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

const sizes = [0, 1, 512, STORED_BLOCK - 1, STORED_BLOCK, STORED_BLOCK + 1, 2 * STORED_BLOCK, 200_000];

describe('stored-block gzip', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'godepot-gzip-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes gzip that zlib reads back, of exactly the size the layout predicts, with the fixed header', async () => {
    for (const size of sizes) {
      const data = randomBytes(size);
      const gz = await gzip(data);
      assert.deepEqual(gunzipSync(gz), data, `size ${size}`);
      assert.equal(gz.length, compressedSize(size), `size ${size}`);
      assert.deepEqual(gz.subarray(0, 10), GZIP_HEADER);
      assert.equal(dataSizeOf(gz.length), size);
    }
  });

  it('puts data byte u at compressedOffset(u)', async () => {
    const data = randomBytes(3 * STORED_BLOCK + 17);
    const gz = await gzip(data);
    for (const u of [0, 1, STORED_BLOCK - 1, STORED_BLOCK, 2 * STORED_BLOCK + 5, data.length - 1]) {
      assert.equal(gz[compressedOffset(u)], data[u], `byte ${u}`);
    }
  });

  it('gives the same bytes however the input is chunked', async () => {
    const data = randomBytes(150_000);
    const reference = await gzip(data);
    for (const chunk of [1, 7, 4096, 65_536, 150_000]) assert.deepEqual(await gzip(data, chunk), reference, `chunks of ${chunk}`);
  });

  it('finds no data size for file sizes between the layout’s', () => {
    // Five file sizes per block cannot occur: a block header with no data after it.
    const afterFirst = compressedSize(STORED_BLOCK - 1);
    for (let extra = 1; extra <= 5; extra++) assert.equal(dataSizeOf(afterFirst + extra), null);
    assert.equal(dataSizeOf(afterFirst + 6), STORED_BLOCK);
    assert.equal(dataSizeOf(17), null);
  });

  it('reads ranges in place, across block boundaries, and the whole with its CRC', async () => {
    const data = randomBytes(5 * STORED_BLOCK + 1000);
    const file = join(dir, 'ranges.gz');
    await writeFile(file, await gzip(data));
    const reader = await StoredGzipReader.open(file);
    try {
      assert.equal(reader.size, data.length);
      for (const [start, length] of [[0, 1], [STORED_BLOCK - 3, 6], [100, 3 * STORED_BLOCK], [data.length - 1, 1], [7, 0], [0, data.length]] as const) {
        assert.deepEqual(await reader.read(start, length), data.subarray(start, start + length), `${start}+${length}`);
        assert.deepEqual(Buffer.concat(await collect(reader.stream(start, start + length))), data.subarray(start, start + length));
      }
      assert.deepEqual(Buffer.concat(await collect(reader.readAll())), data);
    } finally {
      await reader.close();
    }
  });

  it('refuses recompressed, truncated and altered files with BundleFormatError', async () => {
    const data = randomBytes(3 * STORED_BLOCK);
    const good = await gzip(data);
    const cases: [string, Buffer, RegExp][] = [
      ['not gzip', Buffer.from('hello'), /not a gzip file/],
      ['mtime set', Buffer.concat([good.subarray(0, 4), Buffer.from([1, 0, 0, 0]), good.subarray(8)]), /gzip header is not the one godepot writes/],
      ['truncated', good.subarray(0, good.length - 1000), /not in the bundle layout/],
      ['ISIZE altered', Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good[good.length - 1]! ^ 1])]), /trailer records/],
    ];
    for (const [what, bytes, message] of cases) {
      const file = join(dir, `${what}.gz`);
      await writeFile(file, bytes);
      await assert.rejects(StoredGzipReader.open(file), (err) => err instanceof BundleFormatError && message.test(err.message), what);
    }
  });

  it('notices a corrupted block header when reading across it, and a changed data byte by the CRC', async () => {
    const data = randomBytes(3 * STORED_BLOCK);
    const good = await gzip(data);
    const header = Buffer.from(good);
    header[compressedOffset(STORED_BLOCK) - 4]! ^= 0xff;
    const file = join(dir, 'header.gz');
    await writeFile(file, header);
    const reader = await StoredGzipReader.open(file);
    try {
      assert.deepEqual(await reader.read(10, 100), data.subarray(10, 110));
      await assert.rejects(reader.read(STORED_BLOCK - 10, 20), (err) => err instanceof BundleFormatError && /block 1 .* is not a stored block of 65535 bytes/.test(err.message));
    } finally {
      await reader.close();
    }
    const flipped = Buffer.from(good);
    flipped[compressedOffset(12345)]! ^= 1;
    await writeFile(file, flipped);
    const crcReader = await StoredGzipReader.open(file);
    try {
      await assert.rejects(collect(crcReader.readAll()), (err) => err instanceof BundleFormatError && /CRC-32/.test(err.message));
    } finally {
      await crcReader.close();
    }
  });
});
