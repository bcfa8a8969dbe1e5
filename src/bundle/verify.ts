// `bundle verify`: everything a bundle's own bytes can prove. The signature covers manifest.json; the
// manifest covers every other file by size and sha256, every zip and go.mod by its `h1:`, and must agree
// with the go.sum of every input it was made for. One sequential pass reads the whole file, which also
// checks every gzip block header, the tar headers and padding, and the gzip CRC.

import { createHash, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { GodepotError, isGodepotError } from '../errors.js';
import { parseGoSum } from '../module/gosum.js';
import { closeStream } from '../stream-to-new-file.js';
import { hashZip } from '../module/hash.js';
import { checkZip } from '../module/zipcheck.js';
import type { Bundle } from './format.js';
import { BundleFormatError } from './format-error.js';
import { StoredGzipReader } from './gzip.js';
import { MANIFEST_NAME, SIGNATURE_NAME, manifestFiles, type Manifest, type ManifestFile, type ManifestModule } from './manifest.js';
import { isManifestSignatureValid, keyFingerprint } from './signing.js';
import { END_OF_ARCHIVE, encodeHeaders, padding } from './tar.js';

/** A bundle that failed verification; `entry` names the first bad entry (a bundle path, `manifest.sig`, ...). */
export class BundleVerificationError extends GodepotError {
  readonly code = 'BUNDLE_VERIFICATION';

  constructor(
    message: string,
    readonly entry: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Options of verifyBundle. */
export interface VerifyOptions {
  /** Require a valid signature by this Ed25519 public key. */
  publicKey?: KeyObject;
  signal?: AbortSignal;
  /** Called as the pass reads the file: bytes of data done, of the total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * What verifyBundle established about the signature: `valid` (checked with the key given), `unchecked`
 * (the bundle is signed but no key was given: only the hashes were checked), `unsigned`.
 */
export interface VerifyReport {
  signature: 'valid' | 'unchecked' | 'unsigned';
  /** Files checked (every file the manifest lists). */
  files: number;
  /** Bytes of data read. */
  bytes: number;
}

// The name the pass reports when only the gzip trailer disagrees with everything before it.
const TRAILER_ENTRY = '(gzip trailer)';

function fail(entry: string, message: string, cause?: unknown): never {
  throw new BundleVerificationError(`${entry}: ${message}`, entry, cause === undefined ? undefined : { cause });
}

function checkSignature(bundle: Bundle, publicKey: KeyObject | undefined): VerifyReport['signature'] {
  if (publicKey === undefined) return bundle.signature === null ? 'unsigned' : 'unchecked';
  if (bundle.signature === null) fail(SIGNATURE_NAME, 'the bundle is not signed, and a signature was required');
  if (!isManifestSignatureValid(bundle.manifestBytes, bundle.signature, publicKey)) {
    fail(SIGNATURE_NAME, `the signature of ${MANIFEST_NAME} does not verify with public key ${keyFingerprint(publicKey)}`);
  }
  return 'valid';
}

// The tar must hold exactly the manifest's files, in its order, at its sizes. Both are walked side by
// side; only at the first difference are the names looked up, to say what the difference is.
function checkEntries(bundle: Bundle, files: readonly ManifestFile[]): void {
  let index = 0;
  for (const [name, entry] of bundle.entries) {
    const want = files[index]?.name === name ? files[index]! : misplaced(bundle, files, name, index);
    if (entry.size !== want.size) fail(name, `the bundle holds ${entry.size} bytes, the manifest says ${want.size}`);
    index++;
  }
  if (index < files.length) fail(files[index]!.name, 'entry removed: the manifest lists it, the bundle does not hold it');
}

// Why the entry `name`, found where the manifest lists another file, is wrong; a file of another size
// is reported as such even when it is also out of place.
function misplaced(bundle: Bundle, files: readonly ManifestFile[], name: string, index: number): never {
  const want = files.find((f) => f.name === name);
  if (want === undefined) fail(name, 'file added: the bundle holds it, its manifest does not list it');
  const entry = bundle.entries.get(name)!;
  if (entry.size !== want.size) fail(name, `the bundle holds ${entry.size} bytes, the manifest says ${want.size}`);
  const missing = files[index]!.name;
  if (!bundle.entries.has(missing)) fail(missing, 'entry removed: the manifest lists it, the bundle does not hold it');
  fail(name, 'out of manifest order');
}

// A module's hashes against each input's go.sum: a line for the same module version must agree.
function checkGoSums(manifest: Manifest): void {
  for (const input of manifest.inputs) {
    const sums = parseGoSum(input.goSum.join('\n'), `${input.spec} go.sum`);
    for (const m of manifest.modules) {
      const check = (name: string | undefined, run: () => void): void => {
        try {
          run();
        } catch (err) {
          fail(name ?? `${m.path}@${m.version}`, `${input.spec} go.sum disagrees with the manifest: ${(err as Error).message}`, err);
        }
      };
      check(fileName(m, '.mod'), () => sums.verifyGoMod(m.path, m.version, m.modHash));
      if (m.zipHash !== undefined) check(fileName(m, '.zip'), () => sums.verifyZip(m.path, m.version, m.zipHash!));
    }
  }
}

function fileName(m: ManifestModule, ext: string): string | undefined {
  return m.files.find((f) => f.name.endsWith(ext))?.name;
}

// What the data of the tar stream must be, piece by piece: fixed bytes (headers, manifest, signature,
// padding) and files, checked by hash. Made as the pass reaches them: a manifest may list a few hundred
// thousand files, and a header and padding held for each would take far more memory than the manifest.
type Segment = { kind: 'fixed'; entry: string; bytes: Buffer } | { kind: 'file'; file: ManifestFile; module?: ManifestModule };

function* expectedSegments(bundle: Bundle): Generator<Segment> {
  const fixed = (entry: string, ...parts: Buffer[]): Segment => ({ kind: 'fixed', entry, bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts) });
  yield fixed(MANIFEST_NAME, encodeHeaders(MANIFEST_NAME, bundle.manifestBytes.length), bundle.manifestBytes, padding(bundle.manifestBytes.length));
  if (bundle.signature !== null) yield fixed(SIGNATURE_NAME, encodeHeaders(SIGNATURE_NAME, bundle.signature.length), bundle.signature, padding(bundle.signature.length));
  function* entry(file: ManifestFile, module?: ManifestModule): Generator<Segment> {
    yield fixed(file.name, encodeHeaders(file.name, file.size));
    yield module === undefined ? { kind: 'file', file } : { kind: 'file', file, module };
    yield fixed(file.name, padding(file.size));
  }
  for (const module of bundle.manifest.modules) for (const file of module.files) yield* entry(file, module);
  for (const db of bundle.manifest.sumdb) for (const file of db.files) yield* entry(file);
  if (bundle.manifest.release !== undefined) yield* entry(bundle.manifest.release.file);
  yield fixed(TRAILER_ENTRY, END_OF_ARCHIVE);
}

// The h1 of a go.mod is a hash of its sha256 (dirhash over the one file "go.mod"), which the pass has anyway.
function goModH1(sha256: string): string {
  return 'h1:' + createHash('sha256').update(`${sha256}  go.mod\n`).digest('base64');
}

/** Zip checks that run while the pass reads on, at most two at a time, failures reported in bundle order. */
class ZipChecks {
  private dir: string | null = null;
  private readonly pending: Promise<void>[] = [];
  private count = 0;

  async spoolFile(): Promise<{ path: string; out: WriteStream }> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'godepot-verify-'));
    const path = join(this.dir, `${this.count++}.zip`);
    return { path, out: createWriteStream(path) };
  }

  /** Starts `check` once fewer than two run; the earliest failure surfaces here or in drain(). */
  async add(check: () => Promise<void>): Promise<void> {
    while (this.pending.length >= 2) await this.pending.shift();
    const running = check();
    // Nobody awaits it yet: keep its failure from counting as unhandled until it is awaited in order.
    running.catch(() => undefined);
    this.pending.push(running);
  }

  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.pending);
    if (this.dir !== null) await rm(this.dir, { recursive: true, force: true });
  }
}

