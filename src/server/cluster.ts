// `godepot serve --workers N`: the primary process forks N workers, each running the whole server on the
// one listening socket, and serves nothing itself. It holds the cross-process single-flight leases
// (depot/cross-process-flight.ts), gathers every worker's metrics for a scrape (cluster-metrics.ts),
// prints the one `listening` line once every worker listens, replaces a worker that dies, on SIGTERM
// or SIGINT has every worker finish its requests and stop, and with TLS on SIGHUP has every worker read
// its certificate again.
import cluster, { type Worker } from 'node:cluster';
import type { Registry } from 'prom-client';
import { LeaseClient, LeaseTable } from '../depot/cross-process-flight.js';
import type { RunLease } from '../depot/flight.js';
import type { StorageWatcher } from '../storage/watched-storage.js';
import type { Logger } from '../telemetry/logger.js';
import { MetricsGatherer, WorkerMetrics, type MetricsMessage } from './cluster-metrics.js';

/** Worker → primary: the worker listens; the fields of its `listening` line. */
interface ListeningMessage {
  godepotListening: Record<string, unknown>;
}
/** Primary → worker: finish the requests in flight and stop. */
interface StopMessage {
  godepotStop: true;
}
/** Primary → worker: read the certificate files again (SIGHUP). */
interface ReloadMessage {
  godepotReload: true;
}

/** Worker → primary: the worker stored (`size` given) or removed an object of the storage. */
interface StorageWriteMessage {
  godepotStorageWrite: { key: string; size?: number };
}
/** Primary → the other workers: a worker removed this object of the storage. */
interface StorageRemovedMessage {
  godepotStorageRemoved: string;
}

function isListening(message: unknown): message is ListeningMessage {
  return typeof message === 'object' && message !== null && 'godepotListening' in message;
}

function isStorageWrite(message: unknown): message is StorageWriteMessage {
  return typeof message === 'object' && message !== null && 'godepotStorageWrite' in message;
}

// How long a scrape of /metrics waits for every worker's part.
const metricsTimeoutMs = 5000;

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** How long a worker may hold a single-flight lease before the next one gets it anyway. */
  leaseTimeoutMs: number;
  /** SIGHUP has the workers read their certificate again (with TLS); otherwise it keeps its default, ending the process. */
  reloadOnHangup: boolean;
  /** Metrics the primary keeps itself, added to every scrape. */
  registry?: Registry;
  /** Told of every write the workers make to the storage (their ClusterMember's storageWatcher). */
  storageWatcher?: StorageWatcher;
  /** Called with the fields of the `listening` line, once it is logged. */
  onListening?: (fields: Record<string, unknown>) => void;
}

/**
 * Runs the primary until every worker has stopped after SIGTERM or SIGINT; resolves with the exit code:
 * 0 when every worker stopped cleanly, 1 otherwise (a forced shutdown, or a worker that failed to start,
 * which stops the others: a worker that cannot listen would fail again if replaced).
 */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { workers, logger } = options;
  // Workers accept from the shared socket themselves, as nginx's do, instead of the primary accepting
  // every connection and passing it on over IPC.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const leases = new LeaseTable({
    grant: (owner, id) => cluster.workers?.[owner]?.send({ godepotLease: 'granted', id }),
    timeoutMs: options.leaseTimeoutMs,
    onTimeout: (key, owner) => logger.warn({ key, pid: cluster.workers?.[owner]?.process.pid }, 'single-flight lease held too long: passed on'),
  });
  const gatherer = new MetricsGatherer({
    workers: () => Object.values(cluster.workers ?? {}).flatMap((worker) => (worker?.isConnected() === true ? [worker.id] : [])),
    send: (id, message: MetricsMessage) => {
      const worker = cluster.workers?.[id];
      if (worker?.isConnected() === true) worker.send(message);
    },
    timeoutMs: metricsTimeoutMs,
    own: options.registry,
  });
  const listening = new Set<number>();
  let started = false;
  let stopping = false;
  let failed = false;

  return new Promise((resolve) => {
    const fork = (): void => {
      const worker = cluster.fork();
      worker.on('message', (message: unknown) => {
        if (isStorageWrite(message)) {
          const { key, size } = message.godepotStorageWrite;
          if (size === undefined) {
            options.storageWatcher?.removed(key);
            // What the other workers remember of it must go too (a `storage rm` answered by this one).
            for (const other of Object.values(cluster.workers ?? {})) {
              if (other !== undefined && other.id !== worker.id && other.isConnected()) other.send({ godepotStorageRemoved: key } satisfies StorageRemovedMessage);
            }
          } else {
            options.storageWatcher?.stored(key, size);
          }
          return;
        }
        if (leases.receive(worker.id, message) || gatherer.receive(worker.id, message) || !isListening(message)) return;
        listening.add(worker.id);
        if (started) {
          logger.info({ pid: worker.process.pid }, 'worker replaced');
        } else if (listening.size === workers) {
          started = true;
          logger.info({ ...message.godepotListening, workers }, 'listening');
          options.onListening?.(message.godepotListening);
        }
      });
    };

    const stopAll = (): void => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.send({ godepotStop: true } satisfies StopMessage);
    };

    cluster.on('exit', (worker: Worker, code: number | null, signal: NodeJS.Signals | null) => {
      leases.dropOwner(worker.id);
      gatherer.dropWorker(worker.id);
      const wasListening = listening.delete(worker.id);
      if (!stopping) {
        if (wasListening) {
          logger.error({ pid: worker.process.pid, code, signal }, 'worker died: starting another');
          fork();
          return;
        }
        logger.error({ pid: worker.process.pid, code, signal }, 'worker exited before listening: stopping');
        stopping = true;
        failed = true;
        stopAll();
      } else if (code !== 0) {
        failed = true;
      }
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        process.off('SIGHUP', onHangup);
        logger.info('stopped');
        resolve(failed ? 1 : 0);
      }
    });

    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // Each worker takes a second signal as "exit now".
        logger.warn({ signal }, 'second signal: workers exit now');
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
        return;
      }
      stopping = true;
      logger.info({ signal }, 'shutting down: workers finish requests in flight');
      stopAll();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    // Each worker watches the files itself; SIGHUP is the operator's way to say "now", and reaches the
    // primary alone (`kill -HUP <pid>`, a service manager's reload).
    const onHangup = (): void => {
      logger.info('SIGHUP: workers read the certificate again');
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (worker?.isConnected() === true) worker.send({ godepotReload: true } satisfies ReloadMessage);
      }
    };
    if (options.reloadOnHangup) process.on('SIGHUP', onHangup);

    for (let i = 0; i < workers; i++) fork();
  });
}

