// manifest.json, the table of contents of a bundle and the one thing its signature covers: what went in
// (inputs), every file with its size and sha256, every module's `h1:` hashes, and the checksum-database
// proofs that travel along. Written in one canonical form; read through a zod schema and the same
// semantic checks that guard writing, so that no bundle path can escape the folder it is unpacked into.

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PROXIED_SUMDB_NAME } from '../checksum/gosumdb.js';
import { newVerifier } from '../checksum/note.js';
import { parseTilePath } from '../checksum/tlog.js';
import { parseGoSum } from '../module/gosum.js';
import { escapePath, escapeVersion, unescapePath, unescapeVersion } from '../module/path.js';
import { compare as compareSemver } from '../module/semver.js';
import { canonicalVersion, checkModule } from '../module/version.js';
import { BundleFormatError } from './format-error.js';
import { arrayElements, documentSpan, isArraySpan, isObjectSpan, objectMembers, parseSpan, type Span } from './json-spans.js';

/** The format of a bundle of modules and proofs: what godepot writes unless a release archive travels too. */
export const BUNDLE_FORMAT = 1;
/** The format of a bundle that also carries godepot's own release archive (`bundle create --self`). */
export const RELEASE_BUNDLE_FORMAT = 2;
/** Every format this code reads; a writer writes the lowest one its contents need, so older readers keep reading what they can. */
export const BUNDLE_FORMATS_READ: readonly number[] = [BUNDLE_FORMAT, RELEASE_BUNDLE_FORMAT];
/** The first entry of every bundle. */
export const MANIFEST_NAME = 'manifest.json';
/** The second entry of a signed bundle: the raw Ed25519 signature of manifest.json's bytes. */
export const SIGNATURE_NAME = 'manifest.sig';

/** One file in the bundle; `name` is its path inside the bundle. */
export interface ManifestFile {
  name: string;
  size: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
}

/** One module version and its files in the module-cache download layout. */
export interface ManifestModule {
  path: string;
  version: string;
  /**
   * `<escaped path>/@v/<escaped version>` + `.info`, `.mod`, `.zip`, in that order; a module whose go.mod
   * alone is needed carries only its `.mod`.
   */
  files: ManifestFile[];
  /** The `h1:` of the .mod (go.sum's `<path> <version>/go.mod` line). */
  modHash: string;
  /** The `h1:` of the zip, when the zip is in the bundle. */
  zipHash?: string;
}

/** One INPUT of `bundle create` and what it said about its modules. */
export interface ManifestInput {
  /** The INPUT as given (a go.mod, go.work, folder, or module@version). */
  spec: string;
  kind: 'gomod' | 'gowork' | 'module';
  /** The main modules of the input (several for a workspace). */
  mainModules: string[];
  /** The input's go.sum lines, `<path> <version>[/go.mod] <hash>`; verify holds the modules to them. */
  goSum: string[];
}

/** One checksum database whose proofs travel, as files under `sumdb/<name>/`. */
export interface ManifestSumdb {
  name: string;
  /** `name+hash+key`, the GOSUMDB value that trusts the database. */
  verifierKey: string;
  /** The size of the tree `latest` signs. */
  treeSize: number;
  /** `sumdb/<name>/latest`, `.../lookup/<escaped path>@<escaped version>`, `.../tile/...`, sorted by name. */
  files: ManifestFile[];
}

/** godepot's own release archive (what `npm run release` makes), carried so that the far side can install godepot. */
export interface ManifestRelease {
  /** godepot's version (package.json's), as in the archive's name. */
  version: string;
  /** What the archive runs on, as in its name: `linux-x64`. */
  platform: string;
  /** `release/godepot-<version>-<platform>.tar.gz`. */
  file: ManifestFile;
}

