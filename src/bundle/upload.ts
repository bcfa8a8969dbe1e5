// `bundle import --server`: the bundle goes to a running godepot, which verifies and imports it into
// its own storage (POST /admin/bundles, authorised by the server's import token).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidContentError, UpstreamError } from '../errors.js';
import { adminRequest, adminUrl } from '../http/admin-request.js';
import type { Transport } from '../http/transport.js';
import { allowPartialHeader, bundleImportPath } from '../protocol/request.js';
import type { ImportReport } from './import.js';

/** How an upload is sent, and how patient it is with a server busy with another one. */
export interface UploadOptions {
  /** Connections to the server, through the outbound proxy the environment names; undici's own when absent. */
  transport?: Transport;
  /** Tries after a 503 (the server receives one upload at a time), each after its Retry-After. Default 5. */
  retries?: number;
  /** Told before each retry, with the seconds it waits. */
  onBusy?: (waitSeconds: number) => void;
  /** Ask the server to take in an incremental bundle whose base it lacks. */
  allowPartial?: boolean;
  signal?: AbortSignal;
}

// A Retry-After longer than this is not waited for in full: the next try comes sooner.
const MAX_WAIT_SECONDS = 60;

/**
 * Uploads `file` to the godepot at `server`, which verifies and imports it: its import report (200, or
 * 409 with conflicts). A 503 (another upload being received) is retried after its Retry-After; any
 * other answer is an UpstreamError carrying the server's reason.
 */
export async function uploadBundle(file: string, server: string, token: string, options: UploadOptions = {}): Promise<ImportReport> {
  const url = adminUrl(server, bundleImportPath);
  const { size } = await stat(file);
  const { signal, retries = 5 } = options;
  for (let attempt = 0; ; attempt++) {
    const { status, headers, text } = await adminRequest(url, {
      method: 'POST',
      token,
      headers: {
        'content-type': 'application/gzip',
        'content-length': String(size),
        ...(options.allowPartial === true ? { [allowPartialHeader]: 'true' } : {}),
      },
      body: createReadStream(file),
      // A large bundle is verified whole before the server answers.
      patient: true,
      transport: options.transport,
      signal,
    });
    const retryAfter = Number(headers['retry-after']);
    if (status === 503 && attempt < retries && Number.isFinite(retryAfter)) {
      const wait = Math.min(Math.max(retryAfter, 1), MAX_WAIT_SECONDS);
      options.onBusy?.(wait);
      await sleep(wait * 1000, undefined, { signal });
      continue;
    }
    return importReport(url, status, text);
  }
}

/** The report a final answer carries, or the server's refusal as an UpstreamError. */
function importReport(url: URL, status: number, text: string): ImportReport {
  if (status === 200 || status === 409) {
    try {
      return JSON.parse(text) as ImportReport;
    } catch (err) {
      throw new InvalidContentError(`${url.origin}: import answered ${status} with a body that is not an import report`, { cause: err });
    }
  }
  throw new UpstreamError(`${url.origin} refused the bundle (${status}): ${text.trim()}`, status);
}
