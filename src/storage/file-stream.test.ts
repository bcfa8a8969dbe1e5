import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { FileStream } from './file-stream.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A file of `size` random bytes, and those bytes. */
async function fileOf(size: number): Promise<{ path: string; bytes: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-file-stream-'));
  dirs.push(dir);
  const bytes = randomBytes(size);
  const path = join(dir, 'f');
  await writeFile(path, bytes);
  return { path, bytes };
}

test('read as a stream: the range [start, end), in chunks, ending where the file ends if it is shorter', async () => {
  const { path, bytes } = await fileOf(600_000);
  assert.deepEqual(await buffer(new FileStream(await open(path), 0, bytes.length)), bytes);
  assert.deepEqual(await buffer(new FileStream(await open(path), 1000, 300_000)), bytes.subarray(1000, 300_000));
  assert.deepEqual(await buffer(new FileStream(await open(path), 599_990, 700_000)), bytes.subarray(599_990));
  assert.equal((await buffer(new FileStream(await open(path), 5, 5))).length, 0);
});

test('readInto fills the caller buffer with the next bytes of the range, then answers 0; destroy closes the file', async () => {
  const { path, bytes } = await fileOf(100_000);
  const handle = await open(path);
  const stream = new FileStream(handle, 10, 90_010);
  assert.equal(stream.remaining, 90_000);
  const into = Buffer.alloc(32 * 1024);
  const got: Buffer[] = [];
  for (let n = await stream.readInto(into); n > 0; n = await stream.readInto(into)) got.push(Buffer.from(into.subarray(0, n)));
  assert.deepEqual(Buffer.concat(got), bytes.subarray(10, 90_010));
  assert.deepEqual(
    got.map((g) => g.length),
    [32768, 32768, 24464],
  );
  assert.equal(stream.remaining, 0);
  stream.destroy();
  await once(stream, 'close');
  await assert.rejects(handle.stat(), /closed|EBADF/);
});

test('a stream is read one way only: readInto after stream reads is refused, and stream reads after readInto fail the stream', async () => {
  const { path } = await fileOf(1000);
  const streamed = new FileStream(await open(path), 0, 1000);
  await buffer(streamed);
  await assert.rejects(streamed.readInto(Buffer.alloc(10)), /already read by stream/);

  const taken = new FileStream(await open(path), 0, 1000);
  await taken.readInto(Buffer.alloc(10));
  await assert.rejects(buffer(taken), /already read by readInto/);
});

test('a destroy during a read closes the file only once the read is over', async () => {
  const { path, bytes } = await fileOf(300_000);
  const handle = await open(path);
  const stream = new FileStream(handle, 0, bytes.length);
  const into = Buffer.alloc(bytes.length);
  const reading = stream.readInto(into);
  stream.destroy();
  assert.equal(await reading, bytes.length);
  assert.deepEqual(into, bytes);
  await once(stream, 'close');
  await assert.rejects(handle.stat(), /closed|EBADF/);
  await assert.rejects(stream.readInto(into), /after destroy/);
});