/** The contents of manifest.json. */
export interface Manifest {
  /** BUNDLE_FORMAT, or RELEASE_BUNDLE_FORMAT when `release` is given. */
  format: 1 | 2;
  /** `godepot <version>`. */
  createdBy: string;
  inputs: ManifestInput[];
  /** For an incremental bundle: the sha256 of the older bundle's manifest.json, and how many modules it had. */
  since?: { sha256: string; modules: number };
  /** Sorted by path, then by version in semver order. */
  modules: ManifestModule[];
  /** One per checksum database whose proofs travel, sorted by name. */
  sumdb: ManifestSumdb[];
  /** godepot's release archive, in a bundle made with `--self` (format 2 only). */
  release?: ManifestRelease;
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'want 64 lower-case hex digits');
const h1 = z.string().regex(/^h1:[A-Za-z0-9+/]{43}=$/, 'want an h1: hash');
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const file = z.strictObject({ name: z.string().min(1), size: count, sha256: sha256Hex });

const moduleSchema = z.strictObject({
  path: z.string().min(1),
  version: z.string().min(1),
  files: z.array(file).min(1),
  modHash: h1,
  zipHash: h1.optional(),
});

/**
 * How parseManifest reads a part of manifest.json: parsed whole and checked by a schema, or, for the
 * arrays that grow with the bundle (modules, go.sum lines, proof files), walked element by element, or
 * an object whose members are read each by its own shape and then checked together (its walked members
 * stand in its schema as `walked`).
 */
type Shape = { whole: z.ZodType } | { array: Shape } | ObjectShape;
type ObjectShape = { object: z.ZodType; members: ReadonlyMap<string, Shape> };

const walked = z.array(z.unknown());

const releaseSchema = z.strictObject({
  version: z.string().regex(/^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?$/, 'want a version such as 1.2.3'),
  platform: z.string().regex(/^[a-z0-9]+-[a-z0-9]+$/, 'want a platform such as linux-x64'),
  file,
});

const manifestShape: ObjectShape = {
  object: z.strictObject({
    format: z.union([z.literal(BUNDLE_FORMAT), z.literal(RELEASE_BUNDLE_FORMAT)]),
    createdBy: z.string().min(1),
    inputs: walked,
    since: z.strictObject({ sha256: sha256Hex, modules: count }).optional(),
    modules: walked,
    sumdb: walked,
    release: releaseSchema.optional(),
  }),
  members: new Map<string, Shape>([
    [
      'inputs',
      {
        array: {
          object: z.strictObject({ spec: z.string().min(1), kind: z.enum(['gomod', 'gowork', 'module']), mainModules: walked, goSum: walked }),
          members: new Map([
            ['mainModules', { array: { whole: z.string().min(1) } }],
            ['goSum', { array: { whole: z.string() } }],
          ]),
        },
      },
    ],
    ['modules', { array: { whole: moduleSchema } }],
    [
      'sumdb',
      {
        array: {
          object: z.strictObject({ name: z.string().min(1), verifierKey: z.string().min(1), treeSize: count, files: walked.min(1) }),
          members: new Map([['files', { array: { whole: file } }]]),
        },
      },
    ],
  ]),
};

/**
 * The most bytes a part of the manifest that is parsed whole may take: a module entry, a file entry, a
 * go.sum line, a name. Real ones take a few hundred; a larger one is refused before it is parsed, as
 * JSON of a few bytes a value (`{}`, `[]`) parses into tens of times its size.
 */
export const MAX_MANIFEST_PIECE = 64 << 10;

/**
 * Why `name` is unsafe as a path inside a bundle, or null when it is safe: a relative slash path of
 * non-empty segments other than `.` and `..`, without backslash or NUL.
 */
export function bundlePathProblem(name: string): string | null {
  if (name === '') return 'empty name';
  if (name.startsWith('/')) return 'absolute path';
  if (name.includes('\\')) return 'backslash in path';
  if (name.includes('\0')) return 'NUL in path';
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return `path segment ${JSON.stringify(segment)}`;
  }
  return null;
}

/** The bundle path of a module version's file: `<escaped path>/@v/<escaped version>` plus the extension. */
export function moduleFileName(modulePath: string, version: string, ext: '.info' | '.mod' | '.zip' | ''): string {
  return `${escapePath(modulePath)}/@v/${escapeVersion(version)}${ext}`;
}

