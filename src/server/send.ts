// Artifact → HTTP response: cache validators, conditional and range requests, HEAD, and streaming
// with the one rule that matters for streams: a failure before the first byte becomes a proper error
// answer, a failure after it cuts the connection so the client never takes a short body for a whole one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Artifact } from '../protocol/artifact.js';
import { FileStream } from '../storage/file-stream.js';

/** What was sent, for the request log and metrics. */
export interface Sent {
  status: number;
  /** Body bytes written to the socket. */
  bytes: number;
  /** The client went away before the whole body was written. */
  aborted: boolean;
}

const immutableCacheControl = 'public, max-age=31536000, immutable';
// What a token read: a shared cache (a company's HTTP proxy) must not keep it for whoever asks next.
const privateImmutableCacheControl = 'private, max-age=31536000, immutable';
// list, @latest and query answers change as versions are published: caches must ask again every time.
const mutableCacheControl = 'no-cache';

/** A byte range [start, end], both inclusive, within the artifact. */
interface ByteRange {
  start: number;
  end: number;
}

/**
 * Sends `artifact` as the answer to `req`. Immutable artifacts carry their strong ETag, a year-long
 * immutable Cache-Control and Accept-Ranges; `If-None-Match` gives 304 and a single `Range` gives 206
 * (416 when it cannot be satisfied; several ranges or a stale `If-Range` get the whole body, as RFC 9110
 * allows). HEAD gets the headers GET would. `extraHeaders` are flat [name, value, …] pairs added to every
 * answer (the request id); `shared` says whether a shared cache may keep an immutable artifact (only
 * what anyone may read: not what a token was needed or used for). Streams are opened only when a body is sent; a stream that fails before its
 * first byte rejects with the stream's error and leaves the response untouched.
 */
export function sendArtifact(
  req: IncomingMessage,
  res: ServerResponse,
  artifact: Artifact,
  head: boolean,
  extraHeaders: readonly string[],
  shared: boolean,
): Sent | Promise<Sent> {
  const headers: string[] = ['content-type', artifact.contentType, ...extraHeaders];
  let range: ByteRange | null = null;
  if (artifact.immutable) {
    headers.push('cache-control', shared ? immutableCacheControl : privateImmutableCacheControl, 'accept-ranges', 'bytes');
    if (artifact.etag !== null) {
      headers.push('etag', artifact.etag);
      const ifNoneMatch = req.headers['if-none-match'];
      if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, artifact.etag)) {
        res.writeHead(304, headers.slice(2));
        res.end();
        return { status: 304, bytes: 0, aborted: false };
      }
    }
    const rangeHeader = req.headers.range;
    if (rangeHeader !== undefined && ifRangeHolds(req.headers['if-range'], artifact.etag)) {
      const parsed = parseRange(rangeHeader, artifact.size);
      if (parsed === 'unsatisfiable') {
        const body = 'range not satisfiable\n';
        res.writeHead(416, [
          'content-type', 'text/plain; charset=utf-8',
          'content-length', String(Buffer.byteLength(body)),
          'content-range', `bytes */${artifact.size}`,
          ...extraHeaders,
        ]);
        res.end(head ? undefined : body);
        return { status: 416, bytes: head ? 0 : body.length, aborted: false };
      }
      range = parsed;
    }
  } else {
    headers.push('cache-control', mutableCacheControl);
  }

  const status = range === null ? 200 : 206;
  const length = range === null ? artifact.size : range.end - range.start + 1;
  headers.push('content-length', String(length));
  if (range !== null) headers.push('content-range', `bytes ${range.start}-${range.end}/${artifact.size}`);

  if (head) {
    res.writeHead(status, headers);
    res.end();
    return { status, bytes: 0, aborted: false };
  }
  if (artifact.body !== undefined) {
    res.writeHead(status, headers);
    res.end(range === null ? artifact.body : artifact.body.subarray(range.start, range.end + 1));
    return { status, bytes: length, aborted: false };
  }
  if (artifact.open === undefined) throw new Error('artifact has neither a body nor a stream');
  return sendStream(res, artifact.open.bind(artifact), range, status, headers, length);
}

/**
 * A body that failed while being sent: before any byte left, the error is the caller's to answer (the
 * headers set for the body are dropped); after, the connection is cut and the send counts as aborted.
 */
function failSend(res: ServerResponse, err: Error, aborted: Sent, resolve: (sent: Sent) => void, reject: (err: Error) => void): void {
  if (!res.headersSent && !res.destroyed) {
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    reject(err);
    return;
  }
  res.destroy(err);
  resolve(aborted);
}

