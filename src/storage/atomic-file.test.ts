import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isTemporaryName, streamDurably, temporaryPath, writeDurably, writeFileAtomically } from './atomic-file.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'godepot-atomic-'));
  dirs.push(d);
  return d;
}

test('writeFileAtomically writes the file and leaves no temporary behind', async () => {
  const dir = await tempDir();
  const result = await writeFileAtomically(join(dir, 'out.txt'), async (out) => {
    out.end('hello\n');
    return 42;
  });
  assert.equal(result, 42);
  assert.equal(await readFile(join(dir, 'out.txt'), 'utf8'), 'hello\n');
  assert.deepEqual(await readdir(dir), ['out.txt']);
});

test('a writer that fails at once, before the file is even open, leaves no temporary', async () => {
  const dir = await tempDir();
  // Many at once, so that the file system thread pool interleaves opens and removals.
  const failures = Array.from({ length: 200 }, (_, i) =>
    assert.rejects(
      writeFileAtomically(join(dir, `out${i % 10}.txt`), async (out) => {
        if (i % 2 === 0) out.write('some bytes first');
        throw new Error('failed before writing');
      }),
      /failed before writing/,
    ),
  );
  await Promise.all(failures);
  assert.deepEqual(await readdir(dir), []);
});

test('a failing writer leaves the old file untouched and no temporary', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'out.txt'), 'old\n');
  await assert.rejects(
    writeFileAtomically(join(dir, 'out.txt'), async (out) => {
      out.write('half of the new content');
      throw new Error('the source broke');
    }),
    /the source broke/,
  );
  assert.equal(await readFile(join(dir, 'out.txt'), 'utf8'), 'old\n');
  assert.deepEqual(await readdir(dir), ['out.txt']);
});

test('with tempDir the temporary is made there and the file still lands at its path', async () => {
  const dir = await tempDir();
  const temps = await tempDir();
  let seen: string[] = [];
  await writeFileAtomically(
    join(dir, 'out.txt'),
    async (out) => {
      out.write('hello');
      await new Promise((resolve) => out.once('open', resolve));
      seen = await readdir(temps);
      out.end();
    },
    { tempDir: temps },
  );
  assert.equal(seen.length, 1);
  assert.ok(isTemporaryName(seen[0]!), seen[0]);
  assert.equal(await readFile(join(dir, 'out.txt'), 'utf8'), 'hello');
  assert.deepEqual(await readdir(temps), []);
});

test('isTemporaryName knows the temporaries and nothing else', () => {
  assert.ok(isTemporaryName('.v1.0.0.zip.0123456789ab.tmp'));
  for (const name of ['v1.0.0.zip', '.v1.0.0.zip.tmp', 'list', '.x.0123456789AB.tmp', 'x.0123456789ab.tmp']) {
    assert.ok(!isTemporaryName(name), name);
  }
});

test('writeDurably and streamDurably create a new file, refuse an existing one, and leave nothing when they fail', async () => {
  const dir = await tempDir();
  await writeDurably(join(dir, 'bytes'), Buffer.from('one'));
  assert.equal(await readFile(join(dir, 'bytes'), 'utf8'), 'one');
  await assert.rejects(writeDurably(join(dir, 'bytes'), Buffer.from('two')), { code: 'EEXIST' });
  assert.equal(await readFile(join(dir, 'bytes'), 'utf8'), 'one');
  assert.equal(await streamDurably(join(dir, 'stream'), async (out) => (out.end('three'), 3)), 3);
  assert.equal(await readFile(join(dir, 'stream'), 'utf8'), 'three');
  await assert.rejects(
    streamDurably(join(dir, 'broken'), async (out) => {
      out.write('half');
      throw new Error('the source broke');
    }),
    /the source broke/,
  );
  await assert.rejects(writeDurably(join(dir, 'missing', 'x'), Buffer.from('x')), { code: 'ENOENT' });
  assert.deepEqual((await readdir(dir)).sort(), ['bytes', 'stream']);
  const temp = temporaryPath(dir, 'v1.0.0.zip');
  assert.ok(isTemporaryName(temp.slice(dir.length + 1)), temp);
  assert.notEqual(temp, temporaryPath(dir, 'v1.0.0.zip'));
});
