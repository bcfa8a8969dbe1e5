import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, test } from 'node:test';
import { streamToNewFile } from './stream-to-new-file.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'godepot-new-file-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('writes a new file and resolves with what the writer returned, once the file is closed', async () => {
  const path = join(dir, 'written');
  const out = await streamToNewFile(path, async (out) => (await pipeline(Readable.from(['one ', 'two']), out), out), { mode: 0o444 });
  assert.equal(out.closed, true);
  assert.equal(await readFile(path, 'utf8'), 'one two');
  assert.equal((await stat(path)).mode & 0o777, 0o444 & ~process.umask());
});

test('a source that fails before the file is even open leaves no file, every time', async () => {
  // Without waiting for the stream to close, the open finished after the removal and left the file
  // behind in about one run in five.
  for (let i = 0; i < 100; i++) {
    const failing = new Readable({ read: () => failing.destroy(new Error(`broken ${i}`)) });
    await assert.rejects(streamToNewFile(join(dir, `failed-${i}`), (out) => pipeline(failing, out)), { message: `broken ${i}` });
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('failed-')), []);
});

test('a file already there is refused with EEXIST and left as it was', async () => {
  const path = join(dir, 'taken');
  await writeFile(path, 'mine');
  await assert.rejects(streamToNewFile(path, (out) => pipeline(Readable.from(['theirs']), out)), { code: 'EEXIST' });
  assert.equal(await readFile(path, 'utf8'), 'mine');
});
