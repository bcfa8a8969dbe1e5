import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * A pass-through that counts (and, unless told not to, SHA-256-hashes) the bytes flowing through it, and
 * fails with `tooLarge()` as soon as more than `limit` bytes have passed, so an oversized body is refused
 * before it is written whole.
 */
export class ByteMeter extends Transform {
  /** Bytes passed so far. */
  size = 0;
  private readonly hash: Hash | null;

  constructor(
    private readonly limit: number,
    private readonly tooLarge: () => Error,
    options: { hash?: boolean } = {},
  ) {
    super();
    this.hash = options.hash === false ? null : createHash('sha256');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      callback(this.tooLarge());
      return;
    }
    this.hash?.update(chunk);
    callback(null, chunk);
  }

  /** Lower-case hex SHA-256 of every byte that passed; call it once, after the end, on a meter that hashes. */
  sha256(): string {
    if (this.hash === null) throw new Error('ByteMeter made with { hash: false } has no SHA-256');
    return this.hash.digest('hex');
  }
}
