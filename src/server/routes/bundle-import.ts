// POST /admin/bundles: a bundle uploaded by `godepot bundle import --server`, imported into this
// server's storage once it is verified whole. Allowed only with the server's import token, and one
// upload at a time.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { ImportReport } from '../../bundle/import.js';
import { GodepotError, NotFoundError, UnauthorizedError } from '../../errors.js';
import { bearsToken } from './bearer.js';
import type { OperationsAnswer } from './operations.js';

/** What the server needs to take uploads: the token they must bear, and what imports one. */
export interface BundleImport {
  token: string;
  /** Throws BundleRefusedError for a bad bundle. */
  receive(body: Readable, signal: AbortSignal): Promise<ImportReport>;
}

/**
 * How many uploads are received at once. Verifying one reads the whole file and holds its manifest in
 * memory (a few hundred MB for the largest, see MAX_MANIFEST), and imports of the same modules would
 * only contend for the storage: one at a time keeps the server's memory bounded while it serves.
 */
export const IMPORTS_AT_ONCE = 1;

/** What a refused upload's Retry-After says: about what verifying and importing a large bundle takes. */
export const IMPORT_RETRY_AFTER_SECONDS = 30;

/** An upload arrived while IMPORTS_AT_ONCE others were being received; its body was not read. */
export class ImportBusyError extends GodepotError {
  readonly code = 'IMPORT_BUSY';

  constructor(readonly retryAfterSeconds: number) {
    super(`another bundle is being imported; send this one again in ${retryAfterSeconds} s`);
  }
}

/**
 * The upload route of one server: 200 with the import report as JSON, 409 with it when some content
 * conflicted with storage; UnauthorizedError without the token, ImportBusyError while another upload is received,
 * BundleRefusedError (from `receive`) for a bundle that fails verification or is not a bundle.
 */
export function bundleImportRoute(imports: BundleImport | undefined): (req: IncomingMessage, signal: AbortSignal) => Promise<OperationsAnswer> {
  let receiving = 0;
  return async (req, signal) => {
    if (imports === undefined) throw new NotFoundError('bundle uploads are not enabled on this server (--import-token)');
    if (!bearsToken(req.headers.authorization, imports.token)) throw new UnauthorizedError('a valid import token is needed (Authorization: Bearer <token>)');
    if (receiving >= IMPORTS_AT_ONCE) throw new ImportBusyError(IMPORT_RETRY_AFTER_SECONDS);
    receiving++;
    try {
      const report = await imports.receive(req, signal);
      return { status: report.conflicts.length > 0 ? 409 : 200, contentType: 'application/json', body: `${JSON.stringify(report)}\n` };
    } finally {
      receiving--;
    }
  };
}
