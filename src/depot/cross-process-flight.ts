// Single-flight across the worker processes of one `godepot serve`: before a worker fetches a key it
// asks the primary for that key's lease, over the cluster's IPC channel. The first asker gets it; the
// others wait until it is released and then run their own fetch, which finds the first one's result in
// storage (every fetch of the depot looks at storage again before going upstream). A lease dies with
// its worker, and one held past a time limit is taken away, so a stuck worker stops nobody for long.

/** The messages of the lease protocol, worker → primary (`acquire`, `release`) and back (`granted`). */
export type LeaseMessage =
  | { godepotLease: 'acquire'; id: number; key: string }
  | { godepotLease: 'release'; id: number }
  | { godepotLease: 'granted'; id: number };

function isLeaseMessage(message: unknown): message is LeaseMessage {
  return typeof message === 'object' && message !== null && 'godepotLease' in message;
}

/**
 * A worker's end of the cluster's IPC channel (`process.send` and `process` `message` events in a
 * cluster worker), sending messages `M` to the primary; the other protocols of the cluster use it too.
 */
export interface WorkerChannel<M> {
  /** False once the primary is gone. */
  readonly connected: boolean;
  send(message: M): void;
  onMessage(listener: (message: unknown) => void): void;
}

/** The worker side: runs a fetch while holding the primary's lease on its key (without a primary, at once). */
export class LeaseClient {
  private nextId = 0;
  private readonly waiting = new Map<number, () => void>();

  constructor(private readonly channel: WorkerChannel<LeaseMessage>) {
    channel.onMessage((message) => {
      if (!isLeaseMessage(message) || message.godepotLease !== 'granted') return;
      this.waiting.get(message.id)?.();
      this.waiting.delete(message.id);
    });
  }

  /** The outcome of `fetch`, run once no other worker holds the lease on `key`. */
  async hold<R>(key: string, fetch: () => Promise<R>): Promise<R> {
    if (!this.channel.connected) return fetch();
    const id = ++this.nextId;
    await new Promise<void>((resolve) => {
      this.waiting.set(id, resolve);
      this.channel.send({ godepotLease: 'acquire', id, key });
    });
    try {
      return await fetch();
    } finally {
      if (this.channel.connected) this.channel.send({ godepotLease: 'release', id });
    }
  }
}

interface Holder {
  owner: number;
  id: number;
}

/** The primary's side: who holds each key's lease and who waits for it, in order of asking. */
export class LeaseTable {
  private readonly holders = new Map<string, Holder & { timer: NodeJS.Timeout }>();
  private readonly queues = new Map<string, Holder[]>();
  /** `${owner} ${id}` → key, for releases, which name only their id. */
  private readonly keys = new Map<string, string>();

  constructor(
    private readonly options: {
      /** Tells worker `owner` that its request `id` holds the lease now. */
      grant: (owner: number, id: number) => void;
      /** How long a lease may be held before the next waiter gets it anyway. */
      timeoutMs: number;
      /** Called when a lease is taken away for being held too long. */
      onTimeout: (key: string, owner: number) => void;
    },
  ) {}

  /** Handles one message from worker `owner`; false when it is not part of the lease protocol. */
  receive(owner: number, message: unknown): boolean {
    if (!isLeaseMessage(message)) return false;
    if (message.godepotLease === 'acquire') this.acquire(owner, message.id, message.key);
    else if (message.godepotLease === 'release') this.release(owner, message.id);
    return true;
  }

  /** Worker `owner` asks for `key`'s lease; granted now when free, else after those before it. */
  acquire(owner: number, id: number, key: string): void {
    this.keys.set(`${owner} ${id}`, key);
    if (this.holders.has(key)) {
      const queue = this.queues.get(key);
      if (queue === undefined) this.queues.set(key, [{ owner, id }]);
      else queue.push({ owner, id });
      return;
    }
    this.give(key, { owner, id });
  }

  /** Worker `owner` is done with request `id` (a lease taken away before is ignored). */
  release(owner: number, id: number): void {
    const key = this.keys.get(`${owner} ${id}`);
    this.keys.delete(`${owner} ${id}`);
    if (key === undefined) return;
    const holder = this.holders.get(key);
    if (holder?.owner === owner && holder.id === id) this.next(key);
  }

  /** Worker `owner` is gone: its leases pass on and its waits are forgotten. */
  dropOwner(owner: number): void {
    for (const [key, queue] of this.queues) {
      const kept = queue.filter((waiter) => waiter.owner !== owner);
      if (kept.length === 0) this.queues.delete(key);
      else this.queues.set(key, kept);
    }
    for (const [key, holder] of [...this.holders]) if (holder.owner === owner) this.next(key);
    for (const name of [...this.keys.keys()]) if (name.startsWith(`${owner} `)) this.keys.delete(name);
  }

  /** How many keys are leased. */
  get size(): number {
    return this.holders.size;
  }

  private give(key: string, holder: Holder): void {
    const timer = setTimeout(() => {
      this.options.onTimeout(key, holder.owner);
      this.keys.delete(`${holder.owner} ${holder.id}`);
      this.next(key);
    }, this.options.timeoutMs);
    timer.unref();
    this.holders.set(key, { ...holder, timer });
    this.options.grant(holder.owner, holder.id);
  }

  private next(key: string): void {
    const holder = this.holders.get(key);
    if (holder !== undefined) clearTimeout(holder.timer);
    this.holders.delete(key);
    const queue = this.queues.get(key);
    const waiter = queue?.shift();
    if (queue?.length === 0) this.queues.delete(key);
    if (waiter !== undefined) this.give(key, waiter);
  }
}
