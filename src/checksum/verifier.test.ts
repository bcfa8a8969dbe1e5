import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotFoundError, TimeoutError, UpstreamError } from '../errors.js';
import { errorAnswer } from '../server/errors.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import { matchPrefixPatterns } from '../module/patterns.js';
import { DiskStorage } from '../storage/disk.js';
import { StorageClientStore, SumdbClient } from './client.js';
import { ChecksumDatabase } from './database.js';
import { SumdbUnreachableError } from './errors.js';
import { generateKey } from './note.js';
import { recordHash } from './tlog.js';
import { RecordingVerifier, SumdbVerifier, type Verifier } from './verifier.js';

const fakeH1 = (seed: string): string => `h1:${recordHash(Buffer.from(seed)).toString('base64')}`;

describe('SumdbVerifier and RecordingVerifier', () => {
  let root: string;
  let trusted: ChecksumDatabase;
  const fetched: string[] = [];
  let count = 0;

  async function fresh(name: string): Promise<DiskStorage> {
    return new DiskStorage({ root: join(root, `${name}-${count++}`) });
  }

  async function client(): Promise<SumdbClient> {
    return new SumdbClient({
      verifierKey: trusted.verifierKey,
      // The database itself answers, in process: what a loopback HTTP front would pass on.
      fetch: async (path) => {
        fetched.push(path);
        return (await trusted.get(path)).body!;
      },
      store: new StorageClientStore(await fresh('client')),
    });
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'godepot-verifier-'));
    trusted = await ChecksumDatabase.open({ storage: await fresh('trusted'), signerKey: generateKey('sum.trusted.test').signerKey });
    await trusted.add('example.com/good', 'v1.0.0', { zip: fakeH1('good'), mod: fakeH1('good.mod') });
    for (let i = 0; i < 20; i++) await trusted.add(`example.com/filler${i}`, 'v1.0.0', { zip: fakeH1(`f${i}`), mod: fakeH1(`f${i}.mod`) });
  });

  after(() => rm(root, { recursive: true, force: true }));

  it('accepts hashes the database records, from one verified lookup', async () => {
    const v = new SumdbVerifier({ client: await client(), lookedUp: () => true });
    fetched.length = 0;
    assert.equal(await v.verify('example.com/good', 'v1.0.0', { mod: fakeH1('good.mod'), zip: fakeH1('good') }), true);
    assert.equal(await v.verify('example.com/good', 'v1.0.0', { mod: fakeH1('good.mod') }), true);
    assert.deepEqual(fetched.filter((p) => p.startsWith('lookup/')), ['lookup/example.com/good@v1.0.0']);
  });

  it('refuses another zip or go.mod hash with go\'s message showing both', async () => {
    const v = new SumdbVerifier({ client: await client(), lookedUp: () => true });
    await assert.rejects(v.verify('example.com/good', 'v1.0.0', { mod: fakeH1('good.mod'), zip: fakeH1('evil') }), (err: Error) => {
      assert.ok(err instanceof ChecksumMismatchError);
      assert.equal(err.downloaded, fakeH1('evil'));
      assert.equal(err.recorded, fakeH1('good'));
      assert.match(err.message, /^example\.com\/good@v1\.0\.0: verifying module: checksum mismatch\n/);
      assert.ok(err.message.includes(`\tdownloaded: ${fakeH1('evil')}\n\tsum.trusted.test: ${fakeH1('good')}`));
      assert.match(err.message, /SECURITY ERROR/);
      return true;
    });
    await assert.rejects(v.verify('example.com/good', 'v1.0.0', { mod: fakeH1('evil.mod') }), (err: Error) => {
      return err instanceof ChecksumMismatchError && err.version === 'v1.0.0/go.mod' && /verifying go\.mod: checksum mismatch/.test(err.message);
    });
  });

  it('refuses a module the database does not know, saying how to keep it unverified', async () => {
    const v = new SumdbVerifier({ client: await client(), lookedUp: () => true });
    await assert.rejects(v.verify('example.com/unknown', 'v1.0.0', { mod: fakeH1('u.mod'), zip: fakeH1('u') }), (err: Error) => {
      return err instanceof NotFoundError && /checksum database sum\.trusted\.test has no record of it/.test(err.message) && /--nosumdb/.test(err.message);
    });
  });

  it('a database that cannot be reached: nothing stored, and the message names the settings that help and a bundle', async () => {
    for (const failure of [new UpstreamError('reading http://127.0.0.1:1/lookup/example.com/good@v1.0.0: connect ECONNREFUSED 127.0.0.1:1'), new TimeoutError('no answer in 30 s')]) {
      const down = new SumdbClient({
        verifierKey: trusted.verifierKey,
        fetch: async () => Promise.reject(failure),
        store: new StorageClientStore(await fresh('down')),
      });
      const v = new SumdbVerifier({ client: down, lookedUp: () => true });
      await assert.rejects(v.verify('example.com/good', 'v1.0.0', { mod: fakeH1('good.mod'), zip: fakeH1('good') }), (err: Error) => {
        assert.ok(err instanceof SumdbUnreachableError);
        assert.equal(err.cause, failure);
        assert.ok(err.message.startsWith(`example.com/good@v1.0.0: not stored: checksum database sum.trusted.test cannot be reached to verify it (${failure.message}); `), err.message);
        for (const hint of ['--nosumdb PATTERN', 'e.g. example.com/good', '--sumdb off', 'bundle']) assert.ok(err.message.includes(hint), hint);
        // An upstream failure, answered 502 with the same words.
        assert.equal(errorAnswer(err).status, 502);
        assert.ok(errorAnswer(err).body.includes('--sumdb off'));
        return true;
      });
    }
  });

  it('asks nothing for modules the routing keeps from it, or with the database off', async () => {
    const v = new SumdbVerifier({ client: await client(), lookedUp: (modulePath) => !matchPrefixPatterns(['example.com/private', '*.corp.test'], modulePath) });
    fetched.length = 0;
    assert.equal(await v.verify('example.com/private/x', 'v1.0.0', { mod: fakeH1('p.mod'), zip: fakeH1('p') }), false);
    assert.equal(await v.verify('git.corp.test/team/x', 'v1.0.0', { mod: fakeH1('c.mod') }), false);
    assert.deepEqual(fetched, []);
    assert.equal(await new SumdbVerifier({ client: null, lookedUp: () => true }).verify('example.com/good', 'v1.0.0', { mod: fakeH1('x') }), false);
  });

  it('records what the trusted database does not vouch for, and holds later copies to that record', async () => {
    const own = await ChecksumDatabase.open({ storage: await fresh('own'), signerKey: generateKey('sum.own.test').signerKey });
    const v: Verifier = new RecordingVerifier(new SumdbVerifier({ client: await client(), lookedUp: (modulePath) => !modulePath.startsWith('example.com/private/') }), own);

    // Vouched for by the trusted database: not recorded here.
    assert.equal(await v.verify('example.com/good', 'v1.0.0', { mod: fakeH1('good.mod'), zip: fakeH1('good') }), true);
    assert.equal(own.size, 0);

    // A go.mod alone cannot be recorded, and nothing holds it yet.
    assert.equal(await v.verify('example.com/private/a', 'v1.0.0', { mod: fakeH1('a.mod') }), false);
    assert.equal(own.size, 0);
    // The zip comes: recorded.
    assert.equal(await v.verify('example.com/private/a', 'v1.0.0', { mod: fakeH1('a.mod'), zip: fakeH1('a') }), true);
    assert.deepEqual(own.record('example.com/private/a', 'v1.0.0'), {
      id: 0,
      text: `example.com/private/a v1.0.0 ${fakeH1('a')}\nexample.com/private/a v1.0.0/go.mod ${fakeH1('a.mod')}\n`,
    });
    // The same again is fine; any other hash is refused.
    assert.equal(await v.verify('example.com/private/a', 'v1.0.0', { mod: fakeH1('a.mod'), zip: fakeH1('a') }), true);
    assert.equal(await v.verify('example.com/private/a', 'v1.0.0', { mod: fakeH1('a.mod') }), true);
    await assert.rejects(v.verify('example.com/private/a', 'v1.0.0', { mod: fakeH1('a.mod'), zip: fakeH1('evil') }), ChecksumMismatchError);
    await assert.rejects(v.verify('example.com/private/a', 'v1.0.0', { mod: fakeH1('evil.mod') }), (err: Error) => {
      return err instanceof ChecksumMismatchError && err.recorded === fakeH1('a.mod') && err.message.includes(`sum.own.test: ${fakeH1('a.mod')}`);
    });
    assert.equal(own.size, 1);

    // A mismatch against the trusted database is never recorded.
    await assert.rejects(v.verify('example.com/good', 'v1.0.0', { mod: fakeH1('good.mod'), zip: fakeH1('evil') }), ChecksumMismatchError);
    assert.equal(own.record('example.com/good', 'v1.0.0'), null);

    // With the trusted database off, everything is recorded.
    const all: Verifier = new RecordingVerifier(new SumdbVerifier({ client: null, lookedUp: () => true }), own);
    assert.equal(await all.verify('example.com/good', 'v1.0.0', { mod: fakeH1('good.mod'), zip: fakeH1('good') }), true);
    assert.equal(own.size, 2);
  });
});
