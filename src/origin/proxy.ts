// One upstream GOPROXY as an Origin: cmd/go's proxyRepo, the escaping of its URLs, over the HTTP client
// in src/http (connections, timeouts, retries, limits, redirects, breakers, outbound proxies).
import { pipeline } from 'node:stream/promises';
import { UpstreamClient, type UpstreamClientOptions } from '../http/upstream-client.js';
import { streamToNewFile } from '../stream-to-new-file.js';
import { escapePath, escapeVersion } from '../module/path.js';
import { downloadPart, type Download, type DownloadRequest, type Origin } from './origin.js';

/** Percent-escapes a URL path as go's modfetch pathEscape does (url.PathEscape, slashes kept). */
export function pathEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%(24|26|2B|3A|3D|40|2F)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The path of a GOPROXY file below a proxy's base URL, escaped as go escapes it (!-escaping, then
 * percent-escaping): `<module>/@v/list`, `<module>/@latest` or `<module>/@v/<version>.<file>`.
 */
export function proxyPath(modulePath: string, file: 'list' | 'latest'): string;
export function proxyPath(modulePath: string, file: 'info' | 'mod' | 'zip', version: string): string;
export function proxyPath(modulePath: string, file: 'list' | 'latest' | 'info' | 'mod' | 'zip', version?: string): string {
  const escapedPath = pathEscape(escapePath(modulePath));
  if (file === 'list') return `${escapedPath}/@v/list`;
  if (file === 'latest') return `${escapedPath}/@latest`;
  return `${escapedPath}/@v/${pathEscape(escapeVersion(version!))}.${file}`;
}

/** Options of ProxyOrigin: one GOPROXY base URL and how patiently to talk to it. */
export type ProxyOriginOptions = UpstreamClientOptions;

/**
 * An Origin backed by one upstream GOPROXY URL (http or https): a query is `@latest` or `@v/<query>.info`,
 * a download one GET per file, all at once, the zip streamed into its file. Paths and versions are
 * !-escaped and percent-escaped as go escapes them; see UpstreamClient for errors, limits, retries and
 * redirects.
 */
export class ProxyOrigin implements Origin {
  readonly name: string;
  private readonly client: UpstreamClient;

  constructor(options: ProxyOriginOptions) {
    this.client = new UpstreamClient(options);
    this.name = this.client.name;
  }

  async list(modulePath: string, signal?: AbortSignal): Promise<string[]> {
    const body = await this.client.getBytes(proxyPath(modulePath, 'list'), 'list', signal);
    // A line may carry more than the version (go reads only its first field).
    return body.toString('utf8').split('\n').flatMap((line) => line.trim().split(/\s+/, 1)).filter((version) => version !== '');
  }

  query(modulePath: string, query: string, signal?: AbortSignal): Promise<Buffer> {
    if (query === 'latest') return this.client.getBytes(proxyPath(modulePath, 'latest'), 'latest', signal);
    return this.client.getBytes(proxyPath(modulePath, 'info', query), 'info', signal);
  }

  download(modulePath: string, version: string, request: DownloadRequest, signal?: AbortSignal): Download {
    const download: Download = {};
    if (request.info === true) download.info = downloadPart(this.client.getBytes(proxyPath(modulePath, 'info', version), 'info', signal));
    if (request.mod === true) download.mod = downloadPart(this.client.getBytes(proxyPath(modulePath, 'mod', version), 'mod', signal));
    if (request.zipTo !== undefined) download.zip = downloadPart(this.writeZip(proxyPath(modulePath, 'zip', version), request.zipTo, signal));
    return download;
  }

  /** Closes the connection pool. */
  close(): Promise<void> {
    return this.client.close();
  }

  private async writeZip(relPath: string, file: string, signal: AbortSignal | undefined): Promise<number> {
    const body = await this.client.getStream(relPath, 'zip', signal);
    const out = await streamToNewFile(file, async (out) => (await pipeline(body, out, { signal }), out));
    return out.bytesWritten;
  }
}
