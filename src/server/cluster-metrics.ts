// /metrics under `godepot serve --workers N`: whichever worker a scrape reaches asks the primary, which
// gathers every worker's metrics over the cluster's IPC channel and merges them with prom-client's
// aggregation (counters and histograms add up; Node's process metrics as prom-client defines them). A
// scrape so counts the whole server, instead of one worker chosen by the kernel, whose counters would
// seem to jump back and forth between scrapes. The primary adds its own few (the stored figures).
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import type { WorkerChannel } from '../depot/cross-process-flight.js';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** The protocol: worker → primary `ask` and `part`, primary → worker `collect` and `answer`. */
export type MetricsMessage =
  | { godepotMetrics: 'ask'; id: number }
  | { godepotMetrics: 'collect'; id: number }
  | { godepotMetrics: 'part'; id: number; metrics?: MetricsJson; error?: string }
  | { godepotMetrics: 'answer'; id: number; text?: string; error?: string };

function isMetricsMessage(message: unknown): message is MetricsMessage {
  return typeof message === 'object' && message !== null && 'godepotMetrics' in message;
}

/** The worker side: gives the primary this worker's metrics, and asks it for everybody's (without a primary, answers with its own). */
export class WorkerMetrics {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();

  constructor(
    private readonly channel: WorkerChannel<MetricsMessage>,
    private readonly registry: Registry,
  ) {
    channel.onMessage((message) => {
      if (!isMetricsMessage(message)) return;
      if (message.godepotMetrics === 'collect') {
        const { id } = message;
        this.registry.getMetricsAsJSON().then(
          (metrics) => this.send({ godepotMetrics: 'part', id, metrics }),
          (err: Error) => this.send({ godepotMetrics: 'part', id, error: err.message }),
        );
      } else if (message.godepotMetrics === 'answer') {
        const waiter = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (message.text !== undefined) waiter?.resolve(message.text);
        else waiter?.reject(new Error(`metrics of the other workers: ${message.error ?? 'no answer'}`));
      }
    });
  }

  /** The Prometheus exposition of every worker's metrics together. */
  exposition(): Promise<string> {
    if (!this.channel.connected) return this.registry.metrics();
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.channel.send({ godepotMetrics: 'ask', id });
    });
  }

  private send(message: MetricsMessage): void {
    if (this.channel.connected) this.channel.send(message);
  }
}

/** One scrape being gathered: the worker that asked, and the workers that still owe their part. */
interface Gathering {
  asker: number;
  askId: number;
  owing: Set<number>;
  parts: MetricsJson[];
  timer: NodeJS.Timeout;
}

/** The primary's side: gathers every worker's part for each scrape and answers the worker that asked. */
export class MetricsGatherer {
  private nextId = 0;
  private readonly gatherings = new Map<number, Gathering>();

  constructor(
    private readonly options: {
      /** The workers that can answer now. */
      workers: () => number[];
      send: (worker: number, message: MetricsMessage) => void;
      /** How long a scrape waits for every part before it fails. */
      timeoutMs: number;
      /** The primary's own metrics (those only it keeps), added to every scrape. */
      own?: Registry;
    },
  ) {}

  /** Handles `message` from `worker` if it is one of ours; true when it was. */
  receive(worker: number, message: unknown): boolean {
    if (!isMetricsMessage(message)) return false;
    if (message.godepotMetrics === 'ask') this.gather(worker, message.id);
    else if (message.godepotMetrics === 'part') this.take(worker, message);
    return true;
  }

  /** A worker that exited owes no part any more. */
  dropWorker(worker: number): void {
    for (const [id, gathering] of this.gatherings) {
      if (gathering.owing.delete(worker)) this.finishIfWhole(id, gathering);
    }
  }

  private gather(asker: number, askId: number): void {
    const id = ++this.nextId;
    const workers = this.options.workers();
    const timer = setTimeout(() => this.fail(id, `${this.gatherings.get(id)?.owing.size ?? 0} worker(s) did not answer within ${this.options.timeoutMs} ms`), this.options.timeoutMs);
    const gathering: Gathering = { asker, askId, owing: new Set(workers), parts: [], timer };
    this.gatherings.set(id, gathering);
    for (const worker of workers) this.options.send(worker, { godepotMetrics: 'collect', id });
    this.finishIfWhole(id, gathering);
  }

  private take(worker: number, part: Extract<MetricsMessage, { godepotMetrics: 'part' }>): void {
    const gathering = this.gatherings.get(part.id);
    if (gathering === undefined || !gathering.owing.delete(worker)) return;
    if (part.metrics === undefined) {
      this.fail(part.id, part.error ?? 'a worker sent no metrics');
      return;
    }
    gathering.parts.push(part.metrics);
    this.finishIfWhole(part.id, gathering);
  }

  private finishIfWhole(id: number, gathering: Gathering): void {
    if (gathering.owing.size > 0) return;
    this.end(id);
    const own = this.options.own;
    (own === undefined ? Promise.resolve(gathering.parts) : own.getMetricsAsJSON().then((part) => [...gathering.parts, part]))
      .then((parts) => AggregatorRegistry.aggregate(parts).metrics())
      .then(
        (text) => this.options.send(gathering.asker, { godepotMetrics: 'answer', id: gathering.askId, text }),
        (err: Error) => this.options.send(gathering.asker, { godepotMetrics: 'answer', id: gathering.askId, error: err.message }),
      );
  }

  private fail(id: number, error: string): void {
    const gathering = this.end(id);
    if (gathering !== undefined) this.options.send(gathering.asker, { godepotMetrics: 'answer', id: gathering.askId, error });
  }

  private end(id: number): Gathering | undefined {
    const gathering = this.gatherings.get(id);
    if (gathering === undefined) return undefined;
    clearTimeout(gathering.timer);
    this.gatherings.delete(id);
    return gathering;
  }
}
