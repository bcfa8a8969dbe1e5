// Which outbound requests go through a proxy, by the rules of the go command itself (net/http's
// ProxyFromEnvironment, that is golang.org/x/net/http/httpproxy): HTTPS_PROXY for https targets,
// HTTP_PROXY for http ones, each upper-case name winning over its lower-case twin when set; a proxy
// given as `host:port` is reached over http; NO_PROXY lists what is reached directly; `localhost` and
// loopback addresses never go through a proxy. Where go silently ignores a proxy address it cannot
// parse (and then connects directly), godepot refuses to start: behind a corporate proxy a direct
// connection only hangs, and the reason would be hard to find.
import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { ConfigError } from '../errors.js';
import { redactUrl } from './redact.js';

/** The outbound proxy settings, as the environment gave them once checked; part of the frozen config. */
export interface OutboundProxySettings {
  /** Proxy URL for http:// targets (HTTP_PROXY, else http_proxy), credentials included, or null. */
  readonly http: string | null;
  /** Proxy URL for https:// targets (HTTPS_PROXY, else https_proxy), credentials included, or null. */
  readonly https: string | null;
  /** NO_PROXY, else no_proxy: comma-separated hosts, domains, IPs and CIDRs reached directly; `*` for all. */
  readonly noProxy: string;
}

/** No outbound proxy at all. */
export const NO_OUTBOUND_PROXY: OutboundProxySettings = Object.freeze({ http: null, https: null, noProxy: '' });

/** The settings as logs show them: proxy passwords replaced by `xxxxx`. */
export function redactProxySettings(settings: OutboundProxySettings): OutboundProxySettings {
  const redact = (proxy: string | null): string | null => (proxy === null ? null : redactUrl(new URL(proxy)));
  return { http: redact(settings.http), https: redact(settings.https), noProxy: settings.noProxy };
}

/** The first of `names` set to something other than the empty string, with its name (for error messages). */
function firstSet(env: Readonly<Record<string, string | undefined>>, names: readonly string[]): { name: string; value: string } | null {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { name, value };
  }
  return null;
}

/**
 * The settings of HTTP_PROXY, HTTPS_PROXY and NO_PROXY (or their lower-case names) in `env`, proxy
 * addresses normalised to URLs; throws ConfigError naming the variable (never its credentials) for an
 * address that is neither an http(s) URL nor `host[:port]`.
 */
export function outboundProxyFromEnv(env: Readonly<Record<string, string | undefined>>): OutboundProxySettings {
  const http = firstSet(env, ['HTTP_PROXY', 'http_proxy']);
  const https = firstSet(env, ['HTTPS_PROXY', 'https_proxy']);
  return Object.freeze({
    http: http === null ? null : parseProxyAddress(http.value, http.name),
    https: https === null ? null : parseProxyAddress(https.value, https.name),
    noProxy: firstSet(env, ['NO_PROXY', 'no_proxy'])?.value ?? '',
  });
}