async function checkSpooledZip(m: ManifestModule, file: ManifestFile, path: string): Promise<void> {
  try {
    const checked = await checkZip(m.path, m.version, path);
    if (checked.error !== null) fail(file.name, `not a valid module zip for ${m.path}@${m.version}: ${checked.error.message}`, checked.error);
    const h1 = await hashZip(path);
    if (h1 !== m.zipHash) fail(file.name, `the zip's hash is ${h1}, the manifest says ${m.zipHash!}`);
  } catch (err) {
    // What the zip's bytes caused is the bundle's fault; a failure to read the spooled copy is not.
    if (err instanceof BundleVerificationError || !isGodepotError(err)) throw err;
    fail(file.name, err.message, err);
  } finally {
    await rm(path, { force: true });
  }
}

// One pass over the tar stream, segment by segment.
class Pass {
  private segment: Segment | undefined;
  /** The entry of the segment the pass is in, or of the last one once it is past the end. */
  private name = '';
  private at = 0;
  private hash = createHash('sha256');
  private spool: { path: string; out: WriteStream } | null = null;

  constructor(
    private readonly segments: Iterator<Segment, void>,
    private readonly zips: ZipChecks,
  ) {
    this.next();
  }

  /** The entry the pass is in, for errors. */
  get entry(): string {
    return this.name;
  }

