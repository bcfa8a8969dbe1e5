// Storage administration and the catalog over real HTTP on loopback: who may list, measure and remove
// what (a pattern-scoped admin only its modules, a read token nothing), what a removal leaves behind
// (gone from the answers kept in memory, on the audit record), and that /index shows each client only
// the modules it may read.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { request } from 'undici';
import { storageKey } from '../../protocol/keys.js';
import { watchedStorage } from '../../storage/watched-storage.js';
import { Catalog, readCatalog } from '../../store/catalog.js';
import { StoreAdministration } from '../../store/store-admin.js';
import type { TestAccess } from '../../../test/support/access.js';
import { startRouteServer } from '../../../test/support/route-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface World {
  url: string;
  access: TestAccess;
  tokens: Record<'root' | 'corpAdmin' | 'reader' | 'corpReader', string>;
}

const info = (version: string): Buffer => Buffer.from(JSON.stringify({ Version: version, Time: '2026-01-01T00:00:00Z' }));

// Stored: two public versions and one private (corp.example.com is private), catalogued in that order.
async function startWorld(): Promise<World> {
  let catalog!: Catalog;
  const { url, access } = await startRouteServer(
    {
      name: 'storage-route',
      access: { isPrivate: (p) => p.startsWith('corp.example.com/') },
      storage: (disk, logger) => watchedStorage(disk, (catalog = new Catalog({ storage: disk, originOf: () => 'off', logger }))),
      fill: async (storage) => {
        for (const [path, version] of [['example.com/a', 'v1.0.0'], ['example.com/a', 'v1.1.0'], ['corp.example.com/lib', 'v0.1.0']] as const) {
          await storage.put(storageKey(path, 'mod', version), Buffer.from(`module ${path}\n`));
          await storage.put(storageKey(path, 'info', version), info(version));
          await catalog.settled();
        }
      },
      routes: ({ storage, disk }) => ({
        storeAdministration: new StoreAdministration({ storage, originOf: () => 'off' }),
        catalog: (query) => readCatalog(disk, query),
      }),
    },
    cleanups,
  );
  const tokens = {
    root: await access.token('root', ['admin']),
    corpAdmin: await access.token('corp-admin', ['admin:corp.example.com/*']),
    reader: await access.token('reader', ['read']),
    corpReader: await access.token('corp-reader', ['read:corp.example.com/*']),
  };
  return { url, access, tokens };
}

async function call(w: World, method: string, path: string, token: string | null): Promise<{ status: number; text: string; type: unknown }> {
  const res = await request(`${w.url}${path}`, { method: method as 'GET', headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, text: await res.body.text(), type: res.headers['content-type'] };
}

const listed = (text: string): string[] => (JSON.parse(text) as { versions: Array<{ path: string; version: string }> }).versions.map((v) => `${v.path}@${v.version}`);

test('ls and du: a server-wide admin sees every version, admin:PATTERN only its modules; a read token is refused (403), no token 401', async () => {
  const w = await startWorld();
  const all = await call(w, 'GET', '/admin/storage/versions', w.tokens.root);
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(listed(all.text), ['corp.example.com/lib@v0.1.0', 'example.com/a@v1.0.0', 'example.com/a@v1.1.0']);
  assert.deepEqual(listed((await call(w, 'GET', '/admin/storage/versions?pattern=example.com', w.tokens.root)).text), ['example.com/a@v1.0.0', 'example.com/a@v1.1.0']);
  assert.deepEqual(listed((await call(w, 'GET', '/admin/storage/versions', w.tokens.corpAdmin)).text), ['corp.example.com/lib@v0.1.0']);
  const usage = JSON.parse((await call(w, 'GET', '/admin/storage/usage', w.tokens.corpAdmin)).text) as { total: { versions: number } };
  assert.equal(usage.total.versions, 1);

  const read = await call(w, 'GET', '/admin/storage/versions', w.tokens.reader);
  assert.equal(read.status, 403);
  assert.match(read.text, /forbidden: token "reader" may not admin on this server as a whole/);
  assert.equal((await call(w, 'GET', '/admin/storage/usage', null)).status, 401);
});

test('rm: admin:PATTERN removes only its modules; the removal is audited and the version is no longer answered, from memory either', async () => {
  const w = await startWorld();
  // Answered once, so that it is remembered.
  assert.equal((await call(w, 'GET', '/example.com/a/@v/v1.0.0.info', null)).status, 200);
  assert.equal((await call(w, 'GET', '/example.com/a/@v/list', null)).text, 'v1.0.0\nv1.1.0\n');

  const refused = await call(w, 'DELETE', '/admin/storage/example.com/a/@v/v1.0.0', w.tokens.corpAdmin);
  assert.equal(refused.status, 403, refused.text);
  const removed = await call(w, 'DELETE', '/admin/storage/example.com/a/@v/v1.0.0', w.tokens.root);
  assert.equal(removed.status, 200, removed.text);
  assert.deepEqual(JSON.parse(removed.text), { path: 'example.com/a', version: 'v1.0.0', files: ['info', 'mod'], bytes: JSON.parse(removed.text).bytes });
  assert.equal((await call(w, 'GET', '/example.com/a/@v/v1.0.0.info', null)).status, 404, 'no longer answered from memory');
  assert.equal((await call(w, 'GET', '/example.com/a/@v/list', null)).text, 'v1.1.0\n');
  const again = await call(w, 'DELETE', '/admin/storage/example.com/a/@v/v1.0.0', w.tokens.root);
  assert.equal(again.status, 404);
  assert.match(again.text, /not found: example\.com\/a@v1\.0\.0 is not stored/);

  const events = (await readFile(w.access.auditFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const deletions = events.filter((e) => e.action === 'storage.delete');
  assert.deepEqual(deletions.map((e) => [e.actor, e.target, e.outcome]), [['root', 'example.com/a@v1.0.0', 'ok']]);
  assert.ok(events.some((e) => e.action === 'request.denied' && e.actor === 'corp-admin'), 'the refused removal is on record too');
});

test('/index: NDJSON in stored order with since and limit; anonymous clients never see private modules, a token sees what it may read', async () => {
  const w = await startWorld();
  const lines = (text: string): Array<{ Path: string; Version: string; Timestamp: string }> => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const anonymous = await call(w, 'GET', '/index', null);
  assert.equal(anonymous.status, 200);
  assert.equal(anonymous.type, 'application/x-ndjson');
  assert.deepEqual(lines(anonymous.text).map((e) => `${e.Path}@${e.Version}`), ['example.com/a@v1.0.0', 'example.com/a@v1.1.0']);
  const corp = lines((await call(w, 'GET', '/index', w.tokens.corpReader)).text);
  assert.deepEqual(corp.map((e) => e.Path), ['example.com/a', 'example.com/a', 'corp.example.com/lib'], 'a token reads what anonymous clients may, and its own modules');
  const first = lines((await call(w, 'GET', '/index?limit=1', w.tokens.root)).text);
  assert.deepEqual(first.map((e) => e.Version), ['v1.0.0']);
  const rest = lines((await call(w, 'GET', `/index?since=${encodeURIComponent(corp[1]!.Timestamp)}`, w.tokens.root)).text);
  assert.deepEqual(rest.map((e) => `${e.Path}@${e.Version}`), ['example.com/a@v1.1.0', 'corp.example.com/lib@v0.1.0'], 'since is inclusive');
  assert.equal((await call(w, 'GET', '/index?since=now', null)).status, 400);
});
