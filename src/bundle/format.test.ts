import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { zeros } from '../../test/support/streams.js';
import { InvalidContentError, InvalidRequestError, NotFoundError } from '../errors.js';
import { makeFixture, opener, sha256Hex, writeGzippedTar, type Fixture } from '../../test/support/bundle-fixtures.js';
import { BundleFormatError, MAX_MANIFEST, openBundle, writeBundle, type Bundle } from './format.js';
import { compressedOffset, STORED_BLOCK } from './gzip.js';
import { MANIFEST_NAME, formatManifest, manifestFiles, moduleFileName, type Manifest } from './manifest.js';
import { END_OF_ARCHIVE, padding } from './tar.js';

const run = promisify(execFile);

const longPath = `example.com/long/${'segment-'.repeat(14)}end`;

function fixture(): Fixture {
  return makeFixture(
    [
      {
        path: 'example.com/Upper/lib',
        version: 'v1.2.3',
        info: '{"Version":"v1.2.3","Time":"2023-01-02T03:04:05Z"}\n',
        mod: 'module example.com/Upper/lib\n',
        zip: randomBytes(200_000),
      },
      { path: longPath, version: 'v0.0.0-20230102030405-abcdefabcdef', info: '{"Version":"v0.0.0-20230102030405-abcdefabcdef"}\n', mod: `module ${longPath}\n`, zip: randomBytes(3000) },
      { path: 'example.com/only/mod', version: 'v2.0.0+incompatible', mod: 'module example.com/only/mod\n' },
    ],
    { sumdb: 'sum.example.com' },
  );
}

async function readAllEntries(bundle: Bundle): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of bundle.entries.keys()) out.set(name, await buffer(bundle.open(name)));
  return out;
}


