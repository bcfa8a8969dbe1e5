// A bundle file: a tar (tar.ts) in the stored-block gzip layout (gzip.ts) holding manifest.json, then
// manifest.sig when signed, then every file the manifest lists in manifest order. Writing streams every
// file in and checks it against the manifest on the way; reading indexes the tar headers by random
// access, so that any entry can be read in place without unpacking. docs/bundle-format.md is the spec.

import { createHash, type KeyObject } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConfigError, InvalidContentError, InvalidRequestError, NotFoundError } from '../errors.js';
import { writeFileAtomically } from '../storage/atomic-file.js';
import { BundleFormatError } from './format-error.js';
import { StoredGzipReader, StoredGzipWriter } from './gzip.js';
import {
  MANIFEST_NAME,
  SIGNATURE_NAME,
  bundlePathProblem,
  checkManifest,
  formatManifest,
  manifestFiles,
  manifestId,
  parseManifest,
  type Manifest,
  type ManifestFile,
} from './manifest.js';
import { SIGNATURE_SIZE, signManifest } from './signing.js';
import { END_OF_ARCHIVE, TAR_BLOCK, decodeHeader, decodePax, encodeHeaders, padding } from './tar.js';

export { BundleFormatError } from './format-error.js';

/**
 * The most manifest.json may hold: its bytes and the manifest read from them stay in memory while the
 * bundle is open. A module version takes 1 to 1.5 KB of manifest (its files' names and hashes, its
 * go.sum lines, its checksum-database lookup and a tile), and the largest graphs real projects have, or
 * that a mirror bundles at once, run to 20,000 module versions, 20 to 30 MB: this is about twice that.
 */
export const MAX_MANIFEST = 64 << 20;
// A pax header of ours holds a path and a size; anything this large is not one.
const MAX_PAX = 64 << 10;

/** An entry of the tar: its size and where its data starts in the tar stream. */
export interface BundleEntry {
  size: number;
  offset: number;
}

/** A bundle opened for reading. */
export interface Bundle {
  readonly file: string;
  readonly manifest: Manifest;
  /** manifest.json exactly as stored: the bytes the signature covers. */
  readonly manifestBytes: Buffer;
  /** manifest.sig, or null for an unsigned bundle. */
  readonly signature: Buffer | null;
  /** Every entry of the tar but manifest.json and manifest.sig, in tar order (listed in the manifest or not). */
  readonly entries: ReadonlyMap<string, BundleEntry>;
  /**
   * The bytes of entry `name`, read in place; `range` is inclusive at both ends, as an HTTP Range is.
   * Throws NotFoundError for a name the tar does not hold, InvalidRequestError for a range outside it.
   * The stream fails with BundleFormatError when a block header it crosses is not the layout's.
   */
  open(name: string, range?: { start: number; end: number }): Readable;
  /** Releases the file; call it once no entry is being read. */
  close(): Promise<void>;
}

/** Options of writeBundle. */
export interface WriteBundleOptions {
  /** An Ed25519 private key: the bundle then holds manifest.sig. */
  signingKey?: KeyObject;
  /** False: fail with ConfigError rather than replace a file at the output, however it got there. Default true. */
  replace?: boolean;
  signal?: AbortSignal;
}

/** What writeBundle wrote: the bundle file's sha256 (hex) and size, and its manifest id. */
export interface WrittenBundle {
  sha256: string;
  size: number;
  manifestId: string;
}

function mismatch(file: ManifestFile, detail: string): InvalidContentError {
  return new InvalidContentError(`bundle file ${file.name}: ${detail}; the manifest says ${file.size} bytes with sha256 ${file.sha256}`);
}

// The contents of one file, passed on as it streams and held to the manifest's size and sha256.
async function* checkedContents(file: ManifestFile, contents: Readable): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of contents as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > file.size) throw mismatch(file, `more than ${file.size} bytes`);
    hash.update(chunk);
    yield chunk;
  }
  if (size !== file.size) throw mismatch(file, `${size} bytes`);
  const sha256 = hash.digest('hex');
  if (sha256 !== file.sha256) throw mismatch(file, `sha256 ${sha256}`);
}