  get complete(): boolean {
    return this.segment === undefined;
  }

  async feed(chunk: Buffer): Promise<void> {
    while (chunk.length > 0) {
      const segment = this.segment;
      if (segment === undefined) fail(TRAILER_ENTRY, 'data after the end of the archive');
      if (this.at === 0 && segment.kind === 'file') await this.startFile(segment);
      const length = segment.kind === 'fixed' ? segment.bytes.length : segment.file.size;
      const piece = chunk.subarray(0, length - this.at);
      chunk = chunk.subarray(piece.length);
      if (segment.kind === 'fixed') {
        if (!piece.equals(segment.bytes.subarray(this.at, this.at + piece.length))) fail(segment.entry, 'the tar headers or padding around it are not as written');
      } else {
        this.hash.update(piece);
        if (this.spool !== null && !this.spool.out.write(piece)) await once(this.spool.out, 'drain');
      }
      this.at += piece.length;
      if (this.at === length) {
        if (segment.kind === 'file') await this.endFile(segment);
        this.next();
        this.at = 0;
      }
    }
  }

  private next(): void {
    const next = this.segments.next();
    this.segment = next.done === true ? undefined : next.value;
    if (this.segment !== undefined) this.name = this.segment.kind === 'fixed' ? this.segment.entry : this.segment.file.name;
  }

  private async startFile(segment: Segment & { kind: 'file' }): Promise<void> {
    this.hash = createHash('sha256');
    if (segment.module !== undefined && segment.file.name.endsWith('.zip')) this.spool = await this.zips.spoolFile();
  }

  private async endFile({ file, module }: Segment & { kind: 'file' }): Promise<void> {
    const sha256 = this.hash.digest('hex');
    if (sha256 !== file.sha256) fail(file.name, `sha256 is ${sha256}, the manifest says ${file.sha256}`);
    if (module !== undefined && file.name.endsWith('.mod') && goModH1(sha256) !== module.modHash) {
      fail(file.name, `the go.mod hash is ${goModH1(sha256)}, the manifest says ${module.modHash}`);
    }
    if (this.spool !== null) {
      const { path, out } = this.spool;
      this.spool = null;
      out.end();
      await finished(out);
      await this.zips.add(() => checkSpooledZip(module!, file, path));
    }
  }

  /** Ends a spool left open by a failure, its file closed before the spool folder goes. */
  async abandon(): Promise<void> {
    if (this.spool !== null) await closeStream(this.spool.out);
  }
}

/**
 * Verifies a bundle, throwing BundleVerificationError for the first bad entry:
 * - with `publicKey`: a missing signature, or one that does not verify (without a key, a signature is
 *   not checked: the report says `unchecked`, and only the hashes vouch for the bundle);
 * - a manifest's module hash that disagrees with a line of an input's go.sum for that module version;
 * - a file in the tar the manifest does not list (file added), a listed file missing (entry removed),
 *   files out of manifest order or of another size;
 * - then, reading the whole file once: a file whose sha256 differs, a .mod whose h1 is not modHash, a
 *   zip that fails go's module zip checks or whose h1 is not zipHash, tar headers or padding not as
 *   written, a gzip block header or CRC-32 out of the layout.
 * Zips are copied to a temporary folder while they stream by, and checked there.
 */
export async function verifyBundle(bundle: Bundle, options: VerifyOptions = {}): Promise<VerifyReport> {
  const signature = checkSignature(bundle, options.publicKey);
  const files = manifestFiles(bundle.manifest);
  checkGoSums(bundle.manifest);
  checkEntries(bundle, files);
  const gz = await StoredGzipReader.open(bundle.file);
  const zips = new ZipChecks();
  const pass = new Pass(expectedSegments(bundle), zips);
  try {
    let done = 0;
    try {
      for await (const chunk of gz.readAll(options.signal)) {
        await pass.feed(chunk);
        done += chunk.length;
        options.onProgress?.(done, gz.size);
      }
    } catch (err) {
      await pass.abandon();
      // An earlier zip's failure is the first bad entry.
      await zips.drain();
      if (err instanceof BundleFormatError) fail(pass.entry, err.message, err);
      throw err;
    }
    if (!pass.complete) fail(pass.entry, 'the bundle ends before it');
    await zips.drain();
    return { signature, files: files.length, bytes: done };
  } finally {
    await zips.close();
    await gz.close();
  }
}
