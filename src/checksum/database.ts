// A checksum database of godepot's own, answering what sum.golang.org answers (design 25530): signed
// tree heads, lookups and tiles of height 8, for the modules godepot vouches for itself. The log lives
// in storage as its data tiles (`<prefix>/tile/8/data/NNN`, the widest `.p/W` for the last one), byte
// for byte what the database serves for those paths; hashes are recomputed from the records on open.
// The one rule that keeps clients safe is never to sign a tree that does not extend every tree signed
// before: records are stored before any head that counts them is signed, the last signed head is
// stored before it is served, and opening refuses storage whose records do not extend that head.
import type { Logger } from 'pino';
import type { Artifact } from '../protocol/artifact.js';
import { GodepotError, InvalidRequestError, NotFoundError } from '../errors.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import { unescapePath, unescapeVersion } from '../module/path.js';
import { canonicalVersion, checkModule } from '../module/version.js';
import { readStored } from '../storage/read-stored.js';
import type { Storage } from '../storage/storage.js';
import { SumdbStateError, SumdbVerificationError } from './errors.js';
import { newSigner, newVerifier, openNote, signerVerifierKey, signNote, type NoteSigner, type NoteVerifier } from './note.js';
import {
  formatHash,
  formatRecord,
  formatTree,
  HASH_SIZE,
  isValidRecordText,
  parseTilePath,
  parseTree,
  readTileData,
  recordHash,
  storedHashesForRecordHash,
  tilePath,
  treeHash,
  type Hash,
  type HashReader,
  type Tile,
} from './tlog.js';

/** The tile height the database publishes, as sum.golang.org does. */
export const TILE_HEIGHT = 8;
const TILE_WIDTH = 2 ** TILE_HEIGHT;

// The lookup syntax go's sumdb server accepts before unescaping (x/mod sumdb.Server).
const MOD_VER = /^[^@]+@v[0-9]+\.[0-9]+\.[0-9]+(-[^@]*)?(\+incompatible)?$/;
const H1 = /^h1:[A-Za-z0-9+/]{43}=$/;

/** Options of ChecksumDatabase.open. */
export interface ChecksumDatabaseOptions {
  storage: Storage;
  /** The signer key `PRIVATE+KEY+<name>+<hash>+<key>`; its name is the database name. */
  signerKey: string;
  /** Where the log is kept in storage; default `sumdb/<name>`, the module-cache layout go reads. */
  prefix?: string;
  logger?: Logger;
}

/** The two hashes a record holds for a module version. */
export interface ModuleHashes {
  /** `h1:` of the module zip. */
  zip: string;
  /** `h1:` of the module's go.mod. */
  mod: string;
}

/** A module version's record in the log. */
export interface DatabaseRecord {
  id: number;
  /** The go.sum lines, each ending in a newline. */
  text: string;
}

interface Pending {
  key: string;
  modulePath: string;
  version: string;
  text: Buffer;
  resolve: (id: number) => void;
  reject: (err: unknown) => void;
}

/** Hashes in stored-index order in one growing buffer: 32 bytes a hash, no object per hash. */
class HashStore implements HashReader {
  private buf = Buffer.alloc(HASH_SIZE * 1024);
  count = 0;

  readHashes(indexes: readonly number[]): Hash[] {
    return indexes.map((x) => {
      if (!(x >= 0 && x < this.count)) throw new Error(`hash store: index ${x} of ${this.count}`);
      return this.buf.subarray(x * HASH_SIZE, (x + 1) * HASH_SIZE);
    });
  }

  append(hashes: readonly Hash[]): void {
    const need = (this.count + hashes.length) * HASH_SIZE;
    if (need > this.buf.length) {
      const grown = Buffer.alloc(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.count * HASH_SIZE);
      this.buf = grown;
    }
    for (const h of hashes) h.copy(this.buf, this.count++ * HASH_SIZE);
  }
}

/** The log as it is in memory: records in id order, their lookup index and the tree's hashes. */
interface LogState {
  records: Buffer[];
  index: Map<string, number>;
  hashes: HashStore;
}

/** `path@version` of a record: the first two fields of its first line. */
function recordKey(text: Buffer): string | null {
  const line = text.subarray(0, text.indexOf(0x0a)).toString('utf8');
  const fields = line.split(' ');
  return fields.length === 3 && fields[0] !== '' && fields[1] !== '' ? `${fields[0]}@${fields[1]}` : null;
}

