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

/**
 * The scenario of go commands fetching one cold version at once: 20 requests each for its `.info`,
 * `.mod` and `.zip`, all at the same moment, while the upstream answers each file after a different
 * short delay. Every answer must be the upstream's file, and the upstream must have seen exactly one
 * request per file.
 */
export async function togetherColdRequests(godepot: GodepotServer, upstream: Upstream, entry: ProxyEntry, dispatcher: Dispatcher): Promise<void> {
  const files = [
    { url: entry.urls.info, file: entry.infoFile },
    { url: entry.urls.mod, file: entry.modFile },
    { url: entry.urls.zip, file: entry.zipFile },
  ];
  for (const { url } of files) upstream.fault(url, { delayMs: 20 + Math.floor(Math.random() * 80) });
  const before = files.map(({ url }) => upstream.countOf(url));
  const asks = files.flatMap((f) => Array.from({ length: 20 }, () => getDigest(godepot.url + f.url, dispatcher).then((answer) => ({ f, answer }))));
  for (const { f, answer } of await Promise.all(asks)) {
    assert.equal(answer.status, 200, f.url);
    assert.equal(answer.digest, sha256(await readFile(f.file)), `${f.url}: the upstream's bytes`);
  }
  for (const [i, { url }] of files.entries()) assert.equal(upstream.countOf(url) - before[i]!, 1, `the upstream saw exactly one request for ${url}`);
}
