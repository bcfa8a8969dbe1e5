import { outboundProxyFromEnv } from '../http/outbound-proxy.js';
import { Transport } from '../http/transport.js';
import { trustedRootsFromEnv } from '../http/trusted-roots.js';

/**
 * The connections a command makes to the running godepot its --server names: through the outbound
 * proxy the environment names, trusting SSL_CERT_FILE's roots when it is set (a server with a company
 * CA), as every request godepot makes. The caller closes it.
 */
export async function serverTransport(): Promise<Transport> {
  const trustedRoots = await trustedRootsFromEnv(process.env, process.cwd());
  return new Transport({ proxy: outboundProxyFromEnv(process.env), ...(trustedRoots === null ? {} : { ca: trustedRoots }) });
}
