// Serving private modules to go needs TLS: go sends credentials (a GOPROXY URL's user information, or
// .netrc) only over https, and refuses to send them to a plain http URL. A test CA, a certificate for
// 127.0.0.1, and what a test needs to reach such a server: serve's flags, go's SSL_CERT_FILE, and an
// HTTP client trusting the CA.
import { mkdir, readFile } from 'node:fs/promises';
import { Agent, fetch as undiciFetch, type RequestInit, type Response } from 'undici';
import { makeTestCa } from './tls.js';

export interface TlsServing {
  /** `--tls-cert` and `--tls-key` for `godepot serve`. */
  args: string[];
  /** The CA's file, for go's SSL_CERT_FILE. */
  caFile: string;
  /** fetch, trusting the CA. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Makes a CA and a certificate for 127.0.0.1 in `dir`. */
export async function makeTlsServing(dir: string): Promise<TlsServing> {
  await mkdir(dir, { recursive: true });
  const ca = await makeTestCa(dir);
  const served = await ca.issue('godepot', ['127.0.0.1', 'localhost']);
  const dispatcher = new Agent({ connect: { ca: await readFile(ca.caFile, 'utf8') } });
  return {
    args: ['--tls-cert', served.certFile, '--tls-key', served.keyFile],
    caFile: ca.caFile,
    fetch: (url, init = {}) => undiciFetch(url, { ...init, dispatcher }),
    close: () => dispatcher.close(),
  };
}
