import '../../test/support/test-hosts.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startForwardProxy, type ForwardProxy } from '../../test/support/forward-proxy.js';
import { UpstreamError } from '../errors.js';
import { Transport } from '../http/transport.js';
import { uploadBundle } from './upload.js';

// A stand-in for a godepot receiving uploads: busy for the first `busy` ones (503, Retry-After: 1),
// then it reads the body and answers a report naming its size.
let server: Server;
let port: number;
let busy = 0;
const received: Array<{ bytes: number; authorization: string | undefined }> = [];
let dir: string;
let bundle: string;
let proxy: ForwardProxy;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'godepot-upload-'));
  bundle = join(dir, 'app.tar.gz');
  await writeFile(bundle, Buffer.alloc(50_000, 1));
  server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      if (busy > 0) {
        busy--;
        res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' }).end('busy: another bundle upload is being received\n');
        return;
      }
      received.push({ bytes, authorization: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ added: bytes, conflicts: [] }) + '\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  proxy = await startForwardProxy();
});

after(async () => {
  await proxy.stop();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

test('a server busy with another upload is asked again after its Retry-After, and the bundle sent whole each time', async () => {
  busy = 2;
  received.length = 0;
  const waits: number[] = [];
  const report = (await uploadBundle(bundle, `http://127.0.0.1:${port}`, 'secret-token-1234', { onBusy: (s) => waits.push(s) })) as unknown as { added: number };
  assert.deepEqual(waits, [1, 1]);
  assert.equal(report.added, 50_000);
  assert.deepEqual(received, [{ bytes: 50_000, authorization: 'Bearer secret-token-1234' }]);
  // Out of tries, the server's last word is the error.
  busy = 2;
  await assert.rejects(uploadBundle(bundle, `http://127.0.0.1:${port}`, 'secret-token-1234', { retries: 1 }), (err: Error) => err instanceof UpstreamError && err.status === 503 && /another bundle upload/.test(err.message));
  busy = 0;
});

test('goes through the outbound proxy the environment names', async () => {
  received.length = 0;
  const transport = new Transport({ proxy: { http: proxy.url, https: null, noProxy: '' } });
  try {
    // A name only the proxy can resolve: the upload cannot have gone around it.
    await uploadBundle(bundle, `http://uploads.godepot.test:${port}`, 'secret-token-1234', { transport });
  } finally {
    await transport.close();
  }
  assert.deepEqual(proxy.log.map((r) => [r.method, r.target]), [['POST', `http://uploads.godepot.test:${port}/admin/bundles`]]);
  assert.equal(received[0]?.bytes, 50_000);
});
