import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashGoMod, hashZip } from '../module/hash.js';
import { createZipFromDir } from '../module/zip.js';
import { makeFixture, opener, sha256Hex, tarParts, writeGzippedTar, type Fixture } from '../../test/support/bundle-fixtures.js';
import { openBundle, writeBundle } from './format.js';
import { compressedOffset } from './gzip.js';
import { formatManifest, manifestFiles, type Manifest } from './manifest.js';
import { padding } from './tar.js';
import { BundleVerificationError, verifyBundle, type VerifyOptions, type VerifyReport } from './verify.js';

const LIB = 'example.com/Lib';
const DEP = 'example.com/dep';
const libZip = 'example.com/!lib/@v/v1.0.0.zip';
const depZip = 'example.com/dep/@v/v0.1.0.zip';
const depMod = 'example.com/dep/@v/v0.1.0.mod';

async function moduleZip(work: string, modulePath: string, version: string, files: Record<string, string | Buffer>, zipAs = modulePath): Promise<{ zip: Buffer; h1: string }> {
  const dir = join(work, `${zipAs.replaceAll('/', '_')}@${version}`);
  await mkdir(dir, { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
  const file = `${dir}.zip`;
  await createZipFromDir(createWriteStream(file), zipAs, version, dir);
  return { zip: await readFile(file), h1: await hashZip(file) };
}


describe('verifyBundle', () => {
  let dir: string;
  let fixture: Fixture;
  let good: string;
  const lib = { mod: `module ${LIB}\n\ngo 1.19\n`, zip: Buffer.alloc(0), h1: '' };
  const dep = { mod: `module ${DEP}\n`, zip: Buffer.alloc(0), h1: '' };

  const fixtureWith = (options: { goSum?: string[]; depZip?: Buffer; depZipHash?: string; depMod?: string } = {}): Fixture =>
    makeFixture(
      [
        { path: LIB, version: 'v1.0.0', info: '{"Version":"v1.0.0"}\n', mod: lib.mod, zip: lib.zip, zipHash: lib.h1 },
        { path: DEP, version: 'v0.1.0', info: '{"Version":"v0.1.0"}\n', mod: options.depMod ?? dep.mod, zip: options.depZip ?? dep.zip, zipHash: options.depZipHash ?? dep.h1 },
      ],
      {
        sumdb: 'sum.example.com',
        goSum: options.goSum ?? [`${LIB} v1.0.0 ${lib.h1}`, `${DEP} v0.1.0 ${dep.h1}`, `${DEP} v0.1.0/go.mod ${hashGoMod(Buffer.from(dep.mod))}`],
      },
    );

  async function verifyFile(file: string, options: VerifyOptions = {}): Promise<VerifyReport> {
    const bundle = await openBundle(file);
    try {
      return await verifyBundle(bundle, options);
    } finally {
      await bundle.close();
    }
  }

  async function rejectsAt(file: string, entry: string, message: RegExp, options: VerifyOptions = {}): Promise<void> {
    await assert.rejects(verifyFile(file, options), (err) => {
      assert.ok(err instanceof BundleVerificationError, String(err));
      assert.equal(err.entry, entry);
      assert.match(err.message, message);
      return true;
    });
  }

  async function written(name: string, f: Fixture, options: { signingKey?: KeyObject } = {}): Promise<string> {
    const file = join(dir, name);
    await writeBundle(file, f.manifest, opener(f.contents), options);
    return file;
  }

  async function flipped(name: string, source: string, at: number): Promise<string> {
    const bytes = Buffer.from(await readFile(source));
    bytes[at]! ^= 0x01;
    const file = join(dir, name);
    await writeFile(file, bytes);
    return file;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'godepot-verify-test-'));
    // Random bytes do not deflate: the zip spans several gzip blocks.
    Object.assign(lib, await moduleZip(dir, LIB, 'v1.0.0', { 'go.mod': lib.mod, 'lib.go': 'package lib\n', 'blob.bin': randomBytes(150_000) }));
    Object.assign(dep, await moduleZip(dir, DEP, 'v0.1.0', { 'go.mod': dep.mod, 'dep.go': 'package dep\n' }));
    fixture = fixtureWith();
    good = await written('good.gz', fixture);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes a good bundle and says what it checked, reporting progress up to the whole', async () => {
    const progress: [number, number][] = [];
    const report = await verifyFile(good, { onProgress: (done, total) => progress.push([done, total]) });
    assert.deepEqual(report, { signature: 'unsigned', files: manifestFiles(fixture.manifest).length, bytes: progress.at(-1)![1] });
    assert.equal(progress.at(-1)![0], progress.at(-1)![1]);
    assert.ok(progress.length > 1);
  });

  it('checks the signature with a key, and says it did not without one', async () => {
    const signer = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const signed = await written('signed.gz', fixture, { signingKey: signer.privateKey });
    assert.equal((await verifyFile(signed, { publicKey: signer.publicKey })).signature, 'valid');
    assert.equal((await verifyFile(signed)).signature, 'unchecked');
    await rejectsAt(signed, 'manifest.sig', /does not verify with public key SHA256:/, { publicKey: other.publicKey });
    await rejectsAt(good, 'manifest.sig', /not signed, and a signature was required/, { publicKey: signer.publicKey });
    // The signature is the second entry, right after manifest.json's header, data and padding.
    const manifestBlocks = 512 + formatManifest(fixture.manifest).length + padding(formatManifest(fixture.manifest).length).length;
    const badSignature = await flipped('bad-signature.gz', signed, compressedOffset(manifestBlocks + 512 + 10));
    await rejectsAt(badSignature, 'manifest.sig', /does not verify/, { publicKey: signer.publicKey });
  });

  it('a release archive (format 2) is covered like every other file: a flipped byte, another archive, a re-signed manifest', async () => {
    const signer = generateKeyPairSync('ed25519');
    const archive = randomBytes(200_000);
    const withRelease: Fixture = { ...fixture, manifest: structuredClone(fixture.manifest), contents: new Map(fixture.contents) };
    const release = makeFixture([], { release: archive });
    withRelease.manifest.format = release.manifest.format;
    withRelease.manifest.release = release.manifest.release!;
    withRelease.contents.set(release.manifest.release!.file.name, archive);
    const name = 'release/godepot-9.8.7-linux-x64.tar.gz';
    const signed = await written('release.gz', withRelease, { signingKey: signer.privateKey });
    assert.equal((await verifyFile(signed, { publicKey: signer.publicKey })).files, manifestFiles(fixture.manifest).length + 1);

    const bundle = await openBundle(signed);
    const { offset } = bundle.entries.get(name)!;
    const signature = bundle.signature!;
    await bundle.close();
    await rejectsAt(await flipped('release-byte.gz', signed, compressedOffset(offset + 150_000)), name, /sha256 is [0-9a-f]{64}, the manifest says/, { publicKey: signer.publicKey });

    // Another archive with the manifest changed to match it: the signature no longer covers the manifest.
    const other = randomBytes(1000);
    const m: Manifest = structuredClone(withRelease.manifest);
    m.release!.file = { name, size: other.length, sha256: sha256Hex(other) };
    const swapped = join(dir, 'release-swapped.gz');
    await writeGzippedTar(swapped, tarParts([['manifest.json', formatManifest(m)], ['manifest.sig', signature], ...[...withRelease.contents].map(([n, d]): [string, Buffer] => [n, n === name ? other : d])]));
    await rejectsAt(swapped, 'manifest.sig', /does not verify/, { publicKey: signer.publicKey });
    // Without a key, only the hashes vouch: the swapped archive matches its (changed) manifest.
    assert.equal((await verifyFile(swapped)).signature, 'unchecked');
  });

  it('one byte flipped in a zip: its sha256', async () => {
    const bundle = await openBundle(good);
    const { offset } = bundle.entries.get(depZip)!;
    await bundle.close();
    await rejectsAt(await flipped('zip-byte.gz', good, compressedOffset(offset + 20)), depZip, /sha256 is [0-9a-f]{64}, the manifest says/);
  });

  it('a manifest entry removed (manifest rewritten without it, the file still in the tar): file added', async () => {
    const m: Manifest = structuredClone(fixture.manifest);
    m.modules[1]!.files.shift();
    const entries: [string, Buffer][] = [['manifest.json', formatManifest(m)], ...[...fixture.contents]];
    const file = join(dir, 'manifest-entry-removed.gz');
    await writeGzippedTar(file, tarParts(entries));
    await rejectsAt(file, 'example.com/dep/@v/v0.1.0.info', /file added: the bundle holds it, its manifest does not list it/);
  });

  it('a file removed from the tar that the manifest lists: entry removed', async () => {
    const entries: [string, Buffer][] = [['manifest.json', formatManifest(fixture.manifest)], ...[...fixture.contents].filter(([name]) => name !== depMod)];
    const file = join(dir, 'entry-removed.gz');
    await writeGzippedTar(file, tarParts(entries));
    await rejectsAt(file, depMod, /entry removed: the manifest lists it, the bundle does not hold it/);
    const last = manifestFiles(fixture.manifest).at(-1)!.name;
    await writeGzippedTar(file, tarParts([['manifest.json', formatManifest(fixture.manifest)], ...[...fixture.contents].filter(([name]) => name !== last)]));
    await rejectsAt(file, last, /entry removed/);
  });

  it('a file added to the tar: file added', async () => {
    const file = join(dir, 'file-added.gz');
    await writeGzippedTar(file, tarParts([['manifest.json', formatManifest(fixture.manifest)], ...fixture.contents, ['example.com/evil/@v/v1.0.0.zip', Buffer.from('evil')]]));
    await rejectsAt(file, 'example.com/evil/@v/v1.0.0.zip', /file added/);
  });

  it('files out of manifest order', async () => {
    const file = join(dir, 'reordered.gz');
    const [first, second, ...rest] = fixture.contents;
    await writeGzippedTar(file, tarParts([['manifest.json', formatManifest(fixture.manifest)], second!, first!, ...rest]));
    await rejectsAt(file, second![0], /out of manifest order/);
  });

  it('a corrupted gzip block header inside a zip names that zip', async () => {
    const bundle = await openBundle(good);
    const { offset, size } = bundle.entries.get(libZip)!;
    await bundle.close();
    assert.ok(size > 2 * 65_535);
    const block = Math.floor(offset / 65_535) + 1;
    await rejectsAt(await flipped('block-header.gz', good, compressedOffset(block * 65_535) - 4), libZip, /block \d+ .*is not a stored block/);
  });

  it('the gzip CRC-32 altered alone names the trailer; padding altered names its entry', async () => {
    const bytes = await readFile(good);
    await rejectsAt(await flipped('crc.gz', good, bytes.length - 8), '(gzip trailer)', /CRC-32/);
    const bundle = await openBundle(good);
    const { offset, size } = bundle.entries.get(depMod)!;
    await bundle.close();
    assert.ok(size % 512 !== 0);
    await rejectsAt(await flipped('padding.gz', good, compressedOffset(offset + size)), depMod, /tar headers or padding around it are not as written/);
  });

  it('a zip whose h1 is not the manifest’s zipHash', async () => {
    const file = await written('zip-h1.gz', fixtureWith({ depZipHash: lib.h1, goSum: [] }));
    await rejectsAt(file, depZip, new RegExp(`the zip's hash is ${escape(dep.h1)}, the manifest says ${escape(lib.h1)}`));
  });

  it('a .mod whose h1 is not the manifest’s modHash', async () => {
    const f = fixtureWith({ goSum: [] });
    f.manifest.modules[1]!.modHash = hashGoMod(Buffer.from('module example.com/other\n'));
    await rejectsAt(await written('mod-h1.gz', f), depMod, /the go.mod hash is h1:.*, the manifest says h1:/);
  });

  it('a zip that fails the module zip checks (made for another module)', async () => {
    const other = await moduleZip(dir, DEP, 'v0.1.0', { 'go.mod': dep.mod, 'dep.go': 'package dep\n' }, 'example.com/other');
    const file = await written('wrong-module.gz', fixtureWith({ depZip: other.zip, depZipHash: other.h1, goSum: [] }));
    await rejectsAt(file, depZip, /not a valid module zip for example.com\/dep@v0.1.0: .*path does not have prefix "example.com\/dep@v0.1.0\/"/);
  });

  it('module hashes that disagree with an input’s go.sum, for the zip and for the go.mod', async () => {
    const zipLine = await written('gosum-zip.gz', fixtureWith({ goSum: [`${DEP} v0.1.0 ${lib.h1}`] }));
    await rejectsAt(zipLine, depZip, /go.mod go.sum disagrees with the manifest: verifying example.com\/dep@v0.1.0: checksum mismatch/);
    const modLine = await written('gosum-mod.gz', fixtureWith({ goSum: [`${DEP} v0.1.0/go.mod ${lib.h1}`] }));
    await rejectsAt(modLine, depMod, /verifying example.com\/dep@v0.1.0\/go.mod: checksum mismatch/);
    // A go.sum without a line for a module says nothing about it.
    assert.equal((await verifyFile(await written('gosum-none.gz', fixtureWith({ goSum: [`example.com/unrelated v1.0.0 ${lib.h1}`] })))).signature, 'unsigned');
  });

  it('reports the first bad entry when several are bad', async () => {
    const f = fixtureWith({ goSum: [] });
    f.manifest.modules[0]!.zipHash = dep.h1;
    f.manifest.modules[1]!.zipHash = lib.h1;
    await rejectsAt(await written('two-bad.gz', f), libZip, /the zip's hash is/);
  });

  it('leaves no spooled zips behind', async () => {
    const before = await tempEntries();
    await verifyFile(good);
    await assert.rejects(verifyFile(await written('leftover.gz', fixtureWith({ depZipHash: lib.h1, goSum: [] }))));
    assert.deepEqual(await tempEntries(), before);
  });
});

async function tempEntries(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith('godepot-verify-') && !n.startsWith('godepot-verify-test-')).sort();
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
