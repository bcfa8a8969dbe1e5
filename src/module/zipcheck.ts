// Which files belong in a module zip, after golang.org/x/mod/zip: CheckFiles, CheckDir and CheckZip, with
// go's order of checks and go's reasons, so that reports and errors read exactly as go's do.

import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { GodepotError } from '../errors.js';
import { parseGoModLax } from './gomod.js';
import { checkFilePath, InvalidPathError } from './path.js';
import { goQuote } from './quote.js';
import { canonicalVersion, checkModule } from './version.js';
import { Turns } from './turns.js';
import { CollisionChecker } from './zipcollision.js';
import { invalidFilesError, ZipError, type FileProblem } from './ziperror.js';
import { ZipReader } from './zipreader.js';

/** Largest module zip file, and largest total of its uncompressed contents (500 MiB). */
export const MAX_ZIP_FILE = 500 << 20;
/** Largest go.mod at the root of a module zip (16 MiB). */
export const MAX_GO_MOD = 16 << 20;
/** Largest LICENSE at the root of a module zip (16 MiB). */
export const MAX_LICENSE = 16 << 20;

/** What kind of file system object a ModuleFile is; only regular files go into a zip. */
export type ModuleFileType = 'file' | 'dir' | 'symlink' | 'other';

/** One candidate file for a module zip, from a directory, a VCS or anywhere else. */
export interface ModuleFile {
  /** Slash-separated path relative to the module root, e.g. `pkg/a.go`. */
  path: string;
  /** Size in bytes; creating the zip fails if `open()` yields more than this. */
  size: number;
  /** Defaults to `'file'` (a regular file). */
  type?: ModuleFileType;
  /**
   * Opens the contents. Files are opened one at a time; the root go.mod is opened twice (once to read
   * its go version, once to copy it), every other file at most once.
   */
  open(): Readable | AsyncIterable<Uint8Array> | Promise<Readable | AsyncIterable<Uint8Array>>;
}

/**
 * Go's CheckedFiles: the files that go into the zip (`valid`), those left out on purpose (`omitted`) and
 * those that make a zip impossible (`invalid`), each in go's order. `error` is what go's `Err()` returns:
 * the size error if there is one, else all invalid files as one `INVALID_ZIP_CONTENT` error, else null.
 */
export interface CheckedFiles {
  valid: string[];
  omitted: FileProblem[];
  invalid: FileProblem[];
  error: ZipError | null;
}

const reasons = {
  notClean: 'file path is not clean',
  notRelative: 'file path is not relative',
  goModCase: 'go.mod files must have lowercase names',
  goModSize: `go.mod file too large (max size is ${MAX_GO_MOD} bytes)`,
  licenseSize: `LICENSE file too large (max size is ${MAX_LICENSE} bytes)`,
  goModNotRoot: 'go.mod file not in module root directory',
  vcs: 'directory is a version control repository',
  vendored: 'file is in vendor directory',
  submoduleFile: 'file is in another module',
  submoduleDir: 'directory is in another module',
  hgArchival: "file is inserted by 'hg archive' and is always omitted",
  symlink: 'file is a symbolic link',
  notRegular: 'not a regular file',
} as const;

function sourceTreeTooLarge(): ZipError {
  return new ZipError('ZIP_TOO_LARGE', `module source tree too large (max size is ${MAX_ZIP_FILE} bytes)`);
}

// Whether cleanPath(p) === p, deciding most paths at a glance: an element that is empty or starts with
// a dot is the only way a path can be unclean.
function isCleanPath(p: string): boolean {
  if (p !== '' && p[0] !== '.' && p[0] !== '/' && p[p.length - 1] !== '/' && !p.includes('//') && !p.includes('/.')) return true;
  return cleanPath(p) === p;
}

// ASCII text decodes the same as bytes and as UTF-8.
function isASCII(s: string): boolean {
  return !/[^\x00-\x7f]/.test(s);
}

