import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { after, test } from 'node:test';
import { makeTestCa } from '../../test/support/tls.js';
import { ConfigError } from '../errors.js';
import { loadConfig, type ConfigSources } from './load.js';
import { configKeys, parseListen } from './schema.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-config-'));
  dirs.push(dir);
  return dir;
}

/** Test config builder: nothing set unless said, cwd a fixed folder. */
function sources(over: Partial<ConfigSources> = {}): ConfigSources {
  return { flags: {}, env: {}, cwd: '/srv/work', ...over };
}

async function configError(s: ConfigSources): Promise<string> {
  try {
    await loadConfig(s);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('loadConfig accepted a bad configuration');
}

test('defaults: loopback port 3000, ./.godepot made absolute, proxy.golang.org then direct, sum.golang.org', async () => {
  const config = await loadConfig(sources());
  assert.deepEqual(config, {
    listen: { host: '127.0.0.1', port: 3000 },
    storage: '/srv/work/.godepot',
    upstream: 'https://proxy.golang.org,direct',
    private: [],
    noProxy: [],
    sumdb: 'sum.golang.org',
    noSumdb: [],
    sumdbHost: null,
    sumdbKey: null,
    listTtl: 60,
    prefetch: 4,
    upstreamTimeout: 30,
    upstreamMinRate: 64 << 10,
    outboundProxy: { http: null, https: null, noProxy: '' },
    trustedRoots: null,
    shutdownTimeout: 30,
    logLevel: 'info',
    logFormat: null,
    workers: 1,
    bundles: [],
    bundleKey: null,
    importToken: null,
    insecure: [],
    govcs: [],
    routes: [],
    stateDir: '/srv/work/.godepot-state',
    vcsConcurrency: 4,
    vcsTimeout: 300,
    publishToken: null,
    tokens: '/srv/work/.godepot-state/tokens.json',
    auditLog: '/srv/work/.godepot-state/audit.log',
    anonymous: 'read',
    metricsToken: null,
    rateLimit: { ratePerSecond: 1000, burst: 40000 },
    anonymousRateLimit: { ratePerSecond: 500, burst: 20000 },
    maxColdFetches: 64,
    maxUploadSize: 16 * 2 ** 30,
    maxPublishSize: 500 * 2 ** 20,
    tls: null,
    maxStorage: null,
    storageWarning: 90,
    gcOnFull: false,
    gcSchedule: null,
    gc: { unusedFor: null, olderThan: null, keepLatest: null, keep: [] },
  });
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.listen));
  assert.ok(Object.isFrozen(config.private));
  assert.ok(Object.isFrozen(config.outboundProxy));
});

test('upstream-min-rate: bytes per second, plain or with a binary unit, from any source', async () => {
  const rate = async (over: Partial<ConfigSources>): Promise<number> => (await loadConfig(sources(over))).upstreamMinRate;
  assert.equal(await rate({ flags: { 'upstream-min-rate': '65536' } }), 65536);
  assert.equal(await rate({ flags: { 'upstream-min-rate': '1MiB' } }), 1 << 20);
  assert.equal(await rate({ env: { GODEPOT_UPSTREAM_MIN_RATE: '1.5kib/s' } }), 1536);
  assert.equal(await rate({ env: { GODEPOT_UPSTREAM_MIN_RATE: '0' } }), 0);
  const dir = await tempDir();
  await writeFile(join(dir, 'rate.yaml'), 'upstream-min-rate: 2048\n');
  assert.equal(await rate({ flags: { config: join(dir, 'rate.yaml') } }), 2048);
  assert.equal(
    await configError(sources({ flags: { 'upstream-min-rate': '64KB' } })),
    '--upstream-min-rate: must be bytes per second, as 65536, 64KiB or 1MiB (0 for no minimum), not "64KB"',
  );
  await writeFile(join(dir, 'negative.yaml'), 'upstream-min-rate: -1\n');
  assert.match(await configError(sources({ flags: { config: join(dir, 'negative.yaml') } })), /^config file .*negative\.yaml: upstream-min-rate: must be bytes per second/);
});

