// POST /admin/bundles: a bundle uploaded by `godepot bundle import --server`, imported into this
// server's storage once it is verified whole. Allowed only with the server's import token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { ImportReport } from '../../bundle/import.js';
import { NotFoundError } from '../../errors.js';
import type { OperationsAnswer } from './operations.js';

/** What the server needs to take uploads: the token they must bear, and what imports one. */
export interface BundleImport {
  token: string;
  /** Throws BundleRefusedError for a bad bundle. */
  receive(body: Readable, signal: AbortSignal): Promise<ImportReport>;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Compares in constant time, so the answer's timing says nothing about how much of a guess was right. */
function authorised(header: string | undefined, token: string): boolean {
  return header !== undefined && timingSafeEqual(digest(header), digest(`Bearer ${token}`));
}

/**
 * 200 with the import report as JSON, 409 with it when some content conflicted with storage, 401
 * without the token; BundleRefusedError (from `receive`) for a bundle that fails verification or is not
 * a bundle.
 */
export async function importAnswer(req: IncomingMessage, imports: BundleImport | undefined, signal: AbortSignal): Promise<OperationsAnswer> {
  if (imports === undefined) throw new NotFoundError('bundle uploads are not enabled on this server (--import-token)');
  if (!authorised(req.headers.authorization, imports.token)) {
    return { status: 401, contentType: 'text/plain; charset=utf-8', body: 'a valid import token is needed (Authorization: Bearer <token>)\n' };
  }
  const report = await imports.receive(req, signal);
  return { status: report.conflicts.length > 0 ? 409 : 200, contentType: 'application/json', body: `${JSON.stringify(report)}\n` };
}
