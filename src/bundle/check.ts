// Everything a bundle must pass before anything reads it as modules: the file checks of verify.ts
// (signature, sizes, sha256, h1 of every zip and go.mod, the inputs' go.sum), and the checksum-database
// proofs it carries, checked as go will check them on the far side, with only the bundle's own files.
import type { KeyObject } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { checkProofs } from '../checksum/proofs.js';
import type { Bundle } from './format.js';
import { BundleVerificationError, verifyBundle, type VerifyReport } from './verify.js';

export interface CheckOptions {
  publicKey?: KeyObject;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Throws BundleVerificationError naming the first bad entry; resolves, with what verifyBundle found, when the bundle can be trusted. */
export async function checkBundle(bundle: Bundle, options: CheckOptions = {}): Promise<VerifyReport> {
  const report = await verifyBundle(bundle, options);
  for (const db of bundle.manifest.sumdb) {
    const prefix = `sumdb/${db.name}/`;
    const files = await Promise.all(db.files.map(async (f) => ({ name: f.name.slice(prefix.length), data: await buffer(bundle.open(f.name)) })));
    let vouched: Map<string, string>;
    try {
      vouched = await checkProofs({ name: db.name, verifierKey: db.verifierKey, treeSize: db.treeSize, files }, options.signal);
    } catch (err) {
      throw new BundleVerificationError(`checksum database ${db.name} proofs: ${(err as Error).message}`, prefix, { cause: err });
    }
    for (const m of bundle.manifest.modules) {
      for (const [suffix, have] of [['/go.mod', m.modHash], ['', m.zipHash]] as const) {
        const want = vouched.get(`${m.path} ${m.version}${suffix}`);
        if (have === undefined || want === undefined || want === have) continue;
        throw new BundleVerificationError(
          `${m.path}@${m.version}${suffix}: the bundle says ${have}, checksum database ${db.name} says ${want}`,
          `${m.path}@${m.version}`,
        );
      }
    }
  }
  return report;
}