test('outbound proxies: upper-case names win, a bare host:port is http, credentials never shown in errors', async () => {
  const proxy = async (env: Record<string, string>) => (await loadConfig(sources({ env }))).outboundProxy;
  assert.deepEqual(await proxy({ HTTP_PROXY: 'proxy.corp:3128', https_proxy: 'https://u:p@secure.corp', no_proxy: '.corp,10.0.0.0/8' }), {
    http: 'http://proxy.corp:3128/',
    https: 'https://u:p@secure.corp/',
    noProxy: '.corp,10.0.0.0/8',
  });
  assert.deepEqual(await proxy({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', NO_PROXY: '', no_proxy: 'lower' }), {
    http: null,
    https: 'http://upper:1/',
    noProxy: 'lower',
  });
  assert.equal(await configError(sources({ env: { https_proxy: 'socks5://user:secret@127.0.0.1:1080' } })), 'https_proxy: proxy address "socks5://xxxxx@127.0.0.1:1080": only http and https proxies are supported');
  assert.equal(await configError(sources({ env: { HTTP_PROXY: 'user:secret@[bad' } })), 'HTTP_PROXY: invalid proxy address "xxxxx@[bad" (want http://[user:password@]host[:port] or host[:port])');
});

test('SSL_CERT_FILE: its certificates trusted beside Node\'s roots (and NODE_EXTRA_CA_CERTS\'s, which a list of roots would drop); a file without any stops the start', async () => {
  const dir = await tempDir();
  const [one, two] = rootCertificates;
  await writeFile(join(dir, 'ca.pem'), `a bundle may have comments\n${one}\n`);
  await writeFile(join(dir, 'extra.pem'), `${two}\n`);
  await writeFile(join(dir, 'empty.pem'), 'nothing\n');
  await writeFile(join(dir, 'bad.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const roots = async (env: Record<string, string>) => (await loadConfig(sources({ env, cwd: dir }))).trustedRoots;
  assert.equal(await roots({ NODE_EXTRA_CA_CERTS: 'extra.pem' }), null, 'unset: Node\'s own store, NODE_EXTRA_CA_CERTS included');
  assert.deepEqual(await roots({ SSL_CERT_FILE: 'ca.pem' }), [...rootCertificates, one]);
  assert.deepEqual(await roots({ SSL_CERT_FILE: join(dir, 'ca.pem'), NODE_EXTRA_CA_CERTS: 'extra.pem' }), [...rootCertificates, one, two]);
  assert.ok(Object.isFrozen((await loadConfig(sources({ env: { SSL_CERT_FILE: 'ca.pem' }, cwd: dir }))).trustedRoots));
  assert.match(await configError(sources({ env: { SSL_CERT_FILE: 'missing.pem' }, cwd: dir })), /^SSL_CERT_FILE: cannot read missing\.pem: ENOENT/);
  assert.equal(await configError(sources({ env: { SSL_CERT_FILE: 'empty.pem' }, cwd: dir })), 'SSL_CERT_FILE: no PEM certificate in empty.pem');
  assert.match(await configError(sources({ env: { SSL_CERT_FILE: 'bad.pem' }, cwd: dir })), /^SSL_CERT_FILE: certificate 1 in bad\.pem is not valid: /);
  assert.match(await configError(sources({ env: { SSL_CERT_FILE: 'ca.pem', NODE_EXTRA_CA_CERTS: 'empty.pem' }, cwd: dir })), /^NODE_EXTRA_CA_CERTS: no PEM certificate in empty\.pem$/);
});

test('bundles: a list from a flag or file resolved against its source, a key path, and an import token of at least 16 characters', async () => {
  const dir = await tempDir();
  const other = await tempDir();
  for (const file of [join(dir, 'a.tar.gz'), join(other, 'b.tar.gz'), join(dir, 'k.pub')]) await writeFile(file, '');
  const config = await loadConfig(sources({ cwd: dir, flags: { bundle: `a.tar.gz, ${join(other, 'b.tar.gz')}`, 'bundle-key': 'k.pub', 'import-token': 'x'.repeat(16) } }));
  assert.deepEqual(config.bundles, [join(dir, 'a.tar.gz'), join(other, 'b.tar.gz')]);
  assert.equal(config.bundleKey, join(dir, 'k.pub'));
  assert.equal(config.importToken, 'x'.repeat(16));
  assert.equal(await configError(sources({ env: { GODEPOT_IMPORT_TOKEN: 'short' } })), 'GODEPOT_IMPORT_TOKEN: must be at least 16 characters');
});

test('a bundle or bundle key that is missing or not a file stops the start, naming the setting and where it came from', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'a.tar.gz'), '');
  await mkdir(join(dir, 'cfg'));
  await writeFile(join(dir, 'cfg', 'godepot.yaml'), 'bundle: [missing.tar.gz]\n');
  const cwd = dir;
  assert.equal(await configError(sources({ cwd, flags: { bundle: 'a.tar.gz,missing.gdb' } })), '--bundle: missing.gdb: no such file');
  assert.equal(await configError(sources({ cwd, env: { GODEPOT_BUNDLE: 'cfg' } })), 'GODEPOT_BUNDLE: cfg: not a file');
  assert.equal(await configError(sources({ cwd, flags: { bundle: 'a.tar.gz', 'bundle-key': join(dir, 'none.pub') } })), `--bundle-key: ${join(dir, 'none.pub')}: no such file`);
  assert.equal(
    await configError(sources({ cwd, flags: { config: join('cfg', 'godepot.yaml') } })),
    `config file ${join('cfg', 'godepot.yaml')}: bundle: missing.tar.gz (${join(dir, 'cfg', 'missing.tar.gz')}): no such file`,
  );
});

test('GOSUMDB is the default checksum database; GODEPOT_SUMDB and --sumdb override it', async () => {
  assert.equal((await loadConfig(sources({ env: { GOSUMDB: 'off' } }))).sumdb, 'off');
  assert.equal((await loadConfig(sources({ env: { GOSUMDB: 'off', GODEPOT_SUMDB: 'sum.golang.org' } }))).sumdb, 'sum.golang.org');
  assert.equal((await loadConfig(sources({ env: { GOSUMDB: 'sum.golang.org' }, flags: { sumdb: 'off' } }))).sumdb, 'off');
  assert.equal(await configError(sources({ env: { GOSUMDB: 'nonsense+1' } })), 'GOSUMDB: invalid GOSUMDB "nonsense+1": malformed verifier id');
});

test('nosumdb patterns and the hosted database: GODEPOT_NOSUMDB, --sumdb-host and --sumdb-key, relative to where they were given', async () => {
  const dir = await tempDir();
  const file = join(dir, 'godepot.yaml');
  await writeFile(file, ['nosumdb: ["*.corp.example", example.com/secret]', 'sumdb-host: sumdb.corp.example', 'sumdb-key: keys/sumdb.key', ''].join('\n'));
  const fromFile = await loadConfig(sources({ flags: { config: file } }));
  assert.deepEqual(fromFile.noSumdb, ['*.corp.example', 'example.com/secret']);
  assert.equal(fromFile.sumdbHost, 'sumdb.corp.example');
  assert.equal(fromFile.sumdbKey, join(dir, 'keys/sumdb.key'));

  const env = { GODEPOT_NOSUMDB: 'a.example,b.example/x', GODEPOT_SUMDB_HOST: 'sumdb.local:8443', GODEPOT_SUMDB_KEY: 'k' };
  const fromEnv = await loadConfig(sources({ env }));
  assert.deepEqual(fromEnv.noSumdb, ['a.example', 'b.example/x']);
  assert.equal(fromEnv.sumdbHost, 'sumdb.local:8443');
  assert.equal(fromEnv.sumdbKey, '/srv/work/k');

  // An empty flag turns hosting off again.
  const off = await loadConfig(sources({ env, flags: { 'sumdb-host': '', 'sumdb-key': '' } }));
  assert.deepEqual([off.sumdbHost, off.sumdbKey], [null, null]);
});

