// The "h1:" hash of go.sum and the checksum database (golang.org/x/mod/sumdb/dirhash Hash1): SHA-256 over
// a summary with one line per file, "<hex sha256 of contents>  <name>\n", names sorted bytewise.

import { createHash, hash } from 'node:crypto';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GodepotError } from '../errors.js';
import { cleanPath } from './zipcheck.js';
import { eachConcurrently } from './zipparallel.js';
import { sortIndices } from './sortindices.js';
import { Turns } from './turns.js';
import { ZipReader } from './zipreader.js';

/**
 * A hash that cannot be computed: `DIRHASH_NEWLINE_IN_NAME` for a file name holding a newline (it would
 * forge a summary line), `DIRHASH_NOT_A_DIRECTORY` when hashDir is given anything but a directory.
 */
export class DirHashError extends GodepotError {
  constructor(
    readonly code: 'DIRHASH_NEWLINE_IN_NAME' | 'DIRHASH_NOT_A_DIRECTORY',
    message: string,
  ) {
    super(message);
  }
}

/** Contents of one file, as a stream or any async iterable of bytes. */
export type FileContents = AsyncIterable<Uint8Array>;

const NEWLINE = 0x0a;
const READ_CHUNK = 1 << 20;

async function sha256Hex(contents: FileContents): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of contents) h.update(chunk);
  return h.digest('hex');
}

// How many files are read and hashed at once: while the thread pool reads (and, for zips, inflates) the
// next ones, the main thread hashes.
const CONCURRENCY = 8;

// Hash1 over names given as bytes: go's names are byte strings and a zip's need not be UTF-8. Files are
// hashed concurrently; only the summary needs the sorted order.
async function hash1Bytes<T>(files: readonly T[], nameOf: (f: T) => Buffer, open: (f: T) => FileContents | Promise<FileContents>): Promise<string> {
  const sorted = [...files].sort((a, b) => Buffer.compare(nameOf(a), nameOf(b)));
  if (sorted.some((f) => nameOf(f).includes(NEWLINE))) {
    throw new DirHashError('DIRHASH_NEWLINE_IN_NAME', 'dirhash: filenames with newlines are not supported');
  }
  const digests = new Array<string>(sorted.length);
  await eachConcurrently(sorted, CONCURRENCY, async (f, i) => {
    digests[i] = await sha256Hex(await open(f));
  });
  const summary = createHash('sha256');
  sorted.forEach((f, i) => {
    summary.update(`${digests[i]!}  `);
    summary.update(nameOf(f));
    summary.update('\n');
  });
  return 'h1:' + summary.digest('base64');
}

/**
 * Go's dirhash.Hash1: the `h1:` hash of the named files, each read through `open` (called for several
 * files at once). Names are sorted by their UTF-8 bytes, as go sorts them. Throws DirHashError for a name
 * containing a newline.
 */
export function hash1(names: readonly string[], open: (name: string) => FileContents | Promise<FileContents>): Promise<string> {
  const entries = names.map((name) => ({ name, bytes: Buffer.from(name, 'utf8') }));
  return hash1Bytes(entries, (e) => e.bytes, (e) => open(e.name));
}

/** The `h1:` hash go records for a go.mod file in go.sum (`<module> <version>/go.mod h1:...`). */
export function hashGoMod(data: Uint8Array): string {
  const fileHash = createHash('sha256').update(data).digest('hex');
  return 'h1:' + createHash('sha256').update(`${fileHash}  go.mod\n`).digest('base64');
}

// Reads a file with one reused buffer: far fewer allocations than a stream for large files. Each chunk
// is consumed (hashed) before the next read overwrites it.
async function* readFileChunks(path: Buffer): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, READ_CHUNK, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Go's dirhash.HashDir: the `h1:` hash of every non-directory below `dir`, named `prefix` joined with its
 * slash path (as filepath.Join would: `example.com/m@v1.0.0/a.go`). Like go it does not follow symbolic
 * links while walking but reads through them when hashing. Names keep their exact bytes.
 */
