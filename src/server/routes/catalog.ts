// GET /index?since=&limit=: the catalog of stored versions in the order they were stored, one JSON
// object a line (`{"Path","Version","Timestamp"}`), as index.golang.org and Athens answer it, so that
// another godepot (`mirror --from`) or any index follower can follow this one. A client sees only the
// modules it may read: private ones never appear to an anonymous client.
import { NotFoundError } from '../../errors.js';
import type { CatalogEntry, CatalogQuery } from '../../store/catalog.js';
import type { OperationsAnswer } from './operations.js';

/** Reads the catalog of the storage the server serves (readCatalog over it). */
export type CatalogReader = (query: CatalogQuery) => Promise<CatalogEntry[]>;

/** The catalog route of one server; NotFoundError when it keeps no catalog. */
export function catalogRoute(reader: CatalogReader | undefined): (since: Date | null, limit: number, sees: (modulePath: string) => boolean) => Promise<OperationsAnswer> {
  return async (since, limit, sees) => {
    if (reader === undefined) throw new NotFoundError('this server keeps no catalog');
    const entries = await reader({ since, limit, visible: sees });
    return { status: 200, contentType: 'application/x-ndjson', body: entries.map((entry) => `${JSON.stringify(entry)}\n`).join('') };
  };
}
