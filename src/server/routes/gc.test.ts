// POST /admin/gc over real HTTP on loopback: only admins of the whole server run retention, the body is
// checked before anything runs, and the run's report and audit record come from the server's retention.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { request } from 'undici';
import { storageKey } from '../../protocol/keys.js';
import { reportJson } from '../../store/run-retention.js';
import { ServerRetention } from '../../store/server-retention.js';
import { gcRequestOf, MAX_GC_REQUEST } from './gc.js';
import { startRouteServer } from '../../../test/support/route-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test('only an admin of the whole server runs retention; the report is the run\'s, each removal audited with the admin as actor; bad bodies run nothing', async () => {
  const { url, storage, access } = await startRouteServer(
    {
      name: 'gc-route',
      fill: async (storage) => {
        for (const version of ['v1.0.0', 'v1.1.0', 'v1.2.0']) await storage.put(storageKey('example.com/a', 'mod', version), Buffer.from('module example.com/a\n'));
      },
      routes: ({ storage, access, logger }) => {
        const retention = new ServerRetention({ storage, policy: { unusedFor: null, olderThan: null, keepLatest: 1 }, keep: [], audit: access.audit, logger });
        return { storageGc: async (asked, by) => reportJson(await retention.runAsked({ policy: asked.policy, pins: new Set(asked.pins), dryRun: asked.dryRun }, by)) };
      },
    },
    cleanups,
  );
  const admin = await access.token('root', ['admin']);
  const scoped = await access.token('team', ['admin:example.com/*']);
  const reader = await access.token('ci', ['read']);
  const gc = async (body: unknown, token: string | null, method = 'POST'): Promise<{ status: number; text: string }> => {
    const res = await request(`${url}/admin/gc`, {
      method: method as 'POST',
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, text: await res.body.text() };
  };
  const stored = async (): Promise<string[]> => (await storage.list('example.com/a')).sort();
  const all = await stored();

  assert.equal((await gc({ keepLatest: 1 }, null)).status, 401);
  assert.equal((await gc({ keepLatest: 1 }, reader)).status, 403);
  assert.equal((await gc({ keepLatest: 1 }, scoped)).status, 403, 'an admin of some modules only may not run retention over all');
  const refusals: Array<[unknown, RegExp]> = [
    [{ keep: [] }, /^bad request: retention needs at least one condition/],
    [{ keepLatst: 1 }, /^bad request: unknown field "keepLatst"/],
    [{ keepLatest: -1 }, /^bad request: "keepLatest": want a whole number/],
    [{ keepLatest: 1, keep: ['example.com/a'] }, /^bad request: "keep": want an array of "module@version" strings/],
    ['{', /^bad request: the body is not JSON/],
  ];
  for (const [body, answer] of refusals) {
    const refused = await gc(body, admin);
    assert.equal(refused.status, 400, refused.text);
    assert.match(refused.text, answer);
  }
  assert.equal((await gc({ keepLatest: 1 }, admin, 'GET')).status, 405);
  const tooLarge = await gc(`{"keepLatest":1,"keep":[${'"x@y",'.repeat(MAX_GC_REQUEST / 6)}"x@y"]}`, admin);
  assert.equal(tooLarge.status, 413);
  assert.deepEqual(await stored(), all, 'nothing ran');

  const dry = await gc({ keepLatest: 1, keep: ['example.com/a@v1.0.0'], dryRun: true }, admin);
  assert.equal(dry.status, 200, dry.text);
  assert.deepEqual((JSON.parse(dry.text) as { removals: Array<{ version: string }> }).removals.map((r) => r.version), ['v1.1.0']);
  assert.deepEqual(await stored(), all, 'a dry run changes nothing');
  const run = await gc({ keepLatest: 1, keep: ['example.com/a@v1.0.0'] }, admin);
  assert.equal(run.status, 200, run.text);
  assert.deepEqual(JSON.parse(run.text), { dryRun: false, removals: [{ path: 'example.com/a', version: 'v1.1.0', bytes: 21, stored: (JSON.parse(dry.text) as { removals: Array<{ stored: string }> }).removals[0]!.stored, lastDownloaded: null }], bytes: 21 });
  assert.deepEqual(await stored(), ['example.com/a/@v/v1.0.0.mod', 'example.com/a/@v/v1.2.0.mod']);
  const audit = (await readFile(access.auditFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(audit.filter((e) => e.action === 'storage.gc').map((e) => [e.actor, e.from, e.target, e.outcome]), [['root', '127.0.0.1', 'example.com/a@v1.1.0', 'ok']]);
});

test('a body is read as a run: conditions, pins and dry run', () => {
  assert.deepEqual(gcRequestOf({ unusedFor: 30, olderThan: null, keep: ['example.com/a@v1.0.0'], dryRun: true }), {
    policy: { unusedFor: 30, olderThan: null, keepLatest: null },
    pins: ['example.com/a@v1.0.0'],
    dryRun: true,
  });
  assert.throws(() => gcRequestOf([]), /want a JSON object/);
  assert.throws(() => gcRequestOf({ olderThan: 1, dryRun: 'yes' }), /"dryRun": want true or false/);
});
