// POST /admin/gc: a retention run an admin asks for (`godepot storage gc --server`), with the conditions
// and the pins (module@version, read from the admin's go.sum files, projects and bundles) in the body.
// The gate admits only admins of the server as a whole: a run reaches every module.
import type { IncomingMessage } from 'node:http';
import { ConfigError, GodepotError, InvalidRequestError, NotFoundError } from '../../errors.js';
import { checkPolicy, type RetentionPolicy } from '../../store/retention.js';
import type { RetentionReportJson } from '../../store/run-retention.js';
import type { Admitted } from '../gate.js';
import { readJsonBody } from './json-body.js';
import type { OperationsAnswer } from './operations.js';

/** Largest body of a retention run: a pin takes some 60 bytes, and a bundle of 20,000 modules 20,000 pins. */
export const MAX_GC_REQUEST = 16 << 20;

/** A retention run whose body is larger than MAX_GC_REQUEST; nothing was run. */
export class GcRequestTooLargeError extends GodepotError {
  readonly code = 'GC_REQUEST_TOO_LARGE';
}

/** A run as asked: the conditions, `module@version` pins, and whether only to say what would go. */
export interface GcRequest {
  policy: RetentionPolicy;
  pins: string[];
  dryRun: boolean;
}

/** What runs retention for the route: the server's own runs, in the process that runs them. */
export type GcRunner = (request: GcRequest, by: { actor: string; from: string }) => Promise<RetentionReportJson>;

const fields = new Set(['unusedFor', 'olderThan', 'keepLatest', 'keep', 'dryRun']);

/**
 * The gc route: 200 with the run's report (as `storage gc --json` prints it). NotFoundError when the
 * server runs no retention, InvalidRequestError for a body that does not describe a run (a run without
 * a condition included), GcRequestTooLargeError.
 */
export function gcRoute(run: GcRunner | undefined): (req: IncomingMessage, admitted: Admitted) => Promise<OperationsAnswer> {
  return async (req, admitted) => {
    if (run === undefined) throw new NotFoundError('retention is not run by this server');
    const body = await readJsonBody(req, MAX_GC_REQUEST, () => new GcRequestTooLargeError(`a retention request takes at most ${MAX_GC_REQUEST} bytes`));
    const report = await run(gcRequestOf(body), { actor: admitted.principal.name, from: admitted.address });
    return { status: 200, contentType: 'application/json', body: `${JSON.stringify(report)}\n` };
  };
}

/** The run `body` asks for: `{"unusedFor"?, "olderThan"?, "keepLatest"?: whole number or null, "keep"?: ["module@version", …], "dryRun"?: boolean}`. */
export function gcRequestOf(body: unknown): GcRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequestError('want a JSON object {"unusedFor", "olderThan", "keepLatest", "keep", "dryRun"}');
  const given = body as Record<string, unknown>;
  const unknown = Object.keys(given).find((key) => !fields.has(key));
  // A misspelt condition left out would remove more than asked.
  if (unknown !== undefined) throw new InvalidRequestError(`unknown field ${JSON.stringify(unknown)}; want "unusedFor", "olderThan", "keepLatest", "keep" and "dryRun"`);
  const policy: RetentionPolicy = { unusedFor: count(given, 'unusedFor'), olderThan: count(given, 'olderThan'), keepLatest: count(given, 'keepLatest') };
  try {
    checkPolicy(policy, '"unusedFor", "olderThan" or "keepLatest"');
  } catch (err) {
    if (err instanceof ConfigError) throw new InvalidRequestError(err.message, { cause: err });
    throw err;
  }
  const keep = given.keep ?? [];
  if (!Array.isArray(keep) || !keep.every((pin) => typeof pin === 'string' && /^[^@\s]+@[^@\s]+$/.test(pin))) {
    throw new InvalidRequestError('"keep": want an array of "module@version" strings');
  }
  if (given.dryRun !== undefined && typeof given.dryRun !== 'boolean') throw new InvalidRequestError('"dryRun": want true or false');
  return { policy, pins: keep as string[], dryRun: given.dryRun === true };
}

function count(given: Record<string, unknown>, field: string): number | null {
  const value = given[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new InvalidRequestError(`"${field}": want a whole number of at least 0, or null`);
  return value;
}
