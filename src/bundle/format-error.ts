import { InvalidContentError } from '../errors.js';

/**
 * A file that is not a bundle godepot can read: not gzip, not in the stored-block layout (recompressed by
 * another tool), a tar header out of its canonical form, an unsafe or duplicate entry name, a manifest that
 * fails its schema. The message names the file and, where there is one, the entry.
 */
export class BundleFormatError extends InvalidContentError {
  constructor(
    message: string,
    /** The entry at fault (`manifest.json`, a file's bundle path), when the fault is in one. */
    readonly entry?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
