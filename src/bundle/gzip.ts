// The gzip layer of a bundle: one gzip member whose deflate stream is nothing but stored (uncompressed)
// blocks of exactly 65535 bytes, the last one shorter (possibly empty). Module zips are already deflated,
// so compressing them again costs time and saves next to nothing. Stored blocks also make the output a
// function of the data alone, whatever the chunking of the streams that fed it, and make the file
// seekable: data byte u lives at file byte compressedOffset(u), so any entry can be read in place.

import { open, type FileHandle } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { BundleFormatError } from './format-error.js';

/** Data bytes in every stored block but the last. */
export const STORED_BLOCK = 65535;
/** The one gzip header a bundle has: deflate, no flags, mtime 0, no extra flags, OS 255 (unknown). */
export const GZIP_HEADER: Readonly<Buffer> = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
const BLOCK_HEADER = 5;
const TRAILER = 8;
// How much of the file one read of a stream fetches.
const READ_SPAN = 16 * (STORED_BLOCK + BLOCK_HEADER);

/** Where data byte `u` sits in the file: past the gzip header and the headers of blocks 0..u/65535. */
export function compressedOffset(u: number): number {
  return GZIP_HEADER.length + BLOCK_HEADER * (Math.floor(u / STORED_BLOCK) + 1) + u;
}

/** The size of the file holding `dataSize` bytes of data. */
export function compressedSize(dataSize: number): number {
  return compressedOffset(dataSize) + TRAILER;
}

/** The data size of a file of `fileSize` bytes in this layout, or null when no data size gives that file size. */
export function dataSizeOf(fileSize: number): number | null {
  const blocksAndData = fileSize - GZIP_HEADER.length - TRAILER;
  if (blocksAndData < BLOCK_HEADER) return null;
  const blocks = Math.floor((blocksAndData + STORED_BLOCK) / (STORED_BLOCK + BLOCK_HEADER));
  const size = blocksAndData - BLOCK_HEADER * blocks;
  return size >= 0 && compressedSize(size) === fileSize ? size : null;
}

// BFINAL and BTYPE 00 in the first byte (a stored block starts on a byte boundary, so its remaining bits
// are padding), then LEN and its ones' complement NLEN, little-endian.
function blockHeader(length: number, final: boolean): Buffer {
  const b = Buffer.allocUnsafe(BLOCK_HEADER);
  b[0] = final ? 1 : 0;
  b.writeUInt16LE(length, 1);
  b.writeUInt16LE(length ^ 0xffff, 3);
  return b;
}

/**
 * Compresses a byte stream into the bundle's gzip layout. The output depends only on the bytes written,
 * never on how they were split into chunks. Input chunks are copied at once, so a producer may reuse
 * its buffers.
 */
export class StoredGzipWriter extends Transform {
  private block = Buffer.allocUnsafe(BLOCK_HEADER + STORED_BLOCK);
  private filled = 0;
  private crc = 0;
  private total = 0;

  constructor() {
    super();
    this.push(GZIP_HEADER);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.total += chunk.length;
    for (let offset = 0; offset < chunk.length; ) {
      const take = Math.min(STORED_BLOCK - this.filled, chunk.length - offset);
      chunk.copy(this.block, BLOCK_HEADER + this.filled, offset, offset + take);
      this.filled += take;
      offset += take;
      if (this.filled === STORED_BLOCK) this.emitBlock(false);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.emitBlock(true);
    const trailer = Buffer.allocUnsafe(TRAILER);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    // ISIZE is the size modulo 2^32.
    trailer.writeUInt32LE(this.total % 2 ** 32, 4);
    this.push(trailer);
    done();
  }

  private emitBlock(final: boolean): void {
    blockHeader(this.filled, final).copy(this.block, 0);
    this.push(this.block.subarray(0, BLOCK_HEADER + this.filled));
    this.block = Buffer.allocUnsafe(BLOCK_HEADER + STORED_BLOCK);
    this.filled = 0;
  }
}

/**
 * A bundle file opened for random access to its data (the tar stream). Opening checks the gzip header,
 * that the file size fits the layout, the last block's header and ISIZE; every read checks the headers
 * of the blocks it crosses, and readAll() also checks the CRC-32. Anything else throws BundleFormatError.
 */
export class StoredGzipReader {
  // The last block read whole for a small read: tar headers of small entries share blocks.
  private cached: { index: number; data: Buffer } | null = null;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    /** Size of the data (the tar stream). */
    readonly size: number,
    /** Size of the file. */
    readonly fileSize: number,
  ) {}

