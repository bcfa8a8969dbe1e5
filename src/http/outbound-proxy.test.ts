import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { outboundProxyFromEnv, parseProxyAddress, ProxyRules, redactProxySettings, type OutboundProxySettings } from './outbound-proxy.js';

const HTTP = 'http://http.proxy:3128/';
const HTTPS = 'http://https.proxy:3129/';

/** The proxy ProxyRules picks for `target` with both proxies set and `noProxy`: 'http', 'https', or 'direct'. */
function via(noProxy: string, target: string): string {
  const settings: OutboundProxySettings = { http: HTTP, https: HTTPS, noProxy };
  const proxy = new ProxyRules(settings).proxyFor(new URL(target));
  return proxy === null ? 'direct' : proxy.href === HTTP ? 'http' : 'https';
}

describe('ProxyRules', () => {
  it('sends http targets to HTTP_PROXY and https targets to HTTPS_PROXY, never one for the other', () => {
    assert.equal(via('', 'http://example.com/x'), 'http');
    assert.equal(via('', 'https://example.com/x'), 'https');
    const httpOnly = new ProxyRules({ http: HTTP, https: null, noProxy: '' });
    assert.equal(httpOnly.proxyFor(new URL('https://example.com/')), null);
    assert.equal(httpOnly.proxyFor(new URL('http://example.com/'))?.href, HTTP);
    const httpsOnly = new ProxyRules({ http: null, https: HTTPS, noProxy: '' });
    assert.equal(httpsOnly.proxyFor(new URL('http://example.com/')), null);
  });

  it('never proxies localhost or a loopback address, whatever NO_PROXY says', () => {
    for (const target of ['http://localhost:3000/', 'https://localhost/', 'http://127.0.0.1:8080/', 'http://127.9.8.7/', 'https://[::1]:8443/', 'http://[::ffff:127.0.0.1]/']) {
      assert.equal(via('', target), 'direct', target);
    }
    assert.equal(via('', 'http://localhost.example.com/'), 'http');
    assert.equal(via('', 'http://128.0.0.1/'), 'http');
  });

  it('reads NO_PROXY as go does', () => {
    const table: Array<[noProxy: string, target: string, want: string]> = [
      ['*', 'https://example.com/', 'direct'],
      ['other.example, *', 'http://example.com/', 'direct'],
      // a domain: itself and everything below it, but not a longer name that ends the same
      ['example.com', 'https://example.com/', 'direct'],
      ['example.com', 'https://deep.sub.example.com/', 'direct'],
      ['example.com', 'https://notexample.com/', 'https'],
      // a leading dot or *.: only below it
      ['.example.com', 'https://example.com/', 'https'],
      ['.example.com', 'https://www.example.com/', 'direct'],
      ['*.example.com', 'https://example.com/', 'https'],
      ['*.example.com', 'https://www.example.com/', 'direct'],
      // a port: that port only, the scheme's default port counting
      ['example.com:8080', 'http://example.com:8080/', 'direct'],
      ['example.com:8080', 'http://example.com/', 'http'],
      ['example.com:443', 'https://example.com/', 'direct'],
      ['example.com:443', 'http://example.com/', 'http'],
      // addresses and networks
      ['10.0.0.0/8', 'http://10.20.30.40/', 'direct'],
      ['10.0.0.0/8', 'http://11.0.0.1/', 'http'],
      ['192.0.2.7', 'https://192.0.2.7/', 'direct'],
      ['192.0.2.7', 'https://192.0.2.8/', 'https'],
      ['192.0.2.7:443', 'https://192.0.2.7/', 'direct'],
      ['192.0.2.7:443', 'http://192.0.2.7/', 'http'],
      ['2001:db8::/32', 'https://[2001:db8:1::5]/', 'direct'],
      ['[2001:db8::1]:8443', 'https://[2001:db8::1]:8443/', 'direct'],
      ['2001:db8::1', 'https://[2001:db8:0:0::1]/', 'direct'],
      // an address entry never matches a name, nor a network entry a name
      ['192.0.2.7', 'https://host.example/', 'https'],
      // spaces, case, empty and malformed entries
      [' , Example.COM ,', 'https://www.example.com/', 'direct'],
      [':80', 'http://example.com/', 'http'],
      ['', 'http://example.com/', 'http'],
      // names in Unicode match their ASCII form
      ['bücher.example', 'https://www.xn--bcher-kva.example/', 'direct'],
    ];
    for (const [noProxy, target, want] of table) assert.equal(via(noProxy, target), want, `NO_PROXY=${JSON.stringify(noProxy)} ${target}`);
  });
});

describe('outboundProxyFromEnv', () => {
  it('takes the upper-case name when it is set and not empty, else the lower-case one', () => {
    assert.deepEqual(outboundProxyFromEnv({ HTTP_PROXY: 'http://a:1', http_proxy: 'http://b:2', https_proxy: 'http://c:3', NO_PROXY: '', no_proxy: 'x' }), {
      http: 'http://a:1/',
      https: 'http://c:3/',
      noProxy: 'x',
    });
    assert.deepEqual(outboundProxyFromEnv({}), { http: null, https: null, noProxy: '' });
    assert.ok(Object.isFrozen(outboundProxyFromEnv({})));
  });

  it('shows the settings without passwords', () => {
    assert.deepEqual(redactProxySettings(outboundProxyFromEnv({ HTTPS_PROXY: 'http://me:secret@proxy.corp:3128', NO_PROXY: '.corp' })), {
      http: null,
      https: 'http://me:xxxxx@proxy.corp:3128/',
      noProxy: '.corp',
    });
  });

  it('reads host:port as an http proxy, keeps credentials, refuses what is not an http(s) proxy', () => {
    assert.equal(parseProxyAddress('proxy.corp:3128', 'HTTP_PROXY'), 'http://proxy.corp:3128/');
    assert.equal(parseProxyAddress('127.0.0.1:8080', 'HTTP_PROXY'), 'http://127.0.0.1:8080/');
    assert.equal(parseProxyAddress('user:pa%40ss@proxy.corp', 'HTTP_PROXY'), 'http://user:pa%40ss@proxy.corp/');
    assert.equal(parseProxyAddress('https://proxy.corp', 'HTTPS_PROXY'), 'https://proxy.corp/');
    assert.throws(() => parseProxyAddress('socks5://proxy.corp:1080', 'HTTPS_PROXY'), (err: Error) => err instanceof ConfigError && /only http and https/.test(err.message));
    assert.throws(() => parseProxyAddress('http://', 'HTTP_PROXY'), ConfigError);
    assert.throws(
      () => parseProxyAddress('http://me:secret@[nope', 'https_proxy'),
      (err: Error) => err instanceof ConfigError && err.message.startsWith('https_proxy: ') && !err.message.includes('secret'),
    );
  });
});
