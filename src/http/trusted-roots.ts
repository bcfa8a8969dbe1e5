// The certificates https connections trust, as the go command's environment says. Go (crypto/x509 on
// Linux) reads the roots from SSL_CERT_FILE when it is set, and still from the system's certificate
// folder, so on Debian a private CA added there is trusted beside the usual ones. Node reads its own
// bundled roots and NODE_EXTRA_CA_CERTS; it knows nothing of SSL_CERT_FILE. So when SSL_CERT_FILE is set,
// godepot trusts Node's roots plus that file's certificates. Handing connections a list of roots
// replaces Node's store, NODE_EXTRA_CA_CERTS included, so that file's certificates are added too.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '../errors.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The PEM certificates in the file `variable` names; ConfigError naming the variable when it has none or one is not valid. */
async function certificatesOf(variable: string, file: string, cwd: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) throw new ConfigError(`${variable}: no PEM certificate in ${file}`);
  for (const [i, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new ConfigError(`${variable}: certificate ${i + 1} in ${file} is not valid: ${(err as Error).message}`, { cause: err });
    }
  }
  return certificates;
}

/**
 * The roots https connections are to trust instead of Node's default store: Node's bundled roots, the
 * certificates of SSL_CERT_FILE and those of NODE_EXTRA_CA_CERTS, when SSL_CERT_FILE is set; null (Node's
 * default store) when it is not. Relative paths are resolved against `cwd`. Throws ConfigError naming
 * the variable for a file that cannot be read or holds no valid certificate.
 */
export async function trustedRootsFromEnv(env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<readonly string[] | null> {
  const file = env.SSL_CERT_FILE;
  if (file === undefined || file === '') return null;
  const extra = env.NODE_EXTRA_CA_CERTS;
  return [
    ...rootCertificates,
    ...(await certificatesOf('SSL_CERT_FILE', file, cwd)),
    ...(extra === undefined || extra === '' ? [] : await certificatesOf('NODE_EXTRA_CA_CERTS', extra, cwd)),
  ];
}
