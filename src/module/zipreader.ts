// Reading zips we did not write: every way yauzl or zlib can fail on hostile bytes becomes a typed
// `INVALID_ZIP` error here, so callers never see a bare library error for a bad zip.
//
// yauzl parses the central directory; entry data is read here with positional reads on our own file
// handle. yauzl's per-entry streams cost several small reads each, which made hashing a zip of many small
// files several times slower than hashing the same files on disk.

import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32, createInflateRaw, inflateRaw, inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { GodepotError } from '../errors.js';
import { ZipError } from './ziperror.js';

/** One entry of the central directory; `name` holds the stored bytes, which need not be valid UTF-8. */
export interface ZipEntry {
  name: Buffer;
  /** The uncompressed size the zip declares; reading the entry fails if the data disagrees. */
  size: number;
  /** yauzl's record of the entry, needed to read its data. */
  readonly raw: yauzl.Entry;
}

const STORED = 0;
const DEFLATED = 8;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_SIZE = 30;
const HAS_DATA_DESCRIPTOR = 0x8;
const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;
const DATA_DESCRIPTOR_SIZE = 16;
const END_RECORD_SIZE = 22;
const READ_CHUNK = 1 << 20;

// Where an entry's data starts, with the bytes read from its local header onwards.
interface Located {
  start: number;
  head: Buffer;
  headerLength: number;
}

// Entries up to this size (compressed and declared) are read and inflated in one call each rather than
// streamed: most module files are small, and one trip through the thread pool per file beats one per
// chunk. The bound keeps memory small.
const SMALL_ENTRY = 1 << 20;
// Read along with a small entry's local header, so that one read usually fetches header and data.
const EXTRA_FIELD_GUESS = 256;

/** Turns a failure while parsing zip bytes into `INVALID_ZIP`; system errors (EIO, EACCES) pass through. */
function asZipFormatError(err: unknown): unknown {
  if (err instanceof GodepotError) return err;
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string') return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ZipError('INVALID_ZIP', `zip: not a valid zip file: ${detail}`, { cause: err });
}

function formatError(detail: string): ZipError {
  return new ZipError('INVALID_ZIP', `zip: not a valid zip file: ${detail}`);
}

// Entries this small are inflated on the main thread: for them a trip through the thread pool costs
// more than the inflating.
const INLINE_INFLATE = 64 << 10;

// One inflate call sized to the output: zlib's default 16 KiB chunks would cost one trip through the
// thread pool per chunk.
function inflateWhole(compressed: Buffer, maxOutputLength: number): Promise<Buffer> {
  const chunkSize = Math.max(64, maxOutputLength);
  if (compressed.length <= INLINE_INFLATE && maxOutputLength <= INLINE_INFLATE + 1) {
    try {
      return Promise.resolve(inflateRawSync(compressed, { maxOutputLength, chunkSize }));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
  return new Promise((resolve, reject) => {
    inflateRaw(compressed, { maxOutputLength, chunkSize }, (err, out) => (err === null ? resolve(out) : reject(err)));
  });
}

// Reads `length` bytes from `start` in chunks, failing if the file ends first. (FileHandle.createReadStream
// would close the handle when the stream is destroyed, whatever autoClose says.)
async function* readRange(handle: FileHandle, start: number, length: number): AsyncGenerator<Buffer> {
  for (let done = 0; done < length; ) {
    const want = Math.min(length - done, READ_CHUNK);
    const chunk = Buffer.allocUnsafe(want);
    const { bytesRead } = await handle.read(chunk, 0, want, start + done);
    if (bytesRead === 0) throw formatError('unexpected end of file');
    done += bytesRead;
    yield chunk.subarray(0, bytesRead);
  }
}

// How much of the file one read fetches for yauzl. It reads the central directory in pieces of a few
// dozen bytes, two per entry; serving those from a block keeps listing a large zip from costing
// thousands of reads.
const DIRECTORY_BLOCK = 256 << 10;

// Lets yauzl read the central directory through our file handle. The handle stays ours to close: yauzl's
// own file readers close their descriptor themselves when the zip is closed.
class HandleReader extends yauzl.RandomAccessReader {
  private block = Buffer.alloc(0);
  private blockStart = 0;

  constructor(private readonly handle: FileHandle) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from(readRange(this.handle, start, end - start));
  }

  // yauzl calls this like fs.read and checks the byte count itself; its typings leave that count out.
  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    const done = callback as (err: Error | null, bytesRead?: number) => void;
    this.readCached(buffer, offset, length, position).then(
      (bytesRead) => done(null, bytesRead),
      (err: Error) => done(err),
    );
  }

  private async readCached(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    const end = position + length;
    if (position < this.blockStart || end > this.blockStart + this.block.length) {
      const block = Buffer.allocUnsafe(Math.max(length, DIRECTORY_BLOCK));
      const { bytesRead } = await this.handle.read(block, 0, block.length, position);
      this.block = block.subarray(0, bytesRead);
      this.blockStart = position;
    }
    const from = position - this.blockStart;
    return this.block.copy(buffer, offset, from, Math.min(from + length, this.block.length));
  }

  override close(callback: (err: Error | null) => void): void {
    callback(null);
  }
}