  /** Opens `file` and checks its layout (see the class comment). */
  static async open(file: string): Promise<StoredGzipReader> {
    const handle = await open(file, 'r');
    try {
      const { size: fileSize } = await handle.stat();
      const header = await readExactly(handle, file, 0, Math.min(GZIP_HEADER.length, fileSize));
      if (header.length < 2 || header[0] !== 0x1f || header[1] !== 0x8b) {
        throw new BundleFormatError(`${file} is not a bundle: it is not a gzip file`);
      }
      if (!header.equals(GZIP_HEADER)) throw notStored(file, 'its gzip header is not the one godepot writes');
      const size = dataSizeOf(fileSize);
      if (size === null) throw notStored(file, `its size (${fileSize} bytes) does not fit stored blocks of ${STORED_BLOCK} bytes`);
      const reader = new StoredGzipReader(file, handle, size, fileSize);
      const last = Math.floor(size / STORED_BLOCK);
      reader.checkBlockHeader(last, await readExactly(handle, file, compressedOffset(last * STORED_BLOCK) - BLOCK_HEADER, BLOCK_HEADER), 0);
      const isize = (await reader.trailer()).readUInt32LE(4);
      if (isize !== size % 2 ** 32) throw notStored(file, `its gzip trailer records ${isize} bytes of data, its blocks hold ${size}`);
      return reader;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  private trailer(): Promise<Buffer> {
    return readExactly(this.handle, this.file, this.fileSize - TRAILER, TRAILER);
  }

  private checkBlockHeader(index: number, bytes: Buffer, at: number): void {
    const last = Math.floor(this.size / STORED_BLOCK);
    if (index > last) return;
    const length = index === last ? this.size - last * STORED_BLOCK : STORED_BLOCK;
    if (!bytes.subarray(at, at + BLOCK_HEADER).equals(blockHeader(length, index === last))) {
      throw notStored(this.file, `block ${index} (at byte ${compressedOffset(index * STORED_BLOCK) - BLOCK_HEADER}) is not a stored block of ${length} bytes`);
    }
  }

  /**
   * The data bytes [start, end) in pieces of at most 65535 bytes, read a span of blocks at a time. Each
   * block header inside a span is checked, and so is the header of the first block when `start` is its
   * first byte.
   */
  async *stream(start: number, end: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
    if (start < 0 || end > this.size || start > end) {
      throw new BundleFormatError(`${this.file}: bytes ${start}..${end} lie outside the bundle's ${this.size} bytes of data`);
    }
    for (let u = start; u < end; ) {
      signal?.throwIfAborted();
      const withHeader = u % STORED_BLOCK === 0;
      const fileStart = compressedOffset(u) - (withHeader ? BLOCK_HEADER : 0);
      const spanEnd = Math.min(end, fileOffsetToData(fileStart + READ_SPAN));
      const raw = await readExactly(this.handle, this.file, fileStart, compressedOffset(spanEnd - 1) + 1 - fileStart);
      let r = 0;
      if (withHeader) {
        this.checkBlockHeader(u / STORED_BLOCK, raw, 0);
        r = BLOCK_HEADER;
      }
      while (u < spanEnd) {
        const take = Math.min((Math.floor(u / STORED_BLOCK) + 1) * STORED_BLOCK, spanEnd) - u;
        yield raw.subarray(r, r + take);
        r += take;
        u += take;
        if (u < spanEnd) {
          this.checkBlockHeader(u / STORED_BLOCK, raw, r);
          r += BLOCK_HEADER;
        }
      }
    }
  }

  /** The data bytes [position, position + length) in one buffer. */
  async read(position: number, length: number): Promise<Buffer> {
    const index = Math.floor(position / STORED_BLOCK);
    if (length > 0 && Math.floor((position + length - 1) / STORED_BLOCK) === index && position + length <= this.size) {
      if (this.cached?.index !== index) {
        const blockStart = index * STORED_BLOCK;
        this.cached = { index, data: Buffer.concat(await collect(this.stream(blockStart, Math.min(this.size, blockStart + STORED_BLOCK)))) };
      }
      const from = position - index * STORED_BLOCK;
      return this.cached.data.subarray(from, from + length);
    }
    return Buffer.concat(await collect(this.stream(position, position + length)));
  }

  /**
   * Every data byte in order, every block header checked, and at the end the CRC-32 against the trailer:
   * the one way to know that the whole file is intact.
   */
  async *readAll(signal?: AbortSignal): AsyncGenerator<Buffer> {
    let crc = 0;
    for await (const chunk of this.stream(0, this.size, signal)) {
      crc = crc32(chunk, crc);
      yield chunk;
    }
    const recorded = (await this.trailer()).readUInt32LE(0);
    if (recorded !== crc >>> 0) {
      throw new BundleFormatError(`${this.file}: the data's CRC-32 is ${hex32(crc)}, the gzip trailer records ${hex32(recorded)}: the bundle was changed`);
    }
  }

  /** Releases the file; call it once no stream is being read. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}

// The data offset at or before file offset `f` that starts a whole block or is `f` itself, whichever a
// span should stop at: spans end on data, never inside a block header.
function fileOffsetToData(f: number): number {
  const afterHeader = f - GZIP_HEADER.length;
  const index = Math.floor(afterHeader / (STORED_BLOCK + BLOCK_HEADER));
  const within = afterHeader - index * (STORED_BLOCK + BLOCK_HEADER);
  return index * STORED_BLOCK + Math.max(0, within - BLOCK_HEADER);
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function notStored(file: string, detail: string): BundleFormatError {
  return new BundleFormatError(
    `${file} is not in the bundle layout godepot reads in place (one gzip member of stored ${STORED_BLOCK}-byte blocks): ${detail}. ` +
      'Was it recompressed, truncated or changed? Use the file as godepot wrote it.',
  );
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

// Reads exactly `length` bytes at `position`; a file that ends first was truncated (or shrank after opening).
async function readExactly(handle: FileHandle, file: string, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  for (let done = 0; done < length; ) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new BundleFormatError(`${file} ends at byte ${position + done}, before its data does: the file is truncated`);
    done += bytesRead;
  }
  return buffer;
}
