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
import type { RetentionReportJson } from '../store/run-retention.js';
import type { StoredBytes } from '../store/storage-quota.js';
import type { GcRequest, GcRunner } from './routes/gc.js';
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

/**
 * Primary → worker: the bytes of the stored versions, once counted, after each change (the quota's
 * figure). A worker asks for it once it listens for it (`godepotStoredBytesWanted`): a message sent
 * before then would be lost.
 */
interface StoredBytesMessage {
  godepotStoredBytes: number;
}
interface StoredBytesWantedMessage {
  godepotStoredBytesWanted: true;
}

/**
 * Worker → primary: run retention, for a full quota (gc-on-full: `makeRoom`) or as an admin asked this
 * worker (POST /admin/gc: `gc`). The primary runs it and answers with the same id (`godepotRetentionDone`):
 * the report, or why it failed.
 */
type RetentionRun = { run: 'makeRoom' } | { run: 'gc'; request: GcRequest; by: { actor: string; from: string } };
interface RetentionMessage {
  godepotRetention: { id: number } & RetentionRun;
}
interface RetentionDoneMessage {
  godepotRetentionDone: { id: number; report?: RetentionReportJson; error?: string };
}

/** Primary → worker: retention removed this version from storage; forget what is remembered of it. */
interface VersionRemovedMessage {
  godepotVersionRemoved: { path: string; version: string };
}

function isListening(message: unknown): message is ListeningMessage {
  return typeof message === 'object' && message !== null && 'godepotListening' in message;
}

function isStorageWrite(message: unknown): message is StorageWriteMessage {
  return typeof message === 'object' && message !== null && 'godepotStorageWrite' in message;
}

function isMessage<K extends string>(message: unknown, name: K): message is Record<K, unknown> {
  return typeof message === 'object' && message !== null && name in message;
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
  /** The stored versions' bytes (the storage watcher's count), told to every worker once counted and after each change, for its quota. */
  storedBytes?: StoredBytes & { onChange(listener: () => void): void };
  /** Runs retention when a worker's quota is full (gc-on-full). */
  makeRoom?: () => Promise<void>;
  /** Runs the retention an admin asked a worker for. */
  gc?: GcRunner;
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
  // The figure is sent once per turn of the event loop at most: a retention run removes many files at once.
  let figureQueued = false;
  const sendFigure = (worker: Worker | undefined): void => {
    if (options.storedBytes !== undefined && worker?.isConnected() === true) worker.send({ godepotStoredBytes: options.storedBytes.bytes } satisfies StoredBytesMessage);
  };
  let counted = false;
  void options.storedBytes?.counted.then(() => {
    counted = true;
    for (const worker of Object.values(cluster.workers ?? {})) sendFigure(worker);
  });
  options.storedBytes?.onChange(() => {
    if (!counted || figureQueued) return;
    figureQueued = true;
    setImmediate(() => {
      figureQueued = false;
      for (const worker of Object.values(cluster.workers ?? {})) sendFigure(worker);
    });
  });
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
        if (isMessage(message, 'godepotStoredBytesWanted')) {
          if (counted) sendFigure(worker);
          return;
        }
        if (isMessage(message, 'godepotRetention')) {
          const asked = message.godepotRetention as RetentionMessage['godepotRetention'];
          const run: Promise<RetentionReportJson | undefined> =
            asked.run === 'gc'
              ? (options.gc?.(asked.request, asked.by) ?? Promise.reject(new Error('retention is not run by this server')))
              : (options.makeRoom?.() ?? Promise.resolve()).then(() => undefined);
          const answer = (done: Omit<RetentionDoneMessage['godepotRetentionDone'], 'id'>): void => {
            // The figure after the run reaches the worker before the word that it ran.
            sendFigure(worker);
            if (worker.isConnected()) worker.send({ godepotRetentionDone: { id: asked.id, ...done } } satisfies RetentionDoneMessage);
          };
          void run.then(
            (report) => answer(report === undefined ? {} : { report }),
            (err: unknown) => answer({ error: (err as Error).message }),
          );
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

/** Tells every worker that retention removed `modulePath@version` (in the primary, which runs it under --workers). */
export function tellVersionRemoved(modulePath: string, version: string): void {
  for (const worker of Object.values(cluster.workers ?? {})) {
    if (worker?.isConnected() === true) worker.send({ godepotVersionRemoved: { path: modulePath, version } } satisfies VersionRemovedMessage);
  }
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
  /** The stored versions' bytes as the primary counts them (for the quota): counted once it first tells them. */
  storedBytes: StoredBytes;
  /** Has the primary run retention (gc-on-full); resolves once it ran, with the figure after it known. */
  makeRoom(): Promise<void>;
  /** Has the primary run the retention an admin asked this worker for; rejects with its failure. */
  gc: GcRunner;
  /** Calls `removed` for each version the primary's retention removed. */
  onVersionRemoved(removed: (modulePath: string, version: string) => void): void;
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
  let told!: () => void;
  const storedBytes = { bytes: 0, counted: new Promise<void>((resolve) => (told = resolve)) };
  let retentionRuns = 0;
  const retentionWaiters = new Map<number, (done: RetentionDoneMessage['godepotRetentionDone']) => void>();
  const runRetention = (asked: RetentionRun): Promise<RetentionDoneMessage['godepotRetentionDone']> =>
    new Promise((resolve) => {
      if (!channel.connected) return resolve({ id: 0, error: 'the primary is gone' });
      const id = ++retentionRuns;
      retentionWaiters.set(id, resolve);
      channel.send({ godepotRetention: { id, ...asked } } satisfies RetentionMessage);
    });
  process.on('message', (message: unknown) => {
    if (isMessage(message, 'godepotStoredBytes')) {
      storedBytes.bytes = message.godepotStoredBytes as number;
      told();
    } else if (isMessage(message, 'godepotRetentionDone')) {
      const done = message.godepotRetentionDone as RetentionDoneMessage['godepotRetentionDone'];
      retentionWaiters.get(done.id)?.(done);
      retentionWaiters.delete(done.id);
    }
  });
  channel.send({ godepotStoredBytesWanted: true } satisfies StoredBytesWantedMessage);
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
    storedBytes,
    // A run that failed made no room: the quota refuses then, as it would without gc-on-full.
    makeRoom: async () => void (await runRetention({ run: 'makeRoom' })),
    gc: async (request, by) => {
      const done = await runRetention({ run: 'gc', request, by });
      if (done.report === undefined) throw new Error(`retention failed: ${done.error ?? 'no report'}`);
      return done.report;
    },
    onVersionRemoved(removed) {
      process.on('message', (message: unknown) => {
        if (isMessage(message, 'godepotVersionRemoved')) {
          const { path, version } = message.godepotVersionRemoved as VersionRemovedMessage['godepotVersionRemoved'];
          removed(path, version);
        }
      });
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
