// A small outbound (corporate-style) HTTP proxy on 127.0.0.1 for tests: absolute-form requests for http
// targets, CONNECT tunnels for https ones, a log of what it was asked and with which Proxy-Authorization.
// It resolves the test host names (*.godepot.test) to 127.0.0.1 itself, as a real proxy resolves names
// its clients cannot, and refuses every other host but loopback: no test traffic leaves the machine.
// URLs a test cannot choose the port of (`http://meta.godepot.test/x?go-get=1` is port 80) are sent to
// the loopback port `ports` maps their `host:port` to.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';

/** One request the proxy received. */
export interface ProxyRecord {
  method: string;
  /** The absolute URL of a forwarded request, or `host:port` of a CONNECT. */
  target: string;
  /** The Proxy-Authorization header as received, if any. */
  proxyAuthorization: string | undefined;
}

/** A running forward proxy. */
export interface ForwardProxy {
  /** `http://127.0.0.1:<port>`, no credentials. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly log: ProxyRecord[];
  /** `host:port` (lower case, the port always given) → the 127.0.0.1 port the proxy connects to instead. */
  readonly ports: Map<string, number>;
  stop(): Promise<void>;
}

/** The loopback address a target host stands for, or null when the proxy must not go there. */
function loopbackFor(host: string): string | null {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare.endsWith('.godepot.test') || bare === 'localhost') return '127.0.0.1';
  if (isIP(bare) === 4 && bare.startsWith('127.')) return bare;
  return bare === '::1' ? bare : null;
}

/** Starts the proxy; with `credentials` (`user:password`) it answers 407 to requests without them. */
export async function startForwardProxy(options: { credentials?: string } = {}): Promise<ForwardProxy> {
  const log: ProxyRecord[] = [];
  const ports = new Map<string, number>();
  const portFor = (host: string, port: number): number => ports.get(`${host.toLowerCase()}:${port}`) ?? port;
  const sockets = new Set<Socket>();
  const expected = options.credentials === undefined ? undefined : `Basic ${Buffer.from(options.credentials).toString('base64')}`;
  const authorized = (req: IncomingMessage): boolean => expected === undefined || req.headers['proxy-authorization'] === expected;

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    log.push({ method: req.method ?? 'GET', target: req.url ?? '', proxyAuthorization: req.headers['proxy-authorization'] });
    if (!authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-length': 0 }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-length': 0 }).end();
      return;
    }
    const address = loopbackFor(target.hostname);
    if (target.protocol !== 'http:' || address === null) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`test proxy: will not go to ${target.host}\n`);
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = request({ host: address, port: portFor(target.hostname, Number(target.port || 80)), method: req.method, path: target.pathname + target.search, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`test proxy: ${err.message}\n`);
      else res.destroy();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };

  const server: Server = createServer(forward);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    log.push({ method: 'CONNECT', target: req.url ?? '', proxyAuthorization: req.headers['proxy-authorization'] });
    client.on('error', () => client.destroy());
    if (!authorized(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const colon = (req.url ?? '').lastIndexOf(':');
    const host = (req.url ?? '').slice(0, colon);
    const address = colon < 0 ? null : loopbackFor(host);
    if (address === null) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const tunnel = connect(portFor(host, Number((req.url ?? '').slice(colon + 1))), address, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) tunnel.write(head);
      tunnel.pipe(client);
      client.pipe(tunnel);
    });
    sockets.add(tunnel);
    tunnel.on('close', () => sockets.delete(tunnel));
    tunnel.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    client.on('close', () => tunnel.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    ports,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
