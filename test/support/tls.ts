// A throw-away certificate authority and a server certificate it signed, made with the openssl command
// for one test run: what an https upstream behind an outbound proxy needs, trusted by a godepot process
// through NODE_EXTRA_CA_CERTS.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The files and PEM texts of a test CA and of a certificate for one host name. */
export interface TestCertificates {
  /** Path of the CA certificate (for NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /** The server's private key and certificate, PEM. */
  key: string;
  cert: string;
}

/** Makes, in `dir`, a CA valid for two days and a certificate for `hostname` that it signed. */
export async function makeTestCertificates(dir: string, hostname: string): Promise<TestCertificates> {
  const file = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=godepot test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  await run('openssl', ['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', `/CN=${hostname}`]);
  await writeFile(file('server.ext'), `subjectAltName=DNS:${hostname}\nextendedKeyUsage=serverAuth\n`);
  await run('openssl', ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem')]);
  return { caFile: file('ca.pem'), key: await readFile(file('server.key'), 'utf8'), cert: await readFile(file('server.pem'), 'utf8') };
}
