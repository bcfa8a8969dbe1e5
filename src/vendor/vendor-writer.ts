// Copies packages into a vendor folder file by file as go's vendorPkg does: the package folder's files
// that any build may use, the license and notice files of the folders above it up to its module's
// root, and the files its `//go:embed` lines name.
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { LoadedPackage } from './load-packages.js';
import { copiedToVendor, embeddedFiles } from './package-dir.js';

// The names go copies from the folders above a vendored package (prefixes, capitalised on purpose).
const metadataPrefixes = ['AUTHORS', 'CONTRIBUTORS', 'COPYLEFT', 'COPYING', 'COPYRIGHT', 'LEGAL', 'LICENSE', 'NOTICE', 'PATENTS'];

const isMetadata = (name: string): boolean => metadataPrefixes.some((prefix) => name.startsWith(prefix));

async function copyFile(from: string, to: string): Promise<void> {
  // A new file, 0666 before the umask, as go's os.Create makes it, whatever the source's mode.
  await pipeline(createReadStream(from), createWriteStream(to, { mode: 0o666 }));
}

/** Writes packages below one vendor folder; use one writer per folder, in go's order (by module, then package). */
export class VendorWriter {
  /** How many files were written. */
  files = 0;
  // `module path NUL destination folder` pairs whose metadata was already copied.
  private readonly metadataDone = new Set<string>();

  /**
   * `root`: the folder to write into; `goModsDropped`: the main module is at go 1.17 or later, so
   * go.mod and go.sum files of dependencies are left out.
   */
  constructor(
    private readonly root: string,
    private readonly goModsDropped: boolean,
  ) {}

  /** Copies one package to `<root>/<import path>`. Throws PackageLoadError for a package whose embeds go cannot resolve. */
  async vendorPackage(pkg: LoadedPackage): Promise<void> {
    const dst = join(this.root, pkg.path);
    const copied = new Set<string>();
    await this.copyDir(dst, pkg.dir, (name, file) => copiedToVendor(name, this.goModsDropped, () => readFile(file)), copied);
    await this.copyMetadata(pkg.module.path, pkg.path, dst, pkg.dir, copied);
    for (const rel of await embeddedFiles(pkg.path, pkg.dir)) {
      const to = join(dst, rel);
      if (copied.has(to)) continue;
      await mkdir(dirname(to), { recursive: true });
      await copyFile(join(pkg.dir, rel), to);
      this.files++;
    }
  }

  // The regular files of `src` that `keep` accepts, into `dst` (made if missing); subfolders are not copied.
  private async copyDir(dst: string, src: string, keep: (name: string, file: string) => boolean | Promise<boolean>, copied: Set<string>): Promise<void> {
    const entries: Dirent[] = await readdir(src, { withFileTypes: true });
    await mkdir(dst, { recursive: true });
    for (const entry of entries) {
      const from = join(src, entry.name);
      if (!entry.isFile() || !(await keep(entry.name, from))) continue;
      const to = join(dst, entry.name);
      await copyFile(from, to);
      copied.add(to);
      this.files++;
    }
  }

  // The metadata files of each folder above the package, up to its module's root, once per module and folder.
  private async copyMetadata(modulePath: string, pkg: string, dst: string, src: string, copied: Set<string>): Promise<void> {
    for (let level = 0; ; level++) {
      const key = `${modulePath}\0${dst}`;
      if (this.metadataDone.has(key)) return;
      this.metadataDone.add(key);
      if (level > 0) await this.copyDir(dst, src, isMetadata, copied);
      if (pkg === modulePath) return;
      pkg = posix.dirname(pkg);
      dst = dirname(dst);
      src = dirname(src);
    }
  }
}
