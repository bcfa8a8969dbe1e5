// The behaviour every Storage driver owes its callers, as one suite each driver's test file runs
// (after Athens's storage compliance tests): all-or-nothing puts, ranges, folder-exact listing, typed
// errors for keys that could escape the store; a read-only driver runs the read part of it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { InvalidContentError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { Storage } from './storage.js';

/** A fresh, empty store for one test, and how to throw it away. */
export interface StorageUnderTest {
  storage: Storage;
  dispose(): Promise<void>;
}

/** Keys that are never valid: every operation refuses them with InvalidRequestError and touches nothing. */
export const invalidKeys: readonly string[] = [
  '/etc/passwd',
  '../outside',
  'a/../../outside',
  'a/..',
  '..',
  '.',
  'a/./b',
  'a//b',
  'a/',
  'a\\..\\b',
  'a/b\0c',
  `a/${'x'.repeat(300)}`,
];

/** Every operation refuses every key of invalidKeys with InvalidRequestError, before touching anything. */
async function assertInvalidKeysRefused(s: Storage): Promise<void> {
  for (const key of invalidKeys) {
    await assert.rejects(s.get(key), InvalidRequestError, key);
    await assert.rejects(s.stat(key), InvalidRequestError, key);
    await assert.rejects(s.put(key, Buffer.from('x')), InvalidRequestError, key);
    await assert.rejects(s.delete(key), InvalidRequestError, key);
    await assert.rejects(s.list(key), InvalidRequestError, key);
  }
}

