// The audit seam: what records the actions that change what godepot holds or who may use it (publishes,
// bundle imports, deletions, token changes) and every refused request. The record is durable before the
// promise resolves, so that an action is acknowledged only once it is on record.

/** Who acted: a token's name (never the token), `anonymous`, or the operator at a command line (`cli:<user>`). */
export type AuditActor = string;

/** One thing that happened, as the audit log keeps it (the log adds the time and the chain hash). */
export interface AuditEvent {
  /** What was attempted: `publish`, `bundle.import`, `storage.delete`, `token.create`, `token.revoke`, `request.denied`, … */
  action: string;
  /** Who: see AuditActor. */
  actor: AuditActor;
  /** From where: the client's address, or `cli` for a command run on the host. */
  from: string;
  /** On what: a module@version, a token name, a request path. */
  target: string;
  /** `ok`, or what refused it (`denied`, `unauthenticated`, `conflict`, …). */
  outcome: string;
  /** Anything else worth keeping (sizes, hashes, the role that was missing); never a secret. */
  detail?: Readonly<Record<string, string | number | boolean>>;
}

/** Appends events to a record nobody can alter unnoticed. */
export interface Audit {
  /** Resolves once the event is durable (flushed to disk), in the order calls were made. */
  record(event: AuditEvent): Promise<void>;
  close(): Promise<void>;
}
