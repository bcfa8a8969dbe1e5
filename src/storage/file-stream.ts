import { read } from 'node:fs';
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
  private reading = false;
  /** The close a destroy() during a read left for the read's end. */
  private afterRead: (() => void) | undefined;

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
   * Reads the next bytes of the range into the first `length` bytes of `buffer` (all of it by default);
   * resolves with how many were read, 0 at the end of the range or of the file. One read at a time.
   */
  readInto(buffer: Uint8Array, length = buffer.byteLength): Promise<number> {
    try {
      this.claim('readInto');
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.readAt(buffer, Math.min(length, buffer.byteLength, this.limit - this.position));
  }

  override _read(): void {
    try {
      this.claim('stream');
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    const length = Math.min(STREAM_CHUNK, this.limit - this.position);
    const buffer = Buffer.allocUnsafeSlow(length);
    this.readAt(buffer, length).then(
      (read) => {
        if (this.destroyed) return;
        // A file shorter than the range ends the stream where the file ends, as fs.ReadStream does.
        this.push(read === 0 ? null : read === length ? buffer : buffer.subarray(0, read));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const close = (): void => {
      this.handle.close().then(
        () => callback(err),
        (closeErr: Error) => callback(err ?? closeErr),
      );
    };
    // The descriptor must outlive a read still using it: closed, its number could be another file's.
    if (this.reading) this.afterRead = close;
    else close();
  }

  // fs.read with a callback on the handle's descriptor: FileHandle.read costs a few promises and objects
  // per call, which at thousands of chunks a second is most of what a send allocates.
  private readAt(buffer: Uint8Array, length: number): Promise<number> {
    if (this.destroyed) return Promise.reject(new Error('FileStream: read after destroy'));
    if (this.reading) return Promise.reject(new Error('FileStream: one read at a time'));
    if (length <= 0) return Promise.resolve(0);
    this.reading = true;
    return new Promise((resolve, reject) => {
      read(this.handle.fd, buffer, 0, length, this.position, (err, bytesRead) => {
        this.reading = false;
        if (err === null) this.position += bytesRead;
        this.afterRead?.();
        if (err !== null) reject(err);
        else resolve(bytesRead);
      });
    });
  }

  private claim(by: 'stream' | 'readInto'): void {
    if (this.takenBy !== undefined && this.takenBy !== by) throw new Error(`FileStream: already read by ${this.takenBy}, cannot be read by ${by} too`);
    this.takenBy = by;
  }
}
