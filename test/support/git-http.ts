// A git smart-HTTP server on 127.0.0.1 for tests: a node:http server that runs `git http-backend` as a
// CGI program for every request, the way a real git host answers `git ls-remote` and `git fetch` over
// HTTP. It keeps a log of what it was asked, can be stopped and started again on the same port (a git
// host that went down), and can be told to misbehave (hang, ask for credentials, deny a repository).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server does instead of answering a request with git. */
export type GitHttpFault =
  /** Never answer; the request stays open until the fault is cleared or the server stops. */
  | { kind: 'hang' }
  /** 401 with `WWW-Authenticate: Basic`: git asks for credentials (and fails without a prompt). */
  | { kind: 'unauthorized' }
  /** 404, as a host answers for a repository that does not exist or that it hides. */
  | { kind: 'not-found' }
  /** Any other status, with a short text body. */
  | { kind: 'status'; status: number };

/** One request the server received. */
export interface GitHttpRecord {
  method: string;
  /** The percent-decoded URL path, e.g. `/tags.git/info/refs`. */
  path: string;
  /** The query string without `?`, e.g. `service=git-upload-pack`. */
  query: string;
  /** The repository the path names, e.g. `tags.git` (the first path element). */
  repository: string;
  /** The `Git-Protocol` header (`version=2` when the client speaks protocol v2). */
  gitProtocol: string | undefined;
  /** The status answered; undefined while the request is under way or when it hangs. */
  status?: number;
  /** The fault applied instead of git, if any. */
  fault?: GitHttpFault['kind'];
  /** What `git http-backend` printed on stderr. */
  stderr: string;
}

/** A running smart-HTTP git server. */
export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`; the same after stop() and start(). */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order, faulted ones included. */
  readonly log: GitHttpRecord[];
  /** The URL git clones `<name>` from: `http://127.0.0.1:<port>/<name>.git`. */
  repoUrl(name: string): string;
  /**
   * From now on, answers requests for the repositories `match` accepts (all when absent) with `fault`,
   * `times` times (forever when absent); `undefined` clears every fault and lets hanging requests go
   * (their connections are closed).
   */
  fault(fault: GitHttpFault | undefined, options?: { match?: (repository: string) => boolean; times?: number }): void;
  /** Closes the listener and every open connection, ending any backend still running: the host is down. */
  stop(): Promise<void>;
  /** Listens again on the same port after stop(). */
  start(): Promise<void>;
  /** Whether it is listening now. */
  readonly listening: boolean;
}

/** How to start the server. */
export interface GitHttpOptions {
  /** The folder holding the bare repositories (`<root>/<name>.git`): http-backend's GIT_PROJECT_ROOT. */
  root: string;
  /** The port to listen on; a free one when absent. */
  port?: number;
  /**
   * Server-side git settings (`uploadpack.allowAnySHA1InWant: 'true'`), handed to http-backend through
   * GIT_CONFIG_COUNT; without them the backend runs with git's defaults and no user or system config.
   */
  gitConfig?: Record<string, string>;
}

interface ActiveFault {
  fault: GitHttpFault;
  match: (repository: string) => boolean;
  remaining: number;
}

/** The CGI environment of one request, as RFC 3875 and git-http-backend(1) name it. */
function cgiEnv(req: IncomingMessage, path: string, query: string, options: GitHttpOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // The backend reads no one's config but the settings given here.
    HOME: options.root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: options.root,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_SOFTWARE: 'godepot-test-git-http',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: path,
    QUERY_STRING: query,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  const type = req.headers['content-type'];
  if (type !== undefined) env.CONTENT_TYPE = type;
  const length = req.headers['content-length'];
  if (length !== undefined) env.CONTENT_LENGTH = length;
  // Every other header as HTTP_<NAME>: http-backend reads HTTP_GIT_PROTOCOL (protocol v2) and
  // HTTP_CONTENT_ENCODING (git gzips large fetch requests) from there.
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'content-type' || name === 'content-length' || value === undefined) continue;
    env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value) ? value.join(', ') : value;
  }
  const settings = Object.entries(options.gitConfig ?? {});
  env.GIT_CONFIG_COUNT = String(settings.length);
  settings.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/** Splits a CGI response head into the HTTP status and headers; the `Status:` header sets the status. */
function parseCgiHead(head: string): { status: number; headers: Array<[string, string]> } {
  let status = 200;
  const headers: Array<[string, string]> = [];
  for (const line of head.split(/\r?\n/)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed CGI header line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
    else headers.push([name, value]);
  }
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new Error(`malformed CGI status in ${JSON.stringify(head)}`);
  return { status, headers };
}

