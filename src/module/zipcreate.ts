// Writing module zips, after golang.org/x/mod/zip's Create and CreateFromDir. The output is
// deterministic: entries in input order (byte order when walking a directory), one fixed timestamp, no
// directory entries, so the same files always give the same bytes.

import { Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { goQuote } from './quote.js';
import { checkModuleVersion, classifyFiles, listModuleDir, type ModuleFile, type ModulePathInput } from './zipcheck.js';
import { withOperation, ZipError } from './ziperror.js';

// Every entry gets the time 1980-01-02 00:00. yazl encodes DOS times from local-time fields, so the date
// is built from local-time fields at each call (the time zone may have changed since start-up): every
// machine and zone then writes the same bytes. It is a day past the earliest DOS date because yazl
// clamps earlier dates to its own start-up zone's 1980-01-01. The Info-ZIP UTC time field is turned off
// (forceDosTimestamp) for the same reason.
function entryOptions(): Partial<yazl.ReadStreamOptions> {
  return { mtime: new Date(1980, 0, 2), mode: 0o100644, compress: true, forceDosTimestamp: true };
}
const MAX_ZIP_NAME = 0xffff;

// Passes a file's bytes through, failing as soon as they exceed the size the file declared: the size
// limits were checked against declared sizes, so a file must not be allowed to outgrow its own.
class DeclaredSizeLimit extends Transform {
  private n = 0;

  constructor(
    private readonly path: string,
    private readonly size: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.n += chunk.length;
    if (this.n > this.size) {
      done(new ZipError('INVALID_ZIP_CONTENT', `file ${goQuote(this.path)} is larger than declared size`));
      return;
    }
    done(null, chunk);
  }
}

// Checks everything that can be checked before the first byte is written.
async function prepare(modulePath: ModulePathInput, version: string, files: readonly ModuleFile[]): Promise<{ prefix: string; valid: ModuleFile[] }> {
  const path = checkModuleVersion(modulePath, version);
  const { checked, files: valid } = await classifyFiles(files);
  if (checked.error !== null) throw checked.error;
  const prefix = `${path}@${version}/`;
  for (const f of valid) {
    // The zip format stores name lengths in 16 bits; go's writer refuses longer names too.
    if (Buffer.byteLength(prefix + f.path) > MAX_ZIP_NAME) {
      throw new ZipError('INVALID_ZIP_CONTENT', `zip: FileHeader.Name too long: ${goQuote(f.path)}`);
    }
  }
  return { prefix, valid };
}

// `out` may fail before anything is written to it (a file stream that cannot be opened); without a
// listener that error would crash the process. Our promise reports it instead, so the listener stays.
function watchErrors(out: Writable): () => unknown {
  let first: unknown;
  out.on('error', (err) => {
    first ??= err;
  });
  return () => first;
}

async function create(
  out: Writable,
  outError: () => unknown,
  modulePath: ModulePathInput,
  version: string,
  files: readonly ModuleFile[],
): Promise<void> {
  let prepared: { prefix: string; valid: ModuleFile[] };
  try {
    prepared = await prepare(modulePath, version, files);
  } catch (err) {
    // Nothing was written: release the destination.
    out.destroy();
    throw err;
  }
  if (outError() !== undefined) throw outError();
  const { prefix, valid } = prepared;

  const zip = new yazl.ZipFile();
  // yazl's output is a PassThrough; its typings only promise the older ReadableStream interface.
  const output = zip.outputStream as Readable;
  // Any failure ends the output stream with that error, which is what the pipeline below reports.
  const fail = (err: unknown): void => {
    output.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  zip.on('error', fail);
  const options = entryOptions();
  // The file being copied; if the output fails, nothing reads it any more and it must be closed by us.
  let current: Transform | undefined;
  for (const f of valid) {
    // yazl asks for each stream only when the previous entry is done: one file is open at a time.
    zip.addReadStreamLazy(prefix + f.path, options, (cb) => {
      const limit = new DeclaredSizeLimit(f.path, f.size);
      current = limit;
      Promise.resolve()
        .then(() => f.open())
        .then((source) => pipeline(source instanceof Readable ? source : Readable.from(source), limit))
        .catch(fail);
      cb(null, limit);
    });
  }
  zip.end();
  try {
    await pipeline(output, out);
  } finally {
    current?.destroy();
  }
}

/**
 * Writes the module zip of `files` to `out` (and ends it), as go's zip.Create does: the files are
 * checked first (see checkFiles), omitted files are left out, and any invalid file fails the whole zip.
 * Files are opened one at a time and streamed. Throws ZipError with go's text (`create zip: ...`); I/O
 * errors from `out` or the files propagate unchanged. On failure `out` is destroyed.
 */
export async function createZip(
  out: Writable,
  modulePath: ModulePathInput,
  version: string,
  files: readonly ModuleFile[],
): Promise<void> {
  const outError = watchErrors(out);
  try {
    await create(out, outError, modulePath, version, files);
  } catch (err) {
    throw withOperation('create zip', undefined, err);
  }
}

/**
 * Writes the module zip of directory `dir` to `out` (and ends it), as go's zip.CreateFromDir does: also
 * skips version control directories (.bzr, .git, .hg, .svn), nested modules, vendored packages, symbolic
 * links and other irregular files. Throws ZipError (`create zip <dir>: ...`); on failure `out` is destroyed.
 */
export async function createZipFromDir(out: Writable, modulePath: ModulePathInput, version: string, dir: string): Promise<void> {
  const outError = watchErrors(out);
  let files: ModuleFile[];
  try {
    ({ files } = await listModuleDir(dir));
  } catch (err) {
    out.destroy();
    throw withOperation('create zip from directory', dir, err);
  }
  try {
    await create(out, outError, modulePath, version, files);
  } catch (err) {
    throw withOperation('create zip', dir, err);
  }
}