async function sendStream(
  res: ServerResponse,
  open: (range?: ByteRange) => Promise<Readable>,
  range: ByteRange | null,
  status: number,
  headers: string[],
  length: number,
): Promise<Sent> {
  if (res.destroyed) return { status, bytes: 0, aborted: true };
  const stream = await open(range ?? undefined);
  // The client may have gone while the stream was opened: its close event is then past.
  if (res.destroyed) {
    stream.destroy();
    return { status, bytes: 0, aborted: true };
  }
  // Headers are set, not written: Node writes them with the first body chunk, so until then an error
  // can still be answered properly (fastify's sendStream does the same).
  res.statusCode = status;
  for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i]!, headers[i + 1]!);
  if (stream instanceof FileStream) return sendFile(res, stream, status, length);
  let bytes = 0;
  return new Promise<Sent>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
    };
    const onError = (err: Error): void => {
      cleanup();
      stream.unpipe(res);
      stream.destroy();
      failSend(res, err, { status, bytes, aborted: true }, resolve, reject);
    };
    const onClose = (): void => {
      cleanup();
      // The client went away (or the socket failed): stop reading this send's own stream only.
      if (!res.writableFinished) stream.destroy();
      resolve({ status, bytes, aborted: !res.writableFinished || bytes !== length });
    };
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('error', onError);
      res.off('close', onClose);
    };
    stream.on('data', onData);
    stream.once('error', onError);
    res.once('close', onClose);
    stream.pipe(res);
  });
}

/**
 * Bytes read from a file per write. Larger writes cost fewer system calls and trips through libuv's
 * thread pool per byte sent; 64 clients downloading at once hold 32 MiB of these.
 */
const FILE_CHUNK = 512 * 1024;
/** Buffers kept for the next sends once their own is done; more are left to the garbage collector. */
const MAX_SPARE_BUFFERS = 16;
const spareBuffers: Buffer[] = [];

/**
 * Sends the `length` bytes of `file` through one buffer, reused for every chunk: the chunk is read into
 * it, written, and the next is read only once the socket has taken the last one. A stream would
 * allocate a buffer per chunk, and at gigabytes a second that garbage outgrows everything else the
 * server holds. The buffer is taken from and given back to a small pool, and given back only once no
 * write holds it.
 */
function sendFile(res: ServerResponse, file: FileStream, status: number, length: number): Promise<Sent> {
  let bytes = 0;
  let done = false;
  return new Promise<Sent>((resolve, reject) => {
    const buffer = spareBuffers.pop() ?? Buffer.allocUnsafeSlow(FILE_CHUNK);
    const release = (): void => {
      if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(buffer);
    };
    const stop = (): void => {
      done = true;
      res.off('close', onClose);
      file.destroy();
    };
    const fail = (err: Error): void => {
      if (done) return;
      stop();
      release();
      failSend(res, err, { status, bytes, aborted: true }, resolve, reject);
    };
    const onClose = (): void => {
      if (done) return;
      // The client went away (or the socket failed); a write still holding the buffer keeps it.
      stop();
      resolve({ status, bytes, aborted: !res.writableFinished || bytes !== length });
    };
    const next = (): void => {
      file.readInto(buffer, Math.min(FILE_CHUNK, length - bytes)).then((read) => {
        if (done) {
          release();
          return;
        }
        // The file is shorter than the answer announced: a client must not take the rest for the whole.
        if (read === 0) {
          fail(new Error(`stored file ended after ${bytes} of ${length} bytes`));
          return;
        }
        bytes += read;
        const chunk = read === FILE_CHUNK ? buffer : buffer.subarray(0, read);
        if (bytes < length) {
          res.write(chunk, (err) => {
            if (err !== null && err !== undefined) return;
            if (done) release();
            else next();
          });
          return;
        }
        res.end(chunk, () => {
          release();
          stop();
          resolve({ status, bytes, aborted: false });
        });
      }, fail);
    };
    if (file.remaining < length) {
      fail(new Error(`stored file holds ${file.remaining} of the ${length} bytes announced`));
      return;
    }
    res.once('close', onClose);
    if (length === 0) {
      res.end(() => {
        release();
        stop();
        resolve({ status, bytes, aborted: false });
      });
      return;
    }
    next();
  });
}

/** If-None-Match against a strong ETag, with the weak comparison RFC 9110 prescribes for it. */
function etagMatches(header: string, etag: string): boolean {
  if (header === etag || header.trim() === '*') return true;
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}

// If-Range must name the current entity exactly (strong comparison); a date or another tag means the
// client's partial copy is of something else, so it gets the whole body. Without the header a range holds.
function ifRangeHolds(ifRange: string | string[] | undefined, etag: string | null): boolean {
  return ifRange === undefined || (etag !== null && typeof ifRange === 'string' && ifRange.trim() === etag);
}

const singleRange = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/;

/**
 * A single byte range of a body of `size` bytes, 'unsatisfiable' for one starting past the end, or null
 * when the header is to be ignored (another unit, several ranges, bad syntax).
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | null {
  const m = singleRange.exec(header);
  if (m === null) return null;
  const first = m[1] ?? '';
  const last = m[2] ?? '';
  if (first === '') {
    if (last === '') return null;
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
