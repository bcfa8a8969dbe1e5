// The central directory of a zip, found and read by go's archive/zip rules (go 1.19's readDirectoryEnd,
// Reader.init and readDirectoryHeader), and kept compact: a few typed arrays and one buffer of names,
// about 36 bytes per entry beside its name, where an object per entry cost a kilobyte. A zip of a
// million one-byte files is an ordinary, legal module zip; its directory must not cost a gigabyte.
//
// The directory is walked twice: a survey counts the entries and their name bytes without keeping
// anything, so that the check can reserve its memory before the listing allocates it.

import { constants } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { Turns } from './turns.js';
import { ZipError } from './ziperror.js';

const END_SIGNATURE = 0x06054b50;
const END_SIZE = 22;
const LOCATOR_SIGNATURE = 0x07064b50;
const LOCATOR_SIZE = 20;
const END64_SIGNATURE = 0x06064b50;
const END64_SIZE = 56;
const HEADER_SIGNATURE = 0x02014b50;
const HEADER_SIZE = 46;
const ZIP64_EXTRA = 0x0001;
const MAX32 = 0xffffffff;
const AT = 0x40;
const SLASH = 0x2f;
// One read of the directory: large enough that a directory of many entries costs few reads, small
// enough to be nothing beside the listing.
const BLOCK = 1 << 20;

/** A `zip: not a valid zip file` error (INVALID_ZIP), with what was wrong. */
export function zipFormatError(detail: string): ZipError {
  return new ZipError('INVALID_ZIP', `zip: not a valid zip file: ${detail}`);
}

/** What a walk of the directory found, before anything is kept: enough to size the listing. */
export interface DirectorySurvey {
  /** File offset of the first directory record. */
  start: number;
  /** Added to every local header offset: nonzero when the zip has bytes before its first entry. */
  baseOffset: number;
  entries: number;
  /** The length of all names together. */
  nameBytes: number;
  /**
   * The slashes of all names after their `path@version/` prefix: with the entries, a bound on the files
   * and directories a module zip check records.
   */
  pathSlashes: number;
}

// The end record's figures, as go keeps them: unsigned 64-bit counts and offsets.
interface DirectoryEnd {
  records: bigint;
  start: number;
  baseOffset: bigint;
  directoryOffset: bigint;
}

const int64 = (n: bigint): bigint => BigInt.asIntN(64, n);

function readUint64(b: Buffer, at: number): bigint {
  return b.readBigUInt64LE(at);
}

// An unsigned 64-bit field as a number: exact up to 2^53, which is past any size or offset a file here
// can have, and anything larger fails later as out of bounds, as it does in go.
function uint64(b: Buffer, at: number): number {
  return b.readUInt32LE(at + 4) * 0x100000000 + b.readUInt32LE(at);
}

// Reads up to `length` bytes at `position`; fewer only at the end of the file.
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

// The last end-record signature in `block` whose comment fits before the block ends; -1 if none.
function findEndRecord(block: Buffer): number {
  for (let i = block.length - END_SIZE; i >= 0; i--) {
    if (block.readUInt32LE(i) !== END_SIGNATURE) continue;
    if (i + END_SIZE + block.readUInt16LE(i + 20) <= block.length) return i;
  }
  return -1;
}

// Go's readDirectoryEnd: the end record in the last 1 KiB or else the last 65 KiB, the zip64 end record
// when the plain one says to look for it, and the base offset that makes the directory end where the
// end record starts.
async function readDirectoryEnd(handle: FileHandle, size: number): Promise<DirectoryEnd> {
  let block: Buffer = Buffer.alloc(0);
  let endOffset = -1;
  for (const want of [1024, 65 * 1024]) {
    const length = Math.min(want, size);
    block = await readAt(handle, size - length, length);
    const at = findEndRecord(block);
    if (at >= 0) {
      endOffset = size - length + at;
      block = block.subarray(at);
      break;
    }
    if (length === size) break;
  }
  if (endOffset < 0) throw zipFormatError('end of central directory record not found');
  let records = BigInt(block.readUInt16LE(10));
  let directorySize = BigInt(block.readUInt32LE(12));
  let directoryOffset = BigInt(block.readUInt32LE(16));
  // Go's test for "may be zip64", including its comparison of the 32-bit size with 0xffff.
  if (records === 0xffffn || directorySize === 0xffffn || directoryOffset === 0xffffffffn) {
    const end64 = await findEnd64(handle, endOffset);
    if (end64 >= 0) {
      const record = await readAt(handle, end64, END64_SIZE);
      if (record.length < END64_SIZE) throw zipFormatError('zip64 end of central directory record cut short');
      if (record.readUInt32LE(0) !== END64_SIGNATURE) throw zipFormatError('invalid zip64 end of central directory record signature');
      records = readUint64(record, 32);
      directorySize = readUint64(record, 40);
      directoryOffset = readUint64(record, 48);
      endOffset = end64;
    }
  }
  const baseOffset = int64(BigInt(endOffset) - int64(directorySize) - int64(directoryOffset));
  const start = int64(baseOffset + int64(directoryOffset));
  if (start < 0n || start >= BigInt(size)) throw zipFormatError('central directory offset out of bounds');
  return { records, start: Number(start), baseOffset, directoryOffset };
}

