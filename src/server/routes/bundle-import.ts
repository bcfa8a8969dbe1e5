// POST /admin/bundles: a bundle uploaded by `godepot bundle import --server`, imported into this
// server's storage once it is verified whole. Admins only (the gate decides that before), one upload
// at a time, and on the audit record before it is acknowledged.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { ImportReport } from '../../bundle/import.js';
import type { Audit } from '../../audit/audit.js';
import { GodepotError, NotFoundError } from '../../errors.js';
import { allowPartialHeader } from '../../protocol/request.js';
import type { Admitted } from '../gate.js';
import type { OperationsAnswer } from './operations.js';

/** What the server needs to take uploads: what imports one. */
export interface BundleImport {
  /**
   * Throws BundleRefusedError for a bad bundle, BundleTooLargeError past the server's limit (`declaredSize`:
   * the Content-Length, if any), BundleBaseMissingError for an increment without its base unless `allowPartial`.
   */
  receive(body: Readable, signal: AbortSignal, declaredSize: number | undefined, allowPartial: boolean): Promise<ImportReport>;
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
 * conflicted with storage; ImportBusyError while another upload is received, BundleRefusedError (from
 * `receive`) for a bundle that fails verification or is not a bundle. Every upload that was received
 * is recorded as `bundle.import`, and its answer waits for the record.
 */
export function bundleImportRoute(imports: BundleImport | undefined, audit: Audit): (req: IncomingMessage, admitted: Admitted, signal: AbortSignal) => Promise<OperationsAnswer> {
  let receiving = 0;
  return async (req, admitted, signal) => {
    if (imports === undefined) throw new NotFoundError('bundle uploads are not enabled on this server');
    if (receiving >= IMPORTS_AT_ONCE) throw new ImportBusyError(IMPORT_RETRY_AFTER_SECONDS);
    receiving++;
    const event = { action: 'bundle.import', actor: admitted.principal.name, from: admitted.address, target: 'bundle' };
    try {
      let report: ImportReport;
      try {
        const length = req.headers['content-length'];
        report = await imports.receive(req, signal, length === undefined ? undefined : Number(length), req.headers[allowPartialHeader] === 'true');
      } catch (err) {
        await audit.record({ ...event, outcome: 'refused', detail: { reason: (err as Error).message } });
        throw err;
      }
      const { added, unchanged, conflicts } = report;
      await audit.record({
        ...event,
        outcome: conflicts.length > 0 ? 'conflict' : 'ok',
        detail: { added: added.length, unchanged, conflicts: conflicts.length },
      });
      return { status: conflicts.length > 0 ? 409 : 200, contentType: 'application/json', body: `${JSON.stringify(report)}\n` };
    } finally {
      receiving--;
    }
  };
}
