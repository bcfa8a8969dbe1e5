import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Largest chunk a FileStream reads when consumed as a stream: fewer system calls than fs's 64 KiB default. */
const STREAM_CHUNK = 256 * 1024;

/**
 * A byte range of an open file as a Readable, which closes the file once it ends or is destroyed.
 * Besides reading it as a stream, one consumer may take its bytes with readInto(), which fills a
 * buffer of the consumer's own: a server sending a large file then reuses one buffer for all of it
 * instead of allocating a new one per chunk (server/send.ts). A stream is read one way or the other,
 * never both; whoever uses readInto() destroys the stream when done with it.
 */
export class FileStream extends Readable {
  private position: number;
  /** One past the last byte of the range. */
  private readonly limit: number;
  private takenBy: 'stream' | 'readInto' | undefined;

  /** The bytes [start, end) of the file open as `handle`; the stream owns the handle from now on. */
  constructor(
    private readonly handle: FileHandle,
    start: number,
    end: number,
  ) {
    super({ highWaterMark: STREAM_CHUNK });
    this.position = start;
    this.limit = Math.max(start, end);
  }

  /** Bytes of the range not read yet. */
  get remaining(): number {
    return this.limit - this.position;
  }

  /**
   * Reads the next bytes of the range into `buffer` (as many as fit); resolves with how many were read,
   * 0 at the end of the range or of the file.
   */
  async readInto(buffer: Uint8Array): Promise<number> {
    this.claim('readInto');
    const length = Math.min(buffer.byteLength, this.limit - this.position);
    if (length === 0) return 0;
    const { bytesRead } = await this.handle.read(buffer, 0, length, this.position);
    this.position += bytesRead;
    return bytesRead;
  }

  override _read(): void {
    try {
      this.claim('stream');
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    const length = Math.min(STREAM_CHUNK, this.limit - this.position);
    if (length === 0) {
      this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafeSlow(length);
    this.handle.read(buffer, 0, length, this.position).then(
      ({ bytesRead }) => {
        if (this.destroyed) return;
        this.position += bytesRead;
        // A file shorter than the range ends the stream where the file ends, as fs.ReadStream does.
        this.push(bytesRead === 0 ? null : bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // FileHandle.close() waits for a read still under way.
    this.handle.close().then(
      () => callback(err),
      (closeErr: Error) => callback(err ?? closeErr),
    );
  }

  private claim(by: 'stream' | 'readInto'): void {
    if (this.takenBy !== undefined && this.takenBy !== by) throw new Error(`FileStream: already read by ${this.takenBy}, cannot be read by ${by} too`);
    this.takenBy = by;
  }
}