/** The bundle path of godepot's release archive of `version` for `platform`. */
export function releaseFileName(version: string, platform: string): string {
  return `release/godepot-${version}-${platform}.tar.gz`;
}

/** Every file of the manifest in bundle order: each module's files, then each database's, then the release archive. */
export function manifestFiles(manifest: Manifest): ManifestFile[] {
  return [...manifest.modules.flatMap((m) => m.files), ...manifest.sumdb.flatMap((s) => s.files), ...(manifest.release === undefined ? [] : [manifest.release.file])];
}

/**
 * A bundle's manifest id: the sha256 (hex) of its manifest.json bytes. It names the bundle's contents
 * whatever the file is called, and is what an incremental bundle's `since` holds.
 */
export function manifestId(manifestBytes: Uint8Array): string {
  return createHash('sha256').update(manifestBytes).digest('hex');
}

/** The manifest in its canonical form: fixed key order, two-space indent, a final newline. */
export function formatManifest(manifest: Manifest): Buffer {
  const fileJson = (f: ManifestFile): ManifestFile => ({ name: f.name, size: f.size, sha256: f.sha256 });
  const canonical = {
    format: manifest.format,
    createdBy: manifest.createdBy,
    inputs: manifest.inputs.map((i) => ({ spec: i.spec, kind: i.kind, mainModules: [...i.mainModules], goSum: [...i.goSum] })),
    ...(manifest.since === undefined ? {} : { since: { sha256: manifest.since.sha256, modules: manifest.since.modules } }),
    modules: manifest.modules.map((m) => ({
      path: m.path,
      version: m.version,
      files: m.files.map(fileJson),
      modHash: m.modHash,
      ...(m.zipHash === undefined ? {} : { zipHash: m.zipHash }),
    })),
    sumdb: manifest.sumdb.map((s) => ({ name: s.name, verifierKey: s.verifierKey, treeSize: s.treeSize, files: s.files.map(fileJson) })),
    ...(manifest.release === undefined ? {} : { release: { version: manifest.release.version, platform: manifest.release.platform, file: fileJson(manifest.release.file) } }),
  };
  return Buffer.from(`${JSON.stringify(canonical, null, 2)}\n`, 'utf8');
}

/**
 * Parses manifest.json: JSON, the schema, then checkManifest's rules. Throws BundleFormatError naming
 * the field or file at fault; a newer format number is reported as such. The long arrays are read an
 * element at a time (see Shape and json-spans.ts), so that parsing takes about the memory the returned
 * manifest holds, beside `bytes`, whatever `bytes` holds.
 */
export function parseManifest(bytes: Uint8Array): Manifest {
  try {
    const document = documentSpan(bytes);
    if (!isObjectSpan(bytes, document)) refuse([], 'want an object');
    const members = memberSpans(bytes, document, []);
    const format = members.has('format') ? parseSmall(bytes, members.get('format')!, ['format']) : undefined;
    if (typeof format === 'number' && !BUNDLE_FORMATS_READ.includes(format)) throw new BundleFormatError(`${MANIFEST_NAME}: ${unknownFormat(format)}`, MANIFEST_NAME);
    const manifest = readObject(bytes, members, manifestShape, []) as Manifest;
    checkManifest(manifest);
    return manifest;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new BundleFormatError(`${MANIFEST_NAME} is not valid JSON: ${err.message}`, MANIFEST_NAME, { cause: err });
  }
}

// A newer godepot's bundle: say so, and how to reach a release archive it may carry without godepot.
function unknownFormat(format: number): string {
  return (
    `bundle format ${format}; this godepot reads formats ${BUNDLE_FORMATS_READ.join(' and ')}: a newer godepot wrote it. ` +
    'Use that godepot; a bundle made with --self carries it under release/ (tar -xzf FILE release/ takes it out)'
  );
}

type FieldPath = ReadonlyArray<string | number>;

function refuse(path: FieldPath, message: string): never {
  const where = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
  throw new BundleFormatError(`${MANIFEST_NAME}: ${where.replace(/^\./, '') || 'the top level'}: ${message}`, MANIFEST_NAME);
}

