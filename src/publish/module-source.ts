// Where `godepot publish` takes a module's files from: a plain folder, zipped as `godepot mod zip` zips
// it, or, when the folder is in a git work tree, the git tag of the version, zipped from the tag's tree
// exactly as go zips a version it fetches from git (the same h1). Versions in git are tags: a module in a work tree
// is never published from its files as they lie, which may be in no commit, uncommitted or ignored.
import { execFile } from 'node:child_process';
import { mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { promisify } from 'node:util';
import { GodepotError } from '../errors.js';
import { build, major } from '../module/semver.js';
import { createZip, createZipFromDir } from '../module/zip.js';
import type { ModuleFile } from '../module/zipcheck.js';
import { ZipReader } from '../module/zipreader.js';
import { archiveModuleFiles } from '../vcs/archive-files.js';

const execFileAsync = promisify(execFile);

/** The module's files cannot be read as asked: no such tag, a git that fails, no go.mod to name the module. */
export class ModuleSourceError extends GodepotError {
  readonly code = 'MODULE_SOURCE';
}

/** The files of one module version, and what the user should be told about them. */
export interface ModuleSource {
  /** What the zip is built from, in words: `folder DIR`, or the tag, its commit and repository. */
  readonly description: string;
  /** The commit time of the tag, the `.info` Time to publish; null for a folder (the server's time of storing). */
  readonly time: Date | null;
  /** What the user should know (changes in the work tree that the tag leaves out). */
  readonly notes: readonly string[];
  /** The module's root go.mod as it goes into the zip, or null when it has none. */
  goMod(): Promise<Buffer | null>;
  /** Writes the module zip of `modulePath@version` to `out` (and ends it), as go makes it from these files; ZipError when go's rules forbid it. */
  writeZip(out: Writable, modulePath: string, version: string): Promise<void>;
}

/**
 * The source of `version` of the module in folder `dir`. Outside a git work tree (or without git): the
 * folder. Inside one: the tag `<folder in the repository>/<version>` (just `<version>` at the top; a
 * major version subfolder such as `v2/` shares its parent's tags, as go has it), archived into
 * `workDir`. Throws ModuleSourceError when that tag does not exist, or git fails.
 */
export async function findModuleSource(dir: string, version: string, workDir: string): Promise<ModuleSource> {
  const folder = resolve(dir);
  if (!(await stat(folder)).isDirectory()) throw new ModuleSourceError(`${dir} is not a folder`);
  const top = await workTreeTop(folder);
  if (top === null) return new FolderSource(folder);
  const subdir = relative(await realpath(top), await realpath(folder)).split(sep).join('/');
  const tag = tagOf(subdir, version);
  const commit = await tagCommit(top, tag);
  if (commit === null) {
    throw new ModuleSourceError(
      `${folder} is in the git repository ${top}, which has no tag ${tag}: a module in git is published from the tag of its version ` +
        `(create it with \`git tag ${tag}\`), never from files that may be in no commit`,
    );
  }
  const time = new Date(Number((await git(top, ['log', '-1', '--format=%ct', commit])).trim()) * 1000);
  const notes: string[] = [];
  if ((await git(folder, ['status', '--porcelain', '--', '.'])) !== '') {
    notes.push(`${folder} has uncommitted changes; they are not published: the zip is made from tag ${tag}`);
  }
  const archive = await archiveCommit(top, commit, subdir, workDir);
  const symlinks = new Set<string>();
  for (const entry of treeEntries(await git(top, ['ls-tree', '-r', '-z', commit, ...(subdir === '' ? [] : ['--', subdir])]))) {
    if (entry.mode === '120000') symlinks.add(entry.path);
  }
  // go adds the repository's LICENSE to a module in a subfolder that has none of its own.
  const license = subdir === '' ? undefined : treeEntries(await git(top, ['ls-tree', '-l', '-z', commit, '--', 'LICENSE'])).find((e) => e.type === 'blob');
  const description = `tag ${tag} (commit ${commit.slice(0, 12)}, ${time.toISOString()}) of the git repository ${top}`;
  return new TagSource({ top, subdir, archive, symlinks, license, description, time, notes });
}

/**
 * `git archive` of `subdir` at `commit`, as go makes it for a version it fetches from git
 * (codehost.ReadZip): go archives in a repository of its own whose info/attributes turn export-ignore
 * and export-subst off (ensureGitAttributes), so that the zip holds the files as committed. Here that
 * repository is an empty one in `workDir` borrowing the work tree's objects; the work tree's own
 * repository is left as it is.
 */
async function archiveCommit(top: string, commit: string, subdir: string, workDir: string): Promise<string> {
  const objects = resolve(top, (await git(top, ['rev-parse', '--git-path', 'objects'])).trim());
  const bare = join(workDir, 'archive.git');
  await git(workDir, ['init', '-q', '--bare', bare]);
  await mkdir(join(bare, 'info'), { recursive: true });
  await writeFile(join(bare, 'info', 'attributes'), '* -export-subst -export-ignore\n');
  const archive = join(workDir, 'tag.zip');
  const args = ['--git-dir', bare, '-c', 'core.autocrlf=input', '-c', 'core.eol=lf', 'archive', '--format=zip', '--prefix=prefix/', '-o', archive, commit, ...(subdir === '' ? [] : ['--', subdir])];
  await git(workDir, args, { GIT_ALTERNATE_OBJECT_DIRECTORIES: objects });
  return archive;
}

/** The top of the git work tree holding `folder`, or null when there is none (or no git to ask). */
async function workTreeTop(folder: string): Promise<string | null> {
  try {
    return (await execFileAsync('git', ['rev-parse', '--show-toplevel'], { cwd: folder })).stdout.trim();
  } catch (err) {
    const { code, stderr } = err as { code?: unknown; stderr?: string };
    if (code === 'ENOENT' || /not a git repository/.test(stderr ?? '')) return null;
    throw gitFailed(['rev-parse', '--show-toplevel'], err);
  }
}

// go looks for a module's versions among tags prefixed with its folder in the repository, the folder
// taken from the module path without its major version suffix (module example.com/r/sub/v2 in sub/v2/
// is tagged sub/v2.0.0). A folder named after the version's major version is such a suffix.
function tagOf(subdir: string, version: string): string {
  const folders = subdir === '' ? [] : subdir.split('/');
  const versionMajor = major(version);
  if (folders.at(-1) === versionMajor && versionMajor !== 'v0' && versionMajor !== 'v1' && build(version) !== '+incompatible') folders.pop();
  return [...folders, version].join('/');
}

/** The commit tag `tag` names, or null when there is no such tag. */
async function tagCommit(top: string, tag: string): Promise<string | null> {
  const args = ['rev-parse', '-q', '--verify', `refs/tags/${tag}^{commit}`];
  try {
    return (await execFileAsync('git', args, { cwd: top })).stdout.trim();
  } catch (err) {
    // --verify -q: exit status 1 and nothing said when the name does not resolve.
    if ((err as { code?: unknown }).code === 1) return null;
    throw gitFailed(args, err);
  }
}

async function git(cwd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    return (await execFileAsync('git', args, { cwd, maxBuffer: 256 << 20, ...(env === undefined ? {} : { env: { ...process.env, ...env } }) })).stdout;
  } catch (err) {
    throw gitFailed(args, err);
  }
}

