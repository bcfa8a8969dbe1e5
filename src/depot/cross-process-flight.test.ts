import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeaseClient, LeaseTable, type LeaseMessage } from './cross-process-flight.js';

/** A table and the grants it sent, as `owner:id`. */
function table(timeoutMs = 60_000) {
  const grants: string[] = [];
  const timeouts: string[] = [];
  const leases = new LeaseTable({ grant: (owner, id) => grants.push(`${owner}:${id}`), timeoutMs, onTimeout: (key, owner) => timeouts.push(`${key}@${owner}`) });
  return { leases, grants, timeouts };
}

test('the first asker holds a key; the others get it one by one, in order, as it is released', () => {
  const { leases, grants } = table();
  leases.acquire(1, 1, 'a');
  leases.acquire(2, 1, 'a');
  leases.acquire(3, 1, 'a');
  leases.acquire(2, 2, 'b');
  assert.deepEqual(grants, ['1:1', '2:2']);
  leases.release(1, 1);
  assert.deepEqual(grants, ['1:1', '2:2', '2:1']);
  leases.release(2, 1);
  leases.release(3, 1);
  leases.release(2, 2);
  assert.deepEqual(grants, ['1:1', '2:2', '2:1', '3:1']);
  assert.equal(leases.size, 0);
});

test('a worker that dies gives up what it holds and what it waits for', () => {
  const { leases, grants } = table();
  leases.acquire(1, 1, 'a');
  leases.acquire(2, 1, 'b');
  leases.acquire(2, 2, 'a');
  leases.acquire(3, 1, 'b');
  leases.dropOwner(2);
  assert.deepEqual(grants, ['1:1', '2:1', '3:1']);
  leases.release(1, 1);
  assert.deepEqual(grants, ['1:1', '2:1', '3:1'], 'the dead worker is not granted its old wait');
  assert.equal(leases.size, 1);
});

test('a lease held too long passes on; the late release of it changes nothing', async () => {
  const { leases, grants, timeouts } = table(30);
  leases.acquire(1, 1, 'a');
  leases.acquire(2, 1, 'a');
  leases.acquire(3, 1, 'a');
  await sleep(45);
  assert.deepEqual(timeouts, ['a@1']);
  assert.deepEqual(grants, ['1:1', '2:1']);
  leases.release(1, 1);
  assert.deepEqual(grants, ['1:1', '2:1'], 'worker 2 still holds it');
  leases.release(2, 1);
  assert.deepEqual(grants, ['1:1', '2:1', '3:1']);
  leases.release(3, 1);
});

test('LeaseClient: runs wait for the grant and release after; messages that are not grants are ignored', async () => {
  const sent: LeaseMessage[] = [];
  let deliver!: (message: unknown) => void;
  const client = new LeaseClient({ connected: true, send: (m) => sent.push(m), onMessage: (listener) => (deliver = listener) });
  const order: string[] = [];
  const run = client.hold('a', async () => (order.push('fetch'), 42));
  await sleep(5);
  assert.deepEqual(order, [], 'nothing runs before the grant');
  deliver({ godepotStop: true });
  deliver({ godepotLease: 'granted', id: 1 });
  assert.equal(await run, 42);
  assert.deepEqual(sent, [
    { godepotLease: 'acquire', id: 1, key: 'a' },
    { godepotLease: 'release', id: 1 },
  ]);
  const disconnected = new LeaseClient({ connected: false, send: () => assert.fail('nothing is sent'), onMessage: () => undefined });
  assert.equal(await disconnected.hold('a', async () => 7), 7, 'without a primary, runs go ahead');
});
