// Host names of the outbound-proxy tests (*.godepot.test) are never looked up in DNS: imported, or
// preloaded into a godepot process with `node --import` (testHostsModule), this module makes the
// process's dns.lookup answer them itself, with ENOTFOUND, or with 127.0.0.1 when the environment has
// GODEPOT_TEST_HOSTS=loopback (for requests meant to bypass the proxy). Other names are looked up as usual.
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import { fileURLToPath } from 'node:url';

/** The path to give `node --import` in a child process. */
export const testHostsModule = fileURLToPath(import.meta.url);

type Callback = (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;

const lookup = dns.lookup;
const patched = function (hostname: string, options: LookupOptions | number | Callback, callback?: Callback): void {
  const done = (typeof options === 'function' ? options : callback)!;
  const opts = typeof options === 'object' ? options : {};
  if (!hostname.toLowerCase().endsWith('.godepot.test')) {
    (lookup as (...args: unknown[]) => void).call(dns, hostname, options, callback);
    return;
  }
  if (process.env.GODEPOT_TEST_HOSTS !== 'loopback') {
    const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
    process.nextTick(done, err);
    return;
  }
  if (opts.all) process.nextTick(done, null, [{ address: '127.0.0.1', family: 4 }]);
  else process.nextTick(done, null, '127.0.0.1', 4);
};
(dns as { lookup: unknown }).lookup = patched;