test('a hosted database needs its key, a valid host name, and a name other than the trusted database', async () => {
  assert.equal(await configError(sources({ flags: { 'sumdb-host': 'sumdb.example' } })), '--sumdb-host: needs sumdb-key too, the signer key file `godepot sumdb key generate` writes');
  assert.equal(await configError(sources({ env: { GODEPOT_SUMDB_KEY: 'k' } })), 'GODEPOT_SUMDB_KEY: needs sumdb-host too, the name of the database it signs for');
  for (const bad of ['Sumdb.example', 'sumdb.example/path', 'https://sumdb.example', 'sum db']) {
    assert.match(await configError(sources({ flags: { 'sumdb-host': bad, 'sumdb-key': 'k' } })), /^--sumdb-host: invalid checksum database name .*want a lower-case host name/, bad);
  }
  assert.equal(
    await configError(sources({ flags: { 'sumdb-host': 'sum.golang.org', 'sumdb-key': 'k' } })),
    '--sumdb-host: sum.golang.org is also the checksum database godepot trusts (default sumdb); a database cannot vouch for itself',
  );
  assert.equal(await configError(sources({ flags: { nosumdb: 'example.com/[' } })), '--nosumdb: malformed pattern "example.com/[": syntax error in pattern');
  assert.equal((await loadConfig(sources({ flags: { 'sumdb-host': 'sum.golang.org', 'sumdb-key': 'k', sumdb: 'off' } }))).sumdbHost, 'sum.golang.org');
});

test('workers: a count from 1 to 256 or auto (the cores available); more than one cannot host a checksum database', async () => {
  assert.equal((await loadConfig(sources({ flags: { workers: '4' } }))).workers, 4);
  assert.equal((await loadConfig(sources({ env: { GODEPOT_WORKERS: 'auto' } }))).workers, availableParallelism());
  for (const bad of ['0', '-1', '1.5', 'two', '257']) {
    assert.match(await configError(sources({ flags: { workers: bad } })), /^--workers: must be auto or a whole number from 1 to 256/, bad);
  }
  assert.equal(
    await configError(sources({ flags: { 'sumdb-host': 'sumdb.example', 'sumdb-key': 'k' }, env: { GODEPOT_WORKERS: '2' } })),
    'GODEPOT_WORKERS: 2 workers cannot host a checksum database (--sumdb-host); only one process may append its records, so serve it with workers 1',
  );
  assert.equal((await loadConfig(sources({ flags: { 'sumdb-host': 'sumdb.example', 'sumdb-key': 'k', workers: '1' } }))).workers, 1);
});

test('precedence: defaults < config file < GODEPOT_* < flags, key by key', async () => {
  const dir = await tempDir();
  const file = join(dir, 'godepot.yaml');
  await writeFile(
    file,
    ['listen: 127.0.0.1:4000', 'storage: data', 'upstream: http://file.example', 'private:', '  - "*.corp.example.com"', '  - example.com/priv', 'list-ttl: 5', 'log-level: warn', ''].join('\n'),
  );
  const fromFile = await loadConfig(sources({ flags: { config: file } }));
  assert.deepEqual(fromFile.listen, { host: '127.0.0.1', port: 4000 });
  // relative to the config file's folder, not the working folder
  assert.equal(fromFile.storage, join(dir, 'data'));
  assert.equal(fromFile.upstream, 'http://file.example');
  assert.deepEqual(fromFile.private, ['*.corp.example.com', 'example.com/priv']);
  assert.equal(fromFile.listTtl, 5);
  assert.equal(fromFile.logLevel, 'warn');
  assert.equal(fromFile.upstreamTimeout, 30);

  const env = { GODEPOT_CONFIG: file, GODEPOT_LISTEN: '127.0.0.1:5000', GODEPOT_STORAGE: 'envdata', GODEPOT_LIST_TTL: '7', GODEPOT_PRIVATE: '' };
  const fromEnv = await loadConfig(sources({ env }));
  assert.deepEqual(fromEnv.listen, { host: '127.0.0.1', port: 5000 });
  assert.equal(fromEnv.storage, '/srv/work/envdata');
  assert.equal(fromEnv.listTtl, 7);
  // an empty variable is an unset one
  assert.deepEqual(fromEnv.private, ['*.corp.example.com', 'example.com/priv']);
  assert.equal(fromEnv.upstream, 'http://file.example');

  const fromFlags = await loadConfig(sources({ env, flags: { listen: ':6000', 'list-ttl': '0', private: '', 'upstream-timeout': '2.5', prefetch: '0' } }));
  assert.deepEqual(fromFlags.listen, { host: '0.0.0.0', port: 6000 });
  assert.equal(fromFlags.listTtl, 0);
  assert.equal(fromFlags.prefetch, 0);
  // an empty flag is a value: no private patterns
  assert.deepEqual(fromFlags.private, []);
  assert.equal(fromFlags.upstreamTimeout, 2.5);
  assert.equal(fromFlags.storage, '/srv/work/envdata');

  // --config wins over GODEPOT_CONFIG
  const other = join(dir, 'other.json');
  await writeFile(other, JSON.stringify({ listen: '127.0.0.1:7000', private: 'a.example,b.example' }));
  const fromJson = await loadConfig(sources({ env: { GODEPOT_CONFIG: file }, flags: { config: other } }));
  assert.deepEqual(fromJson.listen, { host: '127.0.0.1', port: 7000 });
  assert.deepEqual(fromJson.private, ['a.example', 'b.example']);
  assert.equal(fromJson.listTtl, 60);
});

test('upstream: a list in the config file is the GOPROXY list of its items joined by commas; a flag or variable stays a string', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'list.yaml'), 'upstream:\n  - https://a.example\n  - b.example/proxy\n  - direct\n');
  await writeFile(join(dir, 'flow.yaml'), 'upstream: [https://a.example, "off"]\n');
  await writeFile(join(dir, 'string.yaml'), 'upstream: https://a.example|https://b.example,direct\n');
  const upstream = async (over: Partial<ConfigSources>): Promise<string> => (await loadConfig(sources(over))).upstream;
  assert.equal(await upstream({ flags: { config: join(dir, 'list.yaml') } }), 'https://a.example,b.example/proxy,direct');
  assert.equal(await upstream({ flags: { config: join(dir, 'flow.yaml') } }), 'https://a.example,off');
  assert.equal(await upstream({ flags: { config: join(dir, 'string.yaml') } }), 'https://a.example|https://b.example,direct');
  assert.equal(await upstream({ env: { GODEPOT_UPSTREAM: 'https://c.example,direct' } }), 'https://c.example,direct');

  const bad = async (name: string, text: string): Promise<string> => {
    await writeFile(join(dir, name), text);
    return configError(sources({ cwd: dir, flags: { config: name } }));
  };
  assert.equal(await bad('sep.yaml', 'upstream: [https://a.example, "https://b.example|direct"]\n'), 'config file sep.yaml: upstream: one proxy URL, direct or off per item, not "https://b.example|direct" (for | write the list as one string) (item 2)');
  assert.equal(await bad('empty-item.yaml', 'upstream: [https://a.example, ""]\n'), 'config file empty-item.yaml: upstream: must not be empty (item 2)');
  assert.equal(await bad('scheme.yaml', 'upstream: [ftp://a.example]\n'), 'config file scheme.yaml: upstream: invalid GOPROXY "ftp://a.example": invalid proxy URL scheme (must be https, http, file): ftp://a.example');
  assert.equal(await bad('none.yaml', 'upstream: []\n'), 'config file none.yaml: upstream: must not be empty');
  assert.equal(await bad('number.yaml', 'upstream: 3\n'), 'config file number.yaml: upstream: must be a GOPROXY string or a list of proxy URLs, direct and off');
});