// The offset of the zip64 end record that a locator just before the end record names, or -1 when there
// is no valid locator (a plain zip whose figures happen to be at their maximum).
async function findEnd64(handle: FileHandle, endOffset: number): Promise<number> {
  const at = endOffset - LOCATOR_SIZE;
  if (at < 0) return -1;
  const locator = await readAt(handle, at, LOCATOR_SIZE);
  if (locator.readUInt32LE(0) !== LOCATOR_SIGNATURE) return -1;
  if (locator.readUInt32LE(4) !== 0 || locator.readUInt32LE(16) !== 1) return -1;
  const offset = int64(readUint64(locator, 8));
  return offset < 0n ? -1 : Number(offset);
}

// How one record of the directory reads, or why the walk stops there. Go ends the listing quietly at a
// record that is malformed (FORMAT) or cut short by the end of the file (SHORT), and then checks the
// count; a record starting exactly at the end of the file is a plain failure, as io.EOF is in go.
const FORMAT = -1;
const SHORT = -2;
const NEED_MORE = -3;

/** The fields of one directory record, as readDirectoryHeader settles them. */
interface RecordFields {
  compressedSize: number;
  size: number;
  headerOffset: number;
}

// A walk over the directory records from `start`, reading the file a block at a time.
class RecordWalk {
  private block: Buffer = Buffer.alloc(0);
  private blockStart = 0;
  readonly fields: RecordFields = { compressedSize: 0, size: 0, headerOffset: 0 };
  /** Offset in `block` of the record just parsed. */
  at = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
  ) {}

  get buffer(): Buffer {
    return this.block;
  }

  /**
   * Parses the record at file offset `pos` into `fields` and returns its length, or FORMAT, SHORT, or
   * NEED_MORE when the block does not hold all of it yet. Throws for a record that starts at the end of
   * the file.
   */
  parse(pos: number): number {
    const available = this.size - pos;
    if (available === 0) throw zipFormatError('unexpected end of file in central directory');
    if (available < HEADER_SIZE) return SHORT;
    const at = pos - this.blockStart;
    const b = this.block;
    if (at < 0 || at + HEADER_SIZE > b.length) return NEED_MORE;
    if (b.readUInt32LE(at) !== HEADER_SIGNATURE) return FORMAT;
    const nameLength = b.readUInt16LE(at + 28);
    const extraLength = b.readUInt16LE(at + 30);
    const variable = nameLength + extraLength + b.readUInt16LE(at + 32);
    if (variable > 0 && available === HEADER_SIZE) throw zipFormatError('unexpected end of file in central directory');
    if (available < HEADER_SIZE + variable) return SHORT;
    if (at + HEADER_SIZE + variable > b.length) return NEED_MORE;
    let compressedSize = b.readUInt32LE(at + 20);
    let size = b.readUInt32LE(at + 24);
    let headerOffset = b.readUInt32LE(at + 42);
    let needSize = size === MAX32;
    let needCompressed = compressedSize === MAX32;
    let needOffset = headerOffset === MAX32;
    // Extra fields that do not parse are ignored; only the zip64 field matters, and only for the
    // figures the record left at their maximum.
    const extraEnd = at + HEADER_SIZE + nameLength + extraLength;
    for (let e = at + HEADER_SIZE + nameLength; extraEnd - e >= 4; ) {
      const tag = b.readUInt16LE(e);
      const fieldSize = b.readUInt16LE(e + 2);
      e += 4;
      if (extraEnd - e < fieldSize) break;
      if (tag === ZIP64_EXTRA) {
        let f = e;
        const fieldEnd = e + fieldSize;
        if (needSize) {
          needSize = false;
          if (fieldEnd - f < 8) return FORMAT;
          size = uint64(b, f);
          f += 8;
        }
        if (needCompressed) {
          needCompressed = false;
          if (fieldEnd - f < 8) return FORMAT;
          compressedSize = uint64(b, f);
          f += 8;
        }
        if (needOffset) {
          needOffset = false;
          if (fieldEnd - f < 8) return FORMAT;
          headerOffset = uint64(b, f);
        }
      }
      e += fieldSize;
    }
    // An uncompressed size of 0xffffffff without a zip64 field stands (go keeps 42.zip readable).
    if (needCompressed || needOffset) return FORMAT;
    this.at = at;
    this.fields.compressedSize = compressedSize;
    this.fields.size = size;
    this.fields.headerOffset = headerOffset;
    return HEADER_SIZE + variable;
  }

  /** Reads the file from `pos` on, at least one block and at least `length` bytes where the file has them. */
  async load(pos: number, length: number): Promise<void> {
    this.block = await readAt(this.handle, pos, Math.min(Math.max(length, BLOCK), this.size - pos));
    this.blockStart = pos;
  }
}

