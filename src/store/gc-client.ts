// `godepot storage gc --server`: the retention run asked of a running godepot (POST /admin/gc), which
// removes and records as its own runs do, and forgets what it removed at once.
import { InvalidContentError, UpstreamError } from '../errors.js';
import { adminRequest, adminUrl } from '../http/admin-request.js';
import type { Transport } from '../http/transport.js';
import { gcPath } from '../protocol/request.js';
import type { Pins, RetentionPolicy } from './retention.js';
import type { RetentionReportJson } from './run-retention.js';

/**
 * Has the godepot at `server` run retention with `policy`, keeping `pins` besides its own, as the admin
 * whose token is `token`: the run's report. Any answer but 200, or none, is an UpstreamError carrying
 * the server's reason; the token goes in the Authorization header only, never in a message.
 */
export async function requestGc(
  server: string,
  token: string,
  asked: { policy: RetentionPolicy; pins: Pins; dryRun: boolean },
  options: { transport?: Transport; signal?: AbortSignal } = {},
): Promise<RetentionReportJson> {
  const url = adminUrl(server, gcPath);
  const { status, text } = await adminRequest(url, {
    method: 'POST',
    token,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...asked.policy, keep: [...asked.pins], dryRun: asked.dryRun }),
    // A run over a large store lists it whole before it answers.
    patient: true,
    transport: options.transport,
    signal: options.signal,
  });
  if (status !== 200) throw new UpstreamError(`${url.origin} refused the retention run (${status}): ${text.trim()}`, status);
  try {
    return JSON.parse(text) as RetentionReportJson;
  } catch (err) {
    throw new InvalidContentError(`${url.origin}: the retention run answered 200 with a body that is not its report`, { cause: err });
  }
}