async function readAll(storage: Storage, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The records of a data tile: each record's text followed by a blank line. */
function splitDataTile(data: Buffer, what: string): Buffer[] {
  const records: Buffer[] = [];
  let pos = 0;
  while (pos < data.length) {
    const end = data.indexOf('\n\n', pos);
    if (end < 0) throw new SumdbStateError(`${what}: record ${records.length} is not followed by a blank line`);
    const text = data.subarray(pos, end + 1);
    if (!isValidRecordText(text)) throw new SumdbStateError(`${what}: record ${records.length} is not valid record text`);
    records.push(text);
    pos = end + 2;
  }
  return records;
}

function dataTileBody(records: readonly Buffer[]): Buffer {
  return Buffer.concat(records.flatMap((r) => [r, Buffer.from('\n')]));
}

function artifact(body: Buffer, contentType: string, immutable: boolean): Artifact {
  return { contentType, size: body.length, immutable, etag: null, cache: 'hit', body };
}

/**
 * A checksum database: append module hashes, serve `supported`, `latest`, `lookup/<module>@<version>`
 * and `tile/8/...` exactly as go's sumdb server does. One process writes a database at a time.
 */
export class ChecksumDatabase {
  /** The database name, the first field of its verifier key and of GOSUMDB. */
  readonly name: string;
  /** The verifier key `name+hash+key`: what clients put in GOSUMDB. */
  readonly verifierKey: string;
  private readonly storage: Storage;
  private readonly prefix: string;
  private readonly logger: Logger | undefined;
  private readonly signer: NoteSigner;
  private readonly verifier: NoteVerifier;
  private state: LogState = { records: [], index: new Map(), hashes: new HashStore() };
  /** The signed head of the current size, once made and stored. */
  private signed: { n: number; note: Buffer } | null = null;
  private pending: Pending[] = [];
  private flushQueued = false;
  /** Set when a write failed part way: storage, not memory, then says what the log holds. */
  private stale = false;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(options: ChecksumDatabaseOptions, signer: NoteSigner, verifierKey: string) {
    this.storage = options.storage;
    this.signer = signer;
    this.name = signer.name;
    this.verifierKey = verifierKey;
    this.verifier = newVerifier(verifierKey);
    this.prefix = options.prefix ?? `sumdb/${signer.name}`;
    this.logger = options.logger;
  }

  /**
   * Opens the database kept in `storage` (empty when nothing is stored yet). Throws ConfigError for a
   * bad signer key and SumdbStateError when the stored records do not extend the stored signed head.
   */
  static async open(options: ChecksumDatabaseOptions): Promise<ChecksumDatabase> {
    const db = new ChecksumDatabase(options, newSigner(options.signerKey), signerVerifierKey(options.signerKey));
    await db.load();
    return db;
  }

  /** How many records the log holds. */
  get size(): number {
    return this.state.records.length;
  }

  /** The record of `modulePath@version`, or null when the database has none. */
  record(modulePath: string, version: string): DatabaseRecord | null {
    const id = this.state.index.get(`${modulePath}@${version}`);
    return id === undefined ? null : { id, text: this.state.records[id]!.toString('utf8') };
  }

  /**
   * Appends the record `<path> <version> <h1>\n<path> <version>/go.mod <h1>\n` and resolves to its id
   * once it is stored, or to the existing record's id when the same hashes are already recorded.
   * Concurrent calls are committed together. Throws InvalidRequestError for a module path, version or
   * hash the database cannot record, ChecksumMismatchError when the module is recorded with other
   * hashes (records never change), and storage errors.
   */
  add(modulePath: string, version: string, hashes: ModuleHashes): Promise<number> {
    try {
      checkModule(modulePath, version);
    } catch (err) {
      return Promise.reject(new InvalidRequestError(`cannot record ${modulePath}@${version}: ${(err as Error).message}`, { cause: err }));
    }
    if (canonicalVersion(version) !== version) return Promise.reject(new InvalidRequestError(`cannot record ${modulePath}@${version}: not a canonical version`));
    for (const h of [hashes.zip, hashes.mod]) {
      if (!H1.test(h)) return Promise.reject(new InvalidRequestError(`cannot record ${modulePath}@${version}: invalid hash ${JSON.stringify(h)}`));
    }
    const text = Buffer.from(`${modulePath} ${version} ${hashes.zip}\n${modulePath} ${version}/go.mod ${hashes.mod}\n`);
    const key = `${modulePath}@${version}`;
    const known = this.known(key, modulePath, version, text);
    if (known !== null) return known;
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ key, modulePath, version, text, resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        void this.serial(() => this.flush());
      }
    });
  }

  /** The signed note of the current tree (`/latest`), stored before it is returned. */
  async signedTree(): Promise<Buffer> {
    const current = this.signed;
    if (current !== null && current.n === this.size) return current.note;
    return this.serial(async () => {
      await this.reloadIfStale();
      const n = this.size;
      if (this.signed?.n === n) return this.signed.note;
      const note = signNote({ text: formatTree({ n, hash: await treeHash(n, this.state.hashes) }) }, this.signer);
      await this.storage.put(`${this.prefix}/latest`, note, { size: note.length });
      this.signed = { n, note };
      return note;
    });
  }

  /** The `/lookup/` answer for `modulePath@version`: record id, record text, blank line, signed tree. Throws NotFoundError. */
  async lookup(modulePath: string, version: string): Promise<Buffer> {
    const id = this.state.index.get(`${modulePath}@${version}`);
    if (id === undefined) throw new NotFoundError(`${modulePath}@${version}: not found in checksum database ${this.name}`);
    const record = formatRecord(id, this.state.records[id]!);
    return Buffer.concat([record, await this.signedTree()]);
  }

  /**
   * The data of tile t of the current tree: hashes for a hash tile, records for a data tile. Throws
   * NotFoundError for a tile of another height or one the tree does not have (yet).
   */
  async tile(t: Tile): Promise<Buffer> {
    const state = this.state;
    const size = state.records.length;
    if (t.height !== TILE_HEIGHT) throw new NotFoundError(`${tilePath(t)}: checksum database ${this.name} serves tiles of height ${TILE_HEIGHT} only`);
    const start = t.n * TILE_WIDTH;
    if (t.level === -1) {
      if (start + t.width > size) throw new NotFoundError(`${tilePath(t)}: not in the tree of ${size} records`);
      return dataTileBody(state.records.slice(start, start + t.width));
    }
    // Hash number i of level L exists once the tree has (i+1) * 2^L records.
    if (t.level > 6 || (start + t.width) * 2 ** (TILE_HEIGHT * t.level) > size) {
      throw new NotFoundError(`${tilePath(t)}: not in the tree of ${size} records`);
    }
    return readTileData(t, state.hashes);
  }

  /**
   * Answers `path` below `/sumdb/<name>/` (`supported`, `latest`, `lookup/<module>@<version>`,
   * `tile/...`) as go's sumdb server does. Throws InvalidRequestError for a malformed path and
   * NotFoundError for what the database does not have.
   */
  async get(path: string, signal?: AbortSignal): Promise<Artifact> {
    signal?.throwIfAborted();
    if (path === 'supported') return artifact(Buffer.alloc(0), 'text/plain; charset=UTF-8', false);
    if (path === 'latest') return artifact(await this.signedTree(), 'text/plain; charset=UTF-8', false);
    if (path.startsWith('lookup/')) {
      const target = path.slice('lookup/'.length);
      if (!MOD_VER.test(target)) throw new InvalidRequestError('invalid module@version syntax');
      const at = target.indexOf('@');
      let modulePath: string;
      let version: string;
      try {
        modulePath = unescapePath(target.slice(0, at));
        version = unescapeVersion(target.slice(at + 1));
      } catch (err) {
        if (!(err instanceof GodepotError)) throw err;
        throw new InvalidRequestError(`invalid checksum database lookup ${JSON.stringify(target)}: ${err.message}`, { cause: err });
      }
      return artifact(await this.lookup(modulePath, version), 'text/plain; charset=UTF-8', false);
    }
    if (path.startsWith('tile/')) {
      const t = parseTilePath(path);
      const body = await this.tile(t);
      const full = t.width === TILE_WIDTH;
      return artifact(body, t.level === -1 ? 'text/plain; charset=UTF-8' : 'application/octet-stream', full);
    }
    throw new NotFoundError(`checksum database ${this.name} has no ${JSON.stringify(path)}`);
  }

  /** The id of an already recorded `key`, a mismatch for other hashes, or null when it is new. */
  private known(key: string, modulePath: string, version: string, text: Buffer): Promise<number> | null {
    const id = this.state.index.get(key);
    if (id === undefined) return null;
    const recorded = this.state.records[id]!;
    if (recorded.equals(text)) return Promise.resolve(id);
    return Promise.reject(mismatch(this.name, modulePath, version, recorded, text));
  }

  /** Runs `fn` after every earlier serial task: appends and signing never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.pending.splice(0);
    try {
      await this.reloadIfStale();
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    const fresh: Pending[] = [];
    const inBatch = new Map<string, Pending>();
    const waiting: Array<[Pending, Pending]> = [];
    for (const p of batch) {
      const known = this.known(p.key, p.modulePath, p.version, p.text);
      if (known !== null) {
        known.then(p.resolve, p.reject);
        continue;
      }
      const first = inBatch.get(p.key);
      if (first !== undefined) {
        waiting.push([p, first]);
        continue;
      }
      inBatch.set(p.key, p);
      fresh.push(p);
    }
    if (fresh.length > 0) {
      try {
        await this.append(fresh.map((p) => p.text));
      } catch (err) {
        for (const p of [...fresh, ...waiting.map(([w]) => w)]) p.reject(err);
        return;
      }
    }
    for (const p of fresh) p.resolve(this.state.index.get(p.key)!);
    for (const [p, first] of waiting) {
      if (p.text.equals(first.text)) p.resolve(this.state.index.get(p.key)!);
      else p.reject(mismatch(this.name, p.modulePath, p.version, first.text, p.text));
    }
  }

  /** Stores the records after the current ones, then adds them to memory. */
  private async append(texts: readonly Buffer[]): Promise<void> {
    const state = this.state;
    const start = state.records.length;
    const all = [...state.records, ...texts];
    const end = all.length;
    const oldWidth = start % TILE_WIDTH;
    try {
      for (let n = Math.floor(start / TILE_WIDTH); n * TILE_WIDTH < end; n++) {
        const width = Math.min(TILE_WIDTH, end - n * TILE_WIDTH);
        const body = dataTileBody(all.slice(n * TILE_WIDTH, n * TILE_WIDTH + width));
        await this.storage.put(this.dataKey(n, width), body, { size: body.length });
      }
    } catch (err) {
      // Some tiles may be stored: whatever storage holds now is the log, and memory is reloaded from it.
      this.stale = true;
      throw err;
    }
    if (oldWidth > 0) await this.removeStalePartial(Math.floor(start / TILE_WIDTH), oldWidth);
    for (let id = start; id < end; id++) {
      const text = all[id]!;
      state.hashes.append(await storedHashesForRecordHash(id, recordHash(text), state.hashes));
      state.records.push(text);
      state.index.set(recordKey(text)!, id);
    }
  }

  private dataKey(n: number, width: number): string {
    return `${this.prefix}/${tilePath({ height: TILE_HEIGHT, level: -1, n, width })}`;
  }

  /** A narrower partial data tile is superseded once a wider one is stored; failing to remove it only leaves a file open() ignores. */
  private async removeStalePartial(n: number, width: number): Promise<void> {
    try {
      await this.storage.delete(this.dataKey(n, width));
    } catch (err) {
      this.logger?.warn({ sumdb: this.name, tile: n, width, err: (err as Error).message }, 'superseded partial data tile not removed');
    }
  }

  private async reloadIfStale(): Promise<void> {
    if (!this.stale) return;
    await this.load();
    this.stale = false;
  }

  /** Reads the log from storage and checks it extends the stored signed head. */
  private async load(): Promise<void> {
    const base = `${this.prefix}/tile/${TILE_HEIGHT}/data`;
    const full = new Set<number>();
    const partial = new Map<number, number[]>();
    for (const key of await this.storage.list(base)) {
      let t: Tile;
      try {
        t = parseTilePath(key.slice(this.prefix.length + 1));
      } catch (err) {
        if (err instanceof InvalidRequestError) throw new SumdbStateError(`checksum database ${this.name}: unexpected object ${key} among its data tiles`);
        throw err;
      }
      if (t.width === TILE_WIDTH) full.add(t.n);
      else partial.set(t.n, [...(partial.get(t.n) ?? []), t.width]);
    }
    const fullCount = full.size;
    for (let n = 0; n < fullCount; n++) {
      if (!full.has(n)) throw new SumdbStateError(`checksum database ${this.name}: data tile ${n} is missing below ${fullCount} full tiles`);
    }
    const leftovers: Array<[number, number]> = [];
    let last: number | null = null;
    for (const [n, widths] of partial) {
      const widest = Math.max(...widths);
      for (const w of widths) if (n < fullCount || w !== widest) leftovers.push([n, w]);
      if (n === fullCount) last = widest;
      else if (n > fullCount) throw new SumdbStateError(`checksum database ${this.name}: partial data tile ${n} after only ${fullCount} full tiles`);
    }

    const state: LogState = { records: [], index: new Map(), hashes: new HashStore() };
    const tiles: Array<[number, number]> = [...Array.from({ length: fullCount }, (_, n): [number, number] => [n, TILE_WIDTH])];
    if (last !== null) tiles.push([fullCount, last]);
    for (const [n, width] of tiles) {
      const key = this.dataKey(n, width);
      const records = splitDataTile(await readAll(this.storage, key), key);
      if (records.length !== width) throw new SumdbStateError(`${key}: ${records.length} records in a tile of width ${width}`);
      for (const text of records) {
        const id = state.records.length;
        const k = recordKey(text);
        if (k === null) throw new SumdbStateError(`${key}: record ${id} does not start with a go.sum line`);
        if (state.index.has(k)) throw new SumdbStateError(`${key}: ${k} is recorded twice (records ${state.index.get(k)} and ${id})`);
        state.hashes.append(await storedHashesForRecordHash(id, recordHash(text), state.hashes));
        state.records.push(text);
        state.index.set(k, id);
      }
    }
    await this.checkSignedHead(state);
    this.state = state;
    this.signed = null;
    for (const [n, w] of leftovers) await this.removeStalePartial(n, w);
  }

  /** Refuses records that do not extend the last head this database signed and stored. */
  private async checkSignedHead(state: LogState): Promise<void> {
    const stored = await readStored(this.storage, `${this.prefix}/latest`);
    if (stored === null) return;
    let tree;
    try {
      tree = parseTree(openNote(stored, [this.verifier]).text);
    } catch (err) {
      if (!(err instanceof SumdbVerificationError)) throw err;
      throw new SumdbStateError(`checksum database ${this.name}: stored signed head ${this.prefix}/latest cannot be read with this key: ${err.message}`, { cause: err });
    }
    const size = state.records.length;
    if (tree.n > size) {
      throw new SumdbStateError(
        `checksum database ${this.name}: it signed a tree of ${tree.n} records but storage holds only ${size}; ` +
          'records were lost, and serving would fork the tree its clients have seen',
      );
    }
    const hash = await treeHash(tree.n, state.hashes);
    if (!hash.equals(tree.hash)) {
      throw new SumdbStateError(
        `checksum database ${this.name}: the stored records give tree ${tree.n} the hash ${formatHash(hash)}, ` +
          `but it signed ${formatHash(tree.hash)}; serving would fork the tree its clients have seen`,
      );
    }
  }
}

function mismatch(name: string, modulePath: string, version: string, recorded: Buffer, offered: Buffer): ChecksumMismatchError {
  const lines = (b: Buffer) => b.toString('utf8').trimEnd().split('\n');
  const [recZip = '', recMod = ''] = lines(recorded).map((l) => l.split(' ')[2] ?? '');
  const [newZip = '', newMod = ''] = lines(offered).map((l) => l.split(' ')[2] ?? '');
  const goMod = recZip === newZip;
  return new ChecksumMismatchError({
    path: modulePath,
    version: goMod ? `${version}/go.mod` : version,
    downloaded: goMod ? newMod : newZip,
    recorded: goMod ? recMod : recZip,
    message:
      `checksum database ${name} already records ${modulePath}@${version} with other hashes; records never change\n` +
      `\trecorded: ${lines(recorded).join('\n\t          ')}\n\toffered:  ${lines(offered).join('\n\t          ')}`,
  });
}
