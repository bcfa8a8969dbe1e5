// Manifests and file contents for the bundle tests: modules with made-up files whose sizes and sha256
// are right, so that writeBundle accepts them, and an opener that hands the contents out in chunks of
// any size (to show that chunking never changes the output), and raw tar streams for bundles writeBundle
// would refuse to write.

import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { generateKey } from '../../src/checksum/note.js';
import { hashGoMod } from '../../src/module/hash.js';
import { escapePath, escapeVersion } from '../../src/module/path.js';
import { StoredGzipWriter } from '../../src/bundle/gzip.js';
import { BUNDLE_FORMAT, RELEASE_BUNDLE_FORMAT, moduleFileName, releaseFileName, type Manifest, type ManifestFile, type ManifestModule, type ManifestSumdb } from '../../src/bundle/manifest.js';
import { END_OF_ARCHIVE, encodeHeaders, padding } from '../../src/bundle/tar.js';

/** One module version of a fixture; a module without `zip` carries only its .mod (and .info when given). */
export interface FixtureModule {
  path: string;
  version: string;
  info?: string;
  mod: string;
  zip?: Buffer;
  /** The zip's `h1:`; by default a made-up one, which only verify would notice. */
  zipHash?: string;
}

/** A manifest and the bytes of every file it lists. */
export interface Fixture {
  manifest: Manifest;
  contents: Map<string, Buffer>;
}

export const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function described(name: string, data: Buffer, contents: Map<string, Buffer>): ManifestFile {
  contents.set(name, data);
  return { name, size: data.length, sha256: sha256Hex(data) };
}

/**
 * The manifest of `modules` (given in manifest order), with one checksum database when `sumdb` names it,
 * and, with `release`, a godepot 9.8.7 release archive of those bytes (format 2).
 */
export function makeFixture(modules: readonly FixtureModule[], options: { sumdb?: string; goSum?: string[]; release?: Buffer } = {}): Fixture {
  const contents = new Map<string, Buffer>();
  const entries = modules.map((m): ManifestModule => {
    const files: ManifestFile[] = [];
    if (m.info !== undefined) files.push(described(moduleFileName(m.path, m.version, '.info'), Buffer.from(m.info), contents));
    files.push(described(moduleFileName(m.path, m.version, '.mod'), Buffer.from(m.mod), contents));
    const entry: ManifestModule = { path: m.path, version: m.version, files, modHash: hashGoMod(Buffer.from(m.mod)) };
    if (m.zip !== undefined) {
      files.push(described(moduleFileName(m.path, m.version, '.zip'), m.zip, contents));
      entry.zipHash = m.zipHash ?? `h1:${createHash('sha256').update(m.zip).digest('base64')}`;
    }
    return entry;
  });
  const sumdb: ManifestSumdb[] = [];
  if (options.sumdb !== undefined) {
    const name = options.sumdb;
    const files = [
      described(`sumdb/${name}/latest`, Buffer.from(`go.sum database tree\n3\nAAAA\n`), contents),
      described(`sumdb/${name}/lookup/${escapePath(modules[0]!.path)}@${escapeVersion(modules[0]!.version)}`, Buffer.from('1\nrecord\n\n'), contents),
      described(`sumdb/${name}/tile/8/0/000.p/3`, Buffer.alloc(96, 7), contents),
    ];
    sumdb.push({ name, verifierKey: generateKey(name).verifierKey, treeSize: 3, files });
  }
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    createdBy: 'godepot 0.0.0-test',
    inputs: [{ spec: 'go.mod', kind: 'gomod', mainModules: ['example.com/app'], goSum: options.goSum ?? [] }],
    modules: entries,
    sumdb,
  };
  if (options.release !== undefined) {
    manifest.format = RELEASE_BUNDLE_FORMAT;
    manifest.release = { version: '9.8.7', platform: 'linux-x64', file: described(releaseFileName('9.8.7', 'linux-x64'), options.release, contents) };
  }
  return { manifest, contents };
}

/** An opener for writeBundle over `contents`, handing each file out in chunks of `chunk(i)` bytes. */
export function opener(contents: ReadonlyMap<string, Buffer>, chunk: (i: number) => number = () => 1 << 16): (file: ManifestFile) => Promise<Readable> {
  return (file) => {
    const data = contents.get(file.name);
    if (data === undefined) throw new Error(`fixture has no ${file.name}`);
    const pieces: Buffer[] = [];
    for (let at = 0, i = 0; at < data.length; i++) {
      const n = Math.max(1, chunk(i));
      pieces.push(data.subarray(at, at + n));
      at += n;
    }
    return Promise.resolve(Readable.from(pieces, { objectMode: false }));
  };
}

/** A tar stream of `entries` as writeBundle lays them out, ending with the end-of-archive blocks, whatever the names and order. */
export function tarParts(entries: Iterable<[string, Buffer]>): Buffer[] {
  return [...[...entries].flatMap(([name, data]) => [encodeHeaders(name, data.length), data, padding(data.length)]), END_OF_ARCHIVE];
}

/** Writes the tar stream `parts` to `file` in the bundle's gzip layout. */
export async function writeGzippedTar(file: string, parts: readonly Buffer[]): Promise<void> {
  await writeFile(file, await buffer(Readable.from(parts, { objectMode: false }).pipe(new StoredGzipWriter())));
}