function gitFailed(args: readonly string[], err: unknown): ModuleSourceError {
  const { stderr, message } = err as { stderr?: string; message: string };
  // The command's name, after the options before it (`--git-dir DIR`, `-c name=value`).
  const command = args.find((arg, i) => !arg.startsWith('-') && !arg.includes('=') && args[i - 1] !== '--git-dir');
  return new ModuleSourceError(`git ${command}: ${(stderr || message).trim()}`, { cause: err });
}

interface TreeEntry {
  mode: string;
  type: string;
  object: string;
  /** Present with `ls-tree -l`, for blobs. */
  size: number;
  path: string;
}

/** The entries `git ls-tree -z` printed: `<mode> <type> <object>[ <size>]\t<path>`, each ending in NUL. */
function treeEntries(output: string): TreeEntry[] {
  return output
    .split('\0')
    .filter((line) => line !== '')
    .map((line) => {
      const tab = line.indexOf('\t');
      const [mode = '', type = '', object = '', size = '-'] = line.slice(0, tab).split(/ +/);
      return { mode, type, object, size: Number(size), path: line.slice(tab + 1) };
    });
}

class FolderSource implements ModuleSource {
  readonly description: string;
  readonly time = null;
  readonly notes: readonly string[] = [];

  constructor(private readonly folder: string) {
    this.description = `folder ${folder}`;
  }

