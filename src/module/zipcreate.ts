// Writing module zips, after golang.org/x/mod/zip's Create and CreateFromDir. The output is
// deterministic: entries in input order (byte order when walking a directory), one fixed timestamp, no
// directory entries, so the same files always give the same bytes.

import { Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { goQuote } from './quote.js';
import { checkModuleVersion, classifyFiles, listModuleDir, type ModuleFile, type ModulePathInput } from './zipcheck.js';
import { withOperation, ZipError } from './ziperror.js';

// 1980-01-01 00:00, the earliest time a zip can record, built from local-time fields because yazl encodes
// DOS times in local time: every machine then writes the same bytes. The Info-ZIP UTC field is turned off
// (forceDosTimestamp) for the same reason.
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
const ENTRY_OPTIONS = { mtime: FIXED_MTIME, mode: 0o100644, compress: true, forceDosTimestamp: true };
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

async function create(out: Writable, modulePath: ModulePathInput, version: string, files: readonly ModuleFile[]): Promise<void> {
  let prepared: { prefix: string; valid: ModuleFile[] };
  try {
    prepared = await prepare(modulePath, version, files);
  } catch (err) {
    // Nothing was written: release the destination (without an error event nobody may be listening for).
    out.destroy();
    throw err;
  }
  const { prefix, valid } = prepared;

  const zip = new yazl.ZipFile();
  // yazl's output is a PassThrough; its typings only promise the older ReadableStream interface.
  const output = zip.outputStream as Readable;
  // Any failure ends the output stream with that error, which is what the pipeline below reports.
  const fail = (err: unknown): void => {
    output.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  zip.on('error', fail);
  for (const f of valid) {
    // yazl asks for each stream only when the previous entry is done: one file is open at a time.
    zip.addReadStreamLazy(prefix + f.path, ENTRY_OPTIONS, (cb) => {
      const limit = new DeclaredSizeLimit(f.path, f.size);
      Promise.resolve()
        .then(() => f.open())
        .then((source) => pipeline(source instanceof Readable ? source : Readable.from(source), limit))
        .catch(fail);
      cb(null, limit);
    });
  }
  zip.end();
  await pipeline(output, out);
}

/**
 * Writes the module zip of `files` to `out` (and ends it), as go's zip.Create does: the files are
 * checked first (see checkFiles), omitted files are left out, and any invalid file fails the whole zip.
 * Files are opened one at a time and streamed. Throws ZipError with go's text (`create zip: ...`); I/O
 * errors from `out` or the files propagate unchanged.
 */
export async function createZip(
  out: Writable,
  modulePath: ModulePathInput,
  version: string,
  files: readonly ModuleFile[],
): Promise<void> {
  try {
    await create(out, modulePath, version, files);
  } catch (err) {
    throw withOperation('create zip', undefined, err);
  }
}

/**
 * Writes the module zip of directory `dir` to `out` (and ends it), as go's zip.CreateFromDir does: also
 * skips version control directories (.bzr, .git, .hg, .svn), nested modules, vendored packages, symbolic
 * links and other irregular files. Throws ZipError (`create zip <dir>: ...`).
 */
export async function createZipFromDir(out: Writable, modulePath: ModulePathInput, version: string, dir: string): Promise<void> {
  let files: ModuleFile[];
  try {
    ({ files } = await listModuleDir(dir));
  } catch (err) {
    out.destroy();
    throw withOperation('create zip from directory', dir, err);
  }
  try {
    await create(out, modulePath, version, files);
  } catch (err) {
    throw withOperation('create zip', dir, err);
  }
}
