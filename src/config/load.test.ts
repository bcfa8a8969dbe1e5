import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { after, test } from 'node:test';
import { ConfigError } from '../errors.js';
import { loadConfig, type ConfigSources } from './load.js';
import { parseListen } from './schema.js';

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
    workers: 1,
    bundles: [],
    bundleKey: null,
    importToken: null,
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
  const config = await loadConfig(sources({ flags: { bundle: 'a.tar.gz, /abs/b.tar.gz', 'bundle-key': 'k.pub', 'import-token': 'x'.repeat(16) } }));
  assert.deepEqual(config.bundles, ['/srv/work/a.tar.gz', '/abs/b.tar.gz']);
  assert.equal(config.bundleKey, '/srv/work/k.pub');
  assert.equal(config.importToken, 'x'.repeat(16));
  assert.equal(await configError(sources({ env: { GODEPOT_IMPORT_TOKEN: 'short' } })), 'GODEPOT_IMPORT_TOKEN: must be at least 16 characters');
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
    [sources({ flags: { storage: '' } }), '--storage: must not be empty'],
    [sources({ cwd, flags: { config: await write('godepot.yaml', 'upstream: "gopher://x"\n') } }), 'config file godepot.yaml: upstream: invalid GOPROXY "gopher://x": invalid proxy URL scheme (must be https, http, file): gopher://x'],
    [sources({ cwd, flags: { config: await write('ttl.yaml', 'list-ttl: -1\n') } }), 'config file ttl.yaml: list-ttl: must be at least 0'],
    [sources({ cwd, flags: { config: await write('typo.yaml', 'listn: 1.2.3.4:5\n') } }), 'config file typo.yaml: unknown setting "listn" (known: listen, storage, upstream, private, sumdb, nosumdb, sumdb-host, sumdb-key, list-ttl, prefetch, upstream-timeout, upstream-min-rate, shutdown-timeout, log-level, workers, bundle, bundle-key, import-token)'],
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