/** Go's path.Clean: the shortest equivalent slash path, '.' for nothing, no trailing slash. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const elem of p.split('/')) {
    if (elem === '' || elem === '.') continue;
    if (elem !== '..') out.push(elem);
    else if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (!rooted) out.push('..');
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

// Compares base names with go's strings.EqualFold against "go.mod": none of its letters has a non-ASCII
// case partner, so lower-casing ASCII is exact.
function isGoModName(base: string): boolean {
  return base.length === 6 && base.replace(/[A-Z]/g, (c) => c.toLowerCase()) === 'go.mod';
}

/** The module's language version from its go.mod (`1.24`), or '' when absent or unreadable, as go reads it. */
function goLanguage(goMod: Uint8Array): string {
  try {
    return parseGoModLax('go.mod', goMod).go?.version ?? '';
  } catch (err) {
    if (err instanceof GodepotError) return '';
    throw err;
  }
}

// Go 1.24 changed what counts as vendored (golang.org/issue/37397); older modules keep the old rule so
// that their zips, and so their checksums, do not change.
function hasGo124VendorRules(language: string): boolean {
  const m = /^([0-9]+)(?:\.([0-9]+))?/.exec(language);
  if (m === null) return false;
  const major = BigInt(m[1]!);
  const minor = BigInt(m[2] ?? '0');
  return major > 1n || (major === 1n && minor >= 24n);
}

const SLASH = 0x2f;
const AT = 0x40;
const VENDOR_PREFIX = Buffer.from('vendor/');
const NESTED_VENDOR = Buffer.from('/vendor/');

/**
 * Reports whether `name` lies in a vendored package, which a module zip leaves out. Before go 1.24 a
 * nested `x/vendor/` is tested from byte 8 of the whole path, not from after that `/vendor/`: a go bug
 * that older checksums depend on. Offsets are in UTF-8 bytes, as go's are.
 */
export function isVendoredPackage(name: string, go124: boolean): boolean {
  if (go124 && name === 'vendor/modules.txt') return true;
  const bytes = Buffer.from(name, 'utf8');
  let start: number;
  if (bytes.subarray(0, VENDOR_PREFIX.length).equals(VENDOR_PREFIX)) {
    start = VENDOR_PREFIX.length;
  } else {
    const j = bytes.indexOf(NESTED_VENDOR);
    if (j < 0) return false;
    start = go124 ? j + NESTED_VENDOR.length : NESTED_VENDOR.length;
  }
  return bytes.indexOf(SLASH, start) >= 0;
}

