import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { addModule, type ProxyEntry } from '../../test/support/modgraph.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { CachingDepot } from '../depot/caching-depot.js';
import type { Artifact } from '../protocol/artifact.js';
import { InvalidRequestError, NotFoundError, UpstreamError } from '../errors.js';
import { ProxyOrigin } from '../origin/proxy.js';
import { DiskStorage } from '../storage/disk.js';
import { createMetrics } from '../telemetry/metrics.js';
import { StorageClientStore, SumdbClient } from './client.js';
import { ChecksumDatabase } from './database.js';
import { HostedSumdb } from './hosted-sumdb.js';
import { generateKey } from './note.js';
import { RecordingVerifier, SumdbVerifier } from './verifier.js';

const OWN = 'sumdb.own.test';

describe('HostedSumdb', () => {
  let root: string;
  let upstream: Upstream;
  const modules: ProxyEntry[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const logger = pino({ level: 'silent' });
  const ownKey = generateKey(OWN);
  const trustedKey = generateKey('sum.trusted.test');
  let trusted: ChecksumDatabase;
  let count = 0;

  /** A HostedSumdb over a depot on fresh storage, recording every module (`--sumdb off`) unless `trust` is set. */
  async function hosted(options: { trust?: boolean } = {}): Promise<{ sumdb: HostedSumdb; database: ChecksumDatabase; storage: DiskStorage; passed: string[] }> {
    const storage = new DiskStorage({ root: join(root, `storage-${count++}`) });
    const metrics = createMetrics();
    const origin = new ProxyOrigin({ url: upstream.url, timeoutMs: 2000, retries: 0, logger, metrics });
    closers.push(() => origin.close());
    const depot = new CachingDepot({ storage, origin, logger, metrics, listTtlMs: 60_000, tempDir: join(root, 'spool') });
    const database = await ChecksumDatabase.open({ storage, signerKey: ownKey.signerKey });
    const client = options.trust
      ? new SumdbClient({ verifierKey: trusted.verifierKey, fetch: async (path) => (await trusted.get(path)).body!, store: new StorageClientStore(storage) })
      : null;
    const passed: string[] = [];
    const others = {
      get: async (name: string, path: string): Promise<Artifact> => {
        passed.push(`${name}/${path}`);
        throw new NotFoundError(`no route to ${name}`);
      },
    };
    const verifier = new RecordingVerifier(new SumdbVerifier({ client, lookedUp: () => true }), database);
    return { sumdb: new HostedSumdb({ database, others, depot, storage, verifier, logger }), database, storage, passed };
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'godepot-hosted-sumdb-'));
    await mkdir(join(root, 'spool'));
    const tree = join(root, 'tree');
    for (const name of ['a', 'b', 'Upper']) {
      const modulePath = `example.com/${name}`;
      modules.push(await addModule(tree, join(root, 'work'), modulePath, 'v1.0.0', { 'go.mod': `module ${modulePath}\n`, 'x.go': `package x\n// ${name}\n` }));
    }
    upstream = await startUpstream({ root: tree });
    trusted = await ChecksumDatabase.open({ storage: new DiskStorage({ root: join(root, 'trusted') }), signerKey: trustedKey.signerKey });
    const b = modules[1]!;
    await trusted.add(b.modulePath, b.version, { zip: b.zipH1, mod: b.modH1 });
  });

  after(async () => {
    for (const close of closers) await close();
    await upstream.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('serves its own name and passes every other name on', async () => {
    const { sumdb, passed } = await hosted();
    assert.equal((await sumdb.get(OWN, 'supported')).size, 0);
    assert.match((await sumdb.get(OWN, 'latest')).body!.toString(), /^go\.sum database tree\n0\n/);
    await assert.rejects(sumdb.get('sum.golang.org', 'supported'), NotFoundError);
    assert.deepEqual(passed, ['sum.golang.org/supported']);
    await assert.rejects(sumdb.get(OWN, 'lookup/example.com/a'), InvalidRequestError);
  });

  it('a lookup of a module it has no record of fetches it through the depot, records it, and answers', async () => {
    const { sumdb, database, storage } = await hosted();
    const [a, , upper] = modules;
    const lookup = (await sumdb.get(OWN, 'lookup/example.com/!upper@v1.0.0')).body!.toString();
    assert.equal(lookup.split('\n\n')[0], `0\n${upper!.modulePath} v1.0.0 ${upper!.zipH1}\n${upper!.modulePath} v1.0.0/go.mod ${upper!.modH1}`);
    assert.ok(await storage.stat('example.com/!upper/@v/v1.0.0.zip'), 'the zip is stored');
    assert.equal(upstream.countOf(upper!.urls.zip), 1);
    // Asked again: answered from the record, no fetch.
    await sumdb.get(OWN, 'lookup/example.com/!upper@v1.0.0');
    assert.equal(upstream.countOf(upper!.urls.zip), 1);
    await sumdb.get(OWN, `lookup/${a!.modulePath}@v1.0.0`);
    assert.equal(database.size, 2);
  });

  it('records on lookup a module stored before the database recorded it', async () => {
    const first = await hosted();
    const a = modules[0]!;
    const storage = first.storage;
    // The module is in storage, the database in the same storage has no record of it.
    await first.sumdb.get(OWN, `lookup/${a.modulePath}@v1.0.0`);
    for (const key of await storage.list(`sumdb/${OWN}`)) await storage.delete(key);
    const metrics = createMetrics();
    const origin = new ProxyOrigin({ url: 'http://127.0.0.1:1', timeoutMs: 500, retries: 0, logger, metrics });
    closers.push(() => origin.close());
    const depot = new CachingDepot({ storage, origin, logger, metrics, listTtlMs: 60_000, tempDir: join(root, 'spool') });
    const database = await ChecksumDatabase.open({ storage, signerKey: ownKey.signerKey });
    assert.equal(database.size, 0);
    const verifier = new RecordingVerifier(new SumdbVerifier({ client: null, lookedUp: () => true }), database);
    const sumdb = new HostedSumdb({ database, others: first.sumdb, depot, storage, verifier });
    const lookup = (await sumdb.get(OWN, `lookup/${a.modulePath}@v1.0.0`)).body!.toString();
    assert.ok(lookup.startsWith(`0\n${a.modulePath} v1.0.0 ${a.zipH1}\n`));
  });

  it('answers not found for what does not exist or what the trusted database vouches for; passes upstream failures on', async () => {
    const { sumdb, database } = await hosted({ trust: true });
    const b = modules[1]!;
    await assert.rejects(sumdb.get(OWN, 'lookup/example.com/missing@v1.0.0'), (err: Error) => err instanceof NotFoundError && /not found in checksum database sumdb\.own\.test/.test(err.message));
    await assert.rejects(sumdb.get(OWN, `lookup/${b.modulePath}@v1.0.0`), (err: Error) => err instanceof NotFoundError && /vouches for it/.test(err.message));
    // The trusted database does not know example.com/a: godepot refuses it, so records nothing.
    await assert.rejects(sumdb.get(OWN, `lookup/${modules[0]!.modulePath}@v1.0.0`), (err: Error) => err instanceof NotFoundError && /has no record of it/.test(err.message));
    assert.equal(database.size, 0);
    await upstream.stop();
    try {
      await assert.rejects(sumdb.get(OWN, 'lookup/example.com/!upper@v1.0.0'), UpstreamError);
    } finally {
      await upstream.start();
    }
  });
});
