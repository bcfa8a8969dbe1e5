// Committing several objects at once from local files: what the depot does with every module zip it
// fetches (spool, check, then store the zip with its .ziphash, .mod and .info). A driver whose objects
// are local files offers it itself (DiskStorage: the spool is renamed into place, never copied, and each
// folder synced once per commit); any other driver gets SpoolStaging, which spools to a local folder and
// stores with put(). The Storage interface stays the dumb blob store STYLE describes.
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isTemporaryName, temporaryPath } from './atomic-file.js';
import type { Storage } from './storage.js';

/** One object of a commit: a staged file (moved in) or bytes. */
export type StagedObject = { key: string; file: string } | { key: string; body: Uint8Array };

/** Local files as the way into a storage: filled by the caller, then committed as objects. */
export interface FileStaging {
  /**
   * A path where no file exists yet, in a folder that does: the caller creates and fills the file there
   * (a spool it may read back at will), then passes it to commit() or discard(). Staged files a crash
   * leaves behind are removed once an hour old.
   */
  stage(): Promise<string>;
  /**
   * Stores the objects in the order given, each all or nothing, as put() would; a staged file is
   * consumed (moved or copied in). After a failure or a crash during the commit, any of its objects may
   * be missing, but none is partial.
   */
  commit(objects: readonly StagedObject[]): Promise<void>;
  /** Removes a staged file that was not committed (or was: then nothing happens). */
  discard(file: string): Promise<void>;
}

/** True when `storage` stages files itself (DiskStorage). */
export function stagesFiles(storage: Storage): storage is Storage & FileStaging {
  const s = storage as Partial<FileStaging>;
  return typeof s.stage === 'function' && typeof s.commit === 'function' && typeof s.discard === 'function';
}

/** The way to commit local files into `storage`: its own when it has one, else a SpoolStaging in `spoolDir`. */
export function stagingFor(storage: Storage, spoolDir: string, logger?: Logger): FileStaging {
  return stagesFiles(storage) ? storage : new SpoolStaging(storage, spoolDir, logger);
}

/** Staged files older than this at the first stage() are leftovers of a crash; younger ones may belong to another process. */
const ORPHAN_AGE_MS = 60 * 60 * 1000;
/** The spool folder may be shared (the OS temp folder): only files named so are ever removed. */
const STAGED_NAME = 'godepot-staged';

/**
 * FileStaging for any Storage: files are staged in a local folder (a disk, not a RAM file system: a
 * module zip may be 500 MiB) and committed with one put() each. The folder is created if missing.
 */
export class SpoolStaging implements FileStaging {
  private swept: Promise<void> | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly spoolDir: string,
    private readonly logger?: Logger,
  ) {}

  async stage(): Promise<string> {
    await (this.swept ??= this.removeOrphans().catch((err: unknown) => {
      this.swept = undefined;
      throw err;
    }));
    return temporaryPath(this.spoolDir, STAGED_NAME);
  }

  async commit(objects: readonly StagedObject[]): Promise<void> {
    for (const object of objects) {
      if ('file' in object) {
        await this.storage.put(object.key, createReadStream(object.file));
        await this.discard(object.file);
      } else {
        await this.storage.put(object.key, object.body);
      }
    }
  }

  async discard(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  // Cleaning is best effort: a failure here must not stop every later stage().
  private async removeOrphans(): Promise<void> {
    await mkdir(this.spoolDir, { recursive: true });
    const cutoff = Date.now() - ORPHAN_AGE_MS;
    try {
      for (const name of await readdir(this.spoolDir)) {
        if (!name.startsWith(`.${STAGED_NAME}.`) || !isTemporaryName(name)) continue;
        const path = join(this.spoolDir, name);
        const stats = await lstat(path).catch(() => null);
        if (stats?.isFile() === true && stats.mtimeMs < cutoff) await rm(path, { force: true });
      }
    } catch (err) {
      this.logger?.warn({ err, spoolDir: this.spoolDir }, 'could not remove old staged files');
    }
  }
}