function read(bytes: Uint8Array, span: Span, shape: Shape, path: FieldPath): unknown {
  if ('whole' in shape) return checked(shape.whole, parseSmall(bytes, span, path), path);
  if ('array' in shape) {
    if (!isArraySpan(bytes, span)) refuse(path, 'want an array');
    return Array.from(arrayElements(bytes, span), (element, i) => read(bytes, element, shape.array, [...path, i]));
  }
  if (!isObjectSpan(bytes, span)) refuse(path, 'want an object');
  return readObject(bytes, memberSpans(bytes, span, path), shape, path);
}

// Members the shape does not name are parsed whole, and the object's schema refuses them.
function readObject(bytes: Uint8Array, members: ReadonlyMap<string, Span>, shape: ObjectShape, path: FieldPath): unknown {
  const value = Object.fromEntries(Array.from(members, ([name, span]) => [name, read(bytes, span, shape.members.get(name) ?? anyValue, [...path, name])]));
  return checked(shape.object, value, path);
}

const anyValue: Shape = { whole: z.unknown() };

function memberSpans(bytes: Uint8Array, span: Span, path: FieldPath): Map<string, Span> {
  const members = new Map<string, Span>();
  for (const { name, value } of objectMembers(bytes, span)) {
    if (members.has(name)) refuse([...path, name], 'given twice');
    members.set(name, value);
  }
  return members;
}

function parseSmall(bytes: Uint8Array, span: Span, path: FieldPath): unknown {
  const size = span.end - span.start;
  if (size > MAX_MANIFEST_PIECE) refuse(path, `${size} bytes; at most ${MAX_MANIFEST_PIECE} are read here`);
  return parseSpan(bytes, span);
}

// The schema's copy of `value`, or BundleFormatError naming the field of its first issue.
function checked(schema: z.ZodType, value: unknown, path: FieldPath): unknown {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  return refuse([...path, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], issue.message);
}

