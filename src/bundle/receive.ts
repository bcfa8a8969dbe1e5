// The server's side of `bundle import --server`: an uploaded bundle is spooled to a local file (bundles
// are read at random), verified whole, and only then imported into the server's storage.
import type { KeyObject } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GodepotError } from '../errors.js';
import { streamToNewFile } from '../stream-to-new-file.js';
import { ByteMeter } from '../storage/byte-meter.js';
import type { FileStaging } from '../storage/staging.js';
import type { Storage } from '../storage/storage.js';
import { checkBundle } from './check.js';
import { BundleFormatError } from './format-error.js';
import { openBundle, type Bundle } from './format.js';
import { importVerifiedBundle, type ImportReport } from './import.js';
import { BundleVerificationError } from './verify.js';

/**
 * An uploaded bundle that is not a bundle or fails verification; nothing was imported. The message says
 * what is wrong with the bundle and names no path of the server that received it.
 */
export class BundleRefusedError extends GodepotError {
  readonly code = 'BUNDLE_REFUSED';
}

/** An upload larger than the server takes (`--max-upload-size`); nothing of it was kept. */
export class BundleTooLargeError extends GodepotError {
  readonly code = 'BUNDLE_TOO_LARGE';
}

/**
 * Spools `body` (at most `maxSize` bytes, else BundleTooLargeError), verifies it as `bundle verify` does (with `publicKey`, a signature by it is required)
 * and imports it into `storage`. Throws BundleRefusedError for a bad bundle, BundleBaseMissingError for an
 * incremental one whose base the storage lacks (unless `allowPartial`); other errors are the server's.
 */
export async function receiveBundle(
  body: Readable,
  storage: Storage,
  staging: FileStaging,
  options: { publicKey?: KeyObject; signal?: AbortSignal; maxSize: number; declaredSize?: number; allowPartial?: boolean },
): Promise<ImportReport> {
  const tooLarge = (): BundleTooLargeError => new BundleTooLargeError(`the bundle is larger than this server takes (${options.maxSize} bytes, --max-upload-size)`);
  if (options.declaredSize !== undefined && options.declaredSize > options.maxSize) throw tooLarge();
  const spool = await staging.stage();
  try {
    await streamToNewFile(spool, (out) => pipeline(body, new ByteMeter(options.maxSize, tooLarge, { hash: false }), out, { signal: options.signal }));
    const bundle = await openChecked(spool, options);
    try {
      return await importVerifiedBundle(bundle, storage, { signal: options.signal, allowPartial: options.allowPartial });
    } finally {
      await bundle.close();
    }
  } finally {
    await rm(spool, { force: true });
  }
}

async function openChecked(spool: string, options: { publicKey?: KeyObject; signal?: AbortSignal }): Promise<Bundle> {
  let bundle: Bundle | null = null;
  try {
    bundle = await openBundle(spool);
    await checkBundle(bundle, { publicKey: options.publicKey, signal: options.signal });
    return bundle;
  } catch (err) {
    await bundle?.close();
    if (!(err instanceof BundleFormatError || err instanceof BundleVerificationError)) throw err;
    // Their messages name the bundle by the file it was read from: here the spool, in the server's storage.
    throw new BundleRefusedError(err.message.replaceAll(spool, 'the upload'), { cause: err });
  }
}