async function* tarStream(
  manifestBytes: Buffer,
  signature: Buffer | null,
  files: readonly ManifestFile[],
  open: (file: ManifestFile) => Promise<Readable>,
): AsyncGenerator<Buffer> {
  const small = (name: string, data: Buffer): Buffer[] => [encodeHeaders(name, data.length), data, padding(data.length)];
  yield* small(MANIFEST_NAME, manifestBytes);
  if (signature !== null) yield* small(SIGNATURE_NAME, signature);
  for (const file of files) {
    yield encodeHeaders(file.name, file.size);
    yield* checkedContents(file, await open(file));
    yield padding(file.size);
  }
  yield END_OF_ARCHIVE;
}

/**
 * Writes the bundle of `manifest` to `output`: manifest.json, manifest.sig when `signingKey` is given,
 * then each listed file, read through `open` and checked against its size and sha256 while it streams
 * (InvalidContentError on a mismatch). The file appears whole or not at all: it is written beside
 * `output` and renamed into place; with `replace: false` linked into place instead, never over a file
 * (ConfigError when one is there). Throws BundleFormatError for a manifest that breaks the format's rules.
 */
export async function writeBundle(
  output: string,
  manifest: Manifest,
  open: (file: ManifestFile) => Promise<Readable>,
  options: WriteBundleOptions = {},
): Promise<WrittenBundle> {
  checkManifest(manifest);
  const manifestBytes = formatManifest(manifest);
  if (manifestBytes.length > MAX_MANIFEST) {
    throw new BundleFormatError(`${MANIFEST_NAME} would hold ${manifestBytes.length} bytes, more than the ${MAX_MANIFEST} a bundle may: make it in parts (bundle create --since)`, MANIFEST_NAME);
  }
  const signature = options.signingKey === undefined ? null : signManifest(manifestBytes, options.signingKey);
  const files = manifestFiles(manifest);
  return writeFileAtomically(output, async (out) => {
    const digest = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
        digest.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const source = Readable.from(tarStream(manifestBytes, signature, files, open), { objectMode: false });
    await pipeline(source, new StoredGzipWriter(), meter, out, options.signal === undefined ? {} : { signal: options.signal });
    return { sha256: digest.digest('hex'), size, manifestId: manifestId(manifestBytes) };
  }, { replace: options.replace ?? true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw outputExists(output);
    throw err;
  });
}

/** The error for a bundle that would replace the file `output` without being allowed to. */
export function outputExists(output: string): ConfigError {
  return new ConfigError(`${output} already exists; give --force to replace it`);
}

interface IndexedEntry extends BundleEntry {
  name: string;
}

// Walks the tar headers from the start of the data to the end-of-archive blocks, which must end the data.
// Each header must be byte for byte what encodeHeaders writes for its name and size.
async function indexTar(gz: StoredGzipReader): Promise<IndexedEntry[]> {
  const fail = (message: string, entry?: string): never => {
    throw new BundleFormatError(`${gz.file}: ${message}`, entry);
  };
  const headerAt = async (at: number): Promise<ReturnType<typeof decodeHeader>> => {
    if (at + TAR_BLOCK > gz.size) fail(`the tar stream ends at byte ${gz.size} without its end-of-archive blocks`);
    return decodeHeader(await gz.read(at, TAR_BLOCK));
  };
  const entries: IndexedEntry[] = [];
  for (let at = 0; ; ) {
    const start = at;
    let header = await headerAt(at);
    if (header === null) {
      if (gz.size !== at + END_OF_ARCHIVE.length || (await headerAt(at + TAR_BLOCK)) !== null) {
        fail(`the tar stream does not end with its two zero blocks at byte ${at}`);
      }
      return entries;
    }
    if (typeof header === 'string') return fail(`tar header at byte ${at}: ${header}`);
    let name = header.name;
    let size = header.size;
    if (header.typeflag === 'pax') {
      if (header.size > MAX_PAX || at + TAR_BLOCK + header.size > gz.size) fail(`pax header at byte ${at} is too large`);
      const pax = decodePax(await gz.read(at + TAR_BLOCK, header.size));
      if (typeof pax === 'string') return fail(`pax header at byte ${at}: ${pax}`);
      at += TAR_BLOCK + header.size + padding(header.size).length;
      header = await headerAt(at);
      if (header === null || typeof header === 'string' || header.typeflag !== 'file') {
        return fail(`the pax header at byte ${start} is not followed by the header of a regular file`);
      }
      name = pax.path ?? header.name;
      size = pax.size ?? header.size;
    }
    const problem = bundlePathProblem(name);
    if (problem !== null) fail(`unsafe entry name ${JSON.stringify(name)}: ${problem}`, name);
    const offset = at + TAR_BLOCK;
    if (!(await gz.read(start, offset - start)).equals(encodeHeaders(name, size))) {
      fail(`the tar header of ${name} is not in the canonical form (mode 0644, owner 0, mtime 0, pax only for long names)`, name);
    }
    const next = offset + size + padding(size).length;
    if (next > gz.size) fail(`entry ${name} (${size} bytes) runs past the end of the tar stream: the bundle is truncated`, name);
    entries.push({ name, size, offset });
    at = next;
  }
}

