// PUT /admin/modules/<escaped module>/@v/<escaped version>.zip: a module version uploaded by `godepot
// publish`, with its zip as the body, stored by the server's ModulePublisher. Allowed to tokens with the
// publish role on the module (the gate decides that before), and on the audit record before it is
// acknowledged.
import type { IncomingMessage } from 'node:http';
import type { Audit } from '../../audit/audit.js';
import { InvalidRequestError, NotFoundError } from '../../errors.js';
import { commitTimeHeader } from '../../protocol/request.js';
import type { ModulePublisher } from '../../publish/module-publisher.js';
import type { Admitted } from '../gate.js';
import type { OperationsAnswer } from './operations.js';

/** What the server needs to take publishes: what stores them. */
export interface ModulePublishing {
  publisher: Pick<ModulePublisher, 'publish'>;
}

// What go's time.Time reads from JSON, so that the `.info` made from it parses in go.
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The publish route of one server: 201 with the PublishResult as JSON when the upload stored the
 * version, 200 with it when the same content was published before; NotFoundError when the server takes
 * no publishes, InvalidRequestError for a malformed commit time header, and the publisher's errors.
 * Every publish that reached the publisher is recorded as `publish` (stored, unchanged, or why not),
 * and its answer waits for the record.
 */
export function publishRoute(
  publishing: ModulePublishing | undefined,
  audit: Audit,
): (req: IncomingMessage, target: { modulePath: string; version: string }, admitted: Admitted, signal: AbortSignal) => Promise<OperationsAnswer> {
  return async (req, target, admitted, signal) => {
    if (publishing === undefined) throw new NotFoundError('publishing is not enabled on this server');
    const event = { action: 'publish', actor: admitted.principal.name, from: admitted.address, target: `${target.modulePath}@${target.version}` };
    let result;
    try {
      result = await publishing.publisher.publish({ ...target, body: req, size: declaredSize(req), time: commitTime(req) }, signal);
    } catch (err) {
      await audit.record({ ...event, outcome: 'refused', detail: { reason: (err as Error).message } });
      throw err;
    }
    await audit.record({ ...event, outcome: result.created ? 'ok' : 'unchanged', detail: { h1: result.h1, goModH1: result.goModH1 } });
    return { status: result.created ? 201 : 200, contentType: 'application/json', body: `${JSON.stringify(result)}\n` };
  };
}

// Node's parser has refused a malformed Content-Length already; a chunked body declares none.
function declaredSize(req: IncomingMessage): number | undefined {
  const length = req.headers['content-length'];
  return length === undefined ? undefined : Number(length);
}

function commitTime(req: IncomingMessage): Date | undefined {
  const value = req.headers[commitTimeHeader];
  if (value === undefined) return undefined;
  const time = typeof value === 'string' && rfc3339.test(value) ? new Date(value) : null;
  if (time === null || Number.isNaN(time.getTime())) throw new InvalidRequestError(`${commitTimeHeader}: not an RFC 3339 time: ${JSON.stringify(value)}`);
  return time;
}
