// Regressions of the go command's checksum-database client that godepot's must not share: each test
// builds a signed log of its own, serves answers a malicious database or proxy would craft, and
// checks that SumdbClient (lookups) and checkProofs (bundle proofs) refuse them, store nothing from
// them, and still accept the honest answers built the same way (so that each test can fail).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '../errors.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import { escapePath, escapeVersion } from '../module/path.js';
import { SumdbClient, type SumdbClientStore, type SumdbFetch } from './client.js';
import { SumdbVerificationError } from './errors.js';
import { generateKey, newSigner, signNote } from './note.js';
import { checkProofs, ProofFileError, type ProofFiles } from './proofs.js';
import { formatRecord, formatTree, newTiles, readTileData, recordHash, storedHashesForRecordHash, tilePath, treeHash, type Hash } from './tlog.js';

const NAME = 'sumdb.regressions.test';
const key = generateKey(NAME);
const HEIGHT = 8;

const h1 = (seed: string): string => `h1:${recordHash(Buffer.from(seed)).toString('base64')}`;
const lines = (path: string, version: string, zip = h1(`zip ${path}@${version}`), mod = h1(`mod ${path}@${version}`)): string =>
  `${path} ${version} ${zip}\n${path} ${version}/go.mod ${mod}\n`;
const lookupPath = (path: string, version: string): string => `lookup/${escapePath(path)}@${escapeVersion(version)}`;

class MapStore implements SumdbClientStore {
  readonly m = new Map<string, Buffer>();
  async read(k: string): Promise<Buffer | null> {
    return this.m.get(k) ?? null;
  }
  async write(k: string, data: Buffer): Promise<void> {
    this.m.set(k, Buffer.from(data));
  }
}

/** A log of records signed by `key`, served as a database serves it: lookups and every tile of its head, each replaceable. */
class Log {
  readonly hashes: Hash[] = [];
  readonly records: Buffer[] = [];
  readonly remote = new Map<string, Buffer>();
  readonly reader = { readHashes: (xs: readonly number[]) => xs.map((x) => this.hashes[x]!) };

  /** Appends `text` and resolves to its id. */
  async add(text: string): Promise<number> {
    const id = this.records.length;
    this.records.push(Buffer.from(text));
    this.hashes.push(...(await storedHashesForRecordHash(id, recordHash(Buffer.from(text)), this.reader)));
    return id;
  }

  async head(): Promise<Buffer> {
    const n = this.records.length;
    return signNote({ text: formatTree({ n, hash: await treeHash(n, this.reader) }) }, newSigner(key.signerKey));
  }

  /** Publishes the head, every tile of it, and `lookups` (lookup path → record id), each carrying the head. */
  async publish(lookups: ReadonlyMap<string, number>): Promise<void> {
    const head = await this.head();
    this.remote.set('latest', head);
    for (const t of newTiles(HEIGHT, 0, this.records.length)) this.remote.set(tilePath(t), await readTileData(t, this.reader));
    for (const [path, id] of lookups) this.remote.set(path, Buffer.concat([formatRecord(id, this.records[id]!), head]));
  }

  readonly fetch: SumdbFetch = async (path) => {
    const data = this.remote.get(path);
    if (data === undefined) throw new NotFoundError(`no ${path}`);
    return data;
  };

  client(store = new MapStore()): { client: SumdbClient; store: MapStore } {
    return { client: new SumdbClient({ verifierKey: key.verifierKey, fetch: this.fetch, store }), store };
  }

  /** The proof files go reads for `lookups`, as collectProofs lays them out: the head, the lookups, every tile. */
  proofs(lookups: readonly string[]): ProofFiles {
    const files = [...this.remote].filter(([name]) => name === 'latest' || name.startsWith('tile/') || lookups.includes(name));
    return {
      name: NAME,
      verifierKey: key.verifierKey,
      treeSize: this.records.length,
      files: files.map(([name, data]) => ({ name, data })).sort((a, b) => (a.name < b.name ? -1 : 1)),
    };
  }
}

/** Stored keys below the client's cache that are lookups or tiles (what a later process would trust). */
const storedLookupsAndTiles = (store: MapStore): string[] => [...store.m.keys()].filter((k) => !k.endsWith('/latest')).sort();