test('errors name the setting and where the bad value came from', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'cfg'));
  const write = async (name: string, text: string): Promise<string> => {
    await writeFile(join(dir, name), text);
    return name;
  };
  const cwd = dir;
  const cases: Array<[ConfigSources, string]> = [
    [sources({ env: { GODEPOT_LISTEN: 'x' } }), 'GODEPOT_LISTEN: invalid listen address "x" (want HOST:PORT)'],
    [sources({ flags: { listen: '127.0.0.1:70000' } }), '--listen: invalid listen address "127.0.0.1:70000" (want HOST:PORT)'],
    [sources({ flags: { listen: 'bad host:80' } }), '--listen: invalid listen address "bad host:80" (want HOST:PORT)'],
    [sources({ flags: { upstream: 'ftp://x.example' } }), '--upstream: invalid GOPROXY "ftp://x.example": invalid proxy URL scheme (must be https, http, file): ftp://x.example'],
    [sources({ flags: { upstream: ' , ' } }), '--upstream: GOPROXY list "," contains no entries'],
    [sources({ env: { GODEPOT_PRIVATE: 'example.com/[' } }), 'GODEPOT_PRIVATE: malformed pattern "example.com/[": syntax error in pattern'],
    [sources({ flags: { sumdb: 'sum.example.org' } }), '--sumdb: invalid GOSUMDB "sum.example.org": malformed verifier id'],
    [sources({ flags: { 'list-ttl': 'soon' } }), '--list-ttl: must be a number of seconds'],
    [sources({ env: { GODEPOT_UPSTREAM_TIMEOUT: '0' } }), 'GODEPOT_UPSTREAM_TIMEOUT: must be more than 0'],
    [sources({ flags: { prefetch: 'many' } }), '--prefetch: must be a whole number'],
    [sources({ env: { GODEPOT_PREFETCH: '65' } }), 'GODEPOT_PREFETCH: must be at most 64'],
    [sources({ cwd, flags: { config: await write('prefetch.yaml', 'prefetch: 1.5\n') } }), 'config file prefetch.yaml: prefetch: must be a whole number'],
    [sources({ flags: { 'log-level': 'loud' } }), '--log-level: must be one of trace, debug, info, warn, error, fatal, silent'],
    [sources({ env: { GODEPOT_LOG_FORMAT: 'text' } }), 'GODEPOT_LOG_FORMAT: must be json or pretty'],
    [sources({ flags: { storage: '' } }), '--storage: must not be empty'],
    [sources({ cwd, flags: { config: await write('godepot.yaml', 'upstream: "gopher://x"\n') } }), 'config file godepot.yaml: upstream: invalid GOPROXY "gopher://x": invalid proxy URL scheme (must be https, http, file): gopher://x'],
    [sources({ cwd, flags: { config: await write('ttl.yaml', 'list-ttl: -1\n') } }), 'config file ttl.yaml: list-ttl: must be at least 0'],
    [sources({ cwd, flags: { config: await write('typo.yaml', 'listn: 1.2.3.4:5\n') } }), `config file typo.yaml: unknown setting "listn" (known: ${[...configKeys.filter((key) => !key.startsWith('gc.')), 'gc', 'rules'].join(', ')})`],
    [sources({ cwd, flags: { config: await write('list.yaml', '- a\n- b\n') } }), 'config file list.yaml: must be a mapping of setting names to values'],
    [sources({ cwd, flags: { config: await write('private.yaml', 'private: [1, 2]\n') } }), 'config file private.yaml: private: must be a string or a list of strings'],
    [sources({ cwd, flags: { config: await write('listen.yaml', 'listen: 3000\n') } }), 'config file listen.yaml: listen: must be a string'],
    // a bad value is an error even where a higher source overrides it
    [sources({ cwd, env: { GODEPOT_LISTEN: 'nope' }, flags: { listen: '127.0.0.1:1' } }), 'GODEPOT_LISTEN: invalid listen address "nope" (want HOST:PORT)'],
  ];
  for (const [s, message] of cases) assert.equal(await configError(s), message);

  assert.match(await configError(sources({ cwd, flags: { config: 'missing.yaml' } })), /^config file missing\.yaml: cannot read: ENOENT/);
  assert.match(await configError(sources({ cwd, flags: { config: await write('broken.yaml', 'listen: [\n') } })), /^config file broken\.yaml: not valid YAML or JSON: /);
  assert.deepEqual((await loadConfig(sources({ cwd, flags: { config: await write('empty.yaml', '') } }))).listen, { host: '127.0.0.1', port: 3000 });
});

test('listen addresses', () => {
  assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListen('localhost:8080'), { host: 'localhost', port: 8080 });
  assert.deepEqual(parseListen('[::1]:3000'), { host: '::1', port: 3000 });
  assert.deepEqual(parseListen(':3000'), { host: '0.0.0.0', port: 3000 });
  for (const bad of ['3000', '127.0.0.1', '127.0.0.1:', '127.0.0.1:x', '::1:3000', 'a/b:1', 'h:123456']) assert.equal(parseListen(bad), null, bad);
});

