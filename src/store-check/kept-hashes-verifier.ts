// A repair fetches a damaged version again, and the copy it stores must be the one the store served
// before: go.sum files everywhere hold its hashes. An origin that now serves other content (a moved
// tag, a replaced upload) is refused here, before anything of it is stored.
import type { ModuleSums, Verifier } from '../checksum/verifier.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import type { ExpectedHashes } from './version-check.js';

/**
 * A Verifier that holds each version in `expected` (by `module@version`) to those hashes, then asks
 * `inner` (the verifier serve uses). Throws ChecksumMismatchError naming both hashes.
 */
export class KeptHashesVerifier implements Verifier {
  constructor(
    private readonly inner: Verifier,
    private readonly expected: ReadonlyMap<string, ExpectedHashes>,
  ) {}

  async verify(modulePath: string, version: string, sums: ModuleSums, signal?: AbortSignal): Promise<boolean> {
    const kept = this.expected.get(`${modulePath}@${version}`);
    check(modulePath, version, 'zip', kept?.zip, sums.zip);
    check(modulePath, version, 'go.mod', kept?.mod, sums.mod);
    return this.inner.verify(modulePath, version, sums, signal);
  }
}

function check(modulePath: string, version: string, what: 'zip' | 'go.mod', kept: string | undefined, fetched: string | undefined): void {
  if (kept === undefined || fetched === undefined || kept === fetched) return;
  throw new ChecksumMismatchError({
    path: modulePath,
    version: what === 'zip' ? version : `${version}/go.mod`,
    downloaded: fetched,
    recorded: kept,
    message: `${modulePath}@${version}: the origin now serves a ${what} that hashes to ${fetched}, not ${kept} as the copy this store served; go.sum files hold ${kept}, so it is not stored`,
  });
}
