// `bundle import --server`: the bundle goes to a running godepot, which verifies and imports it into
// its own storage (POST /admin/bundles, authorised by the server's import token).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request } from 'undici';
import { ConfigError, InvalidContentError, UpstreamError } from '../errors.js';
import { bundleImportPath } from '../protocol/request.js';
import type { ImportReport } from './import.js';

export async function uploadBundle(file: string, server: string, token: string, signal?: AbortSignal): Promise<ImportReport> {
  let url: URL;
  try {
    url = new URL(bundleImportPath.slice(1), server.endsWith('/') ? server : `${server}/`);
  } catch (err) {
    throw new ConfigError(`--server: invalid URL ${JSON.stringify(server)}`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--server: must be an http or https URL, not ${server}`);
  const { size } = await stat(file);
  const response = await request(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/gzip', 'content-length': String(size) },
    body: createReadStream(file),
    signal,
    // A large bundle is verified whole before the server answers.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const text = await response.body.text();
  if (response.statusCode === 200 || response.statusCode === 409) {
    try {
      return JSON.parse(text) as ImportReport;
    } catch (err) {
      throw new InvalidContentError(`${url.origin}: import answered ${response.statusCode} with a body that is not an import report`, { cause: err });
    }
  }
  throw new UpstreamError(`${url.origin} refused the bundle (${response.statusCode}): ${text.trim()}`, response.statusCode);
}