  async goMod(): Promise<Buffer | null> {
    try {
      return await readFile(join(this.folder, 'go.mod'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  writeZip(out: Writable, modulePath: string, version: string): Promise<void> {
    return createZipFromDir(out, modulePath, version, this.folder);
  }
}

interface Tagged {
  top: string;
  /** The module's folder in the repository, `''` at the top. */
  subdir: string;
  /** `git archive` of the tag's commit, limited to subdir. */
  archive: string;
  /** Paths (from the top) of the symbolic links in subdir. */
  symlinks: ReadonlySet<string>;
  /** The repository's LICENSE, for a module in a subfolder. */
  license: TreeEntry | undefined;
  description: string;
  time: Date;
  notes: readonly string[];
}

/** A tagged version: the files of its folder, as `git archive` gives them (go's coderepo.Zip). */
class TagSource implements ModuleSource {
  readonly description: string;
  readonly time: Date;
  readonly notes: readonly string[];

  constructor(private readonly tagged: Tagged) {
    this.description = tagged.description;
    this.time = tagged.time;
    this.notes = tagged.notes;
  }

  async goMod(): Promise<Buffer | null> {
    return this.withArchive(async (reader) => {
      const entry = this.files(reader).find((f) => f.path === 'go.mod');
      if (entry === undefined) return null;
      const chunks: Buffer[] = [];
      for await (const chunk of await entry.open()) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks);
    });
  }

  writeZip(out: Writable, modulePath: string, version: string): Promise<void> {
    return this.withArchive(async (reader) => {
      const files = this.files(reader);
      const { license, top } = this.tagged;
      if (license !== undefined && !files.some((f) => f.path === 'LICENSE')) {
        files.push({ path: 'LICENSE', size: license.size, open: async () => Readable.from([await catBlob(top, license.object)]) });
      }
      await createZip(out, modulePath, version, files);
    });
  }

  // The archive is read at random and entries only while it is open.
  private async withArchive<T>(use: (reader: ZipReader) => Promise<T>): Promise<T> {
    const reader = await ZipReader.open(this.tagged.archive);
    try {
      return await use(reader);
    } finally {
      await reader.close();
    }
  }

  /** The files of the module's folder in the archive, as the git origin takes them. */
  private files(reader: ZipReader): ModuleFile[] {
    return archiveModuleFiles(reader, this.tagged.subdir, this.tagged.symlinks);
  }
}

/** A blob's bytes, as go's codehost.ReadFile reads the LICENSE it adds (at most MAX_LICENSE: a larger one makes the zip invalid unread). */
async function catBlob(top: string, object: string): Promise<Buffer> {
  try {
    return (await execFileAsync('git', ['cat-file', 'blob', object], { cwd: top, encoding: 'buffer', maxBuffer: 32 << 20 })).stdout;
  } catch (err) {
    throw gitFailed(['cat-file'], err);
  }
}
