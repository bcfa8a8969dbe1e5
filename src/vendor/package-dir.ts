// One package folder as go mod vendor looks at it: which of its Go files any build could use and what
// they import (cmd/go's imports.ScanDir under AnyTags), whether it holds Go files at all, which files
// are copied into vendor/, and what its `//go:embed` lines name.
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buildsWithAnyTags } from './build-constraints.js';
import { EmbedPatternError, resolveEmbeds } from './embed.js';
import { PackageLoadError } from './errors.js';
import { findEmbedPatterns, readGoHeader } from './go-file.js';

/** What the Go files of a package folder import, tests apart. */
export interface PackageImports {
  imports: string[];
  testImports: string[];
}

async function entriesOf(dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true });
}

// A directory entry as a regular file: itself, or a symbolic link to one.
async function isRegularFile(dir: string, entry: Dirent): Promise<boolean> {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  return (await stat(join(dir, entry.name)).catch(() => null))?.isFile() === true;
}

function nulError(file: string): PackageLoadError {
  return new PackageLoadError(`reading ${file}: unexpected NUL in input`);
}

// Imports go drops before resolving: cgo's pseudo-package and App Engine's classic paths.
function resolvable(path: string): boolean {
  return !(path === 'C' || path === 'appengine' || path.startsWith('appengine/') || path === 'appengine_internal' || path.startsWith('appengine_internal/'));
}

/**
 * The imports of the `.go` files in `dir` (not starting with `_` or `.`) that build under some tags
 * but `ignore`; null when there is none (go's ErrNoGo). Throws PackageLoadError for a file with a NUL
 * byte before the end of its imports.
 */
export async function scanPackageDir(dir: string): Promise<PackageImports | null> {
  const imports = new Set<string>();
  const testImports = new Set<string>();
  let files = 0;
  for (const entry of await entriesOf(dir)) {
    const name = entry.name;
    if (name.startsWith('_') || name.startsWith('.') || !name.endsWith('.go') || !(await isRegularFile(dir, entry))) continue;
    const file = join(dir, name);
    const header = readGoHeader(await readFile(file));
    if (header.nul) throw nulError(file);
    if (!buildsWithAnyTags(header.header)) continue;
    files++;
    const into = name.endsWith('_test.go') ? testImports : imports;
    for (const path of header.imports) if (resolvable(path)) into.add(path);
  }
  if (files === 0) return null;
  return { imports: [...imports].sort(), testImports: [...testImports].sort() };
}

/** Whether `dir` is a folder holding any `.go` file, tests and excluded files included (go's IsDirWithGoFiles). */
export async function hasGoFiles(dir: string): Promise<boolean> {
  let entries: Dirent[];
  try {
    entries = await entriesOf(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
  for (const entry of entries) if (entry.name.endsWith('.go') && !entry.isDirectory() && (await isRegularFile(dir, entry))) return true;
  return false;
}

/**
 * Whether go mod vendor copies the regular file `name` of a package folder: not a test, not a go.mod
 * or go.sum when the main module is at go 1.17 or later, not a Go file that only `ignore` builds.
 * `read` gives the file's bytes; it is called for Go files only.
 */
export async function copiedToVendor(name: string, goModsDropped: boolean, read: () => Promise<Buffer>): Promise<boolean> {
  if (name.endsWith('_test.go')) return false;
  if (goModsDropped && (name === 'go.mod' || name === 'go.sum')) return false;
  if (!name.endsWith('.go')) return true;
  const header = readGoHeader(await read());
  // A file go cannot read is kept: it may matter, and the build will say what is wrong with it.
  return header.nul || buildsWithAnyTags(header.header);
}

/**
 * The files (relative to `dir`) that the package's `//go:embed` lines name, resolved as go resolves
 * them when vendoring: the patterns of every Go file of the folder, whatever its build constraints,
 * tests included, but not of files go skips (`_` or `.` names, `package documentation`). Throws
 * PackageLoadError, naming `pkg`, for a Go file go cannot read or a pattern that names nothing usable.
 */
export async function embeddedFiles(pkg: string, dir: string): Promise<string[]> {
  const patterns = new Set<string>();
  for (const entry of await entriesOf(dir)) {
    const name = entry.name;
    if (entry.isDirectory() || name.startsWith('_') || name.startsWith('.') || !name.endsWith('.go')) continue;
    if (entry.isSymbolicLink() && (await stat(join(dir, name)).catch(() => null))?.isDirectory() === true) continue;
    const file = join(dir, name);
    const data = await readFile(file);
    const header = readGoHeader(data);
    if (header.nul) throw new PackageLoadError(`${pkg}: ${nulError(file).message}`);
    if (header.syntaxError) throw new PackageLoadError(`${pkg}: ${file}: the package clause or imports do not parse`);
    if (header.packageName === 'documentation' || !header.imports.includes('embed')) continue;
    for (const pattern of findEmbedPatterns(data)) patterns.add(pattern);
  }
  if (patterns.size === 0) return [];
  try {
    return await resolveEmbeds(dir, [...patterns].sort());
  } catch (err) {
    if (err instanceof EmbedPatternError) throw new PackageLoadError(`${pkg}: ${err.message}`, { cause: err });
    throw err;
  }
}
