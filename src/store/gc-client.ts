// `godepot storage gc --server`: the retention run asked of a running godepot (POST /admin/gc), which
// removes and records as its own runs do, and forgets what it removed at once.
import { request, type Dispatcher } from 'undici';
import { ConfigError, InvalidContentError, UpstreamError } from '../errors.js';
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
  let url: URL;
  try {
    url = new URL(gcPath.slice(1), server.endsWith('/') ? server : `${server}/`);
  } catch (err) {
    throw new ConfigError(`--server: invalid URL ${JSON.stringify(server)}`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--server: must be an http or https URL, not ${server}`);
  const body = JSON.stringify({ ...asked.policy, keep: [...asked.pins], dryRun: asked.dryRun });
  let response: Dispatcher.ResponseData;
  let text: string;
  try {
    response = await request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
      signal: options.signal,
      dispatcher: options.transport?.route(url).dispatcher,
      // A run over a large store lists it whole before it answers.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    text = await response.body.text();
  } catch (err) {
    throw new UpstreamError(`${url.origin}: cannot be reached: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (response.statusCode !== 200) throw new UpstreamError(`${url.origin} refused the retention run (${response.statusCode}): ${text.trim()}`, response.statusCode);
  try {
    return JSON.parse(text) as RetentionReportJson;
  } catch (err) {
    throw new InvalidContentError(`${url.origin}: the retention run answered 200 with a body that is not its report`, { cause: err });
  }
}
