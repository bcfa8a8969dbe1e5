// A web server on 127.0.0.1 answering go's `?go-get=1` discovery requests for fake hosts with pages a
// test sets up: the `go-import` meta tags of vanity import paths, error pages, redirects. Reached through
// the test forward proxy (whose `ports` map sends `meta.godepot.test:80` or `:443` here), one server
// stands for any number of hosts: pages are keyed by the Host header's name and the path.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';

/** What one URL answers. */
export interface MetaPage {
  /** Default 200. */
  status?: number;
  /** Default: none. */
  body?: string | Buffer;
  /** Default `text/html; charset=utf-8`. */
  contentType?: string;
  /** Answer 302 to this Location instead (absolute, or a path on the same host). */
  redirect?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** One request the server received. */
export interface MetaRequest {
  /** The Host header's name, lower case, without a port. */
  host: string;
  /** The path and query, as sent (`/x/y?go-get=1`). */
  url: string;
}

/** A running meta server. */
export interface MetaServer {
  /** `http://127.0.0.1:<port>` (https with `tls`). */
  readonly url: string;
  readonly port: number;
  /**
   * `host/path` (`meta.godepot.test/x`, no query) → the page; a path not listed answers 404 with a
   * short text body. Tests add and remove pages as they go.
   */
  readonly pages: Map<string, MetaPage>;
  /** Every request received, in order. */
  readonly log: MetaRequest[];
  stop(): Promise<void>;
}

/** `<meta name="go-import" content="prefix vcs repo">`. */
export function goImport(prefix: string, vcs: string, repo: string): string {
  return `<meta name="go-import" content="${prefix} ${vcs} ${repo}">`;
}

/** An HTML page whose head holds `tags`, as vanity import servers write them. */
export function metaHtml(...tags: string[]): string {
  return `<!DOCTYPE html>\n<html>\n<head>\n${tags.join('\n')}\n</head>\n<body>go get</body>\n</html>\n`;
}

/** Starts a meta server on 127.0.0.1, serving https with `tls` (key and certificate, PEM). */
export async function startMetaServer(options: { tls?: { key: string; cert: string } } = {}): Promise<MetaServer> {
  const pages = new Map<string, MetaPage>();
  const log: MetaRequest[] = [];
  const sockets = new Set<Socket>();

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const url = req.url ?? '/';
    log.push({ host, url });
    const page = pages.get(host + url.replace(/\?.*$/, ''));
    if (page?.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, page.delayMs));
    if (res.destroyed) return;
    if (page === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`no page for ${host}${url}\n`);
      return;
    }
    if (page.redirect !== undefined) {
      res.writeHead(302, { location: page.redirect, 'content-length': 0 }).end();
      return;
    }
    const body = page.body ?? '';
    res.writeHead(page.status ?? 200, { 'content-type': page.contentType ?? 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => void onRequest(req, res);
  const server: Server = options.tls === undefined ? createServer(handler) : createTlsServer({ ...options.tls }, handler);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    pages,
    log,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
