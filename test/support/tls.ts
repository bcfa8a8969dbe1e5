// Throw-away certificate authorities and server certificates they signed, made with the openssl command
// for one test run: what an https upstream behind an outbound proxy needs (trusted by a godepot process
// through NODE_EXTRA_CA_CERTS), and what `godepot serve --tls-cert --tls-key` serves to a go trusting
// the CA through SSL_CERT_FILE.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
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

/** A server certificate a test CA signed, in its files and as PEM. */
export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** As Node's X509Certificate and a TLS peer certificate tell it (upper-case hex): each certificate's own. */
  serialNumber: string;
}

/** A test CA, valid for two days. */
export interface TestCa {
  /** Path of the CA certificate (for NODE_EXTRA_CA_CERTS or SSL_CERT_FILE). */
  caFile: string;
  /** Signs a new key's certificate for `names` (host names and IP addresses) as `<file>.pem` and `<file>.key` in the CA's folder. */
  issue(file: string, names: readonly string[]): Promise<IssuedCertificate>;
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Makes a CA in `dir`, its files named after `name` (`<name>.pem`, `<name>.key`). */
export async function makeTestCa(dir: string, name = 'ca'): Promise<TestCa> {
  const file = (base: string): string => join(dir, base);
  const caFile = file(`${name}.pem`);
  const caKey = file(`${name}.key`);
  await run('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/CN=godepot test CA ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  return {
    caFile,
    async issue(base, names) {
      const san = names.map((n) => (isIP(n) === 0 ? `DNS:${n}` : `IP:${n}`)).join(',');
      await run('openssl', ['req', ...ec, '-keyout', file(`${base}.key`), '-out', file(`${base}.csr`), '-subj', `/CN=${names[0]}`]);
      await writeFile(file(`${base}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
      // -CAcreateserial starts the CA's serial file at a random number, and each certificate takes the next.
      await run('openssl', ['x509', '-req', '-in', file(`${base}.csr`), '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-extfile', file(`${base}.ext`), '-out', file(`${base}.pem`)]);
      const cert = await readFile(file(`${base}.pem`), 'utf8');
      return { certFile: file(`${base}.pem`), keyFile: file(`${base}.key`), cert, key: await readFile(file(`${base}.key`), 'utf8'), serialNumber: new X509Certificate(cert).serialNumber };
    },
  };
}

/** Makes, in `dir`, a CA valid for two days and a certificate for `hostname` that it signed. */
export async function makeTestCertificates(dir: string, hostname: string): Promise<TestCertificates> {
  const ca = await makeTestCa(dir);
  const server = await ca.issue('server', [hostname]);
  return { caFile: ca.caFile, key: server.key, cert: server.cert };
}
