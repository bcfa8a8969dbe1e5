// Git's smart HTTP protocol on loopback: a node:http server that hands every request to `git
// http-backend` as a CGI program, serving the bare repositories below one folder. With the git config
// file it writes (`url.<this server>.insteadOf`), git, and so go and godepot, fetch `https://<host>/...`
// from here instead, offline.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

/** A running git HTTP server. */
export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /**
   * A git config file (for GIT_CONFIG_GLOBAL) that sends `https://<host>/<path>` to `<url>/<host>/<path>`
   * for each host given to startGitHttp, so that `<root>/<host>/<path>` is the repository git reaches.
   */
  readonly gitconfig: string;
  /** Request paths (with their query) in the order they arrived, for tests that count git's round trips. */
  readonly requests: string[];
  /**
   * Replaces the CGI for the requests `handle` takes: it returns true when it has answered (or means
   * never to answer) the request itself. `undefined` restores plain serving.
   */
  intercept(handle: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined): void;
  stop(): Promise<void>;
}

// The CGI header block ends at the first empty line; CR LF or LF line ends are both allowed.
function splitCgiHead(buffer: Buffer): { head: string; body: Buffer } | undefined {
  for (const separator of ['\r\n\r\n', '\n\n']) {
    const at = buffer.indexOf(separator);
    if (at >= 0) return { head: buffer.subarray(0, at).toString('latin1'), body: buffer.subarray(at + separator.length) };
  }
  return undefined;
}

function runBackend(root: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: root,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      // git gzips large request bodies; protocol v2 is asked for in a header.
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  let pending: Buffer = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    pending = Buffer.concat([pending, chunk]);
    const split = splitCgiHead(pending);
    if (split === undefined) return;
    headersSent = true;
    let status = 200;
    for (const line of split.head.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(split.body);
  });
  child.on('close', () => {
    if (!headersSent) res.writeHead(502).end('git http-backend wrote no headers\n');
    else res.end();
  });
  child.on('error', () => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
}

/** Starts a git HTTP server for the repositories below `root`, rewriting `https://<host>/` for each of `hosts` to it. */
export async function startGitHttp(root: string, hosts: readonly string[]): Promise<GitHttpServer> {
  const requests: string[] = [];
  let interceptor: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (interceptor?.(req, res) === true) return;
    runBackend(root, req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const gitconfig = join(root, '.gitconfig-http');
  await writeFile(gitconfig, hosts.map((host) => `[url "${url}/${host}/"]\n\tinsteadOf = https://${host}/\n`).join(''));
  return {
    url,
    gitconfig,
    requests,
    intercept(handle) {
      interceptor = handle;
    },
    async stop() {
      // Hanging requests (a test's blackhole) would keep close() waiting for ever.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