test('go environment defaults: GOPRIVATE, GONOSUMDB and GOINSECURE hold unless a file, GODEPOT_* variable or flag says otherwise', async () => {
  const goEnv = { GOPRIVATE: '*.corp.example,example.com/priv', GONOSUMDB: 'nosum.example', GOINSECURE: 'plain.example' };
  const fromGo = await loadConfig(sources({ env: goEnv }));
  assert.deepEqual(fromGo.private, ['*.corp.example', 'example.com/priv']);
  assert.deepEqual(fromGo.noSumdb, ['nosum.example']);
  assert.deepEqual(fromGo.insecure, ['plain.example']);
  assert.deepEqual(fromGo.routes, [{ match: ['*.corp.example', 'example.com/priv'], route: 'direct', sumdb: false, source: 'GOPRIVATE' }]);

  const dir = await tempDir();
  const file = join(dir, 'godepot.yaml');
  await writeFile(file, 'private: file.example\ninsecure: [file-plain.example]\n');
  const fromFile = await loadConfig(sources({ env: goEnv, flags: { config: file } }));
  assert.deepEqual(fromFile.private, ['file.example']);
  assert.deepEqual(fromFile.insecure, ['file-plain.example']);
  assert.deepEqual(fromFile.noSumdb, ['nosum.example']);
  assert.equal(fromFile.routes[0]?.source, `config file ${file}: private`);

  const fromEnv = await loadConfig(sources({ env: { ...goEnv, GODEPOT_PRIVATE: 'env.example', GODEPOT_NOSUMDB: 'envsum.example', GODEPOT_INSECURE: 'env-plain.example' }, flags: { config: file } }));
  assert.deepEqual([fromEnv.private, fromEnv.noSumdb, fromEnv.insecure], [['env.example'], ['envsum.example'], ['env-plain.example']]);
  assert.equal(fromEnv.routes[0]?.source, 'GODEPOT_PRIVATE');

  const fromFlags = await loadConfig(sources({ env: { ...goEnv, GODEPOT_PRIVATE: 'env.example' }, flags: { private: 'flag.example', nosumdb: '', insecure: 'flag-plain.example' } }));
  assert.deepEqual([fromFlags.private, fromFlags.noSumdb, fromFlags.insecure], [['flag.example'], [], ['flag-plain.example']]);
  assert.equal(fromFlags.routes[0]?.source, '--private');
  // An empty --private is a value: no private patterns, so no implicit rule.
  assert.deepEqual((await loadConfig(sources({ env: goEnv, flags: { private: '' } }))).routes, []);
  // An empty go variable is an unset one, as go treats it.
  assert.deepEqual((await loadConfig(sources({ env: { GOPRIVATE: '' } }))).private, []);

  assert.equal(await configError(sources({ env: { GOPRIVATE: 'example.com/[' } })), 'GOPRIVATE: malformed pattern "example.com/[": syntax error in pattern');
  assert.equal(await configError(sources({ env: { GOINSECURE: 'a\\' } })), 'GOINSECURE: malformed pattern "a\\\\": syntax error in pattern');
});

test('GONOPROXY adds direct routes after the private ones; GOVCS is parsed as go parses it', async () => {
  const config = await loadConfig(sources({ env: { GOPRIVATE: 'corp.example', GONOPROXY: 'github.com/corp/*, gitlab.example ', GOVCS: 'github.com:git,evil.example:off' } }));
  assert.deepEqual(config.noProxy, ['github.com/corp/*', 'gitlab.example']);
  assert.deepEqual(config.routes, [
    { match: ['corp.example'], route: 'direct', sumdb: false, source: 'GOPRIVATE' },
    { match: ['github.com/corp/*', 'gitlab.example'], route: 'direct', sumdb: true, source: 'GONOPROXY' },
  ]);
  assert.deepEqual(config.govcs, [
    { pattern: 'github.com', allowed: ['git'] },
    { pattern: 'evil.example', allowed: ['off'] },
  ]);
  assert.equal(await configError(sources({ env: { GONOPROXY: 'a[' } })), 'GONOPROXY: malformed pattern "a[": syntax error in pattern');
  assert.equal(await configError(sources({ env: { GOVCS: 'github.com' } })), 'GOVCS: malformed entry in GOVCS (missing colon): "github.com"');
});

test('state-dir, vcs-concurrency and publish-token: defaults, every source, and their checks', async () => {
  const dir = await tempDir();
  const file = join(dir, 'godepot.yaml');
  await writeFile(file, 'state-dir: state\nvcs-concurrency: 2\npublish-token: file-token-0123456789\n');
  const fromFile = await loadConfig(sources({ flags: { config: file } }));
  // relative to the config file's folder, as storage is
  assert.equal(fromFile.stateDir, join(dir, 'state'));
  assert.equal(fromFile.vcsConcurrency, 2);
  assert.equal(fromFile.publishToken, 'file-token-0123456789');

  const env = { GODEPOT_CONFIG: file, GODEPOT_STATE_DIR: '/var/lib/godepot', GODEPOT_VCS_CONCURRENCY: '8', GODEPOT_PUBLISH_TOKEN: 'env-token-0123456789' };
  const fromEnv = await loadConfig(sources({ env }));
  assert.deepEqual([fromEnv.stateDir, fromEnv.vcsConcurrency, fromEnv.publishToken], ['/var/lib/godepot', 8, 'env-token-0123456789']);

  const fromFlags = await loadConfig(sources({ env, flags: { 'state-dir': 'st', 'vcs-concurrency': '1', 'publish-token': '' } }));
  assert.deepEqual([fromFlags.stateDir, fromFlags.vcsConcurrency, fromFlags.publishToken], ['/srv/work/st', 1, null]);

  // Storage inside the state folder is a fine layout; the state inside storage is not.
  assert.equal((await loadConfig(sources({ flags: { 'state-dir': '/var/lib/godepot', storage: '/var/lib/godepot/modules' } }))).storage, '/var/lib/godepot/modules');
  assert.equal(
    await configError(sources({ flags: { storage: '/srv/modules' }, env: { GODEPOT_STATE_DIR: '/srv/modules/state' } })),
    "GODEPOT_STATE_DIR: /srv/modules/state is inside the storage folder /srv/modules (--storage); godepot's own state must live outside the modules it serves",
  );
  assert.match(await configError(sources({ flags: { storage: 'same', 'state-dir': './same/' } })), /^--state-dir: \/srv\/work\/same is inside the storage folder \/srv\/work\/same \(--storage\)/);
  assert.equal((await loadConfig(sources({ flags: { storage: 'mods', 'state-dir': 'mods-state' } }))).stateDir, '/srv/work/mods-state');

  assert.equal(await configError(sources({ flags: { 'vcs-concurrency': '0' } })), '--vcs-concurrency: must be at least 1');
  assert.equal(await configError(sources({ env: { GODEPOT_VCS_CONCURRENCY: 'lots' } })), 'GODEPOT_VCS_CONCURRENCY: must be a whole number');
  assert.equal(await configError(sources({ flags: { 'publish-token': 'short' } })), '--publish-token: must be at least 16 characters');
});

