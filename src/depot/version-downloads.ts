import type { Origin } from '../origin/origin.js';
import { verifyInfo, verifyMod } from './verify.js';

/** The small files of a version, as VersionDownloads hands them over: passed verifyInfo / verifyMod. */
export interface SmallParts {
  info?: Promise<Buffer>;
  mod?: Promise<Buffer>;
}

interface Shared extends SmallParts {
  holds: number;
}

/**
 * The `.info` and `.mod` downloads of module versions under way in this process, shared by every fetch
 * that needs them: a `.info` request, the `.mod` fetched along with it and a zip fetch of the same
 * version, arriving in any order, cause one origin download of each file. A download stays shared
 * while anyone holds the version, so that a fetch that still has to store what it got (a zip fetch
 * checks its zip first) is joined rather than repeated.
 */
export class VersionDownloads {
  private readonly versions = new Map<string, Shared>();
  /** Every download under way, held or not. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly origin: Origin) {}

  /** Holds the version's downloads until release(): fetch() starts or joins them. */
  hold(modulePath: string, version: string): VersionHold {
    const key = `${modulePath}@${version}`;
    let shared = this.versions.get(key);
    if (shared === undefined) {
      shared = { holds: 0 };
      this.versions.set(key, shared);
    }
    shared.holds++;
    const entry = shared;
    let released = false;
    const hold: VersionHold = {
      fetch: (files) => {
        const info = files.info === true && entry.info === undefined;
        const mod = files.mod === true && entry.mod === undefined;
        // What is missing is asked for in one call: a VCS origin answers it from one checkout.
        if (info || mod) {
          const download = this.origin.download(modulePath, version, { info, mod });
          if (info) entry.info = this.track(forgetFailed(entry, 'info', download.info!.then((body) => (verifyInfo(modulePath, version, body), body))));
          if (mod) entry.mod = this.track(forgetFailed(entry, 'mod', download.mod!.then((body) => (verifyMod(modulePath, version, body), body))));
        }
        return { ...(files.info === true ? { info: entry.info } : {}), ...(files.mod === true ? { mod: entry.mod } : {}) };
      },
      release: () => {
        if (released) return;
        released = true;
        if (--entry.holds === 0) this.versions.delete(key);
      },
    };
    return hold;
  }

  /** Resolves once no download is under way (one nobody waits for any more, after a failed `.info`, included). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled(this.running);
  }

  private track(part: Promise<Buffer>): Promise<Buffer> {
    this.running.add(part);
    const done = (): void => void this.running.delete(part);
    part.then(done, done);
    return part;
  }
}

/** One holder's view of a version's downloads. */
export interface VersionHold {
  /** The requested files' checked bodies: downloads under way are joined, missing ones started. */
  fetch(files: { info?: boolean; mod?: boolean }): SmallParts;
  /** Done with the bodies; the downloads are forgotten once nobody holds the version. */
  release(): void;
}

// A failed download is not shared beyond those who joined it: the next fetch tries again.
function forgetFailed(entry: Shared, file: 'info' | 'mod', part: Promise<Buffer>): Promise<Buffer> {
  part.catch(() => {
    if (entry[file] === part) entry[file] = undefined;
  });
  return part;
}