// Calls `visit` for each record from `start` on, until one ends the directory; returns how the walk
// ended and how many records it visited. `visit` reads the record from walk.buffer at walk.at.
async function walkRecords(
  handle: FileHandle,
  size: number,
  start: number,
  visit: (walk: RecordWalk, index: number) => void,
): Promise<{ count: number; end: number }> {
  const walk = new RecordWalk(handle, size);
  const turns = new Turns();
  let pos = start;
  let count = 0;
  for (;;) {
    const length = walk.parse(pos);
    if (length === NEED_MORE) {
      // The longest record is 46 bytes and three fields of at most 64 KiB.
      await walk.load(pos, HEADER_SIZE + 3 * 0xffff);
      continue;
    }
    if (length < 0) return { count, end: length };
    visit(walk, count);
    count++;
    pos += length;
    const turn = turns.spend(64 + length);
    if (turn !== undefined) await turn;
  }
}

// The slashes of a name after its `path@version/` prefix (all of them when it has none).
function slashesAfterPrefix(b: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && b[i] !== AT) i++;
  if (i === end) i = start;
  else {
    while (i < end && b[i] !== SLASH) i++;
    i++;
  }
  let slashes = 0;
  for (; i < end; i++) if (b[i] === SLASH) slashes++;
  return slashes;
}

/**
 * Finds the central directory of the zip open as `handle` and counts its entries as go's Reader.init
 * lists them: records are read until one is malformed or cut short, and their count must then agree
 * with the end record's modulo 65536 (the plain end record keeps 16 bits of it). Keeps nothing per
 * entry. Throws INVALID_ZIP when go's reader would refuse the zip.
 */
export async function surveyDirectory(handle: FileHandle, size: number): Promise<DirectorySurvey> {
  const end = await readDirectoryEnd(handle, size);
  let baseOffset = end.baseOffset;
  let start = end.start;
  let nameBytes = 0;
  let pathSlashes = 0;
  const tally = (walk: RecordWalk): void => {
    const b = walk.buffer;
    const nameStart = walk.at + HEADER_SIZE;
    const nameEnd = nameStart + b.readUInt16LE(walk.at + 28);
    nameBytes += nameEnd - nameStart;
    pathSlashes += slashesAfterPrefix(b, nameStart, nameEnd);
  };
  let { count, end: stop } = await walkRecords(handle, size, start, tally);
  // Go retries from the recorded offset when the directory is not where the end record's figures put
  // it: some writers record a wrong directory size.
  if (count === 0 && stop === FORMAT && baseOffset !== 0n) {
    baseOffset = 0n;
    const offset = int64(end.directoryOffset);
    if (offset < 0n) throw zipFormatError('central directory offset out of bounds');
    if (offset >= BigInt(size)) throw zipFormatError('unexpected end of file in central directory');
    start = Number(offset);
    ({ count, end: stop } = await walkRecords(handle, size, start, tally));
  }
  if (BigInt(count & 0xffff) !== (end.records & 0xffffn)) {
    const why = stop === SHORT ? 'central directory cut short' : 'invalid central directory header';
    throw zipFormatError(`${why} after ${count} of ${end.records} entries`);
  }
  return { start, baseOffset: Number(baseOffset), entries: count, nameBytes, pathSlashes };
}

/** A zip's central directory in compact form; entries are numbered in stored order from 0. */
export class ZipDirectory {
  private constructor(
    /** Every name, back to back, as stored: they need not be UTF-8. */
    private readonly names: Buffer,
    /** Where each name ends in `names`; it starts where the one before ends. */
    private readonly nameEnds: Uint32Array,
    /** Where each entry's local header is in the file. */
    readonly headerOffsets: Float64Array,
    readonly compressedSizes: Float64Array,
    /** The uncompressed sizes the directory declares; reading fails if the data disagrees. */
    readonly sizes: Float64Array,
    readonly crcs: Uint32Array,
    readonly flags: Uint16Array,
    readonly methods: Uint16Array,
  ) {}