async function readUpTo(file: ModuleFile, limit: number): Promise<Uint8Array | null> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of await file.open()) {
    n += chunk.length;
    if (n > limit) return null;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

interface FileCheck {
  checked: CheckedFiles;
  /** The valid files themselves, in the order of `checked.valid`. */
  files: ModuleFile[];
}

/** Sorts `files` as go's checkFiles does; shared by checkFiles, checkDir and createZip. */
export async function classifyFiles(files: readonly ModuleFile[]): Promise<FileCheck> {
  const checked: CheckedFiles = { valid: [], omitted: [], invalid: [], error: null };
  const validFiles: ModuleFile[] = [];
  let sizeError: ZipError | null = null;
  // Go reports each path at most once, even when it is listed several times.
  const reported = new Set<string>();
  const report = (path: string, omitted: boolean, reason: string): void => {
    if (reported.has(path)) return;
    reported.add(path);
    (omitted ? checked.omitted : checked.invalid).push({ path, reason });
  };

  // Directories (other than the root) holding a go.mod are other modules: everything below is left out.
  const moduleDirs = new Set<string>();
  let language = '';
  for (const f of files) {
    const slash = f.path.lastIndexOf('/');
    const dir = f.path.slice(0, slash + 1);
    const base = f.path.slice(slash + 1);
    if (!isGoModName(base) || (f.type ?? 'file') !== 'file') continue;
    moduleDirs.add(dir);
    if (dir === '' && base === 'go.mod') {
      // A go.mod over the limit makes the zip invalid anyway; reading it whole is not worth the memory.
      const data = await readUpTo(f, MAX_GO_MOD);
      language = data === null ? '' : goLanguage(data);
    }
  }
  const go124 = hasGo124VendorRules(language);
  const inOtherModule = (p: string): boolean => {
    for (let slash = p.lastIndexOf('/'); slash > 0; slash = p.lastIndexOf('/', slash - 1)) {
      if (moduleDirs.has(p.slice(0, slash + 1))) return true;
    }
    return false;
  };

  const collisions = new CollisionChecker();
  let budget = MAX_ZIP_FILE;
  for (const f of files) {
    const p = f.path;
    const type = f.type ?? 'file';
    if (p !== cleanPath(p)) {
      report(p, false, reasons.notClean);
      continue;
    }
    if (p.startsWith('/')) {
      report(p, false, reasons.notRelative);
      continue;
    }
    if (isVendoredPackage(p, go124)) {
      report(p, true, reasons.vendored);
      continue;
    }
    if (inOtherModule(p)) {
      report(p, true, reasons.submoduleFile);
      continue;
    }
    // hg archive adds it whatever the VCS, so go drops it whatever the VCS.
    if (p === '.hg_archival.txt') {
      report(p, true, reasons.hgArchival);
      continue;
    }
    const pathProblem = filePathProblem(p);
    if (pathProblem !== null) {
      report(p, false, pathProblem);
      continue;
    }
    if (isGoModName(p) && p !== 'go.mod') {
      report(p, false, reasons.goModCase);
      continue;
    }
    const collision = collisions.check(p, type === 'dir');
    if (collision !== null) {
      report(p, false, collision);
      continue;
    }
    if (type === 'symlink') {
      // Symbolic links are never followed into a zip (golang.org/issue/27093).
      report(p, true, reasons.symlink);
      continue;
    }
    if (type !== 'file') {
      report(p, true, reasons.notRegular);
      continue;
    }
    if (f.size >= 0 && f.size <= budget) budget -= f.size;
    else sizeError ??= sourceTreeTooLarge();
    if (p === 'go.mod' && f.size > MAX_GO_MOD) {
      report(p, false, reasons.goModSize);
      continue;
    }
    if (p === 'LICENSE' && f.size > MAX_LICENSE) {
      report(p, false, reasons.licenseSize);
      continue;
    }
    checked.valid.push(p);
    validFiles.push(f);
  }
  checked.error = sizeError ?? (checked.invalid.length > 0 ? invalidFilesError(checked.invalid) : null);
  return { checked, files: validFiles };
}

// module.CheckFilePath's message, or null when the path is acceptable.
function filePathProblem(p: string): string | null {
  try {
    checkFilePath(p);
    return null;
  } catch (err) {
    if (err instanceof InvalidPathError) return err.message;
    throw err;
  }
}

/**
 * Sorts a list of files as go's zip.CheckFiles does. Reads nothing but the root go.mod (whose go version
 * picks the vendoring rules), so creating the zip can still fail on I/O or on a file larger than declared.
 */
export async function checkFiles(files: readonly ModuleFile[]): Promise<CheckedFiles> {
  return (await classifyFiles(files)).checked;
}

const VCS_DIRS = new Set(['.bzr', '.git', '.hg', '.svn']);

// Go walks with filepath.Walk, which visits names in byte order; JavaScript's sort would use UTF-16 order.
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Lists the files of a module directory as go's CreateFromDir sees them: version control directories and
 * nested modules are skipped (and reported once), vendored paths are reported each time the walk meets
 * them, anything that is not a directory or regular file is reported, and nothing is opened yet.
 */
export async function listModuleDir(dir: string): Promise<{ files: ModuleFile[]; omitted: FileProblem[] }> {
  // Like go, a go.mod that cannot be read means no go version. One over the size limit is not read
  // either: the zip is invalid anyway, so its vendoring rules hardly matter.
  let language = '';
  try {
    const goMod = join(dir, 'go.mod');
    if ((await stat(goMod)).size <= MAX_GO_MOD) language = goLanguage(await readFile(goMod));
  } catch {
    // Leave the language unknown.
  }
  const go124 = hasGo124VendorRules(language);
  const files: ModuleFile[] = [];
  const omitted: FileProblem[] = [];

  // One step of go's filepath.Walk callback; `rel` is '.' for the root, as filepath.Rel makes it.
  const visit = async (abs: string, rel: string, info: Stats): Promise<void> => {
    if (isVendoredPackage(rel, go124)) {
      omitted.push({ path: rel, reason: reasons.vendored });
      // Go still walks into a vendored directory, reporting each path below it as well.
      if (info.isDirectory()) await visitChildren(abs, rel);
      return;
    }
    if (info.isDirectory()) {
      if (rel !== '.') {
        if (VCS_DIRS.has(posix.basename(rel))) {
          omitted.push({ path: rel, reason: reasons.vcs });
          return;
        }
        if (await hasGoModFile(abs)) {
          omitted.push({ path: rel, reason: reasons.submoduleDir });
          return;
        }
      }
      await visitChildren(abs, rel);
      return;
    }
    if (!info.isFile()) {
      omitted.push({ path: rel, reason: reasons.notRegular });
      return;
    }
    files.push(dirFile(abs, rel, info.size));
  };
  const visitChildren = async (abs: string, rel: string): Promise<void> => {
    for (const name of (await readdir(abs)).sort(byteOrder)) {
      const childAbs = join(abs, name);
      await visit(childAbs, rel === '.' ? name : `${rel}/${name}`, await lstat(childAbs));
    }
  };
  await visit(dir, '.', await lstat(dir));
  return { files, omitted };
}

function dirFile(abs: string, rel: string, size: number): ModuleFile {
  return { path: rel, size, type: 'file', open: () => createReadStream(abs, { highWaterMark: 1 << 20 }) };
}

// A directory is another module when it holds anything named go.mod that is not itself a directory. Like
// go, a go.mod that cannot be examined does not make one.
async function hasGoModFile(dir: string): Promise<boolean> {
  try {
    return !(await lstat(join(dir, 'go.mod'))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Sorts the files of a module directory as go's zip.CheckDir does. Reported paths are `dir` joined with
 * the relative path; the walk's own omissions (VCS directories, nested modules, vendored and irregular
 * files) follow those found while checking the files. Throws only on I/O errors.
 */
export async function checkDir(dir: string): Promise<CheckedFiles> {
  const { files, omitted } = await listModuleDir(dir);
  const { checked } = await classifyFiles(files);
  const absolute = (p: FileProblem): FileProblem => ({ path: join(dir, p.path), reason: p.reason });
  const result: CheckedFiles = {
    valid: checked.valid.map((p) => join(dir, p)),
    omitted: [...checked.omitted, ...omitted].map(absolute),
    invalid: checked.invalid.map(absolute),
    error: null,
  };
  // The error is rebuilt so that it names the files as the report does.
  const sizeError = checked.error?.code === 'ZIP_TOO_LARGE' ? checked.error : null;
  result.error = sizeError ?? (result.invalid.length > 0 ? invalidFilesError(result.invalid) : null);
  return result;
}

// ignoreBOM keeps a leading U+FEFF: a name starting with one must not silently lose it.
const fatalUTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// The code point of the UTF-8 sequence at bytes[i] and its length, or -1 when the bytes there are not
// UTF-8 (an overlong form, a surrogate, beyond U+10FFFF, or cut short), as go's utf8.DecodeRune decides.
function decodeRune(bytes: Uint8Array, i: number): { cp: number; size: number } {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return { cp: b0, size: 1 };
  const size = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
  if (size === 0 || i + size > bytes.length) return { cp: -1, size: 1 };
  let cp = b0 & (0x7f >> size);
  for (let k = 1; k < size; k++) {
    const b = bytes[i + k]!;
    if ((b & 0xc0) !== 0x80) return { cp: -1, size: 1 };
    cp = (cp << 6) | (b & 0x3f);
  }
  const min = size === 2 ? 0x80 : size === 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return { cp: -1, size: 1 };
  return { cp, size };
}

// Go's %q of raw bytes: valid UTF-8 quoted as a string is, each invalid byte as \xNN.
function goQuoteBytes(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const { cp, size } = decodeRune(bytes, i);
    out += cp < 0 ? '\\x' + bytes[i]!.toString(16).padStart(2, '0') : goQuote(String.fromCodePoint(cp)).slice(1, -1);
    i += size;
  }
  return `"${out}"`;
}

/**
 * A module path given as text or, when it came from bytes (a URL, a test vector), as those bytes. Bytes
 * that are not UTF-8 fail as go fails on them: `malformed module path "\xff": invalid UTF-8`.
 */
export type ModulePathInput = string | Uint8Array;

/** Decodes `modulePath`, throwing go's invalid-UTF-8 error (code `INVALID_PATH`) for bytes that are not UTF-8. */
export function decodeModulePath(modulePath: ModulePathInput): string {
  if (typeof modulePath === 'string') return modulePath;
  try {
    return fatalUTF8.decode(modulePath);
  } catch {
    throw new ZipError('INVALID_PATH', `malformed module path ${goQuoteBytes(modulePath)}: invalid UTF-8`);
  }
}

/**
 * Checks what every zip operation checks first: a canonical version and a valid path/version pair.
 * Returns the decoded module path; throws ZipError (`INVALID_VERSION`, or `INVALID_PATH` for bytes that
 * are not UTF-8), InvalidPathError or InvalidVersionError.
 */
export function checkModuleVersion(modulePath: ModulePathInput, version: string): string {
  const path = decodeModulePath(modulePath);
  const canonical = canonicalVersion(version);
  if (canonical !== version) {
    throw new ZipError('INVALID_VERSION', `version ${goQuote(version)} is not canonical (should be ${goQuote(canonical)})`);
  }
  checkModule(path, version);
  return path;
}

/** The result of checking an open zip: the report, the module's prefix and where its go.mod is. */
interface ZipCheck {
  checked: CheckedFiles;
  prefix: string;
  /** The entry holding the root go.mod, or -1 when there is none. */
  goMod: number;
}

/** How much of a report classifyZip builds: all of it by default. */
export interface ClassifyOptions {
  /** False leaves `valid` empty: a caller that needs only the verdict holds no string per entry. */
  listValid?: boolean;
  /**
   * Reports at most this many invalid files, go's first ones, and counts the rest in one more line of
   * the error: its message then stays small however many entries a zip has.
   */
  maxProblems?: number;
}

/**
 * Checks an opened zip's entries as go's checkZip does, in go's order and with go's reasons; the zip's
 * file size has already been checked. Lets other work run as it goes (see Turns).
 */
export async function classifyZip(reader: ZipReader, modulePath: string, version: string, options: ClassifyOptions = {}): Promise<ZipCheck> {
  const listValid = options.listValid ?? true;
  const maxProblems = options.maxProblems ?? Infinity;
  const checked: CheckedFiles = { valid: [], omitted: [], invalid: [], error: null };
  let sizeError: ZipError | null = null;
  const dir = reader.directory;
  const prefix = `${modulePath}@${version}/`;
  const prefixBytes = Buffer.from(prefix, 'utf8');
  // An entry's path, as the collision check needs it again: its name after the prefix (a directory's
  // trailing slash is beyond any length the check asks for).
  const collisions = new CollisionChecker({ expected: reader.pathBound, pathOf: (i) => dir.nameText(i, prefixBytes.length) });
  const turns = new Turns();
  let total = 0;
  let unreported = 0;
  let goMod = -1;
  // Go's %s of a zip entry name; names that are not UTF-8 show U+FFFD where go would print the raw bytes.
  const invalid = (i: number, reason: string): void => {
    if (checked.invalid.length < maxProblems) checked.invalid.push({ path: dir.nameText(i), reason });
    else unreported++;
  };
  for (let i = 0; i < dir.count; i++) {
    const turn = turns.spend(64 + dir.nameLength(i));
    if (turn !== undefined) await turn;
    if (!dir.nameStartsWith(i, prefixBytes)) {
      invalid(i, `path does not have prefix ${goQuote(prefix)}`);
      continue;
    }
    // Cleaning only looks at "/" and ".", so a byte-for-byte decoding checks it before UTF-8 validity, as go does.
    const bytes = dir.nameText(i, prefixBytes.length, 'latin1');
    // The module root itself, stored as a directory entry.
    if (bytes === '') continue;
    const isDir = bytes.charCodeAt(bytes.length - 1) === SLASH;
    const latin1 = isDir ? bytes.slice(0, -1) : bytes;
    if (!isCleanPath(latin1)) {
      invalid(i, reasons.notClean);
      continue;
    }
    let name = latin1;
    if (!isASCII(latin1)) {
      const nameBytes = Buffer.from(latin1, 'latin1');
      try {
        name = fatalUTF8.decode(nameBytes);
      } catch {
        invalid(i, `malformed file path ${goQuoteBytes(nameBytes)}: invalid UTF-8`);
        continue;
      }
    }
    const pathProblem = filePathProblem(name);
    if (pathProblem !== null) {
      invalid(i, pathProblem);
      continue;
    }
    const collision = collisions.check(name, isDir, i);
    if (collision !== null) {
      invalid(i, collision);
      continue;
    }
    if (isDir) continue;
    const base = posix.basename(name);
    if (isGoModName(base)) {
      if (base !== name) {
        invalid(i, reasons.goModNotRoot);
        continue;
      }
      if (name !== 'go.mod') {
        invalid(i, reasons.goModCase);
        continue;
      }
    }
    const size = dir.sizes[i]!;
    if (size <= MAX_ZIP_FILE - total) total += size;
    else {
      sizeError ??= new ZipError(
        'ZIP_TOO_LARGE',
        `total uncompressed size of module contents too large (max size is ${MAX_ZIP_FILE} bytes)`,
      );
    }
    if (name === 'go.mod' && size > MAX_GO_MOD) {
      invalid(i, reasons.goModSize);
      continue;
    }
    if (name === 'LICENSE' && size > MAX_LICENSE) {
      invalid(i, reasons.licenseSize);
      continue;
    }
    if (name === 'go.mod') goMod = i;
    if (listValid) checked.valid.push(dir.nameText(i));
  }
  if (sizeError !== null) checked.error = sizeError;
  else if (checked.invalid.length > 0) {
    const error = invalidFilesError(checked.invalid);
    checked.error =
      unreported === 0
        ? error
        : new ZipError('INVALID_ZIP_CONTENT', `${error.message}\n(and ${unreported} more invalid files)`, { problems: checked.invalid });
  }
  return { checked, prefix, goMod };
}

/** Refuses a zip file over MAX_ZIP_FILE before reading it, with go's message. */
export async function zipFileSizeError(zipFile: string): Promise<ZipError | null> {
  const { size } = await stat(zipFile);
  if (size <= MAX_ZIP_FILE) return null;
  return new ZipError('ZIP_TOO_LARGE', `module zip file is too large (${size} bytes; limit is ${MAX_ZIP_FILE} bytes)`);
}

/**
 * Checks the entries of a module zip file as go's zip.CheckZip does. Reported paths are the full entry
 * names; nothing is ever omitted. Content problems are returned in the report (with `error` set); a bad
 * module path or version, an unreadable zip (`INVALID_ZIP`) or an I/O failure is thrown.
 */
export async function checkZip(modulePath: ModulePathInput, version: string, zipFile: string): Promise<CheckedFiles> {
  const path = checkModuleVersion(modulePath, version);
  const tooLarge = await zipFileSizeError(zipFile);
  if (tooLarge !== null) return { valid: [], omitted: [], invalid: [], error: tooLarge };
  const reader = await ZipReader.open(zipFile);
  try {
    return (await classifyZip(reader, path, version)).checked;
  } finally {
    await reader.close();
  }
}

/**
 * The module and version a zip says it holds: the `module@version/` prefix its first entry carries, when
 * every entry carries the same one. Null when the entries share none (an empty zip, a zip that is not a
 * module zip). It checks nothing else; use checkZip for that.
 */
export async function readZipModuleVersion(zipFile: string): Promise<{ modulePath: string; version: string } | null> {
  const tooLarge = await zipFileSizeError(zipFile);
  if (tooLarge !== null) throw tooLarge;
  const reader = await ZipReader.open(zipFile);
  try {
    const dir = reader.directory;
    // A module path has slashes but no '@'; a version has neither.
    const first = dir.count > 0 ? dir.name(0) : Buffer.alloc(0);
    const at = first.indexOf(AT);
    if (at <= 0) return null;
    const slash = first.indexOf(SLASH, at);
    if (slash < 0) return null;
    const prefix = first.subarray(0, slash + 1);
    for (let i = 1; i < dir.count; i++) if (!dir.nameStartsWith(i, prefix)) return null;
    return { modulePath: prefix.toString('utf8', 0, at), version: prefix.toString('utf8', at + 1, slash) };
  } finally {
    await reader.close();
  }
}
