// The JSON bodies of the admin routes (a token to create, a retention run): small, bounded, and read
// only when announced as JSON.
import type { IncomingMessage } from 'node:http';
import { InvalidRequestError } from '../../errors.js';

const json = 'application/json';

/**
 * The body of `req` as JSON: announced as application/json (else InvalidRequestError), at most
 * `maxBytes` (else what `tooLarge` makes, thrown before a byte is read when Content-Length says so, or
 * once a chunked body passes it), and JSON (else InvalidRequestError).
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<unknown> {
  const type = req.headers['content-type']?.split(';')[0]!.trim().toLowerCase();
  if (type !== json) throw new InvalidRequestError(`want Content-Type: ${json}, not ${type === undefined ? 'none' : JSON.stringify(type)}`);
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new InvalidRequestError(`the body is not JSON: ${(err as Error).message}`, { cause: err });
  }
}
