import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * A pass-through that counts and SHA-256-hashes the bytes flowing through it, and fails with
 * `tooLarge()` as soon as more than `limit` bytes have passed, so an oversized body is refused before
 * it is written whole.
 */
export class ByteMeter extends Transform {
  /** Bytes passed so far. */
  size = 0;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly limit: number,
    private readonly tooLarge: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      callback(this.tooLarge());
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  /** Lower-case hex SHA-256 of every byte that passed; call it once, after the end. */
  sha256(): string {
    return this.hash.digest('hex');
  }
}
