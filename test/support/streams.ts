import { Readable, Writable } from 'node:stream';

/** A stream of `size` zero bytes that never holds more than one 1 MiB chunk: for size-limit tests. */
export function zeros(size: number): Readable {
  const chunk = Buffer.alloc(1 << 20);
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

/** A sink that drops everything written to it. */
export function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