/** `value` with what looks like credentials before an `@` replaced, for error messages. */
function redactAddress(value: string): string {
  return value.replace(/^((?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/)?[^/@]*@/, '$1xxxxx@');
}

/**
 * A proxy address as go's parseProxy reads it: a URL, or `host[:port]`, which is reached over http
 * (`proxy.corp:3128` is `http://proxy.corp:3128`). Returns the URL; throws ConfigError for anything
 * else, for a URL without a host, and for socks5, which godepot does not speak.
 */
export function parseProxyAddress(value: string, variable: string): string {
  const trimmed = value.trim();
  const url = tryUrl(trimmed.includes('://') ? trimmed : `http://${trimmed}`);
  const shown = JSON.stringify(redactAddress(trimmed));
  if (url === null || url.hostname === '') throw new ConfigError(`${variable}: invalid proxy address ${shown} (want http://[user:password@]host[:port] or host[:port])`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${variable}: proxy address ${shown}: only http and https proxies are supported`);
  return url.href;
}

function tryUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** `host:port`, `[v6]:port` or `v6-or-host` (no port: null), as net.SplitHostPort splits it. */
function splitHostPort(value: string): { host: string; port: string } | null {
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0 || value[end + 1] !== ':') return null;
    return { host: value.slice(1, end), port: value.slice(end + 2) };
  }
  const colon = value.lastIndexOf(':');
  if (colon < 0 || value.slice(0, colon).includes(':')) return null;
  return { host: value.slice(0, colon), port: value.slice(colon + 1) };
}

function family(ip: string): 'ipv4' | 'ipv6' {
  return isIP(ip) === 4 ? 'ipv4' : 'ipv6';
}

// 127.0.0.0/8 and ::1 (and IPv4-mapped forms of the first, which BlockList matches too).
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** One NO_PROXY entry: true when a request to host:port (ip: the host when it is an address) is direct. */
type Matcher = (host: string, port: string, ip: boolean) => boolean;

function cidrMatcher(entry: string): Matcher | null {
  const slash = entry.indexOf('/');
  if (slash < 0) return null;
  const address = entry.slice(0, slash);
  const bits = entry.slice(slash + 1);
  const kind = isIP(address);
  if (kind === 0 || !/^[0-9]{1,3}$/.test(bits) || Number(bits) > (kind === 4 ? 32 : 128)) return null;
  const list = new BlockList();
  list.addSubnet(address, Number(bits), family(address));
  return (host, _port, ip) => ip && list.check(host, family(host));
}

function ipMatcher(address: string, port: string): Matcher {
  const list = new BlockList();
  list.addAddress(address, family(address));
  return (host, requestPort, ip) => ip && list.check(host, family(host)) && (port === '' || port === requestPort);
}

function domainMatcher(name: string, port: string): Matcher {
  // `*.example.com` and `.example.com`: below the domain only; `example.com`: the domain and below it.
  let suffix = name.startsWith('*.') ? name.slice(1) : name;
  const matchHost = !suffix.startsWith('.');
  if (matchHost) suffix = '.' + suffix;
  if (/[^\x00-\x7f]/.test(suffix)) suffix = '.' + (domainToASCII(suffix.slice(1)) || suffix.slice(1));
  return (host, requestPort) => (host.endsWith(suffix) || (matchHost && host === suffix.slice(1))) && (port === '' || port === requestPort);
}

/** NO_PROXY as httpproxy reads it: best effort, malformed entries ignored; null for `*`, which matches everything. */
function parseNoProxy(noProxy: string): Matcher[] | null {
  const matchers: Matcher[] = [];
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return null;
    const cidr = cidrMatcher(entry);
    if (cidr !== null) {
      matchers.push(cidr);
      continue;
    }
    const split = splitHostPort(entry);
    const host = split?.host ?? entry;
    const port = split?.port ?? '';
    if (host === '') continue;
    matchers.push(isIP(host) !== 0 ? ipMatcher(host, port) : domainMatcher(host, port));
  }
  return matchers;
}

/** The outbound proxy settings compiled: which proxy, if any, a request goes through. */
export class ProxyRules {
  private readonly http: URL | null;
  private readonly https: URL | null;
  /** Null when NO_PROXY is `*`. */
  private readonly direct: Matcher[] | null;

  constructor(settings: OutboundProxySettings) {
    this.http = settings.http === null ? null : new URL(settings.http);
    this.https = settings.https === null ? null : new URL(settings.https);
    this.direct = parseNoProxy(settings.noProxy);
  }

  /** The proxy a request to `target` goes through (credentials included), or null for a direct connection. */
  proxyFor(target: URL): URL | null {
    const proxy = target.protocol === 'https:' ? this.https : target.protocol === 'http:' ? this.http : null;
    if (proxy === null || this.direct === null) return null;
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = target.port || (target.protocol === 'https:' ? '443' : '80');
    if (host === 'localhost') return null;
    const ip = isIP(host) !== 0;
    if (ip && loopback.check(host, family(host))) return null;
    return this.direct.some((matches) => matches(host, port, ip)) ? null : proxy;
  }
}