// A ustar header written field by field, independently of tar.ts, with a given name, type and mode.
function handHeader(name: string, size: number, options: { type?: string; mode?: string } = {}): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write(`${options.mode ?? '0000644'}\0`, 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write(options.type ?? '0', 156, 'latin1');
  h.write('ustar\u000000', 257, 'latin1');
  h.write('0000000\0', 329, 'latin1');
  h.write('0000000\0', 337, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function entry(header: Buffer, data: Buffer): Buffer[] {
  return [header, data, padding(data.length)];
}

describe('bundle format', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'godepot-format-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips: every entry in manifest order, its bytes, and byte ranges across gzip blocks', async () => {
    const { manifest, contents } = fixture();
    const file = join(dir, 'round.gz');
    const written = await writeBundle(file, manifest, opener(contents));
    const bytes = await readFile(file);
    assert.deepEqual(written, { sha256: sha256Hex(bytes), size: bytes.length, manifestId: sha256Hex(formatManifest(manifest)) });
    const bundle = await openBundle(file);
    try {
      assert.deepEqual(bundle.manifest, manifest);
      assert.deepEqual(bundle.manifestBytes, formatManifest(manifest));
      assert.equal(bundle.signature, null);
      assert.deepEqual([...bundle.entries.keys()], manifestFiles(manifest).map((f) => f.name));
      assert.deepEqual(await readAllEntries(bundle), contents);
      const zipName = moduleFileName('example.com/Upper/lib', 'v1.2.3', '.zip');
      assert.equal(zipName, 'example.com/!upper/lib/@v/v1.2.3.zip');
      const zip = contents.get(zipName)!;
      for (const [start, end] of [[0, 0], [65_000, 66_000], [100, zip.length - 1], [zip.length - 1, zip.length - 1]] as const) {
        assert.deepEqual(await buffer(bundle.open(zipName, { start, end })), zip.subarray(start, end + 1), `${start}-${end}`);
      }
      assert.throws(() => bundle.open('example.com/none/@v/v1.0.0.zip'), NotFoundError);
      assert.throws(() => bundle.open(zipName, { start: 0, end: zip.length }), InvalidRequestError);
    } finally {
      await bundle.close();
    }
  });

  it('writes the same bytes twice, however the files are chunked', async () => {
    const { manifest, contents } = fixture();
    const a = join(dir, 'a.gz');
    const b = join(dir, 'b.gz');
    const c = join(dir, 'c.gz');
    await writeBundle(a, manifest, opener(contents));
    await writeBundle(b, manifest, opener(contents, (i) => 1 + ((i * 7919) % 10_007)));
    await writeBundle(c, manifest, opener(contents, (i) => (i < 3000 ? 1 : 4096)));
    const first = await readFile(a);
    assert.deepEqual(await readFile(b), first);
    assert.deepEqual(await readFile(c), first);
  });

  it('is read by GNU tar and gzip: same names in order, same bytes, fixed owners, modes and times', async () => {
    const { manifest, contents } = fixture();
    const file = join(dir, 'gnu.tar.gz');
    await writeBundle(file, manifest, opener(contents));
    await run('gzip', ['-t', file]);
    const { stdout: names } = await run('tar', ['-tzf', file]);
    assert.deepEqual(names.trimEnd().split('\n'), [MANIFEST_NAME, ...contents.keys()]);
    assert.ok(manifestFiles(manifest).some((f) => f.name.length > 100), 'a name longer than 100 bytes goes through pax');
    const { stdout: long } = await run('tar', ['--numeric-owner', '--utc', '-tvzf', file]);
    for (const line of long.trimEnd().split('\n')) assert.match(line, /^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 /);
    const out = join(dir, 'gnu-extracted');
    await mkdir(out);
    await run('tar', ['-xzf', file, '-C', out]);
    for (const [name, data] of contents) assert.deepEqual(await readFile(join(out, name)), data, name);
    assert.deepEqual(await readFile(join(out, MANIFEST_NAME)), formatManifest(manifest));
  });

  it('signs: manifest.sig second, the Ed25519 signature of manifest.json’s exact bytes', async () => {
    const { manifest, contents } = fixture();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const file = join(dir, 'signed.gz');
    await writeBundle(file, manifest, opener(contents), { signingKey: privateKey });
    const { stdout } = await run('tar', ['-tzf', file]);
    assert.deepEqual(stdout.split('\n').slice(0, 2), [MANIFEST_NAME, 'manifest.sig']);
    const bundle = await openBundle(file);
    try {
      assert.equal(bundle.signature?.length, 64);
      assert.ok(verify(null, bundle.manifestBytes, publicKey, bundle.signature!));
      assert.ok(!bundle.entries.has('manifest.sig'));
    } finally {
      await bundle.close();
    }
  });

  it('refuses a file that disagrees with the manifest while streaming, and leaves no file behind', async () => {
    const { manifest, contents } = fixture();
    const out = join(dir, 'mismatch');
    await mkdir(out);
    const zipName = 'example.com/!upper/lib/@v/v1.2.3.zip';
    const altered = new Map(contents);
    const zip = Buffer.from(contents.get(zipName)!);
    zip[1000]! ^= 1;
    altered.set(zipName, zip);
    await assert.rejects(writeBundle(join(out, 'b.gz'), manifest, opener(altered)), (err) => err instanceof InvalidContentError && err.message.includes(zipName) && /sha256/.test(err.message));
    altered.set(zipName, zip.subarray(1));
    await assert.rejects(writeBundle(join(out, 'b.gz'), manifest, opener(altered)), (err) => err instanceof InvalidContentError && /199999 bytes/.test(err.message));
    altered.set(zipName, Buffer.concat([contents.get(zipName)!, Buffer.of(0)]));
    await assert.rejects(writeBundle(join(out, 'b.gz'), manifest, opener(altered)), (err) => err instanceof InvalidContentError && /more than 200000 bytes/.test(err.message));
    const controller = new AbortController();
    const slow = opener(contents, () => 100);
    const aborting = writeBundle(join(out, 'b.gz'), manifest, async (f) => {
      if (f.name === zipName) controller.abort();
      return slow(f);
    }, { signal: controller.signal });
    await assert.rejects(aborting, { name: 'AbortError' });
    assert.deepEqual(await readdir(out), []);
  });

  it('refuses to write a manifest larger than a reader takes, and leaves no file behind', async () => {
    const { manifest, contents } = fixture();
    const out = join(dir, 'too-large');
    await mkdir(out);
    const large = { ...manifest, createdBy: 'x'.repeat(MAX_MANIFEST) };
    await assert.rejects(
      writeBundle(join(out, 'b.gz'), large, opener(contents)),
      (err) => err instanceof BundleFormatError && /manifest\.json would hold \d+ bytes, more than the 67108864 a bundle may/.test(err.message),
    );
    assert.deepEqual(await readdir(out), []);
  });

  it('refuses unsafe paths on write', async () => {
    const { manifest, contents } = fixture();
    const unsafe = ['../evil', '/etc/passwd', 'sumdb/sum.example.com/../x', 'a\\b', 'sumdb//x', 'sumdb/sum.example.com/./latest'];
    for (const name of unsafe) {
      const bad: Manifest = structuredClone(manifest);
      bad.sumdb[0]!.files.push({ name, size: 0, sha256: sha256Hex(Buffer.alloc(0)) });
      await assert.rejects(writeBundle(join(dir, 'unsafe.gz'), bad, opener(contents)), (err) => err instanceof BundleFormatError && /unsafe file name/.test(err.message) && err.entry === name, name);
    }
    const badModule: Manifest = structuredClone(manifest);
    badModule.modules[0]!.files[0]!.name = '../../example.com/!upper/lib/@v/v1.2.3.info';
    await assert.rejects(writeBundle(join(dir, 'unsafe.gz'), badModule, opener(contents)), BundleFormatError);
    assert.deepEqual((await readdir(dir)).filter((n) => n.includes('unsafe')), []);
  });

  describe('refuses on read, with BundleFormatError naming the entry', () => {
    const manifestBytes = (m: Manifest): Buffer => formatManifest(m);
    const good = (): Manifest => makeFixture([{ path: 'example.com/a', version: 'v1.0.0', mod: 'module example.com/a\n' }]).manifest;
    const mod = Buffer.from('module example.com/a\n');
    const modName = 'example.com/a/@v/v1.0.0.mod';

    const cases: [string, () => Buffer[], RegExp, string | undefined][] = [
      ['a parent-folder entry', () => [...entry(handHeader(MANIFEST_NAME, manifestBytes(good()).length), manifestBytes(good())), ...entry(handHeader(modName, mod.length), mod), ...entry(handHeader('../evil', 4), Buffer.from('evil')), END_OF_ARCHIVE], /unsafe entry name "\.\.\/evil"/, '../evil'],
      ['an absolute entry', () => [...entry(handHeader(MANIFEST_NAME, manifestBytes(good()).length), manifestBytes(good())), ...entry(handHeader('/tmp/evil', 4), Buffer.from('evil')), END_OF_ARCHIVE], /unsafe entry name "\/tmp\/evil": absolute path/, '/tmp/evil'],
      ['a symbolic link', () => [...entry(handHeader(MANIFEST_NAME, manifestBytes(good()).length), manifestBytes(good())), ...entry(handHeader('link', 0, { type: '2' }), Buffer.alloc(0)), END_OF_ARCHIVE], /only regular files/, undefined],
      ['a folder entry', () => [...entry(handHeader(MANIFEST_NAME, manifestBytes(good()).length), manifestBytes(good())), ...entry(handHeader('example.com/', 0, { type: '5' }), Buffer.alloc(0)), END_OF_ARCHIVE], /only regular files/, undefined],
      ['a non-canonical mode', () => [...entry(handHeader(MANIFEST_NAME, manifestBytes(good()).length), manifestBytes(good())), ...entry(handHeader(modName, mod.length, { mode: '0004755' }), mod), END_OF_ARCHIVE], /not in the canonical form/, modName],
      ['an entry given twice', () => [...entry(handHeader(MANIFEST_NAME, manifestBytes(good()).length), manifestBytes(good())), ...entry(handHeader(modName, mod.length), mod), ...entry(handHeader(modName, mod.length), mod), END_OF_ARCHIVE], /appears more than once/, modName],
      ['no manifest first', () => [...entry(handHeader(modName, mod.length), mod), END_OF_ARCHIVE], /first entry is not manifest\.json/, modName],
      ['a manifest listing a parent-folder path', () => {
        const m = good();
        m.modules[0]!.files[0]!.name = '../x';
        return [...entry(handHeader(MANIFEST_NAME, manifestBytes(m).length), manifestBytes(m)), END_OF_ARCHIVE];
      }, /unsafe file name "\.\.\/x"/, '../x'],
      ['a manifest of a later format', () => {
        const bytes = Buffer.from(manifestBytes(good()).toString().replace('"format": 1', '"format": 3'));
        return [...entry(handHeader(MANIFEST_NAME, bytes.length), bytes), END_OF_ARCHIVE];
      }, /bundle format 3; this godepot reads formats 1 and 2: a newer godepot wrote it\. .*tar -xzf FILE release\//, MANIFEST_NAME],
      ['no end-of-archive blocks', () => [...entry(handHeader(MANIFEST_NAME, manifestBytes(good()).length), manifestBytes(good()))], /without its end-of-archive blocks/, undefined],
      ['data after the end of the archive', () => [...entry(handHeader(MANIFEST_NAME, manifestBytes(good()).length), manifestBytes(good())), END_OF_ARCHIVE, Buffer.alloc(512, 1)], /does not end with its two zero blocks/, undefined],
    ];
    for (const [what, parts, message, name] of cases) {
      it(what, async () => {
        const file = join(dir, `hand-${what.replaceAll(' ', '-')}.gz`);
        await writeGzippedTar(file, parts());
        await assert.rejects(openBundle(file), (err) => {
          assert.ok(err instanceof BundleFormatError, String(err));
          assert.match(err.message, message);
          assert.equal(err.entry, name);
          return true;
        });
      });
    }

    it('the same hand-made tar with safe names opens (the cases above fail for their reason alone)', async () => {
      const file = join(dir, 'hand-good.gz');
      await writeGzippedTar(file, [...entry(handHeader(MANIFEST_NAME, manifestBytes(good()).length), manifestBytes(good())), ...entry(handHeader(modName, mod.length), mod), END_OF_ARCHIVE]);
      const bundle = await openBundle(file);
      try {
        assert.deepEqual(await readAllEntries(bundle), new Map([[modName, mod]]));
      } finally {
        await bundle.close();
      }
    });
  });

  it('refuses recompressed, truncated and foreign files, and reports a corrupted block header inside an entry', async () => {
    const { manifest, contents } = fixture();
    const file = join(dir, 'tamper.gz');
    await writeBundle(file, manifest, opener(contents));
    const bytes = await readFile(file);

    const recompressed = join(dir, 'recompressed.gz');
    await run('sh', ['-c', `gzip -dc < '${file}' | gzip -9 > '${recompressed}'`]);
    await assert.rejects(openBundle(recompressed), (err) => err instanceof BundleFormatError && /recompressed/.test(err.message) && /stored 65535-byte blocks/.test(err.message));

    const truncated = join(dir, 'truncated.gz');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 70_000));
    await assert.rejects(openBundle(truncated), BundleFormatError);

    const plainTar = join(dir, 'plain.tar');
    await run('sh', ['-c', `gzip -dc < '${file}' > '${plainTar}'`]);
    await assert.rejects(openBundle(plainTar), (err) => err instanceof BundleFormatError && /not a gzip file/.test(err.message));

    // Block 1 lies inside the 200 kB zip: opening (which reads tar headers) does not cross it, reading the zip does.
    const corrupted = join(dir, 'block.gz');
    const altered = Buffer.from(bytes);
    altered[compressedOffset(STORED_BLOCK) - 3]! ^= 0x10;
    await writeFile(corrupted, altered);
    const bundle = await openBundle(corrupted);
    try {
      await assert.rejects(buffer(bundle.open('example.com/!upper/lib/@v/v1.2.3.zip')), (err) => err instanceof BundleFormatError && /block 1 /.test(err.message));
    } finally {
      await bundle.close();
    }
  });

  it('streams a 128 MiB entry in and out without holding it in memory', async () => {
    const size = 128 << 20;
    const hash = createHash('sha256');
    for await (const chunk of zeros(size)) hash.update(chunk as Buffer);
    const base = makeFixture([{ path: 'example.com/big', version: 'v1.0.0', mod: 'module example.com/big\n', zip: Buffer.alloc(0) }]);
    const zipName = 'example.com/big/@v/v1.0.0.zip';
    const manifest = structuredClone(base.manifest);
    manifest.modules[0]!.files[1] = { name: zipName, size, sha256: hash.digest('hex') };
    let peak = 0;
    const baseline = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss - baseline);
    }, 2);
    try {
      const file = join(dir, 'big.gz');
      const started = Date.now();
      await writeBundle(file, manifest, (f) => Promise.resolve(f.name === zipName ? zeros(size) : Readable.from([base.contents.get(f.name)!])));
      const bundle = await openBundle(file);
      try {
        const read = createHash('sha256');
        let n = 0;
        for await (const chunk of bundle.open(zipName)) {
          read.update(chunk as Buffer);
          n += (chunk as Buffer).length;
        }
        assert.equal(n, size);
        assert.equal(read.digest('hex'), manifest.modules[0]!.files[1]!.sha256);
      } finally {
        await bundle.close();
      }
      process.stdout.write(`# 128 MiB entry written and read back in ${Date.now() - started} ms, peak RSS growth ${(peak / 2 ** 20).toFixed(1)} MiB\n`);
    } finally {
      clearInterval(sampler);
    }
    // Garbage buffers wait for the next collection, which V8 starts after about 64 MiB of them: growth
    // stays under that, far from the entry's size.
    assert.ok(peak < 80 << 20, `RSS grew by ${peak} bytes`);
  });
});
