import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { getDigest, sha256, type GodepotServer } from '../support/godepot-server.js';
import type { ProxyEntry } from '../support/modgraph.js';
import type { Upstream } from '../support/upstream.js';

/**
 * The single-flight scenario: 50 concurrent cold requests for one zip, while the upstream answers late
 * (`delayMs`) so that every request arrives during the first fetch. All 50 must get the upstream's zip,
 * and the upstream must have seen exactly one request for it.
 */
export async function fiftyColdRequests(godepot: GodepotServer, upstream: Upstream, entry: ProxyEntry, dispatcher: Dispatcher, delayMs: number): Promise<void> {
  upstream.fault(entry.urls.zip, { delayMs });
  const answers = await Promise.all(Array.from({ length: 50 }, () => getDigest(godepot.url + entry.urls.zip, dispatcher)));
  const expected = sha256(await readFile(entry.zipFile));
  for (const [i, answer] of answers.entries()) {
    assert.equal(answer.status, 200, `request ${i}`);
    assert.equal(answer.digest, expected, `request ${i} got the upstream zip`);
  }
  assert.equal(upstream.countOf(entry.urls.zip), 1, 'the upstream saw exactly one request for the zip');
}
