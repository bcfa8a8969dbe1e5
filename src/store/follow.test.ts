import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidContentError, NotFoundError, UpstreamError } from '../errors.js';
import { UpstreamClient } from '../http/upstream-client.js';
import { DiskStorage } from '../storage/disk.js';
import { silentProgress } from '../telemetry/progress.js';
import type { CatalogEntry } from './catalog.js';
import { catalogPages, followCatalog, type CatalogPages, type FollowOptions } from './follow.js';

/** A catalog as a server answers it: entries from `since` (inclusive) on, at most `limit`; the pages asked are kept. */
function serverCatalog(entries: CatalogEntry[]): { pages: CatalogPages; asked: Array<string | null> } {
  const asked: Array<string | null> = [];
  return {
    asked,
    pages: async (since, limit) => {
      asked.push(since);
      return entries.filter((e) => since === null || Date.parse(e.Timestamp) >= Date.parse(since)).slice(0, limit);
    },
  };
}

const entry = (path: string, second: number): CatalogEntry => ({ Path: path, Version: 'v1.0.0', Timestamp: `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z` });

async function withStorage(run: (storage: DiskStorage) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'godepot-follow-'));
  try {
    await run(new DiskStorage({ root }));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function follow(storage: DiskStorage, pages: CatalogPages, fetch: FollowOptions['fetch'], pageSize = 2): ReturnType<typeof followCatalog> {
  return followCatalog({ storage, from: 'https://leader.example', pages, fetch, concurrency: 2, progress: silentProgress, pageSize });
}

test('pages are followed to the end; the next run starts where the last stopped and fetches only what is new', async () => {
  await withStorage(async (storage) => {
    const entries = [entry('example.com/a', 1), entry('example.com/b', 2), entry('example.com/c', 3)];
    const server = serverCatalog(entries);
    const fetched: string[] = [];
    const fetch = async (e: CatalogEntry) => {
      fetched.push(e.Path);
      return 'fetched' as const;
    };
    const first = await follow(storage, server.pages, fetch);
    assert.deepEqual(first, { listed: 3, fetched: 3, skipped: [], failures: [] });
    assert.deepEqual(fetched, ['example.com/a', 'example.com/b', 'example.com/c']);
    // Each page starts at the last Timestamp taken; a full page is followed by another.
    assert.deepEqual(server.asked, [null, '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:03.000Z']);

    entries.push(entry('example.com/d', 4));
    fetched.length = 0;
    const second = await follow(storage, server.pages, fetch);
    assert.deepEqual(second, { listed: 1, fetched: 1, skipped: [], failures: [] });
    assert.deepEqual(fetched, ['example.com/d'], 'the entry at the cursor, answered again, is not taken again');

    fetched.length = 0;
    assert.deepEqual(await follow(storage, server.pages, fetch), { listed: 0, fetched: 0, skipped: [], failures: [] });
    assert.deepEqual(fetched, []);
  });
});

test('a failure keeps the cursor before it (tried again next run); a version gone from the server is skipped for good', async () => {
  await withStorage(async (storage) => {
    const server = serverCatalog([entry('example.com/gone', 1), entry('example.com/flaky', 2), entry('example.com/after', 3)]);
    let flaky = true;
    const fetched: string[] = [];
    const fetch = async (e: CatalogEntry) => {
      if (e.Path === 'example.com/gone') throw new NotFoundError('example.com/gone@v1.0.0: not found');
      if (e.Path === 'example.com/flaky' && flaky) throw new UpstreamError('502 from the leader', 502);
      fetched.push(e.Path);
      return 'fetched' as const;
    };
    const first = await follow(storage, server.pages, fetch, 10);
    assert.deepEqual(first.skipped, [{ module: 'example.com/gone@v1.0.0', reason: 'example.com/gone@v1.0.0: not found' }]);
    assert.deepEqual(first.failures.map((f) => f.module), ['example.com/flaky@v1.0.0']);
    assert.deepEqual(fetched, ['example.com/after'], 'the page\'s other fetches went on');

    flaky = false;
    fetched.length = 0;
    const second = await follow(storage, server.pages, fetch, 10);
    assert.deepEqual(second.failures, []);
    assert.deepEqual(second.skipped, [], 'a skipped entry before the cursor is not asked again');
    assert.deepEqual(fetched, ['example.com/flaky', 'example.com/after']);
  });
});

test('a full page of entries already taken at one Timestamp is an error, not a loop', async () => {
  await withStorage(async (storage) => {
    const same = (path: string): CatalogEntry => ({ Path: path, Version: 'v1.0.0', Timestamp: '2026-01-01T00:00:00.000Z' });
    const server = serverCatalog([same('example.com/a'), same('example.com/b'), same('example.com/c')]);
    await assert.rejects(follow(storage, server.pages, async () => 'present'), /more than 2 entries at 2026-01-01T00:00:00\.000Z/);
  });
});

test('catalogPages reads index.golang.org\'s lines and Athens\'s, asks with since and limit, and refuses a line that is not an entry', async () => {
  const asked: string[] = [];
  let body = '';
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new UpstreamClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/proxy`, retries: 0 });
  try {
    const pages = catalogPages(client);
    body = '{"Path":"golang.org/x/text","Version":"v0.3.0","Timestamp":"2019-04-10T19:08:52.997264Z"}\n{"Module":"example.com/a","Version":"v1.0.0","Timestamp":"2019-04-10T19:08:53Z"}\n';
    assert.deepEqual(await pages('2019-04-10T19:08:52.997264Z', 2), [
      { Path: 'golang.org/x/text', Version: 'v0.3.0', Timestamp: '2019-04-10T19:08:52.997264Z' },
      { Path: 'example.com/a', Version: 'v1.0.0', Timestamp: '2019-04-10T19:08:53Z' },
    ]);
    assert.deepEqual(asked, ['/proxy/index?limit=2&since=2019-04-10T19%3A08%3A52.997264Z']);
    body = '<html>not an index</html>\n';
    await assert.rejects(pages(null, 10), InvalidContentError);
    body = '{"Path":"example.com/a","Version":"v1.0.0"}\n';
    await assert.rejects(pages(null, 10), /want \{"Path","Version","Timestamp"\} on every line/);
  } finally {
    await client.close();
    server.close();
  }
});