describe('golang/go#80744 (CVE-2026-56865): a full tile after right-edge subtrees that share a tile', () => {
  /*
   * 259 records: the head's hash is made of three subtrees (records 0-255, 256-257 and 258) held by
   * two tiles (tile/8/1/000.p/1, and tile/8/0/001.p/3 for both others). Proving record 0 adds the full
   * tile tile/8/0/000 third, at position 2 of the tiles read: x/mod checked tiles against their
   * parents from position 3 (the number of subtrees, not of the tiles holding them), so that tile
   * went unchecked, and with it any record the proxy forged into it.
   */
  const victim = 'example.com/victim';
  async function logWithRecordZero(text: string): Promise<Log> {
    const log = new Log();
    await log.add(lines(victim, 'v1.0.0'));
    for (let i = 1; i < 259; i++) await log.add(lines(`example.com/m${i}`, 'v1.0.0'));
    await log.publish(new Map([[lookupPath(victim, 'v1.0.0'), 0]]));
    if (text !== lines(victim, 'v1.0.0')) {
      // The forged answers: record 0 replaced in the lookup and in the full tile that holds its hash.
      const forged = Buffer.from(text);
      log.remote.set(lookupPath(victim, 'v1.0.0'), Buffer.concat([formatRecord(0, forged), await log.head()]));
      const tile = Buffer.from(log.remote.get('tile/8/0/000')!);
      recordHash(forged).copy(tile, 0);
      log.remote.set('tile/8/0/000', tile);
    }
    assert.deepEqual([...log.remote.keys()].filter((k) => k.startsWith('tile/')).sort(), ['tile/8/0/000', 'tile/8/0/001.p/3', 'tile/8/1/000.p/1']);
    return log;
  }
  const evil = lines(victim, 'v1.0.0', h1('evil zip'), h1('evil mod'));

  it('SumdbClient refuses the forged record and keeps neither it nor the forged tile', async () => {
    const honest = (await logWithRecordZero(lines(victim, 'v1.0.0'))).client();
    await honest.client.verify(victim, 'v1.0.0', h1(`zip ${victim}@v1.0.0`));
    assert.ok(honest.store.m.has(`${NAME}/tile/8/0/000`));

    const { client, store } = (await logWithRecordZero(evil)).client();
    await assert.rejects(client.verify(victim, 'v1.0.0', h1('evil zip')), (err: unknown) => err instanceof SumdbVerificationError && /downloaded inconsistent tile/.test(err.message));
    await assert.rejects(client.lookup(victim, 'v1.0.0/go.mod'), SumdbVerificationError);
    assert.deepEqual(storedLookupsAndTiles(store), []);
  });

  it('checkProofs refuses a bundle carrying the forged record and tile', async () => {
    const honest = await logWithRecordZero(lines(victim, 'v1.0.0'));
    const sums = await checkProofs(honest.proofs([lookupPath(victim, 'v1.0.0')]));
    assert.equal(sums.get(`${victim} v1.0.0`), h1(`zip ${victim}@v1.0.0`));

    const forged = await logWithRecordZero(evil);
    await assert.rejects(checkProofs(forged.proofs([lookupPath(victim, 'v1.0.0')])), (err: unknown) => err instanceof ProofFileError && /tile\/8\/0\/000: does not match its parent/.test(err.message));
  });
});