/** A worker's part in the cluster. */
export interface ClusterMember {
  /** The primary's per-key leases: the worker's depot holds one around each fetch (CachingDepot's `lease`). */
  lease: RunLease;
  /** Has the primary print the `listening` line, once every worker listens. */
  reportListening(fields: Record<string, unknown>): void;
  /** Gives the primary this worker's metrics for every scrape; the result asks it for every worker's. */
  shareMetrics(registry: Registry): WorkerMetrics;
  /** Tells the primary of this worker's storage writes, for the figures of what is stored (which it alone keeps). */
  storageWatcher: StorageWatcher;
  /** Calls `removed` with each key another worker removed from the storage. */
  onRemovedElsewhere(removed: (key: string) => void): void;
  /** Calls `stop` when the primary says to stop (should the primary die, node's cluster ends the worker at once). */
  onStopRequest(stop: () => void): void;
  /** Calls `reload` when the primary relays a SIGHUP. */
  onReloadRequest(reload: () => void): void;
  /** Lets the worker exit: the IPC channel would keep it alive. */
  leave(): void;
}

/** Joins the cluster as a worker (only call in one). */
export function joinCluster(): ClusterMember {
  const channel = {
    get connected() {
      return process.connected;
    },
    send: (message: unknown) => void process.send!(message),
    onMessage: (listener: (message: unknown) => void) => void process.on('message', listener),
  };
  const client = new LeaseClient(channel);
  // Ctrl-C reaches the whole process group: the primary relays it, once, as a stop request. A hangup
  // too: the primary relays it as a reload request, or ends, and the workers with it.
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  return {
    lease: client,
    reportListening: (fields) => process.send!({ godepotListening: fields } satisfies ListeningMessage),
    shareMetrics: (registry) => new WorkerMetrics(channel, registry),
    storageWatcher: {
      stored: (key, size) => {
        if (channel.connected) channel.send({ godepotStorageWrite: { key, size } } satisfies StorageWriteMessage);
      },
      removed: (key) => {
        if (channel.connected) channel.send({ godepotStorageWrite: { key } } satisfies StorageWriteMessage);
      },
    },
    onStopRequest(stop) {
      process.on('message', (message: unknown) => {
        if (typeof message === 'object' && message !== null && 'godepotStop' in message) stop();
      });
    },
    onRemovedElsewhere(removed) {
      process.on('message', (message: unknown) => {
        if (typeof message === 'object' && message !== null && 'godepotStorageRemoved' in message) removed(String((message as StorageRemovedMessage).godepotStorageRemoved));
      });
    },
    onReloadRequest(reload) {
      process.on('message', (message: unknown) => {
        if (typeof message === 'object' && message !== null && 'godepotReload' in message) reload();
      });
    },
    // Through the cluster, so that the disconnect is taken as expected and the worker ends once its last
    // log lines are written, not at once.
    leave: () => {
      if (process.connected) cluster.worker?.disconnect();
    },
  };
}