test('access control: tokens and audit log in the state folder unless set, never inside storage; anonymous, metrics token, rates and sizes', async () => {
  const moved = await loadConfig(sources({ flags: { 'state-dir': '/var/lib/godepot' } }));
  assert.deepEqual([moved.tokens, moved.auditLog], ['/var/lib/godepot/tokens.json', '/var/lib/godepot/audit.log']);
  const given = await loadConfig(sources({ flags: { tokens: 'etc/tokens.json' }, env: { GODEPOT_AUDIT_LOG: '/var/log/godepot/audit.log' } }));
  assert.deepEqual([given.tokens, given.auditLog], ['/srv/work/etc/tokens.json', '/var/log/godepot/audit.log']);
  assert.match(await configError(sources({ flags: { storage: '/srv/modules', 'audit-log': '/srv/modules/audit.log' } })), /^--audit-log: \/srv\/modules\/audit.log is inside the storage folder/);
  assert.match(await configError(sources({ env: { GODEPOT_TOKENS: '.godepot/tokens.json' } })), /^GODEPOT_TOKENS: \/srv\/work\/.godepot\/tokens.json is inside the storage folder/);

  assert.equal((await loadConfig(sources({ env: { GODEPOT_ANONYMOUS: 'none' } }))).anonymous, 'none');
  assert.equal(await configError(sources({ flags: { anonymous: 'write' } })), '--anonymous: must be read or none');
  assert.equal((await loadConfig(sources({ flags: { 'metrics-token': 'scrape-token-0123456789' } }))).metricsToken, 'scrape-token-0123456789');
  assert.equal(await configError(sources({ flags: { 'metrics-token': 'short' } })), '--metrics-token: must be at least 16 characters');

  const rates = async (value: string) => (await loadConfig(sources({ flags: { 'rate-limit': value } }))).rateLimit;
  assert.deepEqual(await rates('50'), { ratePerSecond: 50, burst: 2000 });
  assert.deepEqual(await rates('2.5:10'), { ratePerSecond: 2.5, burst: 10 });
  assert.equal(await rates('off'), null);
  assert.equal(await rates('0'), null);
  assert.match(await configError(sources({ flags: { 'anonymous-rate-limit': 'fast' } })), /^--anonymous-rate-limit: must be requests per second as RATE or RATE:BURST/);
  assert.match(await configError(sources({ flags: { 'rate-limit': '10:0' } })), /^--rate-limit: must be requests per second/);

  assert.equal((await loadConfig(sources({ flags: { 'max-cold-fetches': '0' } }))).maxColdFetches, 0);
  const upload = async (value: string) => (await loadConfig(sources({ flags: { 'max-upload-size': value } }))).maxUploadSize;
  assert.deepEqual([await upload('500MiB'), await upload('2GB'), await upload('1048576')], [500 * 2 ** 20, 2e9, 1048576]);
  assert.match(await configError(sources({ flags: { 'max-upload-size': '0' } })), /^--max-upload-size: must be a size in bytes/);
  assert.match(await configError(sources({ flags: { 'max-upload-size': 'big' } })), /^--max-upload-size: must be a size in bytes/);
  assert.equal((await loadConfig(sources({ flags: { 'max-publish-size': '10MiB' } }))).maxPublishSize, 10 * 2 ** 20);
  assert.match(await configError(sources({ flags: { 'max-publish-size': '600MiB' } })), /^--max-publish-size: must be at most 500MiB/);
});

test('retention: the gc mapping of the file, GODEPOT_GC_* variables and flags, key by key; serve runs it only with a condition', async () => {
  const dir = await tempDir();
  const file = join(dir, 'godepot.yaml');
  await writeFile(file, 'gc:\n  unusedFor: 30\n  keepLatest: 3\n  keep: [go.sum, ../deps.tar.gz]\ngc-schedule: daily\nmax-storage: 10GiB\ngc-on-full: true\n');
  const fromFile = await loadConfig(sources({ flags: { config: file } }));
  assert.deepEqual(fromFile.gc, { unusedFor: 30, olderThan: null, keepLatest: 3, keep: [join(dir, 'go.sum'), join(dir, '..', 'deps.tar.gz')] });
  assert.deepEqual([fromFile.gcSchedule, fromFile.maxStorage, fromFile.gcOnFull, fromFile.storageWarning], [86_400_000, 10 * 2 ** 30, true, 90]);
  // A flag changes its own key; the file's others stand.
  const over = await loadConfig(sources({ flags: { config: file, 'gc.unusedFor': '7', 'gc.keep': 'a.sum' }, env: { GODEPOT_GC_OLDER_THAN: '90', GODEPOT_STORAGE_WARNING: '75' } }));
  assert.deepEqual(over.gc, { unusedFor: 7, olderThan: 90, keepLatest: 3, keep: ['/srv/work/a.sum'] });
  assert.equal(over.storageWarning, 75);

  const schedule = async (value: string) => (await loadConfig(sources({ flags: { 'gc-schedule': value, 'gc.olderThan': '1' } }))).gcSchedule;
  assert.deepEqual([await schedule('30m'), await schedule('6h'), await schedule('7d'), await schedule('hourly'), await schedule('weekly'), await schedule('off')], [1_800_000, 21_600_000, 604_800_000, 3_600_000, 604_800_000, null]);
  const sizes = async (value: string) => (await loadConfig(sources({ flags: { 'max-storage': value } }))).maxStorage;
  assert.deepEqual([await sizes('1500'), await sizes('2KB'), await sizes('2KiB'), await sizes('3MB'), await sizes('3MiB'), await sizes('1GB'), await sizes('1GiB')], [1500, 2000, 2048, 3e6, 3 * 2 ** 20, 1e9, 2 ** 30]);

  const cases: Array<[ConfigSources, string | RegExp]> = [
    [sources({ flags: { 'gc-schedule': 'daily' } }), /^--gc-schedule: needs a retention condition: gc\.unusedFor, gc\.olderThan or gc\.keepLatest/],
    [sources({ flags: { 'gc-on-full': 'true', 'max-storage': '1GB' } }), /^--gc-on-full: needs a retention condition/],
    [sources({ flags: { 'gc-on-full': 'true', 'gc.keepLatest': '2' } }), '--gc-on-full: needs max-storage too, the limit at which retention runs'],
    [sources({ flags: { 'gc-schedule': 'sometimes', 'gc.olderThan': '1' } }), '--gc-schedule: must be off, hourly, daily, weekly or an interval such as 30m, 6h or 7d, not "sometimes"'],
    [sources({ flags: { 'gc.unusedFor': '-1' } }), '--unused-for: must be a whole number'],
    [sources({ env: { GODEPOT_GC_KEEP_LATEST: 'two' } }), 'GODEPOT_GC_KEEP_LATEST: must be a whole number'],
    [sources({ flags: { 'max-storage': '10 parsecs' } }), /^--max-storage: must be a size in bytes, as 1073741824, 500MiB or 2GB/],
    [sources({ flags: { 'storage-warning': '120' } }), '--storage-warning: must be at most 100'],
    [sources({ env: { GODEPOT_GC_ON_FULL: 'yes' } }), 'GODEPOT_GC_ON_FULL: must be true or false'],
    [sources({ cwd: dir, flags: { config: await writeIn(dir, 'typo.yaml', 'gc:\n  unusedFr: 3\n') } }), 'config file typo.yaml: gc: unknown setting "unusedFr" (known: unusedFor, olderThan, keepLatest, keep)'],
    [sources({ cwd: dir, flags: { config: await writeIn(dir, 'flat.yaml', 'gc.unusedFor: 3\n') } }), /^config file flat\.yaml: unknown setting "gc\.unusedFor"/],
    [sources({ cwd: dir, flags: { config: await writeIn(dir, 'list.yaml', 'gc: [1]\n') } }), 'config file list.yaml: gc: must be a mapping of unusedFor, olderThan, keepLatest, keep'],
    [sources({ cwd: dir, flags: { config: await writeIn(dir, 'days.yaml', 'gc:\n  olderThan: 1.5\n') } }), 'config file days.yaml: gc.olderThan: must be a whole number'],
  ];
  for (const [s, message] of cases) {
    if (typeof message === 'string') assert.equal(await configError(s), message);
    else assert.match(await configError(s), message);
  }
});