class OpenedBundle implements Bundle {
  constructor(
    private readonly gz: StoredGzipReader,
    readonly manifest: Manifest,
    readonly manifestBytes: Buffer,
    readonly signature: Buffer | null,
    readonly entries: ReadonlyMap<string, BundleEntry>,
  ) {}

  get file(): string {
    return this.gz.file;
  }

  open(name: string, range?: { start: number; end: number }): Readable {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new NotFoundError(`${this.file} holds no entry ${JSON.stringify(name)}`);
    const start = range?.start ?? 0;
    const end = range === undefined ? entry.size : range.end + 1;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > entry.size) {
      throw new InvalidRequestError(`bytes ${start}-${end - 1} are outside entry ${name} of ${entry.size} bytes`);
    }
    return Readable.from(this.gz.stream(entry.offset + start, entry.offset + end), { objectMode: false });
  }

  close(): Promise<void> {
    return this.gz.close();
  }
}

/**
 * Opens a bundle: checks the gzip layout, indexes the tar by random access, reads manifest.json (the
 * first entry; parsed and checked as parseManifest does) and manifest.sig (the second, when present).
 * Throws BundleFormatError for anything else: another compression, a non-canonical or unsafe tar header,
 * an entry name given twice. Entries the manifest does not list are indexed too; verifyBundle refuses them.
 */
export async function openBundle(file: string): Promise<Bundle> {
  const gz = await StoredGzipReader.open(file);
  try {
    const [first, ...rest] = await indexTar(gz);
    if (first?.name !== MANIFEST_NAME) throw new BundleFormatError(`${file}: the first entry is not ${MANIFEST_NAME}`, first?.name);
    if (first.size > MAX_MANIFEST) throw new BundleFormatError(`${file}: ${MANIFEST_NAME} is larger than ${MAX_MANIFEST} bytes`, MANIFEST_NAME);
    const manifestBytes = await gz.read(first.offset, first.size);
    const manifest = parseManifest(manifestBytes);
    let signature: Buffer | null = null;
    if (rest[0]?.name === SIGNATURE_NAME) {
      const sig = rest.shift()!;
      if (sig.size !== SIGNATURE_SIZE) throw new BundleFormatError(`${file}: ${SIGNATURE_NAME} holds ${sig.size} bytes, not an Ed25519 signature's ${SIGNATURE_SIZE}`, SIGNATURE_NAME);
      signature = Buffer.from(await gz.read(sig.offset, sig.size));
    }
    const entries = new Map<string, BundleEntry>();
    for (const { name, size, offset } of rest) {
      if (name === MANIFEST_NAME || name === SIGNATURE_NAME || entries.has(name)) {
        throw new BundleFormatError(`${file}: entry ${name} appears more than once, or out of place`, name);
      }
      entries.set(name, { size, offset });
    }
    return new OpenedBundle(gz, manifest, manifestBytes, signature, entries);
  } catch (err) {
    await gz.close();
    throw err;
  }
}
