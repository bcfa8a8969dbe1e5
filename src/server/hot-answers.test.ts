import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Artifact } from '../protocol/artifact.js';
import { parseRequest } from '../protocol/request.js';
import { HotAnswers, maxHotBytes } from './hot-answers.js';

function artifact(over: Partial<Artifact>): Artifact {
  const body = Buffer.from('{"Version":"v1.0.0","Time":"2023-01-02T03:04:05Z"}\n');
  return { contentType: 'application/json', size: body.length, immutable: true, etag: '"e"', cache: 'miss', body, ...over };
}

test('only small immutable answers held in memory are remembered, as hits, per parsed request', () => {
  const hot = new HotAnswers();
  const cases: Array<[string, Artifact, boolean]> = [
    ['/example.com/a/@v/v1.0.0.info', artifact({}), true],
    ['/example.com/b/@v/master.info', artifact({ immutable: false, etag: null }), false],
    ['/example.com/c/@v/v1.0.0.zip', artifact({ body: undefined, open: async () => Readable.from([]) }), false],
    ['/example.com/d/@v/v1.0.0.mod', artifact({ body: Buffer.alloc(maxHotBytes + 1), size: maxHotBytes + 1 }), false],
    ['/example.com/e/@v/v1.0.0.mod', artifact({ body: Buffer.alloc(maxHotBytes), size: maxHotBytes }), true],
  ];
  for (const [url, answer, remembered] of cases) {
    const request = parseRequest('GET', url);
    hot.remember(request, answer);
    const found = hot.get(parseRequest('GET', url));
    assert.equal(found !== undefined, remembered, url);
    if (found !== undefined) {
      assert.equal(found.cache, 'hit');
      assert.equal(found.body, answer.body, 'the same buffer, not a copy');
    }
    assert.equal(hot.get(parseRequest('HEAD', url)), undefined, `HEAD ${url} is another request`);
  }
});
