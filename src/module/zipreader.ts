// Reading zips we did not write: every way yauzl or zlib can fail on hostile bytes becomes a typed
// `INVALID_ZIP` error here, so callers never see a bare library error for a bad zip.

import { crc32, createInflateRaw } from 'node:zlib';
import type { Readable } from 'node:stream';
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

/** Turns a failure while parsing zip bytes into `INVALID_ZIP`; system errors (EIO, EACCES) pass through. */
export function asZipFormatError(err: unknown): unknown {
  if (err instanceof GodepotError) return err;
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string') return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ZipError('INVALID_ZIP', `zip: not a valid zip file: ${detail}`, { cause: err });
}

/** A zip file opened for reading: its central directory is listed once, entries are streamed on demand. */
export class ZipReader {
  private constructor(private readonly zip: yauzl.ZipFile) {}

  /** Opens `file`; throws `INVALID_ZIP` when it has no readable central directory. */
  static async open(file: string): Promise<ZipReader> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(file, {
        // We close it ourselves: entries are read after the directory has been listed.
        autoClose: false,
        lazyEntries: true,
        // Names stay bytes, so that a bad name is reported rather than aborting the whole listing.
        decodeStrings: false,
        validateEntrySizes: true,
      });
    } catch (err) {
      throw asZipFormatError(err);
    }
    // yauzl reports some failures as events; without a listener such an event would crash the process.
    zip.on('error', () => {});
    return new ZipReader(zip);
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

  /**
   * Yields the uncompressed bytes of `entry`, failing with `INVALID_ZIP` as soon as the data runs past the
   * declared size (so a zip bomb costs at most that much), ends short of it, or has the wrong CRC-32.
   */
  async *read(entry: ZipEntry): AsyncGenerator<Buffer, void, undefined> {
    const { raw } = entry;
    const name = entry.name.toString('utf8');
    if (raw.isEncrypted()) throw new ZipError('INVALID_ZIP', `zip: file ${name} is encrypted`);
    if (raw.compressionMethod !== STORED && raw.compressionMethod !== DEFLATED) {
      throw new ZipError('INVALID_ZIP', `zip: unsupported compression algorithm ${raw.compressionMethod} for file ${name}`);
    }
    let source: Readable;
    try {
      source = await this.zip.openReadStreamPromise(raw, { decodeFileData: false });
    } catch (err) {
      throw asZipFormatError(err);
    }
    let data: Readable = source;
    if (raw.compressionMethod === DEFLATED) {
      const inflate = createInflateRaw();
      source.on('error', (err) => inflate.destroy(err));
      data = source.pipe(inflate);
    }
    let n = 0;
    let crc = 0;
    try {
      for await (const chunk of data as AsyncIterable<Buffer>) {
        n += chunk.length;
        if (n > entry.size) {
          throw new ZipError('INVALID_ZIP', `uncompressed size of file ${name} is larger than declared size (${entry.size} bytes)`);
        }
        crc = crc32(chunk, crc);
        yield chunk;
      }
    } catch (err) {
      throw asZipFormatError(err);
    } finally {
      if (data !== source) {
        source.unpipe();
        data.destroy();
      }
      source.destroy();
    }
    if (n !== entry.size) {
      throw new ZipError('INVALID_ZIP', `zip: file ${name} ends after ${n} of its declared ${entry.size} bytes`);
    }
    // Like go, trust a zero CRC to mean "not recorded".
    if (raw.crc32 !== 0 && crc !== raw.crc32) throw new ZipError('INVALID_ZIP', `zip: checksum error in file ${name}`);
  }

  /** Releases the file descriptor once no entry is being read. */
  close(): void {
    this.zip.close();
  }
}