/** A zip file opened for reading: its central directory is listed once, entries are read on demand. */
export class ZipReader {
  private constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
    private readonly zip: yauzl.ZipFile,
  ) {}

  /** Opens `file`; throws `INVALID_ZIP` when it has no readable central directory. */
  static async open(file: string): Promise<ZipReader> {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      let zip: yauzl.ZipFile;
      try {
        zip = await yauzl.fromRandomAccessReaderPromise(new HandleReader(handle), size, {
          autoClose: false,
          lazyEntries: true,
          // Names stay bytes, so that a bad name is reported rather than aborting the whole listing.
          decodeStrings: false,
          // Go lists a stored entry whose two sizes disagree and fails only when reading it; read()
          // enforces the declared size on every entry, stored or not.
          validateEntrySizes: false,
        });
      } catch (err) {
        throw asZipFormatError(err);
      }
      // yauzl reports some failures as events; without a listener such an event would crash the process.
      zip.on('error', () => {});
      const reader = new ZipReader(handle, size, zip);
      await reader.checkDirectorySize();
      return reader;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  // Go refuses a zip whose end record claims a central directory larger than everything before it;
  // yauzl only uses the directory's offset. (A zip64 end record, which go reads for its sizes, is left
  // to yauzl.)
  private async checkDirectorySize(): Promise<void> {
    const comment = this.zip.comment as unknown as Buffer;
    const end = this.size - END_RECORD_SIZE - comment.length;
    const record = await this.readAt(end, END_RECORD_SIZE);
    const entries = record.readUInt16LE(10);
    const directorySize = record.readUInt32LE(12);
    const directoryOffset = record.readUInt32LE(16);
    if (entries === 0xffff || directorySize === 0xffff || directoryOffset === 0xffffffff) return;
    if (directorySize > end) throw formatError('central directory size exceeds its end record offset');
  }

  /** Lists the central directory in stored order. */
  async entries(): Promise<ZipEntry[]> {
    const out: ZipEntry[] = [];
    try {
      for await (const raw of this.zip.eachEntry()) {
        out.push({ name: raw.fileName as unknown as Buffer, size: raw.uncompressedSize, raw });
      }
    } catch (err) {
      throw asZipFormatError(err);
    }
    return out;
  }

  // Reads exactly `length` bytes at `position`, or fails: a zip that ends early is truncated.
  private async readAt(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) throw formatError('unexpected end of file');
      done += bytesRead;
    }
    return buffer;
  }

  // Reads an entry's local header to find where its data starts, reading `ahead` more bytes in the same
  // read so that for a small entry one read fetches header, data and data descriptor.
  private async locate(raw: yauzl.Entry, ahead: number): Promise<Located> {
    const offset = raw.relativeOffsetOfLocalHeader;
    const want = Math.min(LOCAL_HEADER_SIZE + ahead, this.size - offset);
    if (offset < 0 || want < LOCAL_HEADER_SIZE) throw formatError('local file header out of bounds');
    const head = await this.readAt(offset, want);
    if (head.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) throw formatError('invalid local file header signature');
    const headerLength = LOCAL_HEADER_SIZE + head.readUInt16LE(26) + head.readUInt16LE(28);
    const start = offset + headerLength;
    if (start + raw.compressedSize > this.size) throw formatError('file data overflows file bounds');
    return { start, head, headerLength };
  }

  // `length` bytes at file offset `position`, from the bytes `locate` read when they are among them.
  private async slice(located: Located, position: number, length: number): Promise<Buffer> {
    const from = position - (located.start - located.headerLength);
    if (from + length <= located.head.length) return located.head.subarray(from, from + length);
    return this.readAt(position, length);
  }

  // A small entry as one chunk. Inflating stops one byte past the declared size, so a lying size costs at
  // most that much memory.
  private async *readWhole(entry: ZipEntry, located: Located, tooLarge: () => ZipError): AsyncGenerator<Buffer> {
    const compressed = await this.slice(located, located.start, entry.raw.compressedSize);
    if (entry.raw.compressionMethod !== DEFLATED) {
      yield compressed;
      return;
    }
    try {
      yield await inflateWhole(compressed, entry.size + 1);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
      throw err;
    }
  }

  // A large entry, inflated as it streams.
  private async *readStreamed(entry: ZipEntry, start: number): AsyncGenerator<Buffer> {
    const { raw } = entry;
    if (raw.compressionMethod !== DEFLATED) {
      yield* readRange(this.handle, start, raw.compressedSize);
      return;
    }
    const source = Readable.from(readRange(this.handle, start, raw.compressedSize), { objectMode: false });
    // Larger chunks than zlib's 16 KiB default: fewer hops between the thread pool and the consumer.
    const inflate = createInflateRaw({ chunkSize: 1 << 16 });
    source.on('error', (err) => inflate.destroy(err));
    try {
      yield* source.pipe(inflate) as AsyncIterable<Buffer>;
    } finally {
      source.unpipe();
      inflate.destroy();
      source.destroy();
    }
  }

  // The CRC-32 a data descriptor records, which go requires to match the central directory's. Its
  // signature is optional; the sizes after the CRC are ignored, as go ignores them.
  private async descriptorCRC(located: Located, position: number): Promise<number> {
    const available = this.size - position;
    const first = await this.slice(located, position, Math.min(4, available)).then((b) => (b.length < 4 ? null : b));
    if (first === null) throw formatError('data descriptor missing');
    const signed = first.readUInt32LE(0) === DATA_DESCRIPTOR_SIGNATURE;
    const length = signed ? 16 : 12;
    if (available < length) throw formatError('data descriptor missing');
    const descriptor = await this.slice(located, position, length);
    return descriptor.readUInt32LE(signed ? 4 : 0);
  }

  /**
   * Yields the uncompressed bytes of `entry`, failing with `INVALID_ZIP` as soon as the data runs past the
   * declared size (so a zip bomb costs at most that much), ends short of it, or has the wrong CRC-32, as
   * go's archive/zip does; a data descriptor, when the entry has one, must record the same CRC-32.
   */
  async *read(entry: ZipEntry): AsyncGenerator<Buffer, void, undefined> {
    const { raw } = entry;
    const name = entry.name.toString('utf8');
    if (raw.isEncrypted()) throw new ZipError('INVALID_ZIP', `zip: file ${name} is encrypted`);
    if (raw.compressionMethod !== STORED && raw.compressionMethod !== DEFLATED) {
      throw new ZipError('INVALID_ZIP', `zip: unsupported compression algorithm ${raw.compressionMethod} for file ${name}`);
    }
    const tooLarge = (): ZipError =>
      new ZipError('INVALID_ZIP', `uncompressed size of file ${name} is larger than declared size (${entry.size} bytes)`);
    const checksumError = (): ZipError => new ZipError('INVALID_ZIP', `zip: checksum error in file ${name}`);
    const small = entry.size <= SMALL_ENTRY && raw.compressedSize <= SMALL_ENTRY;
    const located = await this.locate(
      raw,
      entry.name.length + (small ? EXTRA_FIELD_GUESS + raw.compressedSize + DATA_DESCRIPTOR_SIZE : 0),
    );
    let n = 0;
    let crc = 0;
    try {
      for await (const chunk of small ? this.readWhole(entry, located, tooLarge) : this.readStreamed(entry, located.start)) {
        n += chunk.length;
        if (n > entry.size) throw tooLarge();
        crc = crc32(chunk, crc);
        yield chunk;
      }
    } catch (err) {
      throw asZipFormatError(err);
    }
    if (n !== entry.size) {
      throw new ZipError('INVALID_ZIP', `zip: file ${name} ends after ${n} of its declared ${entry.size} bytes`);
    }
    if ((raw.generalPurposeBitFlag & HAS_DATA_DESCRIPTOR) !== 0) {
      if ((await this.descriptorCRC(located, located.start + raw.compressedSize)) !== raw.crc32) throw checksumError();
      if (crc !== raw.crc32) throw checksumError();
      // Without a descriptor go trusts a zero CRC to mean "not recorded".
    } else if (raw.crc32 !== 0 && crc !== raw.crc32) {
      throw checksumError();
    }
  }

  /** Releases the file; call it once no entry is being read. */
  async close(): Promise<void> {
    this.zip.close();
    await this.handle.close();
  }
}
