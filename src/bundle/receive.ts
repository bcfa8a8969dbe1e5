// The server's side of `bundle import --server`: an uploaded bundle is spooled to a local file (bundles
// are read at random), verified whole, and only then imported into the server's storage.
import type { KeyObject } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileStaging } from '../storage/staging.js';
import type { Storage } from '../storage/storage.js';
import { checkBundle } from './check.js';
import { openBundle } from './format.js';
import { importVerifiedBundle, type ImportReport } from './import.js';

export async function receiveBundle(
  body: Readable,
  storage: Storage,
  staging: FileStaging,
  options: { publicKey?: KeyObject; signal?: AbortSignal },
): Promise<ImportReport> {
  const spool = await staging.stage();
  try {
    await pipeline(body, createWriteStream(spool, { flags: 'wx' }), { signal: options.signal });
    const bundle = await openBundle(spool);
    try {
      await checkBundle(bundle, { publicKey: options.publicKey, signal: options.signal });
      return await importVerifiedBundle(bundle, storage, options.signal);
    } finally {
      await bundle.close();
    }
  } finally {
    await rm(spool, { force: true });
  }
}