/** Where the CGI head ends in `data` (after the blank line), or -1 while it has not ended yet. */
function headEnd(data: Buffer): { head: number; body: number } | null {
  const crlf = data.indexOf('\r\n\r\n');
  const lf = data.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { head: crlf, body: crlf + 4 };
  if (lf >= 0) return { head: lf, body: lf + 2 };
  return null;
}

/** Starts the server on 127.0.0.1 (only there: the tests send no traffic anywhere else). */
export async function startGitHttpServer(options: GitHttpOptions): Promise<GitHttpServer> {
  const log: GitHttpRecord[] = [];
  const backends = new Set<ChildProcess>();
  const hanging = new Set<ServerResponse>();
  let faults: ActiveFault[] = [];

  const applyFault = (repository: string): GitHttpFault | undefined => {
    const active = faults.find((f) => f.remaining > 0 && f.match(repository));
    if (active === undefined) return undefined;
    active.remaining--;
    return active.fault;
  };

  const answerFault = (fault: GitHttpFault, record: GitHttpRecord, req: IncomingMessage, res: ServerResponse): void => {
    record.fault = fault.kind;
    // The request body is not wanted; reading it lets the client finish sending and read the answer.
    req.resume();
    if (fault.kind === 'hang') {
      hanging.add(res);
      res.once('close', () => hanging.delete(res));
      return;
    }
    const status = fault.kind === 'unauthorized' ? 401 : fault.kind === 'not-found' ? 404 : fault.status;
    record.status = status;
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    if (fault.kind === 'unauthorized') headers['www-authenticate'] = 'Basic realm="godepot-test-git"';
    res.writeHead(status, headers).end(`${status} (injected by the test git server)\n`);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const repository = path.split('/')[1] ?? '';
    const record: GitHttpRecord = {
      method: req.method ?? 'GET',
      path,
      query: url.search.slice(1),
      repository,
      gitProtocol: req.headers['git-protocol'] as string | undefined,
      stderr: '',
    };
    log.push(record);
    const fault = applyFault(repository);
    if (fault !== undefined) {
      answerFault(fault, record, req, res);
      return;
    }

    const child = spawn('git', ['http-backend'], { env: cgiEnv(req, path, record.query, options), stdio: ['pipe', 'pipe', 'pipe'] });
    backends.add(child);
    child.once('close', () => backends.delete(child));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => (record.stderr += text));
    // A client that goes away mid-answer must not leave a backend running (stop() relies on it too).
    res.once('close', () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    // The body streams to the backend as it arrives; the backend may stop reading early (EPIPE).
    child.stdin!.on('error', () => undefined);
    req.pipe(child.stdin!);

    let pending: Buffer = Buffer.alloc(0);
    let headSent = false;
    const fail = (why: string): void => {
      record.stderr += why;
      if (!res.headersSent) {
        record.status = 502;
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`git http-backend failed: ${why}\n`);
      } else res.destroy();
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      if (headSent) {
        // Back-pressure: a slow client slows the backend rather than filling this process's memory.
        if (!res.write(chunk)) {
          child.stdout!.pause();
          res.once('drain', () => child.stdout!.resume());
        }
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      const end = headEnd(pending);
      if (end === null) return;
      let parsed: ReturnType<typeof parseCgiHead>;
      try {
        parsed = parseCgiHead(pending.subarray(0, end.head).toString('latin1'));
      } catch (err) {
        child.kill('SIGKILL');
        fail((err as Error).message);
        return;
      }
      headSent = true;
      record.status = parsed.status;
      res.writeHead(parsed.status, parsed.headers.flat());
      const rest = pending.subarray(end.body);
      pending = Buffer.alloc(0);
      if (rest.length > 0) res.write(rest);
    });
    child.once('error', (err) => fail(err.message));
    child.once('close', (code, signal) => {
      if (headSent) res.end();
      else if (!res.writableEnded) fail(`exited with ${code ?? signal} before its headers`);
    });
  };

  const server: Server = createServer(handle);
  // Git's keep-alive connections would hold close() open forever.
  server.keepAliveTimeout = 1000;
  let port = options.port ?? 0;
  let listening = false;

  const listen = async (): Promise<void> => {
    if (listening) return;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;
    listening = true;
  };
  await listen();
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    log,
    repoUrl: (name) => `${url}/${name}.git`,
    get listening() {
      return listening;
    },
    fault(fault, faultOptions = {}) {
      if (fault === undefined) {
        faults = [];
        for (const res of hanging) res.destroy();
        return;
      }
      faults.push({ fault, match: faultOptions.match ?? (() => true), remaining: faultOptions.times ?? Infinity });
    },
    async stop() {
      if (!listening) return;
      listening = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const child of backends) child.kill('SIGKILL');
      await closed;
    },
    start: listen,
  };
}