/** Registers the Storage contract tests for one driver; `make` is called once per test. */
export function storageContract(driver: string, make: () => Promise<StorageUnderTest>): void {
  const withStorage = (fn: (storage: Storage) => Promise<void>) => async (): Promise<void> => {
    const { storage, dispose } = await make();
    try {
      await fn(storage);
    } finally {
      await dispose();
    }
  };

  describe(`Storage contract: ${driver}`, () => {
    test('put then get and stat give back the bytes and their size', withStorage(async (s) => {
      const before = Date.now();
      const stored = await s.put('example.com/m/@v/v1.0.0.mod', Buffer.from('module example.com/m\n'));
      assert.equal(stored.size, 21);
      assert.equal(await text(await s.get('example.com/m/@v/v1.0.0.mod')), 'module example.com/m\n');
      const st = await s.stat('example.com/m/@v/v1.0.0.mod');
      assert.ok(st !== null);
      assert.equal(st.size, 21);
      // File systems keep times at a coarser grain than Date.now().
      assert.ok(st.modified.getTime() >= before - 2000 && st.modified.getTime() <= Date.now() + 2000);
    }));

    test('a Uint8Array view is stored as the bytes it shows, not its whole buffer', withStorage(async (s) => {
      const whole = new Uint8Array([1, 2, 3, 4, 5, 6]);
      await s.put('k/view', whole.subarray(2, 4));
      assert.deepEqual([...(await bytes(await s.get('k/view')))], [3, 4]);
    }));

    test('an empty object is an object', withStorage(async (s) => {
      await s.put('k/empty', Buffer.alloc(0));
      assert.equal((await s.stat('k/empty'))?.size, 0);
      assert.equal((await bytes(await s.get('k/empty'))).length, 0);
      assert.deepEqual(await s.list('k'), ['k/empty']);
    }));

    test('absent objects: get throws NotFoundError, stat answers null, delete is a no-op', withStorage(async (s) => {
      await assert.rejects(s.get('example.com/m/@v/v9.9.9.zip'), NotFoundError);
      assert.equal(await s.stat('example.com/m/@v/v9.9.9.zip'), null);
      await s.delete('example.com/m/@v/v9.9.9.zip');
      // A folder that holds objects is not an object itself.
      await s.put('example.com/m/@v/list', Buffer.from('v1.0.0\n'));
      await assert.rejects(s.get('example.com/m/@v'), NotFoundError);
      assert.equal(await s.stat('example.com/m'), null);
      await s.delete('example.com/m/@v');
      assert.deepEqual(await s.list('example.com/m'), ['example.com/m/@v/list']);
    }));

    test('a streamed body of several MiB is stored whole, checked against its size and SHA-256', withStorage(async (s) => {
      const data = pseudoRandomBytes(5 * 1024 * 1024 + 17);
      const sha256 = createHash('sha256').update(data).digest('hex');
      const stored = await s.put('big/blob', chunked(data, 65536), { size: data.length, sha256 });
      assert.equal(stored.size, data.length);
      const back = await bytes(await s.get('big/blob'));
      assert.equal(createHash('sha256').update(back).digest('hex'), sha256);
    }));

    test('byte ranges are inclusive; a start alone reads to the end', withStorage(async (s) => {
      await s.put('r/k', Buffer.from('0123456789'));
      assert.equal(await text(await s.get('r/k', { start: 2, end: 5 })), '2345');
      assert.equal(await text(await s.get('r/k', { start: 0, end: 0 })), '0');
      assert.equal(await text(await s.get('r/k', { start: 7 })), '789');
      assert.equal(await text(await s.get('r/k', { start: 9, end: 9 })), '9');
      await assert.rejects(s.get('r/k', { start: 5, end: 4 }), InvalidRequestError);
      await assert.rejects(s.get('r/k', { start: -1, end: 4 }), InvalidRequestError);
    }));

    test('put replaces an object whole', withStorage(async (s) => {
      await s.put('k/a', Buffer.from('old content'));
      await s.put('k/a', Readable.from([Buffer.from('new ')]));
      assert.equal(await text(await s.get('k/a')), 'new ');
      assert.deepEqual(await s.list('k'), ['k/a']);
    }));

    test('a body of another size or digest than declared stores nothing and keeps the old object', withStorage(async (s) => {
      const data = Buffer.from('exactly these bytes');
      const sha256 = createHash('sha256').update(data).digest('hex');
      await assert.rejects(s.put('k/short', data, { size: data.length + 1 }), InvalidContentError);
      await assert.rejects(s.put('k/long', chunked(Buffer.alloc(3 << 20), 4096), { size: 10 }), InvalidContentError);
      await assert.rejects(s.put('k/digest', data, { sha256: sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')) }), InvalidContentError);
      assert.deepEqual(await s.list('k'), []);
      await s.put('k/kept', Buffer.from('old'));
      await assert.rejects(s.put('k/kept', data, { size: 3 }), InvalidContentError);
      assert.equal(await text(await s.get('k/kept')), 'old');
      await s.put('k/ok', data, { size: data.length, sha256 });
      assert.deepEqual(await s.list('k'), ['k/kept', 'k/ok']);
    }));

    test('a body that fails half way stores nothing', withStorage(async (s) => {
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(1 << 20, 1);
        throw new Error('the origin went away');
      }
      await assert.rejects(s.put('k/broken', Readable.from(failing())), /the origin went away/);
      assert.equal(await s.stat('k/broken'), null);
      assert.deepEqual(await s.list(''), []);
    }));

    test('an aborted put stores nothing', withStorage(async (s) => {
      const controller = new AbortController();
      const body = new Readable({ read() {} });
      body.push(Buffer.alloc(1024));
      const put = s.put('k/aborted', body, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(put, { name: 'AbortError' });
      assert.equal(await s.stat('k/aborted'), null);
      assert.deepEqual(await s.list(''), []);
      const already = AbortSignal.abort();
      await assert.rejects(s.put('k/aborted', Buffer.from('x'), { signal: already }), { name: 'AbortError' });
      assert.equal(await s.stat('k/aborted'), null);
    }));

    test('while a put is under way readers see the old object or none, never a part', withStorage(async (s) => {
      await s.put('k/old', Buffer.from('old'));
      const body = new Readable({ read() {} });
      const putNew = s.put('k/new', body);
      const putOld = s.put('k/old', Readable.from(slowly(['n', 'e', 'w'])));
      body.push(Buffer.alloc(256 * 1024, 7));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await s.stat('k/new'), null);
      await assert.rejects(s.get('k/new'), NotFoundError);
      assert.deepEqual(await s.list('k'), ['k/old']);
      assert.equal(await text(await s.get('k/old')), 'old');
      body.push(null);
      await Promise.all([putNew, putOld]);
      assert.equal((await s.stat('k/new'))?.size, 256 * 1024);
      assert.equal(await text(await s.get('k/old')), 'new');
    }));

    test('list is folder-exact and sorted: prefix "two" never lists "two-other"', withStorage(async (s) => {
      const keys = [
        'two/@v/v1.0.0.info',
        'two-other/@v/v1.0.0.info',
        'two/sub/@v/list',
        'two/@v/list',
        'twofold/x',
        'one/@v/v0.1.0.mod',
      ];
      for (const key of keys) await s.put(key, Buffer.from(key));
      assert.deepEqual(await s.list('two'), ['two/@v/list', 'two/@v/v1.0.0.info', 'two/sub/@v/list']);
      assert.deepEqual(await s.list('two/@v'), ['two/@v/list', 'two/@v/v1.0.0.info']);
      assert.deepEqual(await s.list('two-other'), ['two-other/@v/v1.0.0.info']);
      assert.deepEqual(await s.list('tw'), []);
      assert.deepEqual(await s.list('three'), []);
      assert.deepEqual(await s.list('two/@v/list'), []);
      assert.deepEqual(await s.list(''), [...keys].sort());
    }));

    test('!-escaped keys (upper case in module paths and versions) are kept apart from their lower case', withStorage(async (s) => {
      await s.put('github.com/!azure/azure-sdk/@v/v1.0.0-!r!c1.info', Buffer.from('upper'));
      await s.put('github.com/azure/azure-sdk/@v/v1.0.0-rc1.info', Buffer.from('lower'));
      assert.equal(await text(await s.get('github.com/!azure/azure-sdk/@v/v1.0.0-!r!c1.info')), 'upper');
      assert.equal(await text(await s.get('github.com/azure/azure-sdk/@v/v1.0.0-rc1.info')), 'lower');
      assert.deepEqual(await s.list('github.com/!azure'), ['github.com/!azure/azure-sdk/@v/v1.0.0-!r!c1.info']);
      assert.deepEqual(await s.list('github.com'), [
        'github.com/!azure/azure-sdk/@v/v1.0.0-!r!c1.info',
        'github.com/azure/azure-sdk/@v/v1.0.0-rc1.info',
      ]);
    }));

    test('delete removes the object and only it', withStorage(async (s) => {
      await s.put('m/@v/v1.0.0.zip', Buffer.from('zip'));
      await s.put('m/@v/v1.0.0.ziphash', Buffer.from('h1:x'));
      await s.delete('m/@v/v1.0.0.zip');
      assert.equal(await s.stat('m/@v/v1.0.0.zip'), null);
      assert.deepEqual(await s.list('m'), ['m/@v/v1.0.0.ziphash']);
      await s.put('m/@v/v1.0.0.zip', Buffer.from('again'));
      assert.equal(await text(await s.get('m/@v/v1.0.0.zip')), 'again');
    }));

    test('keys that could escape the store are refused by every operation', withStorage(async (s) => {
      await assertInvalidKeysRefused(s);
      assert.deepEqual(await s.list(''), []);
    }));

    test('a get that is aborted fails its stream', withStorage(async (s) => {
      await s.put('k/big', Buffer.alloc(4 << 20));
      const controller = new AbortController();
      const stream = await s.get('k/big', { signal: controller.signal });
      controller.abort();
      await assert.rejects(bytes(stream), { name: 'AbortError' });
      await assert.rejects(s.get('k/big', { signal: AbortSignal.abort() }), { name: 'AbortError' });
    }));
  });
}

/**
 * What a read-only store holds in readOnlyStorageContract: keys in the module-cache download layout (a
 * module version's `.info`, `.mod`, `.zip`, and beside a zip its `.ziphash`), with the traps of the
 * contract above: an empty object, a folder and its longer-named sibling, !-escaped keys.
 */
const readOnlyObjects: ReadonlyMap<string, Buffer> = new Map([
  ['example.com/m/@v/v1.0.0.info', Buffer.from('{"Version":"v1.0.0"}\n')],
  ['example.com/m/@v/v1.0.0.mod', Buffer.from('module example.com/m\n')],
  ['example.com/m/@v/v1.0.0.zip', pseudoRandomBytes(5 * 1024 * 1024 + 17)],
  ['example.com/m/@v/v1.0.0.ziphash', Buffer.from(`h1:${'A'.repeat(43)}=\n`)],
  ['example.com/empty/@v/v1.0.0.info', Buffer.alloc(0)],
  ['example.com/ranges/@v/v1.0.0.mod', Buffer.from('0123456789')],
  ['example.com/two/@v/v1.0.0.info', Buffer.from('two info')],
  ['example.com/two/@v/v1.0.0.mod', Buffer.from('two mod')],
  ['example.com/two/sub/@v/v1.0.0.mod', Buffer.from('two/sub mod')],
  ['example.com/two-other/@v/v1.0.0.mod', Buffer.from('two-other mod')],
  ['example.com/twofold/@v/v1.0.0.mod', Buffer.from('twofold mod')],
  ['github.com/!azure/azure-sdk/@v/v1.0.0-!r!c1.info', Buffer.from('upper')],
  ['github.com/azure/azure-sdk/@v/v1.0.0-rc1.info', Buffer.from('lower')],
]);

/**
 * Registers the read part of the contract for a read-only driver (bundles served in place): `make` is
 * called once per test with the objects the store must hold. Writes are refused with `writeError` and
 * change nothing; a key that could escape the store is refused with InvalidRequestError first, as above.
 */
export function readOnlyStorageContract(
  driver: string,
  make: (objects: ReadonlyMap<string, Buffer>) => Promise<StorageUnderTest>,
  writeError: new (...args: never[]) => Error,
): void {
  let made = 0;
  const withStorage = (fn: (storage: Storage) => Promise<void>) => async (): Promise<void> => {
    made = Date.now();
    const { storage, dispose } = await make(readOnlyObjects);
    try {
      await fn(storage);
    } finally {
      await dispose();
    }
  };

  describe(`Storage contract, read-only: ${driver}`, () => {
    test('get and stat give back every object it holds, the empty one and one of several MiB included', withStorage(async (s) => {
      for (const [key, data] of readOnlyObjects) {
        const back = await bytes(await s.get(key));
        assert.ok(back.equals(data), key);
        const st = await s.stat(key);
        assert.ok(st !== null, key);
        assert.equal(st.size, data.length, key);
        assert.ok(st.modified.getTime() >= made - 2000 && st.modified.getTime() <= Date.now() + 2000, key);
      }
    }));

    test('absent objects: get throws NotFoundError, stat answers null; a folder is not an object', withStorage(async (s) => {
      await assert.rejects(s.get('example.com/m/@v/v9.9.9.zip'), NotFoundError);
      assert.equal(await s.stat('example.com/m/@v/v9.9.9.zip'), null);
      await assert.rejects(s.get('example.com/m/@v'), NotFoundError);
      assert.equal(await s.stat('example.com/m'), null);
    }));

    test('byte ranges are inclusive; a start alone reads to the end', withStorage(async (s) => {
      const key = 'example.com/ranges/@v/v1.0.0.mod';
      assert.equal(await text(await s.get(key, { start: 2, end: 5 })), '2345');
      assert.equal(await text(await s.get(key, { start: 0, end: 0 })), '0');
      assert.equal(await text(await s.get(key, { start: 7 })), '789');
      assert.equal(await text(await s.get(key, { start: 9, end: 9 })), '9');
      await assert.rejects(s.get(key, { start: 5, end: 4 }), InvalidRequestError);
      await assert.rejects(s.get(key, { start: -1, end: 4 }), InvalidRequestError);
      const ziphash = 'example.com/m/@v/v1.0.0.ziphash';
      assert.equal(await text(await s.get(ziphash, { start: 0, end: 2 })), 'h1:');
      await assert.rejects(s.get(ziphash, { start: 5, end: 4 }), InvalidRequestError);
    }));

    test('list is folder-exact and sorted: prefix "example.com/two" never lists "example.com/two-other"', withStorage(async (s) => {
      assert.deepEqual(await s.list('example.com/two'), ['example.com/two/@v/v1.0.0.info', 'example.com/two/@v/v1.0.0.mod', 'example.com/two/sub/@v/v1.0.0.mod']);
      assert.deepEqual(await s.list('example.com/two/@v'), ['example.com/two/@v/v1.0.0.info', 'example.com/two/@v/v1.0.0.mod']);
      assert.deepEqual(await s.list('example.com/two-other'), ['example.com/two-other/@v/v1.0.0.mod']);
      assert.deepEqual(await s.list('example.com/tw'), []);
      assert.deepEqual(await s.list('example.com/three'), []);
      assert.deepEqual(await s.list('example.com/two/@v/v1.0.0.mod'), []);
      assert.deepEqual(await s.list(''), [...readOnlyObjects.keys()].sort());
    }));

    test('!-escaped keys (upper case in module paths and versions) are kept apart from their lower case', withStorage(async (s) => {
      assert.equal(await text(await s.get('github.com/!azure/azure-sdk/@v/v1.0.0-!r!c1.info')), 'upper');
      assert.equal(await text(await s.get('github.com/azure/azure-sdk/@v/v1.0.0-rc1.info')), 'lower');
      assert.deepEqual(await s.list('github.com/!azure'), ['github.com/!azure/azure-sdk/@v/v1.0.0-!r!c1.info']);
    }));

    test('put and delete are refused, for held and absent keys alike, and change nothing', withStorage(async (s) => {
      for (const key of ['example.com/m/@v/v1.0.0.mod', 'example.com/new/@v/v1.0.0.mod']) {
        await assert.rejects(s.put(key, Buffer.from('x')), writeError, key);
        await assert.rejects(s.delete(key), writeError, key);
      }
      assert.equal(await text(await s.get('example.com/m/@v/v1.0.0.mod')), 'module example.com/m\n');
      assert.deepEqual(await s.list(''), [...readOnlyObjects.keys()].sort());
    }));

    test('keys that could escape the store are refused by every operation', withStorage(assertInvalidKeysRefused));

    test('a get that is aborted fails its stream', withStorage(async (s) => {
      const controller = new AbortController();
      const stream = await s.get('example.com/m/@v/v1.0.0.zip', { signal: controller.signal });
      controller.abort();
      await assert.rejects(bytes(stream), { name: 'AbortError' });
      await assert.rejects(s.get('example.com/m/@v/v1.0.0.zip', { signal: AbortSignal.abort() }), { name: 'AbortError' });
    }));
  });
}

async function bytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function chunked(data: Buffer, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
  );
}

async function* slowly(parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    await new Promise((resolve) => setTimeout(resolve, 30));
    yield Buffer.from(part);
  }
}

function pseudoRandomBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
