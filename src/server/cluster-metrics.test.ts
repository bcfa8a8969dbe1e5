import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { sample } from '../../test/support/metrics.js';
import { MetricsGatherer, WorkerMetrics, type MetricsMessage } from './cluster-metrics.js';

/** A primary and workers joined by in-memory channels that deliver asynchronously, as IPC does. */
function cluster(counts: number[], options: { silent?: number[]; timeoutMs?: number } = {}) {
  const toWorker = new Map<number, (message: unknown) => void>();
  const workers = new Set(counts.map((_, i) => i + 1));
  const gatherer = new MetricsGatherer({
    workers: () => [...workers],
    send: (id, message) => setImmediate(() => toWorker.get(id)?.(message)),
    timeoutMs: options.timeoutMs ?? 1000,
  });
  const members = counts.map((count, i) => {
    const id = i + 1;
    const registry = new Registry();
    new Counter({ name: 'served_total', help: 'served', labelNames: ['route'], registers: [registry] }).inc({ route: 'mod' }, count);
    const channel = {
      connected: true,
      send: (message: MetricsMessage) => setImmediate(() => gatherer.receive(id, message)),
      onMessage: (listener: (message: unknown) => void) => {
        // A silent worker never answers a collect.
        if (!options.silent?.includes(id)) toWorker.set(id, listener);
        else toWorker.set(id, (message) => (message as MetricsMessage).godepotMetrics === 'answer' && listener(message));
      },
    };
    return { id, channel, metrics: new WorkerMetrics(channel, registry) };
  });
  return { gatherer, workers, members };
}

test('a scrape through any worker sums every worker', async () => {
  const { members } = cluster([2, 3, 5]);
  for (const member of members) assert.equal(sample(await member.metrics.exposition(), 'served_total', { route: 'mod' }), 10);
});

test('scrapes at once are answered each', async () => {
  const { members } = cluster([1, 4]);
  const texts = await Promise.all([...members, ...members].map((member) => member.metrics.exposition()));
  assert.deepEqual(texts.map((text) => sample(text, 'served_total', { route: 'mod' })), [5, 5, 5, 5]);
});

test('a worker that exits owes nothing; one that does not answer fails the scrape after the time limit', async () => {
  const exiting = cluster([2, 3], { silent: [2] });
  const pending = exiting.members[0]!.metrics.exposition();
  setTimeout(() => {
    exiting.workers.delete(2);
    exiting.gatherer.dropWorker(2);
  }, 20);
  assert.equal(sample(await pending, 'served_total', { route: 'mod' }), 2);

  const stuck = cluster([2, 3], { silent: [2], timeoutMs: 50 });
  await assert.rejects(stuck.members[0]!.metrics.exposition(), /metrics of the other workers: 1 worker\(s\) did not answer within 50 ms/);
});

test('without the primary a worker answers with its own metrics', async () => {
  const { members } = cluster([2, 3]);
  members[1]!.channel.connected = false;
  assert.equal(sample(await members[1]!.metrics.exposition(), 'served_total', { route: 'mod' }), 3);
});

test('messages that are not about metrics are left to others', () => {
  const { gatherer } = cluster([1]);
  assert.equal(gatherer.receive(1, { godepotLease: 'acquire', id: 1, key: 'k' }), false);
  assert.equal(gatherer.receive(1, { godepotMetrics: 'part', id: 99, metrics: [] }), true);
});
