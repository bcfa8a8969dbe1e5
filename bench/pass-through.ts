// The least a GOPROXY in front of another can do in Node: forward each GET to the upstream and stream
// the answer back, nothing checked or stored. bench/proxy runs it beside godepot as the floor of what a
// proxy written in Node adds to a cold fill on the machine at hand.
// Usage: node dist/bench/pass-through.js <upstream URL>; prints its own URL once it listens.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const upstream = process.argv[2];
if (upstream === undefined) throw new Error('usage: pass-through <upstream URL>');
const pool = new Pool(upstream, { connections: 16 });

const server = createServer((req, res) => {
  pool
    .request({ path: req.url ?? '/', method: 'GET' })
    .then(async (answer) => {
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'content-length']) {
        const value = answer.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      res.writeHead(answer.statusCode, headers);
      await pipeline(answer.body, res);
    })
    .catch(() => res.destroy());
});
server.listen(0, '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.close();
});