  /** Bytes a listing of `survey` holds: the figures of BYTES_PER_ENTRY and the names. */
  static cost(survey: DirectorySurvey): number {
    return survey.entries * ZipDirectory.BYTES_PER_ENTRY + survey.nameBytes;
  }

  /** What each entry costs beside its name: three 64-bit figures, CRC, name end, flags and method. */
  static readonly BYTES_PER_ENTRY = 8 * 3 + 4 + 4 + 2 + 2;

  /** Lists the directory `survey` found in `handle`; throws INVALID_ZIP if it no longer reads the same. */
  static async list(handle: FileHandle, size: number, survey: DirectorySurvey): Promise<ZipDirectory> {
    const n = survey.entries;
    if (survey.nameBytes > Math.min(constants.MAX_LENGTH, MAX32)) {
      throw new ZipError('ZIP_TOO_LARGE', `zip: the names of the ${n} entries take more than ${MAX32} bytes`);
    }
    const dir = new ZipDirectory(
      Buffer.allocUnsafe(survey.nameBytes),
      new Uint32Array(n),
      new Float64Array(n),
      new Float64Array(n),
      new Float64Array(n),
      new Uint32Array(n),
      new Uint16Array(n),
      new Uint16Array(n),
    );
    let nameEnd = 0;
    const changed = (): ZipError => zipFormatError('the central directory changed while it was read');
    const { count } = await walkRecords(handle, size, survey.start, (walk, i) => {
      if (i >= n) throw changed();
      const b = walk.buffer;
      const at = walk.at;
      const nameStart = at + HEADER_SIZE;
      const length = b.readUInt16LE(at + 28);
      if (nameEnd + length > dir.names.length) throw changed();
      b.copy(dir.names, nameEnd, nameStart, nameStart + length);
      nameEnd += length;
      dir.nameEnds[i] = nameEnd;
      dir.headerOffsets[i] = walk.fields.headerOffset + survey.baseOffset;
      dir.compressedSizes[i] = walk.fields.compressedSize;
      dir.sizes[i] = walk.fields.size;
      dir.crcs[i] = b.readUInt32LE(at + 16);
      dir.flags[i] = b.readUInt16LE(at + 8);
      dir.methods[i] = b.readUInt16LE(at + 10);
    });
    if (count !== n) throw changed();
    return dir;
  }

  get count(): number {
    return this.nameEnds.length;
  }

  private nameStart(i: number): number {
    return i === 0 ? 0 : this.nameEnds[i - 1]!;
  }

  /** Entry `i`'s name as stored (a view, not a copy). */
  name(i: number): Buffer {
    return this.names.subarray(this.nameStart(i), this.nameEnds[i]);
  }

  /** The byte length of entry `i`'s name. */
  nameLength(i: number): number {
    return this.nameEnds[i]! - this.nameStart(i);
  }

  /** Compares the names of entries `a` and `b` byte by byte, as Buffer.compare does. */
  compareNames(a: number, b: number): number {
    return this.names.compare(this.names, this.nameStart(b), this.nameEnds[b], this.nameStart(a), this.nameEnds[a]);
  }

  /** Whether entry `i`'s name starts with `prefix`. */
  nameStartsWith(i: number, prefix: Buffer): boolean {
    const start = this.nameStart(i);
    if (this.nameEnds[i]! - start < prefix.length) return false;
    return this.names.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0;
  }

  /** Copies entry `i`'s name into `target` at `at`; returns its length. */
  copyName(i: number, target: Buffer, at: number): number {
    const start = this.nameStart(i);
    const end = this.nameEnds[i]!;
    // Names are short: a loop costs less than a call into Buffer.copy.
    if (end - start > 64) return this.names.copy(target, at, start, end);
    for (let k = start; k < end; k++) target[at++] = this.names[k]!;
    return end - start;
  }

  /** Whether any name holds `byte`. */
  anyNameIncludes(byte: number): boolean {
    return this.names.includes(byte);
  }

  /** Decodes entry `i`'s name from byte `from` on, with `encoding`. */
  nameText(i: number, from = 0, encoding: 'utf8' | 'latin1' = 'utf8'): string {
    return this.names.toString(encoding, this.nameStart(i) + from, this.nameEnds[i]);
  }
}
