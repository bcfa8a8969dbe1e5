// Reading zips we did not write: every way a zip or zlib can fail on hostile bytes becomes a typed
// `INVALID_ZIP` error here, so callers never see a bare library error for a bad zip.
//
// zipdirectory.ts lists the central directory into compact arrays; entry data is read here with
// positional reads on our own file handle. Reading every entry (to hash a zip) goes through the file a
// window at a time: one read of a megabyte serves thousands of small files, where a read each (two
// trips through the thread pool per file) made a zip of many small files slow to check.

import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32, createInflateRaw, inflateRaw, inflateRawSync } from 'node:zlib';
import { GodepotError } from '../errors.js';
import { Turns } from './turns.js';
import { defaultZipBudget, type ZipBudget } from './zipbudget.js';
import { CollisionChecker } from './zipcollision.js';
import { surveyDirectory, ZipDirectory, zipFormatError, type DirectorySurvey } from './zipdirectory.js';
import { ZipError } from './ziperror.js';

const STORED = 0;
const DEFLATED = 8;
const HAS_DATA_DESCRIPTOR = 0x8;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_SIZE = 30;
const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;
const DATA_DESCRIPTOR_SIZE = 16;
const READ_CHUNK = 1 << 20;

// Entries up to this size (compressed and declared) are read and inflated in one call each rather than
// streamed: most module files are small, and one trip through the thread pool per file beats one per
// chunk. The bound keeps memory small.
const SMALL_ENTRY = 1 << 20;
// Read along with a small entry's local header, so that one read usually fetches header and data.
const EXTRA_FIELD_GUESS = 256;
// Entries this small are inflated on the main thread: for them a trip through the thread pool costs
// more than the inflating.
const INLINE_INFLATE = 64 << 10;
// readEach reads the file this much at a time when entries are small.
const WINDOW = 1 << 20;
// Entries readEach inflates on the thread pool or streams at once, while the main thread goes on.
const READ_CONCURRENCY = 4;

// What a check may hold beside the directory, per entry, for hashing (hash.ts): a 32-byte digest, the
// name and file orders and a sort's scratch (4 bytes each), and a mark of entries to skip.
const HASH_BYTES_PER_ENTRY = 32 + 3 * 4 + 1;
// Buffers whatever the size of the directory: the directory walk's block, readEach's window and the
// entries it inflates at once (their compressed bytes and their output).
const FIXED_COST = 2 * (WINDOW + 3 * 0xffff) + READ_CONCURRENCY * 2 * (SMALL_ENTRY + 1);

/**
 * The most memory one check may take (2 GiB). Go sets no limit on entries or directories, but no zip it
 * accepts in practice comes near this: the largest (500 MiB) holds about four million one-byte files,
 * which take under 1 GiB to check. Reaching it takes millions of directories (paths thousands of levels
 * deep) or of entries sharing one local header; go needs far more memory than this for those.
 */
export const MAX_CHECK_COST = 2 * 1024 ** 3;

/**
 * The memory a check of a zip whose directory is `survey` may take, in bytes: its listing, the collision
 * check's records (one per entry and at most one per slash), hashing's per-entry arrays and the read
 * buffers. ZipReader.open reserves this much from the budget.
 */
export function checkCost(survey: DirectorySurvey): number {
  return (
    ZipDirectory.cost(survey) +
    (survey.entries + survey.pathSlashes) * CollisionChecker.BYTES_PER_RECORD +
    survey.entries * HASH_BYTES_PER_ENTRY +
    FIXED_COST
  );
}

// Where an entry's data starts and how much of it the file holds, with the bytes read from its local
// header onwards.
interface Located {
  start: number;
  length: number;
  head: Buffer;
  headerLength: number;
}

/** Turns a failure while parsing zip bytes into `INVALID_ZIP`; system errors (EIO, EACCES) pass through. */
function asZipFormatError(err: unknown): unknown {
  if (err instanceof GodepotError) return err;
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string') return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ZipError('INVALID_ZIP', `zip: not a valid zip file: ${detail}`, { cause: err });
}

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
    if (bytesRead === 0) throw zipFormatError('unexpected end of file');
    done += bytesRead;
    yield chunk.subarray(0, bytesRead);
  }
}

