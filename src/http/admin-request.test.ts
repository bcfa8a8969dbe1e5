import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestCa } from '../../test/support/tls.js';
import { ConfigError, UpstreamError } from '../errors.js';
import { adminRequest, adminUrl } from './admin-request.js';
import { Transport } from './transport.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// A port nothing listens on: below 1024, where no test binds, and never handed out as an ephemeral port.
const NOWHERE = '127.0.0.1:1';

async function unreachable(url: URL, transport?: Transport): Promise<string> {
  const err = await adminRequest(url, { method: 'GET', token: 'secret-token', transport }).then(
    () => assert.fail('answered'),
    (err: unknown) => err,
  );
  assert.ok(err instanceof UpstreamError, String(err));
  assert.equal(err.status, undefined, 'no status: nothing answered');
  assert.doesNotMatch(err.message, /secret-token/);
  return err.message;
}

describe('adminRequest', () => {
  let work: string;
  let plain: Server;
  let plainHost: string;
  let tls: Server;
  let tlsHost: string;
  let caFile: string;
  const seen: IncomingMessage[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-admin-request-'));
    const answer = (req: IncomingMessage, res: import('node:http').ServerResponse): void => {
      seen.push(req);
      req.resume();
      req.on('end', () => res.writeHead(403, { 'retry-after': '7' }).end('forbidden: not an admin token\n'));
    };
    plain = createServer(answer);
    plainHost = await listen(plain);
    const ca = await makeTestCa(work);
    caFile = ca.caFile;
    const served = await ca.issue('server', ['127.0.0.1']);
    tls = createTlsServer({ cert: served.cert, key: served.key }, answer);
    tlsHost = await listen(tls);
  });

  after(async () => {
    plain.closeAllConnections();
    tls.closeAllConnections();
    await new Promise((resolve) => plain.close(resolve));
    await new Promise((resolve) => tls.close(resolve));
    await rm(work, { recursive: true, force: true });
  });

  it('reads any answer whole, with its status and headers, the token in the Authorization header only', async () => {
    const url = adminUrl(`http://${plainHost}/base`, '/admin/gc');
    assert.equal(url.href, `http://${plainHost}/base/admin/gc`, 'a --server with a path keeps it');
    const answer = await adminRequest(url, { method: 'POST', token: 'secret-token', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.deepEqual([answer.status, answer.text, answer.headers['retry-after']], [403, 'forbidden: not an admin token\n', '7']);
    assert.equal(seen.at(-1)!.headers.authorization, 'Bearer secret-token');
    assert.equal(seen.at(-1)!.url, '/base/admin/gc');
  });

  it('a --server that is no http(s) URL is a ConfigError naming the setting', () => {
    assert.throws(() => adminUrl('not a url', '/admin/gc'), (err: Error) => err instanceof ConfigError && /^--server: invalid URL "not a url"$/.test(err.message));
    assert.throws(() => adminUrl('ftp://127.0.0.1/', '/admin/gc'), (err: Error) => err instanceof ConfigError && /^--server: must be an http or https URL, not ftp:/.test(err.message));
  });

  it('nothing listening: says the server cannot be reached, and asks whether godepot serve runs there', async () => {
    assert.equal(
      await unreachable(adminUrl(`http://${NOWHERE}`, '/admin/storage/versions')),
      `http://${NOWHERE} cannot be reached: connection refused: is godepot serve running, listening on ${NOWHERE}?`,
    );
  });

  it('an https server whose CA is not trusted: names SSL_CERT_FILE; trusted through it, it answers', async () => {
    const url = adminUrl(`https://${tlsHost}`, '/admin/storage/versions');
    assert.equal(await unreachable(url), `https://${tlsHost} cannot be reached: its certificate is not trusted: name its CA with SSL_CERT_FILE=ca.pem`);
    const transport = new Transport({ ca: [await readFile(caFile, 'utf8')] });
    try {
      assert.equal((await adminRequest(url, { method: 'GET', token: 't', transport })).status, 403);
    } finally {
      await transport.close();
    }
  });

  it('https:// to a plain http server, and http:// to an https one, fail with a reason instead of hanging', async () => {
    assert.equal(await unreachable(adminUrl(`https://${plainHost}`, '/admin/gc')), `https://${plainHost} cannot be reached: it does not speak TLS: use http://`);
    assert.equal(
      await unreachable(adminUrl(`http://${tlsHost}`, '/admin/gc')),
      `http://${tlsHost} cannot be reached: the connection was closed before an answer (if the server has TLS, use https://)`,
    );
  });

  it("the caller's abort is thrown as its reason, not as an unreachable server", async () => {
    const stop = new AbortController();
    const reason = new Error('stopped by the user');
    stop.abort(reason);
    await assert.rejects(adminRequest(adminUrl(`http://${plainHost}`, '/admin/gc'), { method: 'GET', token: 't', signal: stop.signal }), (err) => err === reason);
  });
});