describe('golang/go#80745 (CVE-2026-56864): unrelated hashes in a lookup answer', () => {
  const asked = 'example.com/asked';
  /** A log whose record for `asked`@v1.0.0 is `text` (signed and in the log: the database itself is malicious). */
  async function logAnswering(text: string): Promise<Log> {
    const log = new Log();
    for (let i = 0; i < 3; i++) await log.add(lines(`example.com/m${i}`, 'v1.0.0'));
    const id = await log.add(text);
    await log.publish(new Map([[lookupPath(asked, 'v1.0.0'), id]]));
    return log;
  }

  it('the honest record of the same shape is accepted', async () => {
    const { client } = (await logAnswering(lines(asked, 'v1.0.0'))).client();
    await client.verify(asked, 'v1.0.0', h1(`zip ${asked}@v1.0.0`));
    await assert.rejects(client.verify(asked, 'v1.0.0', h1('other')), ChecksumMismatchError);
  });

  for (const [name, text] of Object.entries({
    'lines for another module': lines(asked, 'v1.0.0') + `example.com/other v6.6.6 ${h1('evil')}\n`,
    'lines for another version of the module': lines(asked, 'v1.0.0') + lines(asked, 'v1.0.1', h1('evil'), h1('evil mod')),
    'a second h1 for the zip': lines(asked, 'v1.0.0') + `${asked} v1.0.0 ${h1('evil')}\n`,
    'a line that is not a go.sum line': lines(asked, 'v1.0.0') + `${asked} v1.0.0\n`,
  })) {
    it(`a record carrying ${name} is refused, and nothing of it kept`, async () => {
      const { client, store } = (await logAnswering(text)).client();
      await assert.rejects(client.lookup(asked, 'v1.0.0'), (err: unknown) => err instanceof SumdbVerificationError && err.message.includes(`is not the record of ${asked}@v1.0.0`));
      await assert.rejects(client.verify(asked, 'v1.0.0', h1('evil')), SumdbVerificationError);
      await assert.rejects(client.record(asked, 'v1.0.0'), SumdbVerificationError);
      assert.deepEqual(storedLookupsAndTiles(store).filter((k) => k.includes('/lookup/')), []);
    });
  }

  it('bytes after the signed head of a lookup answer are refused', async () => {
    const log = await logAnswering(lines(asked, 'v1.0.0'));
    const path = lookupPath(asked, 'v1.0.0');
    log.remote.set(path, Buffer.concat([log.remote.get(path)!, Buffer.from(`${asked} v1.0.0 ${h1('evil')}\n`)]));
    const { client, store } = log.client();
    await assert.rejects(client.verify(asked, 'v1.0.0', h1('evil')), SumdbVerificationError);
    assert.deepEqual(storedLookupsAndTiles(store), []);
  });

  it('in bundle proofs, lines for other modules vouch for nothing, and two h1 for one file are refused', async () => {
    const other = await logAnswering(lines(asked, 'v1.0.0') + `example.com/other v6.6.6 ${h1('evil')}\n`);
    const sums = await checkProofs(other.proofs([lookupPath(asked, 'v1.0.0')]));
    assert.deepEqual([...sums.keys()].sort(), [`${asked} v1.0.0`, `${asked} v1.0.0/go.mod`]);

    for (const extra of [`${asked} v1.0.0 ${h1('evil')}\n`, `${asked} v1.0.0/go.mod ${h1('evil')}\n`]) {
      const twice = await logAnswering(lines(asked, 'v1.0.0') + extra);
      await assert.rejects(checkProofs(twice.proofs([lookupPath(asked, 'v1.0.0')])), (err: unknown) => err instanceof ProofFileError && /two h1 hashes/.test(err.message));
    }
  });
});

describe('CVE-2026-42501 (golang/go#79070): an empty or unrelated lookup answer proves nothing', () => {
  const asked = 'example.com/asked';

  it('an empty answer is refused', async () => {
    const log = new Log();
    await log.add(lines(asked, 'v1.0.0'));
    await log.publish(new Map());
    log.remote.set(lookupPath(asked, 'v1.0.0'), Buffer.alloc(0));
    const { client, store } = log.client();
    await assert.rejects(client.verify(asked, 'v1.0.0', h1('anything')), SumdbVerificationError);
    assert.deepEqual(storedLookupsAndTiles(store), []);
  });

  for (const [name, text] of Object.entries({
    'an empty record ("\\n" is valid record text)': '\n',
    'the valid record of another module': lines('example.com/other', 'v1.0.0'),
    'the valid record of another version': lines(asked, 'v1.0.1'),
    'the record of a module whose path has the asked one as prefix': lines(`${asked}/sub`, 'v1.0.0'),
  })) {
    it(`${name}, signed and proven in the log, is not accepted for ${asked}@v1.0.0`, async () => {
      const log = new Log();
      await log.add(lines('example.com/m0', 'v1.0.0'));
      const id = await log.add(text);
      await log.add(lines('example.com/m2', 'v1.0.0'));
      await log.publish(new Map([[lookupPath(asked, 'v1.0.0'), id]]));
      const { client, store } = log.client();
      // Before the fix, lookup answered no line, and verify took any hash as vouched for.
      await assert.rejects(client.lookup(asked, 'v1.0.0'), SumdbVerificationError);
      await assert.rejects(client.verify(asked, 'v1.0.0', h1('anything')), SumdbVerificationError);
      await assert.rejects(client.verify(asked, 'v1.0.0/go.mod', h1('anything')), SumdbVerificationError);
      assert.deepEqual(storedLookupsAndTiles(store).filter((k) => k.includes('/lookup/')), []);
    });
  }

  it('in bundle proofs, a lookup whose record holds no line for its module is refused', async () => {
    const log = new Log();
    const id = await log.add(lines('example.com/other', 'v1.0.0'));
    await log.publish(new Map([[lookupPath(asked, 'v1.0.0'), id]]));
    await assert.rejects(checkProofs(log.proofs([lookupPath(asked, 'v1.0.0')])), (err: unknown) => err instanceof ProofFileError && /holds no go.sum line/.test(err.message));
  });
});