// Go compares strings bytewise; JavaScript's < compares UTF-16 units.
function compareBytes(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The manifest's order of module versions: path bytewise, then semver, then version bytewise. */
export function compareModules(a: { path: string; version: string }, b: { path: string; version: string }): number {
  return compareBytes(a.path, b.path) || compareSemver(a.version, b.version) || compareBytes(a.version, b.version);
}

const EXTENSIONS = ['.info', '.mod', '.zip'] as const;

function checkModuleEntry(m: ManifestModule, fail: (message: string, entry?: string) => never): void {
  const id = `${m.path}@${m.version}`;
  try {
    checkModule(m.path, m.version);
  } catch (err) {
    fail(`module ${id}: ${(err as Error).message}`);
  }
  if (canonicalVersion(m.version) !== m.version) fail(`module ${id}: version is not canonical`);
  const base = moduleFileName(m.path, m.version, '');
  let next = 0;
  for (const f of m.files) {
    const at = EXTENSIONS.findIndex((ext, i) => i >= next && f.name === base + ext);
    if (at < 0) fail(`module ${id}: file ${JSON.stringify(f.name)} is not one of ${EXTENSIONS.map((e) => base + e).join(', ')} (in that order, each once)`, f.name);
    next = at + 1;
  }
  const hasZip = m.files.some((f) => f.name.endsWith('.zip'));
  if (hasZip !== (m.zipHash !== undefined)) fail(`module ${id}: zipHash must be given exactly when the zip is in the bundle`);
}

// `latest`, `lookup/<escaped path>@<escaped version>` or a tile path, as go names them in its sumdb cache.
function sumdbFileProblem(rest: string): string | null {
  if (rest === 'latest') return null;
  if (rest.startsWith('lookup/')) {
    const target = rest.slice('lookup/'.length);
    const at = target.indexOf('@');
    if (at <= 0) return 'malformed lookup';
    try {
      const modulePath = unescapePath(target.slice(0, at));
      const version = unescapeVersion(target.slice(at + 1));
      checkModule(modulePath, version);
      if (escapePath(modulePath) !== target.slice(0, at) || escapeVersion(version) !== target.slice(at + 1)) return 'lookup not in canonical escaping';
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (rest.startsWith('tile/')) {
    try {
      parseTilePath(rest);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }
  return 'not latest, lookup/... or tile/...';
}

function checkSumdbEntry(s: ManifestSumdb, fail: (message: string, entry?: string) => never): void {
  if (!PROXIED_SUMDB_NAME.test(s.name) || s.name.length > 253) fail(`checksum database name ${JSON.stringify(s.name)} is not a lower-case host[:port]`);
  let keyName: string;
  try {
    keyName = newVerifier(s.verifierKey).name;
  } catch (err) {
    fail(`checksum database ${s.name}: ${(err as Error).message}`);
  }
  if (keyName !== s.name) fail(`checksum database ${s.name}: verifier key is for ${JSON.stringify(keyName)}`);
  const prefix = `sumdb/${s.name}/`;
  let previous = '';
  for (const f of s.files) {
    const problem = f.name.startsWith(prefix) ? sumdbFileProblem(f.name.slice(prefix.length)) : `not under ${prefix}`;
    if (problem !== null) fail(`checksum database file ${JSON.stringify(f.name)}: ${problem}`, f.name);
    if (compareBytes(previous, f.name) >= 0) fail(`checksum database ${s.name}: files not sorted by name at ${JSON.stringify(f.name)}`, f.name);
    previous = f.name;
  }
  if (!s.files.some((f) => f.name === `${prefix}latest`)) fail(`checksum database ${s.name}: no ${prefix}latest (the signed tree head)`);
}

function checkRelease(release: ManifestRelease, format: number, fail: (message: string, entry?: string) => never): void {
  if (format < RELEASE_BUNDLE_FORMAT) fail(`a release archive travels only in bundle format ${RELEASE_BUNDLE_FORMAT} or later, not ${format}`);
  const name = releaseFileName(release.version, release.platform);
  if (release.file.name !== name) fail(`release archive ${JSON.stringify(release.file.name)} is not named ${name}`, release.file.name);
}

/**
 * Checks what the schema cannot: modules sorted and unique, each file path exactly what escapePath and
 * escapeVersion give, zipHash present exactly with a zip, checksum-database files in go's syntax under
 * `sumdb/<name>/` with a `latest`, every path safe, no name twice, go.sum lines of three fields.
 * Throws BundleFormatError naming the first problem.
 */
export function checkManifest(manifest: Manifest): void {
  const fail = (message: string, entry: string = MANIFEST_NAME): never => {
    throw new BundleFormatError(`${MANIFEST_NAME}: ${message}`, entry);
  };
  if (!BUNDLE_FORMATS_READ.includes(manifest.format)) fail(unknownFormat(manifest.format));
  if (manifest.release !== undefined) checkRelease(manifest.release, manifest.format, fail);
  const seen = new Set<string>([MANIFEST_NAME, SIGNATURE_NAME]);
  for (const f of manifestFiles(manifest)) {
    const problem = bundlePathProblem(f.name);
    if (problem !== null) fail(`unsafe file name ${JSON.stringify(f.name)}: ${problem}`, f.name);
    if (seen.has(f.name)) fail(`file ${JSON.stringify(f.name)} is listed twice`, f.name);
    seen.add(f.name);
  }
  for (const input of manifest.inputs) {
    try {
      parseGoSum(input.goSum.join('\n'), `go.sum of ${input.spec}`);
    } catch (err) {
      fail(`input ${input.spec}: ${(err as Error).message}`);
    }
  }
  manifest.modules.forEach((m, i) => {
    checkModuleEntry(m, fail);
    const before = manifest.modules[i - 1];
    if (before !== undefined && compareModules(before, m) >= 0) {
      fail(`modules are not sorted by path and version, or listed twice, at ${m.path}@${m.version}`);
    }
  });
  manifest.sumdb.forEach((s, i) => {
    checkSumdbEntry(s, fail);
    const before = manifest.sumdb[i - 1];
    if (before !== undefined && compareBytes(before.name, s.name) >= 0) fail(`checksum databases are not sorted by name, or listed twice, at ${s.name}`);
  });
}
