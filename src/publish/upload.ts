// `godepot publish`'s request: the module zip to a running godepot, which checks and stores it
// (PUT /admin/modules/<module>/@v/<version>.zip, authorised by the server's publish token).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { InvalidContentError, UpstreamError } from '../errors.js';
import { adminRequest, adminUrl } from '../http/admin-request.js';
import type { Transport } from '../http/transport.js';
import { commitTimeHeader, modulePublishPath } from '../protocol/request.js';
import { PublishConflictError } from './errors.js';
import type { PublishResult } from './module-publisher.js';

/** The module version a zip is uploaded as. */
export interface UploadedVersion {
  modulePath: string;
  version: string;
  /** The commit time of the tag the zip was made from; null lets the server use its time of storing. */
  time: Date | null;
}

/**
 * Uploads the module zip `zipFile` to the godepot at `server`: the server's PublishResult (201 stored,
 * 200 published before with the same content). A 409 is a PublishConflictError with the server's
 * reason (both hashes); any other answer an UpstreamError carrying it. The token goes in the
 * Authorization header only, never in a message.
 */
export async function uploadModule(
  zipFile: string,
  server: string,
  token: string,
  uploaded: UploadedVersion,
  options: { transport?: Transport; signal?: AbortSignal } = {},
): Promise<PublishResult> {
  const { modulePath, version, time } = uploaded;
  const url = adminUrl(server, modulePublishPath(modulePath, version));
  const { size } = await stat(zipFile);
  const headers: Record<string, string> = { 'content-type': 'application/zip', 'content-length': String(size) };
  if (time !== null) headers[commitTimeHeader] = time.toISOString();
  const { status, text } = await adminRequest(url, {
    method: 'PUT',
    token,
    headers,
    body: createReadStream(zipFile),
    // A large zip is checked whole before the server answers.
    patient: true,
    transport: options.transport,
    signal: options.signal,
  });
  if (status === 200 || status === 201) {
    try {
      return JSON.parse(text) as PublishResult;
    } catch (err) {
      throw new InvalidContentError(`${url.origin}: publish answered ${status} with a body that is not a publish result`, { cause: err });
    }
  }
  if (status === 409) throw new PublishConflictError(text.replace(/^conflict: /, '').trimEnd());
  throw new UpstreamError(`${url.origin} refused ${modulePath}@${version} (${status}): ${text.trim()}`, status);
}
