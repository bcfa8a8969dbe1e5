// The `storage` commands against a running godepot: its admin API (/admin/storage/…, routes/storage.ts),
// asked with an admin token, over the outbound proxy and trusted roots of the caller's Transport.
import { InvalidContentError, UpstreamError } from '../errors.js';
import { adminRequest, adminUrl } from '../http/admin-request.js';
import type { Transport } from '../http/transport.js';
import { storagePath, storageRemovePath } from '../protocol/request.js';
import type { Removal, StoredVersionSummary, StoreUsage, UsageBy } from './store-admin.js';

/** The admin API of the godepot at `server`, as `token` may use it. */
export class RemoteStore {
  private readonly base: URL;

  constructor(
    server: string,
    private readonly token: string,
    private readonly transport?: Transport,
  ) {
    this.base = adminUrl(server, '/');
  }

  /** The stored versions the token may administer, of the module paths `pattern` matches (all when null). */
  async versions(pattern: string | null): Promise<StoredVersionSummary[]> {
    const query = new URLSearchParams(pattern === null ? {} : { pattern });
    const body = (await this.call('GET', `${storagePath}/versions?${query}`, 'the stored versions')) as { versions?: StoredVersionSummary[] };
    if (!Array.isArray(body.versions)) throw this.unexpected('the stored versions');
    return body.versions;
  }

  async usage(by: UsageBy, pattern: string | null): Promise<StoreUsage> {
    const query = new URLSearchParams(pattern === null ? { by } : { by, pattern });
    const body = (await this.call('GET', `${storagePath}/usage?${query}`, 'the storage usage')) as StoreUsage;
    if (!Array.isArray(body.rows)) throw this.unexpected('the storage usage');
    return body;
  }

  async remove(modulePath: string, version: string): Promise<Removal> {
    return (await this.call('DELETE', storageRemovePath(modulePath, version), `the removal of ${modulePath}@${version}`)) as Removal;
  }

  /** The JSON of a 200 answer; any other answer is an UpstreamError with the server's reason. The token is never in a message. */
  private async call(method: 'GET' | 'DELETE', path: string, what: string): Promise<unknown> {
    const url = new URL(path.slice(1), this.base);
    const { status, text } = await adminRequest(url, { method, token: this.token, headers: { accept: 'application/json' }, transport: this.transport });
    if (status !== 200) throw new UpstreamError(`${url.origin} refused ${what} (${status}): ${text.trim()}`, status);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new InvalidContentError(`${url.origin}: ${what} answered with a body that is not JSON`, { cause: err });
    }
  }

  private unexpected(what: string): InvalidContentError {
    return new InvalidContentError(`${this.base.origin}: ${what} answered with JSON of another shape`);
  }
}