export async function hashDir(dir: string, prefix: string): Promise<string> {
  const files: { name: Buffer; path: Buffer }[] = [];
  const walk = async (abs: Buffer, rel: Buffer | null): Promise<void> => {
    for (const entry of await readdir(abs, { encoding: 'buffer', withFileTypes: true })) {
      const childAbs = Buffer.concat([abs, Buffer.from('/'), entry.name]);
      const childRel = rel === null ? entry.name : Buffer.concat([rel, Buffer.from('/'), entry.name]);
      if (entry.isDirectory()) await walk(childAbs, childRel);
      else files.push({ name: childRel, path: childAbs });
    }
  };
  const root = join(dir);
  if (!(await lstat(root)).isDirectory()) throw new DirHashError('DIRHASH_NOT_A_DIRECTORY', `${root} is not a directory`);
  await walk(Buffer.from(root), null);
  const cleanPrefix = prefix === '' ? '' : cleanPath(prefix);
  const head = cleanPrefix === '' || cleanPrefix === '.' ? null : Buffer.from(cleanPrefix === '/' ? '' : cleanPrefix);
  const named = files.map((f) => ({ ...f, name: head === null ? f.name : Buffer.concat([head, Buffer.from('/'), f.name]) }));
  return hash1Bytes(named, (f) => f.name, (f) => readFileChunks(f.path));
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const SUMMARY_CHUNK = 64 << 10;

/** What hashOpenZip found: the zip's `h1:`, and the bytes of the entry it was asked to keep. */
export interface ZipHash {
  h1: string;
  kept: Buffer | null;
}

/**
 * Go's dirhash.HashZip over an open zip: the `h1:` hash of every entry under its stored name, prefix
 * included; a name stored twice is hashed twice, both times with the contents of its last entry, as go
 * does. Each entry is read once, in file order, and only its 32-byte digest is kept until the summary.
 * `keep`, an entry number, asks for that entry's bytes too. Throws ZipError (`INVALID_ZIP`) for an
 * entry that does not read back as declared, DirHashError for a name holding a newline.
 */
export async function hashOpenZip(reader: ZipReader, keep = -1): Promise<ZipHash> {
  const dir = reader.directory;
  const n = dir.count;
  if (dir.anyNameIncludes(NEWLINE)) {
    throw new DirHashError('DIRHASH_NEWLINE_IN_NAME', 'dirhash: filenames with newlines are not supported');
  }
  const byName = await sortIndices(identity(n), (a, b) => dir.compareNames(a, b));
  // Equal names sort together, in stored order (the sort is stable): all but the last are never read.
  const shadowed = new Uint8Array(n);
  let unread = 0;
  const turns = new Turns();
  for (let k = 1; k < n; k++) {
    const turn = turns.spend(64 + dir.nameLength(byName[k]!));
    if (turn !== undefined) await turn;
    if (dir.compareNames(byName[k - 1]!, byName[k]!) === 0) {
      shadowed[byName[k - 1]!] = 1;
      unread++;
    }
  }
  const toRead = new Uint32Array(n - unread);
  for (let i = 0, k = 0; i < n; i++) if (shadowed[i] === 0) toRead[k++] = i;
  const offsets = dir.headerOffsets;
  await sortIndices(toRead, (a, b) => offsets[a]! - offsets[b]!);

  const digests = new Uint8Array(n * 32);
  let kept: Buffer | null = null;
  const digestStream = async (i: number, data: AsyncIterable<Buffer>): Promise<void> => {
    const h = createHash('sha256');
    const parts: Buffer[] = [];
    for await (const chunk of data) {
      h.update(chunk);
      if (i === keep) parts.push(Buffer.from(chunk));
    }
    digests.set(h.digest(), i * 32);
    if (i === keep) kept = Buffer.concat(parts);
  };
  await reader.readEach(toRead, (i, data) => {
    if (!Buffer.isBuffer(data)) return digestStream(i, data);
    // One call, and a string rather than a Buffer: for small files the allocation costs more than SHA-256.
    const digest = hash('sha256', data, 'binary');
    for (let b = 0; b < 32; b++) digests[i * 32 + b] = digest.charCodeAt(b);
    if (i === keep) kept = Buffer.from(data);
    return undefined;
  });

  const summary = createHash('sha256');
  const chunk = Buffer.allocUnsafe(SUMMARY_CHUNK);
  let used = 0;
  for (let k = 0; k < n; ) {
    const turn = turns.spend(64 + dir.nameLength(byName[k]!));
    if (turn !== undefined) await turn;
    // The entries of one name, k up to and including last; the last one's digest stands for them all.
    let last = k;
    while (shadowed[byName[last]!] === 1) last++;
    const d = byName[last]! * 32;
    for (; k <= last; k++) {
      const i = byName[k]!;
      const lineLength = 64 + 2 + dir.nameLength(i) + 1;
      if (used + lineLength > chunk.length) {
        summary.update(chunk.subarray(0, used));
        used = 0;
      }
      if (lineLength > chunk.length) {
        summary.update(`${Buffer.from(digests.subarray(d, d + 32)).toString('hex')}  `);
        summary.update(dir.name(i));
        summary.update('\n');
        continue;
      }
      for (let b = 0; b < 32; b++) {
        const byte = digests[d + b]!;
        chunk[used++] = HEX[byte >> 4]!;
        chunk[used++] = HEX[byte & 15]!;
      }
      chunk[used++] = 0x20;
      chunk[used++] = 0x20;
      used += dir.copyName(i, chunk, used);
      chunk[used++] = NEWLINE;
    }
  }
  summary.update(chunk.subarray(0, used));
  return { h1: 'h1:' + summary.digest('base64'), kept };
}

// 0, 1, ..., n-1.
function identity(n: number): Uint32Array {
  const items = new Uint32Array(n);
  for (let i = 0; i < n; i++) items[i] = i;
  return items;
}

/**
 * Go's dirhash.HashZip: the `h1:` hash of every entry of a zip file under its stored name, prefix
 * included; compression, timestamps and other metadata do not count. Throws ZipError (`INVALID_ZIP`)
 * for a file that is not a readable zip, or whose entries do not decompress to their declared sizes.
 */
export async function hashZip(zipFile: string): Promise<string> {
  const reader = await ZipReader.open(zipFile);
  try {
    return (await hashOpenZip(reader)).h1;
  } finally {
    await reader.close();
  }
}