// The CRC-32 a data descriptor at `at` in `bytes` records, `available` bytes of the file being left from
// there, or the error of a missing one (thrown only once the data has been read, where go fails). Its
// signature is optional; the sizes after the CRC are ignored, as go ignores them.
function descriptorCRC(bytes: Buffer, at: number, available: number): number | ZipError {
  if (available < 4) return zipFormatError('data descriptor missing');
  const signed = bytes.readUInt32LE(at) === DATA_DESCRIPTOR_SIGNATURE;
  if (available < (signed ? 16 : 12)) return zipFormatError('data descriptor missing');
  return bytes.readUInt32LE(signed ? at + 4 : at);
}

/** The bytes of one entry: whole, or as chunks to be read once. */
export type EntryData = Buffer | AsyncIterable<Buffer>;

/**
 * A zip file opened for reading: its central directory is listed once, entries are read on demand. An
 * open reader holds a reservation of the zip budget until closed; a task never opens a second one
 * while it holds one, or it could wait for itself.
 */
export class ZipReader {
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
    /** The entries, numbered in stored order from 0. */
    readonly directory: ZipDirectory,
    /** How many files and directories a check of this zip may record (see CollisionChecker). */
    readonly pathBound: number,
    private readonly release: () => void,
  ) {}

  /**
   * Opens `file` and lists its central directory once `budget` has room for checking it (see checkCost);
   * throws `INVALID_ZIP` when go's archive/zip would not open it.
   */
  static async open(file: string, budget: ZipBudget = defaultZipBudget): Promise<ZipReader> {
    const handle = await open(file, 'r');
    let release: (() => void) | undefined;
    try {
      const { size } = await handle.stat();
      const survey = await surveyDirectory(handle, size);
      const cost = checkCost(survey);
      if (cost > MAX_CHECK_COST) {
        throw new ZipError(
          'ZIP_TOO_LARGE',
          `zip: checking its ${survey.entries} entries and ${survey.pathSlashes} directory levels would take ${mebibytes(cost)} MiB of memory; the limit is ${mebibytes(MAX_CHECK_COST)} MiB`,
        );
      }
      release = await budget.reserve(cost);
      const directory = await ZipDirectory.list(handle, size, survey);
      return new ZipReader(handle, size, directory, survey.entries + survey.pathSlashes, release);
    } catch (err) {
      release?.();
      await handle.close();
      throw asZipFormatError(err);
    }
  }

  /** How many entries the directory lists. */
  get count(): number {
    return this.directory.count;
  }

  // Reads exactly `length` bytes at `position`, or fails: a zip that ends early is truncated.
  private async readAt(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) throw zipFormatError('unexpected end of file');
      done += bytesRead;
    }
    return buffer;
  }

  // The entry's name for messages.
  private nameOf(i: number): string {
    return this.directory.nameText(i);
  }

  // Go's archive/zip reads stored and deflated entries. It ignores the encryption flag, reading the bytes
  // as they are: encrypted data fails its checksum.
  private checkReadable(i: number): void {
    const method = this.directory.methods[i]!;
    if (method !== STORED && method !== DEFLATED) {
      throw new ZipError('INVALID_ZIP', `zip: unsupported compression algorithm ${method} for file ${this.nameOf(i)}`);
    }
  }

  private tooLarge(i: number): ZipError {
    return new ZipError('INVALID_ZIP', `uncompressed size of file ${this.nameOf(i)} is larger than declared size (${this.directory.sizes[i]!} bytes)`);
  }

  private endsShort(i: number, n: number): ZipError {
    return new ZipError('INVALID_ZIP', `zip: file ${this.nameOf(i)} ends after ${n} of its declared ${this.directory.sizes[i]!} bytes`);
  }

  private checksumError(i: number): ZipError {
    return new ZipError('INVALID_ZIP', `zip: checksum error in file ${this.nameOf(i)}`);
  }

  // The checks once all `n` bytes of entry `i` (with CRC-32 `crc`) have been read, as go's checksumReader
  // makes them: a data descriptor, when the entry has one, must record the directory's CRC-32 (or be
  // missing, `descriptor` then being that error); without one, a zero CRC means "not recorded".
  private checkEnd(i: number, n: number, crc: number, descriptor: number | ZipError): void {
    if (n !== this.directory.sizes[i]) throw this.endsShort(i, n);
    const recorded = this.directory.crcs[i]!;
    if ((this.directory.flags[i]! & HAS_DATA_DESCRIPTOR) !== 0) {
      if (descriptor instanceof ZipError) throw descriptor;
      if (descriptor !== recorded || crc !== recorded) throw this.checksumError(i);
    } else if (recorded !== 0 && crc !== recorded) {
      throw this.checksumError(i);
    }
  }

  // The checks of entry `i` read whole (see checkEnd); returns `data`.
  private checkWhole(i: number, data: Buffer, descriptor: number | ZipError): Buffer {
    if (data.length > this.directory.sizes[i]!) throw this.tooLarge(i);
    this.checkEnd(i, data.length, crc32(data), descriptor);
    return data;
  }

  // Reads an entry's local header to find where its data starts, reading `ahead` more bytes in the same
  // read so that for a small entry one read fetches header, data and data descriptor.
  private async locate(i: number, ahead: number): Promise<Located> {
    const offset = this.directory.headerOffsets[i]!;
    const want = Math.min(LOCAL_HEADER_SIZE + ahead, this.size - offset);
    if (offset < 0 || want < LOCAL_HEADER_SIZE) throw zipFormatError('local file header out of bounds');
    const head = await this.readAt(offset, want);
    const headerLength = localHeaderLength(head, 0);
    const start = offset + headerLength;
    return { start, length: this.dataLength(start, i), head, headerLength };
  }

  // How much of entry i's compressed data, declared to start at `start`, the file holds. Like go, a size
  // running past the end of the file is not an error in itself: a deflate stream may end sooner, and
  // stored data that ends short fails on its declared size.
  private dataLength(start: number, i: number): number {
    return Math.max(0, Math.min(this.directory.compressedSizes[i]!, this.size - start));
  }

  // `length` bytes at file offset `position`, from the bytes `locate` read when they are among them.
  private async slice(located: Located, position: number, length: number): Promise<Buffer> {
    const from = position - (located.start - located.headerLength);
    if (from + length <= located.head.length) return located.head.subarray(from, from + length);
    return this.readAt(position, length);
  }

  // A small entry as one chunk. Inflating stops one byte past the declared size, so a lying size costs at
  // most that much memory.
  private async *readWhole(i: number, located: Located): AsyncGenerator<Buffer> {
    const compressed = await this.slice(located, located.start, located.length);
    if (this.directory.methods[i] !== DEFLATED) {
      yield compressed;
      return;
    }
    try {
      yield await inflateWhole(compressed, this.directory.sizes[i]! + 1);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw this.tooLarge(i);
      throw err;
    }
  }

  // A large entry, inflated as it streams.
  private async *readStreamed(i: number, located: Located): AsyncGenerator<Buffer> {
    if (this.directory.methods[i] !== DEFLATED) {
      yield* readRange(this.handle, located.start, located.length);
      return;
    }
    const source = Readable.from(readRange(this.handle, located.start, located.length), { objectMode: false });
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

  /**
   * Yields the uncompressed bytes of entry `i`, failing with `INVALID_ZIP` as soon as the data runs past
   * the declared size (so a zip bomb costs at most that much), ends short of it, or has the wrong CRC-32,
   * as go's archive/zip does; a data descriptor, when the entry has one, must record the same CRC-32.
   */
  async *read(i: number): AsyncGenerator<Buffer, void, undefined> {
    this.checkReadable(i);
    const size = this.directory.sizes[i]!;
    const compressedSize = this.directory.compressedSizes[i]!;
    const small = size <= SMALL_ENTRY && compressedSize <= SMALL_ENTRY;
    const located = await this.locate(
      i,
      this.directory.nameLength(i) + (small ? EXTRA_FIELD_GUESS + compressedSize + DATA_DESCRIPTOR_SIZE : 0),
    );
    let n = 0;
    let crc = 0;
    try {
      for await (const chunk of small ? this.readWhole(i, located) : this.readStreamed(i, located)) {
        n += chunk.length;
        if (n > size) throw this.tooLarge(i);
        crc = crc32(chunk, crc);
        yield chunk;
      }
    } catch (err) {
      throw asZipFormatError(err);
    }
    let descriptor: number | ZipError = 0;
    if ((this.directory.flags[i]! & HAS_DATA_DESCRIPTOR) !== 0) {
      const position = located.start + compressedSize;
      const available = this.size - position;
      const bytes = available >= 4 ? await this.slice(located, position, Math.min(DATA_DESCRIPTOR_SIZE, available)) : located.head;
      descriptor = descriptorCRC(bytes, 0, available);
    }
    this.checkEnd(i, n, crc, descriptor);
  }

  /**
   * Reads the entries `order` lists, in that order (file order reads fastest), and gives each one's bytes
   * to `consume`, checked as read() checks them: small entries whole, larger ones as chunks. Up to a
   * few entries are inflated or streamed at once while the next are read, so `consume` may see them
   * out of order. After a failure no new entry is started; once the running ones settle, the first
   * failure is thrown.
   */
  async readEach(order: Uint32Array, consume: (i: number, data: EntryData) => void | Promise<void>): Promise<void> {
    const d = this.directory;
    const running = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    const launch = async (job: () => Promise<void>): Promise<void> => {
      while (running.size >= READ_CONCURRENCY) await Promise.race(running);
      const settled: Promise<void> = job()
        .catch((err: unknown) => {
          failure ??= { err: asZipFormatError(err) };
        })
        .finally(() => running.delete(settled));
      running.add(settled);
    };
    const turns = new Turns();
    let window: Buffer = Buffer.alloc(0);
    let windowStart = 0;
    // Makes the window start at `offset` and hold at least `length` bytes.
    const load = async (offset: number, length: number): Promise<void> => {
      window = await this.readAt(offset, Math.min(Math.max(length, WINDOW), this.size - offset));
      windowStart = offset;
    };
    try {
      for (let k = 0; k < order.length && failure === undefined; k++) {
        const i = order[k]!;
        const turn = turns.spend(64 + Math.min(d.sizes[i]!, SMALL_ENTRY));
        if (turn !== undefined) await turn;
        this.checkReadable(i);
        const size = d.sizes[i]!;
        const compressedSize = d.compressedSizes[i]!;
        if (size > SMALL_ENTRY || compressedSize > SMALL_ENTRY) {
          await launch(async () => consume(i, this.read(i)));
          continue;
        }
        const offset = d.headerOffsets[i]!;
        if (offset < 0 || offset + LOCAL_HEADER_SIZE > this.size) throw zipFormatError('local file header out of bounds');
        if (offset < windowStart || offset + LOCAL_HEADER_SIZE > windowStart + window.length) await load(offset, 0);
        const start = offset + localHeaderLength(window, offset - windowStart);
        const end = start + compressedSize;
        const hasDescriptor = (d.flags[i]! & HAS_DATA_DESCRIPTOR) !== 0;
        const needed = Math.min(end + (hasDescriptor ? DATA_DESCRIPTOR_SIZE : 0), this.size);
        if (needed > windowStart + window.length) await load(offset, needed - offset);
        const compressed = window.subarray(start - windowStart, start + this.dataLength(start, i) - windowStart);
        // Read now, while the window holds it.
        const descriptor = hasDescriptor ? descriptorCRC(window, end - windowStart, this.size - end) : 0;
        if (d.methods[i] === STORED || (compressedSize <= INLINE_INFLATE && size <= INLINE_INFLATE)) {
          const data = d.methods[i] === STORED ? compressed : this.inflateNow(i, compressed);
          const settled = consume(i, this.checkWhole(i, data, descriptor));
          if (settled !== undefined) await settled;
          continue;
        }
        // A copy, so that the job holds its own bytes rather than the whole window.
        const own = Buffer.from(compressed);
        await launch(async () => {
          let data: Buffer;
          try {
            data = await inflateWhole(own, size + 1);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw this.tooLarge(i);
            throw err;
          }
          await consume(i, this.checkWhole(i, data, descriptor));
        });
      }
    } catch (err) {
      failure ??= { err: asZipFormatError(err) };
    } finally {
      while (running.size > 0) await Promise.allSettled([...running]);
    }
    if (failure !== undefined) throw failure.err;
  }

  // Inflates a small entry on the main thread, stopping one byte past its declared size.
  private inflateNow(i: number, compressed: Buffer): Buffer {
    const maxOutputLength = this.directory.sizes[i]! + 1;
    try {
      return inflateRawSync(compressed, { maxOutputLength, chunkSize: Math.max(64, maxOutputLength) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw this.tooLarge(i);
      throw asZipFormatError(err);
    }
  }

  /** Releases the file and the budget; call it once no entry is being read. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.release();
    await this.handle.close();
  }
}

function mebibytes(bytes: number): number {
  return Math.ceil(bytes / (1 << 20));
}

// The length of the local header at `at` in `bytes` (which hold at least its fixed part), name and
// extra field included; fails unless it is a local header.
function localHeaderLength(bytes: Buffer, at: number): number {
  if (bytes.readUInt32LE(at) !== LOCAL_HEADER_SIGNATURE) throw zipFormatError('invalid local file header signature');
  return LOCAL_HEADER_SIZE + bytes.readUInt16LE(at + 26) + bytes.readUInt16LE(at + 28);
}