async function writeIn(dir: string, name: string, text: string): Promise<string> {
  await writeFile(join(dir, name), text);
  return name;
}

test('rules: read from the config file in order, before the private and GONOPROXY routes, with sumdb defaults per route', async () => {
  const dir = await tempDir();
  const file = join(dir, 'godepot.yaml');
  await writeFile(
    file,
    [
      'private: corp.example.com',
      'rules:',
      '  - match: "corp.example.com/published/*"',
      '    route: hosted',
      '  - match: ["corp.example.com/*", "*.corp.example.com"]',
      '    route: direct',
      '    sumdb: false',
      '  - match: evil.example.com,bad.example.com',
      '    route: deny',
      '  - match: github.com/corp',
      '    route: upstream',
      '',
    ].join('\n'),
  );
  const config = await loadConfig(sources({ flags: { config: file }, env: { GONOPROXY: 'gitlab.example' } }));
  const label = `config file ${file}`;
  assert.deepEqual(config.routes, [
    { match: ['corp.example.com/published/*'], route: 'hosted', sumdb: false, source: `${label}: rule 1` },
    { match: ['corp.example.com/*', '*.corp.example.com'], route: 'direct', sumdb: false, source: `${label}: rule 2` },
    { match: ['evil.example.com', 'bad.example.com'], route: 'deny', sumdb: false, source: `${label}: rule 3` },
    { match: ['github.com/corp'], route: 'upstream', sumdb: true, source: `${label}: rule 4` },
    { match: ['corp.example.com'], route: 'direct', sumdb: false, source: `${label}: private` },
    { match: ['gitlab.example'], route: 'direct', sumdb: true, source: 'GONOPROXY' },
  ]);
  assert.ok(Object.isFrozen(config.routes[0]));
  assert.ok(Object.isFrozen(config.routes[0]?.match));
  // A hosted rule may ask the database after all.
  await writeFile(file, 'rules:\n  - match: pub.example\n    route: hosted\n    sumdb: true\n');
  assert.equal((await loadConfig(sources({ flags: { config: file } }))).routes[0]?.sumdb, true);
});

