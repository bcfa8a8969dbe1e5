// Where `godepot vendor` and `bundle export --vendor` read modules from: an opened bundle, a storage
// folder, or a running godepot asked over the GOPROXY protocol. Only the files of module versions, never
// a query: vendoring a tidy project needs nothing else, so nothing is ever resolved against the network.
import { createWriteStream } from 'node:fs';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Bundle } from '../bundle/format.js';
import { moduleFileName } from '../bundle/manifest.js';
import { NotFoundError } from '../errors.js';
import type { UpstreamClient } from '../http/upstream-client.js';
import { proxyPath } from '../origin/proxy.js';
import { storageKey } from '../protocol/keys.js';
import type { Storage } from '../storage/storage.js';

/** The module files a vendor run reads. Both methods throw NotFoundError naming the module version when the source lacks it. */
export interface VendorSource {
  /** The go.mod of path@version as the GOPROXY protocol serves it. */
  mod(path: string, version: string, signal?: AbortSignal): Promise<Buffer>;
  /** Writes the module zip of path@version to `file`. */
  saveZip(path: string, version: string, file: string, signal?: AbortSignal): Promise<void>;
}

async function save(body: Readable, file: string, signal?: AbortSignal): Promise<void> {
  await pipeline(body, createWriteStream(file), { signal });
}

// The source's own not-found error, said of the module version and the place it was looked for.
async function naming<T>(what: string, where: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`${what}: not in ${where}`, { cause: err });
    throw err;
  }
}

/** The modules of an opened (and already verified) bundle. */
export function bundleSource(bundle: Bundle): VendorSource {
  const where = `bundle ${bundle.file}`;
  return {
    mod: (path, version) => naming(`${path}@${version} (go.mod)`, where, async () => buffer(bundle.open(moduleFileName(path, version, '.mod')))),
    saveZip: (path, version, file, signal) =>
      naming(`${path}@${version} (zip)`, where, async () => save(bundle.open(moduleFileName(path, version, '.zip')), file, signal)),
  };
}

/** The modules of a storage: godepot's storage folder, or any tree in the module cache download layout. */
export function storageSource(storage: Storage, where: string): VendorSource {
  return {
    mod: (path, version, signal) => naming(`${path}@${version} (go.mod)`, where, async () => buffer(await storage.get(storageKey(path, 'mod', version), { signal }))),
    saveZip: (path, version, file, signal) =>
      naming(`${path}@${version} (zip)`, where, async () => save(await storage.get(storageKey(path, 'zip', version), { signal }), file, signal)),
  };
}

/** The modules a running GOPROXY (a godepot) serves, through `client` (its base URL and credentials). */
export function serverSource(client: UpstreamClient): VendorSource {
  return {
    mod: (path, version, signal) => naming(`${path}@${version} (go.mod)`, client.name, () => client.getBytes(proxyPath(path, 'mod', version), 'mod', signal)),
    saveZip: (path, version, file, signal) =>
      naming(`${path}@${version} (zip)`, client.name, async () => save(await client.getStream(proxyPath(path, 'zip', version), 'zip', signal), file, signal)),
  };
}
