// The "h1:" hash of go.sum and the checksum database (golang.org/x/mod/sumdb/dirhash Hash1): SHA-256 over
// a summary with one line per file, "<hex sha256 of contents>  <name>\n", names sorted bytewise.

import { createHash } from 'node:crypto';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GodepotError } from '../errors.js';
import { cleanPath } from './zipcheck.js';
import { eachConcurrently } from './zipparallel.js';
import { ZipReader, type ZipEntry } from './zipreader.js';

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

/**
 * Go's dirhash.HashZip: the `h1:` hash of every entry of a zip file under its stored name, prefix
 * included; compression, timestamps and other metadata do not count. Throws ZipError (`INVALID_ZIP`)
 * for a file that is not a readable zip, or whose entries do not decompress to their declared sizes.
 */
export async function hashZip(zipFile: string): Promise<string> {
  const reader = await ZipReader.open(zipFile);
  try {
    const entries = await reader.entries();
    // Like go, a name stored twice is hashed twice, both times with the contents of its last entry.
    const byName = new Map<string, ZipEntry>();
    for (const e of entries) byName.set(e.name.toString('latin1'), e);
    return await hash1Bytes(entries, (e) => e.name, (e) => reader.read(byName.get(e.name.toString('latin1'))!));
  } finally {
    await reader.close();
  }
}
