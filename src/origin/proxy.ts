// One upstream GOPROXY as an Origin: cmd/go's proxyRepo, the escaping of its URLs, over the HTTP client
// in src/http (connections, timeouts, retries, limits, redirects, breakers, outbound proxies).
import type { Readable } from 'node:stream';
import { UpstreamClient, type UpstreamClientOptions } from '../http/upstream-client.js';
import { escapePath, escapeVersion } from '../module/path.js';
import type { Origin } from './origin.js';

/** Percent-escapes a URL path as go's modfetch pathEscape does (url.PathEscape, slashes kept). */
export function pathEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%(24|26|2B|3A|3D|40|2F)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Options of ProxyOrigin: one GOPROXY base URL and how patiently to talk to it. */
export type ProxyOriginOptions = UpstreamClientOptions;

/**
 * An Origin backed by one upstream GOPROXY URL (http or https). Paths and versions are !-escaped and
 * percent-escaped as go escapes them; see UpstreamClient for errors, limits, retries and redirects.
 */
export class ProxyOrigin implements Origin {
  readonly name: string;
  private readonly client: UpstreamClient;

  constructor(options: ProxyOriginOptions) {
    this.client = new UpstreamClient(options);
    this.name = this.client.name;
  }

  async list(modulePath: string, signal?: AbortSignal): Promise<string> {
    const body = await this.client.getBytes(`${pathEscape(escapePath(modulePath))}/@v/list`, 'list', signal);
    return body.toString('utf8');
  }

  latest(modulePath: string, signal?: AbortSignal): Promise<Buffer> {
    return this.client.getBytes(`${pathEscape(escapePath(modulePath))}/@latest`, 'latest', signal);
  }

  info(modulePath: string, query: string, signal?: AbortSignal): Promise<Buffer> {
    return this.client.getBytes(this.versionPath(modulePath, query, 'info'), 'info', signal);
  }

  mod(modulePath: string, version: string, signal?: AbortSignal): Promise<Buffer> {
    return this.client.getBytes(this.versionPath(modulePath, version, 'mod'), 'mod', signal);
  }

  zip(modulePath: string, version: string, signal?: AbortSignal): Promise<Readable> {
    return this.client.getStream(this.versionPath(modulePath, version, 'zip'), 'zip', signal);
  }

  /** Closes the connection pool. */
  close(): Promise<void> {
    return this.client.close();
  }

  private versionPath(modulePath: string, version: string, file: 'info' | 'mod' | 'zip'): string {
    return `${pathEscape(escapePath(modulePath))}/@v/${pathEscape(escapeVersion(version))}.${file}`;
  }
}
