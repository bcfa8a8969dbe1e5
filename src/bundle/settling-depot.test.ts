import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { Depot } from '../depot/depot.js';
import { NotFoundError } from '../errors.js';
import type { Artifact } from '../protocol/artifact.js';
import { SettlingDepot } from './settling-depot.js';

const artifact: Artifact = { contentType: 'text/plain', size: 3, immutable: true, etag: null, cache: 'miss', body: Buffer.from('abc') };

/** A depot whose calls end when the test says so; `events` records what happened in order. */
function heldDepot(): { depot: Depot; events: string[]; release: (name: string, outcome: 'answer' | 'fail') => void } {
  const events: string[] = [];
  const held = new Map<string, { resolve: (a: Artifact) => void; reject: (e: Error) => void }>();
  const call = (name: string): Promise<Artifact> =>
    new Promise<Artifact>((resolve, reject) => {
      events.push(`start ${name}`);
      held.set(name, { resolve, reject });
    });
  const depot: Depot = {
    list: (modulePath) => call(`list ${modulePath}`),
    latest: (modulePath) => call(`latest ${modulePath}`),
    info: (modulePath, query) => call(`info ${modulePath}@${query}`),
    mod: (modulePath, version) => call(`mod ${modulePath}@${version}`),
    zip: (modulePath, version) => call(`zip ${modulePath}@${version}`),
    close: async () => void events.push('inner close'),
  };
  const release = (name: string, outcome: 'answer' | 'fail'): void => {
    events.push(`end ${name}`);
    if (outcome === 'answer') held.get(name)!.resolve(artifact);
    else held.get(name)!.reject(new NotFoundError(name));
  };
  return { depot, events, release };
}

test('close() waits for every call made through it, ended, failed or given up by its caller, before closing the depot', async () => {
  const { depot, events, release } = heldDepot();
  const settling = new SettlingDepot(depot);
  const caller = new AbortController();
  const given = settling.zip('example.com/a', 'v1.0.0', caller.signal);
  const failing = settling.mod('example.com/b', 'v1.0.0');
  const answered = settling.info('example.com/c', 'v1.0.0');
  caller.abort(new Error('caller went away'));
  await assert.rejects(given, /caller went away/);

  let closed = false;
  const closing = settling.close().then(() => (closed = true));
  release('mod example.com/b@v1.0.0', 'fail');
  await assert.rejects(failing, NotFoundError);
  release('info example.com/c@v1.0.0', 'answer');
  assert.equal(await answered, artifact);
  await tick();
  assert.equal(closed, false, 'the call its caller gave up on is still under way');

  release('zip example.com/a@v1.0.0', 'answer');
  await closing;
  assert.deepEqual(events, [
    'start zip example.com/a@v1.0.0',
    'start mod example.com/b@v1.0.0',
    'start info example.com/c@v1.0.0',
    'end mod example.com/b@v1.0.0',
    'end info example.com/c@v1.0.0',
    'end zip example.com/a@v1.0.0',
    'inner close',
  ]);
});

test('a call whose signal aborted already is refused without reaching the depot', async () => {
  const { depot, events } = heldDepot();
  const settling = new SettlingDepot(depot);
  await assert.rejects(settling.list('example.com/a', AbortSignal.abort(new Error('gone'))), /gone/);
  await settling.close();
  assert.deepEqual(events, ['inner close']);
});