test('a bad rule, a bad pattern or a rule that can never match stops the start, naming the rule and its source', async () => {
  const dir = await tempDir();
  const write = async (name: string, lines: string[]): Promise<ConfigSources> => {
    await writeFile(join(dir, name), lines.join('\n') + '\n');
    return sources({ cwd: dir, flags: { config: name } });
  };
  const cases: Array<[ConfigSources, string]> = [
    [
      await write('shadowed.yaml', ['rules:', '  - match: "corp.example.com/*"', '    route: direct', '    sumdb: false', '  - match: "corp.example.com/published/*"', '    route: hosted']),
      'config file shadowed.yaml: rule 2 (match "corp.example.com/published/*"): can never match: every module path it matches is taken first by config file shadowed.yaml: rule 1 (match "corp.example.com/*"); move it before, or remove it',
    ],
    [
      await write('same.yaml', ['rules:', '  - match: evil.example.com', '    route: deny', '  - match: a.example,evil.example.com', '    route: upstream', '  - match: evil.example.com/x', '    route: direct']),
      'config file same.yaml: rule 3 (match "evil.example.com/x"): can never match: every module path it matches is taken first by config file same.yaml: rule 1 (match "evil.example.com"); move it before, or remove it',
    ],
    [
      await write('split.yaml', ['rules:', '  - match: a.example', '    route: deny', '  - match: "*.b.example"', '    route: direct', '  - match: a.example/x,x.b.example', '    route: upstream']),
      'config file split.yaml: rule 3 (match "a.example/x,x.b.example"): can never match: every module path it matches is taken first by config file split.yaml: rule 1 (match "a.example") and config file split.yaml: rule 2 (match "*.b.example"); move it before, or remove it',
    ],
    [
      await write('catchall.yaml', ['rules:', '  - match: "*"', '    route: upstream', '  - match: anything.example', '    route: deny']),
      'config file catchall.yaml: rule 2 (match "anything.example"): can never match: every module path it matches is taken first by config file catchall.yaml: rule 1 (match "*"); move it before, or remove it',
    ],
    [
      await write('empty-element.yaml', ['rules:', '  - match: "example.com//x"', '    route: deny']),
      'config file empty-element.yaml: rule 1 (match "example.com//x"): can never match: its patterns have an empty path element, and module paths have none',
    ],
    [await write('badglob.yaml', ['rules:', '  - match: "example.com/["', '    route: deny']), 'config file badglob.yaml: rule 1: match: malformed pattern "example.com/[": syntax error in pattern'],
    [await write('noroute.yaml', ['rules:', '  - match: example.com']), 'config file noroute.yaml: rule 1: route: must be one of upstream, direct, hosted, deny'],
    [await write('badroute.yaml', ['rules:', '  - match: example.com', '    route: proxy']), 'config file badroute.yaml: rule 1: route: must be one of upstream, direct, hosted, deny'],
    [await write('nomatch.yaml', ['rules:', '  - route: deny']), 'config file nomatch.yaml: rule 1: match: must be a string or a list of strings'],
    [await write('emptymatch.yaml', ['rules:', '  - match: " , "', '    route: deny']), 'config file emptymatch.yaml: rule 1: match: must name at least one pattern'],
    [await write('sumdbtype.yaml', ['rules:', '  - match: a.example', '    route: direct', '    sumdb: "no"']), 'config file sumdbtype.yaml: rule 1: sumdb: must be true or false'],
    [await write('denysumdb.yaml', ['rules:', '  - match: a.example', '    route: deny', '    sumdb: false']), 'config file denysumdb.yaml: rule 1: sumdb: a deny rule takes none (its modules are never looked up)'],
    [await write('extra.yaml', ['rules:', '  - match: a.example', '    route: direct', '    via: git']), 'config file extra.yaml: rule 1: unknown key "via" (known: match, route, sumdb)'],
    [await write('scalar.yaml', ['rules:', '  - a.example']), 'config file scalar.yaml: rule 1: must be a mapping of match, route and sumdb'],
    [await write('notalist.yaml', ['rules: a.example']), 'config file notalist.yaml: rules: must be a list of rules, each with match, route and optionally sumdb'],
  ];
  for (const [s, message] of cases) assert.equal(await configError(s), message);

  // Overlapping but not covered: a narrower rule first, or a glob that covers only part of a later one.
  const fine = await write('fine.yaml', [
    'rules:',
    '  - match: "corp.example.com/published/*"',
    '    route: hosted',
    '  - match: "corp.example.com/*"',
    '    route: direct',
    '  - match: "corp.example.com"',
    '    route: deny',
    '  - match: "*.example.org"',
    '    route: direct',
    '  - match: "[a-m]*.example.net"',
    '    route: deny',
    '  - match: "*.example.net"',
    '    route: direct',
  ]);
  assert.equal((await loadConfig(fine)).routes.length, 6);
  // Implicit rules are never refused: GOPRIVATE is often set for go itself, and the file's rules refine it.
  const refined = await write('refined.yaml', ['rules:', '  - match: "corp.example.com/*"', '    route: direct']);
  assert.equal((await loadConfig({ ...refined, env: { GOPRIVATE: 'corp.example.com' } })).routes.length, 2);
});

test('tls-cert and tls-key: both or neither, relative to where they were given, and a PEM certificate with its own key at start', async () => {
  const dir = await tempDir();
  const ca = await makeTestCa(dir);
  const one = await ca.issue('one', ['127.0.0.1', 'localhost']);
  const two = await ca.issue('two', ['127.0.0.1']);
  await writeFile(join(dir, 'garbage.key'), 'not a key\n');
  await writeFile(join(dir, 'empty.pem'), '');
  await mkdir(join(dir, 'conf'));
  await writeFile(join(dir, 'conf', 'godepot.yaml'), 'tls-cert: ../one.pem\ntls-key: ../one.key\n');

  assert.equal((await loadConfig(sources())).tls, null);
  const fromFlags = await loadConfig(sources({ flags: { 'tls-cert': 'one.pem', 'tls-key': 'one.key' }, cwd: dir }));
  assert.deepEqual(fromFlags.tls, { certFile: one.certFile, keyFile: one.keyFile });
  assert.ok(Object.isFrozen(fromFlags.tls));
  assert.deepEqual((await loadConfig(sources({ env: { GODEPOT_TLS_CERT: one.certFile, GODEPOT_TLS_KEY: one.keyFile } }))).tls, { certFile: one.certFile, keyFile: one.keyFile });
  assert.deepEqual((await loadConfig(sources({ flags: { config: join(dir, 'conf', 'godepot.yaml') } }))).tls, { certFile: one.certFile, keyFile: one.keyFile });
  // An empty flag turns TLS off again.
  assert.equal((await loadConfig(sources({ flags: { config: join(dir, 'conf', 'godepot.yaml'), 'tls-cert': '', 'tls-key': '' } }))).tls, null);

  assert.equal(await configError(sources({ flags: { 'tls-cert': one.certFile } })), "--tls-cert: needs tls-key too, the certificate's private key (PEM)");
  assert.equal(await configError(sources({ env: { GODEPOT_TLS_KEY: one.keyFile } })), 'GODEPOT_TLS_KEY: needs tls-cert too, the certificate (PEM) the key belongs to');
  const error = (cert: string, key: string) => configError(sources({ flags: { 'tls-cert': cert, 'tls-key': key }, cwd: dir }));
  assert.match(await error('missing.pem', 'one.key'), /^--tls-cert: cannot read .*missing\.pem: ENOENT/);
  assert.match(await error('one.pem', 'missing.key'), /^--tls-key: cannot read .*missing\.key: ENOENT/);
  assert.equal(await error('empty.pem', 'one.key'), `--tls-cert: no PEM certificate in ${join(dir, 'empty.pem')}`);
  // A key where the certificate should be, and the other way round.
  assert.equal(await error('one.key', 'one.pem').then((m) => m.split(':')[0]), '--tls-cert');
  assert.match(await error('one.pem', 'one.pem'), /^--tls-key: .*one\.pem is not an unencrypted PEM private key/);
  assert.match(await error('one.pem', 'garbage.key'), /^--tls-key: .*garbage\.key is not an unencrypted PEM private key/);
  assert.equal(await error('one.pem', 'two.key'), `--tls-key: ${two.keyFile} is not the private key of the certificate in ${one.certFile} (CN=127.0.0.1)`);
});
