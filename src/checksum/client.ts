// A checksum-database client that trusts what the go command trusts and nothing more (x/mod
// sumdb.Client): a lookup's record counts only once its hash is proven, through tiles, to be in a tree
// head signed by the database's key, and every new head must extend the one remembered before it. The
// remembered head and the verified lookups and tiles are kept in a small store, in go's own file names
// (`<name>/latest`, `<name>/lookup/<module>@<version>`, `<name>/tile/8/...`).
import { abortable } from '../abortable.js';
import { NotFoundError } from '../errors.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import { escapePath, escapeVersion } from '../module/path.js';
import { readStored } from '../storage/read-stored.js';
import type { Storage } from '../storage/storage.js';
import { SumdbForkError, SumdbVerificationError } from './errors.js';
import { newVerifier, openNote, type NoteVerifier } from './note.js';
import {
  EMPTY_TREE_HASH,
  formatHash,
  parseRecord,
  parseTree,
  proveTree,
  recordHash,
  storedHashIndex,
  tileHashReader,
  tilePath,
  treeHash,
  type HashReader,
  type Tile,
  type TileReader,
  type Tree,
} from './tlog.js';

/**
 * Fetches `path` (`latest`, `lookup/<module>@<version>`, `tile/...`) from the database or a proxy of
 * it; rejects with NotFoundError when the answer is 404/410, with the transport's errors otherwise.
 */
export type SumdbFetch = (path: string, signal?: AbortSignal) => Promise<Uint8Array>;

/** Where the client keeps what it verified; keys are go's names below its sumdb cache. */
export interface SumdbClientStore {
  /** The stored bytes, or null when there are none. */
  read(key: string): Promise<Buffer | null>;
  write(key: string, data: Buffer): Promise<void>;
}

/** A SumdbClientStore in a Storage, under `<prefix>/` (default `sumdb`: the module-cache download layout). */
export class StorageClientStore implements SumdbClientStore {
  constructor(
    private readonly storage: Storage,
    private readonly prefix = 'sumdb',
  ) {}

  read(key: string): Promise<Buffer | null> {
    return readStored(this.storage, `${this.prefix}/${key}`);
  }

  async write(key: string, data: Buffer): Promise<void> {
    await this.storage.put(`${this.prefix}/${key}`, data, { size: data.length });
  }
}

/** Options of SumdbClient. */
export interface SumdbClientOptions {
  /** The database's verifier key `name+hash+key` (a parsed GOSUMDB's `verifierKey`). */
  verifierKey: string;
  fetch: SumdbFetch;
  store: SumdbClientStore;
  /** Tile height the database publishes; 8 for every Go checksum database. */
  tileHeight?: number;
  /** Called with what went wrong when something verified could not be kept (a store write failed). */
  onStoreError?: (key: string, err: unknown) => void;
}

/** A verified tree head and the signed note it came in (empty for the empty tree nobody signed). */
export interface SignedTree extends Tree {
  note: Buffer;
}

/** A record proven to be in the database's log: its position and its text (go.sum lines, each ending in a newline). */
export interface ProvenRecord {
  id: number;
  text: Buffer;
}

/** Records proven in one signed head, with the tiles go reads to prove them: each tile's data exactly as go asks for it. */
export interface RecordsProof {
  tree: SignedTree;
  tiles: Array<{ tile: Tile; data: Buffer }>;
}

type When = 'past' | 'now' | 'future';

// How many proven records a client keeps in memory (a few hundred bytes each).
const PROVEN_RECORDS = 10_000;
// How many records proveRecords proves with one tile read (up to a few tiles each, fetched at once).
const PROOF_BATCH = 64;

const indent = (b: Buffer): string => b.toString('utf8').replaceAll('\n', '\n\t');

// What go appends to a checksum mismatch against the database (cmd/go/internal/modfetch).
const SUMDB_MISMATCH = `

SECURITY ERROR
This download does NOT match the one reported by the checksum server.
The bits may have been replaced on the origin server, or an attacker may
have intercepted the download attempt.

For more information, see 'go help module-auth'.
`;


/** Prefixes a verification failure's message with where it happened; other errors pass as they are. */
function within(prefix: string, err: unknown): unknown {
  if (err instanceof SumdbVerificationError) return new SumdbVerificationError(`${prefix}: ${err.message}`, { cause: err });
  return err;
}

/**
 * Checks that a proven record is the record of `modulePath@version` and nothing else: every line is
 * `<modulePath> <version>[/go.mod] <alg>:<hash>`, with one hash at most per file and algorithm, and
 * there is a line at all. Being in the log proves only that the database signed the text, not what
 * the text is about. go filters a record's lines by the module it asked for, so a record for another
 * module, or an empty one ("\n" is valid record text), vouches for nothing, and go accepts any hash
 * when nothing vouches (CVE-2026-42501); lines for other modules would be kept and carried in bundle
 * proofs beside the ones asked for, hashes nobody asked the log about (golang/go#80745); and a second
 * h1 for the same file let verify() accept either of two contents. go's sumdb writes exactly two
 * lines per record, godepot's own database too. Throws SumdbVerificationError.
 */
function checkRecordIsFor(id: number, text: Buffer, modulePath: string, version: string): void {
  const refuse = (why: string): SumdbVerificationError =>
    new SumdbVerificationError(`record ${id} is not the record of ${modulePath}@${version}: ${why}`);
  const lines = text.toString('utf8').split('\n').slice(0, -1);
  if (lines.length === 0) throw refuse('it holds no go.sum line');
  const seen = new Set<string>();
  for (const line of lines) {
    const fields = line.split(' ');
    const colon = fields[2]?.indexOf(':') ?? -1;
    if (fields.length !== 3 || fields[0] !== modulePath || (fields[1] !== version && fields[1] !== `${version}/go.mod`) || colon < 1) {
      throw refuse(`it holds the line ${JSON.stringify(line)}`);
    }
    const file = `${fields[1]} ${fields[2]!.slice(0, colon)}`;
    if (seen.has(file)) throw refuse(`it holds two ${fields[2]!.slice(0, colon)} hashes for ${modulePath} ${fields[1]}`);
    seen.add(file);
  }
}

/**
 * A verifying client of one checksum database. Lookups return go.sum lines only after the record is
 * proven to be in the latest signed tree; a head that does not extend the remembered one throws
 * SumdbForkError (go's security report as its message). Safe for concurrent use.
 */
export class SumdbClient {
  readonly name: string;
  /** The database's verifier key `name+hash+key`, as the client was given it. */
  readonly verifierKey: string;
  private readonly verifier: NoteVerifier;
  private readonly options: SumdbClientOptions;
  private readonly height: number;
  private latestTree: SignedTree = { n: 0, hash: EMPTY_TREE_HASH, note: Buffer.alloc(0) };
  private ready: Promise<void> | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly lookups = new Map<string, Promise<ProvenRecord>>();
  /**
   * Records proven in this process, newest last, as go's client keeps them for its process: a
   * record in a signed tree never changes, and proving it again from the store costs a few tile reads
   * and hundreds of hashes.
   */
  private readonly proven = new Map<string, ProvenRecord>();
  private readonly tiles = new Map<string, Promise<Buffer>>();
  /** Tile data fetched from the database and not yet proven: saved once a tile hash reader accepts it. */
  private readonly unsaved = new WeakSet<Buffer>();

  /** Throws ConfigError for a bad verifier key. */
  constructor(options: SumdbClientOptions) {
    this.options = options;
    this.verifier = newVerifier(options.verifierKey);
    this.name = this.verifier.name;
    this.verifierKey = options.verifierKey;
    this.height = options.tileHeight ?? 8;
  }

  /** The newest head verified so far (after reading the stored one). */
  async remembered(): Promise<SignedTree> {
    await this.init();
    return this.latestTree;
  }

  /**
   * Fetches the database's signed head and checks it against the remembered one; returns the newest
   * verified head, which is the remembered one when the database served an older head of the same
   * tree (proxies cache `latest`). Throws SumdbVerificationError, SumdbForkError and fetch errors.
   */
  async latest(signal?: AbortSignal): Promise<SignedTree> {
    await this.init();
    const msg = Buffer.from(await this.options.fetch('latest', signal));
    await abortable(this.mergeLatest(msg), signal);
    return this.latestTree;
  }

  /**
   * The database's go.sum lines for `modulePath version` (`version` may end in `/go.mod`), after
   * proving the record is in the signed tree. Throws InvalidPathError/InvalidVersionError for what
   * cannot be escaped, SumdbVerificationError, SumdbForkError, and fetch errors (NotFoundError when the
   * database has no such module).
   */
  async lookup(modulePath: string, version: string, signal?: AbortSignal): Promise<string[]> {
    let text: Buffer;
    try {
      ({ text } = await this.provenRecord(modulePath, version.replace(/\/go\.mod$/, ''), signal));
    } catch (err) {
      throw within(`${modulePath}@${version}`, err);
    }
    const prefix = `${modulePath} ${version} `;
    return text
      .toString('utf8')
      .split('\n')
      .filter((line) => line.startsWith(prefix));
  }

  /**
   * The database's record of `modulePath@version`, proven in a signed tree the client verified: the
   * record lookup() reads its lines from. Throws as lookup() does.
   */
  async record(modulePath: string, version: string, signal?: AbortSignal): Promise<ProvenRecord> {
    try {
      return await this.provenRecord(modulePath, version, signal);
    } catch (err) {
      throw within(`${modulePath}@${version}`, err);
    }
  }

  /**
   * Proves `records` again, all in the newest head the client verified, and returns that head with the
   * tiles the proofs read: the tiles that add up to the head's hash, and below them the full tiles down
   * to each record's hash, each with the width go asks for. `olderHeads` are signed heads of this
   * database that a reader of the proofs may remember (go checks that a new head extends the one it
   * remembers): each is merged into the client's timeline first, and the tiles go reads to check that
   * the head extends it are returned too. Tiles come from the store or the database and are checked as
   * every lookup's are. Throws SumdbVerificationError when a record is not in the head or does not
   * hash to it, SumdbForkError for an older head the timeline does not extend, and fetch errors.
   */
  async proveRecords(records: readonly ProvenRecord[], options: { olderHeads?: readonly Uint8Array[]; signal?: AbortSignal } = {}): Promise<RecordsProof> {
    const { signal } = options;
    await abortable(this.init(), signal);
    const older: Tree[] = [];
    for (const note of options.olderHeads ?? []) {
      const msg = Buffer.from(note);
      await abortable(this.mergeLatest(msg), signal);
      older.push(this.openTree(msg));
    }
    const tree = this.latestTree;
    for (const r of records) {
      if (r.id >= tree.n) throw new SumdbVerificationError(`cannot validate record ${r.id} in tree of size ${tree.n}`);
    }
    if (tree.n === 0) return { tree, tiles: [] };
    const read = new Map<string, { tile: Tile; data: Buffer }>();
    const reader = this.hashReader(tree, (tiles, data) => tiles.forEach((tile, i) => read.set(tilePath(tile), { tile, data: data[i]! })));
    for (const old of older) {
      if (old.n === 0 || old.n === tree.n) continue;
      if (!(await abortable(treeHash(old.n, reader), signal)).equals(old.hash)) {
        throw new SumdbVerificationError(`tree#${tree.n} does not extend tree#${old.n}`);
      }
    }
    // A batch at a time: each batch reads its tiles all at once.
    for (let start = 0; start < records.length; start += PROOF_BATCH) {
      const batch = records.slice(start, start + PROOF_BATCH);
      const hashes = await abortable(Promise.resolve(reader.readHashes(batch.map((r) => storedHashIndex(0, r.id)))), signal);
      batch.forEach((r, i) => {
        if (!hashes[i]!.equals(recordHash(r.text))) throw new SumdbVerificationError(`record ${r.id} does not hash to its place in tree#${tree.n}`);
      });
    }
    // The right-edge tiles prove the head itself: carried with no records too, so a head always comes with them.
    if (records.length === 0) await abortable(Promise.resolve(reader.readHashes([])), signal);
    return { tree, tiles: [...read.values()] };
  }

  /**
   * Checks `h1` (of the zip, or of the go.mod when `version` ends in `/go.mod`) as go's checkSumDB does:
   * a database line with another h1 is a ChecksumMismatchError with go's message; a record with no h1
   * line for it is accepted, as go accepts it.
   */
  async verify(modulePath: string, version: string, h1: string, signal?: AbortSignal): Promise<void> {
    const lines = await this.lookup(modulePath, version, signal);
    const have = `${modulePath} ${version} ${h1}`;
    const prefix = `${modulePath} ${version} h1:`;
    if (lines.includes(have)) return;
    const line = lines.find((l) => l.startsWith(prefix));
    if (line === undefined) return;
    const recorded = line.slice(prefix.length - 'h1:'.length);
    const goMod = version.endsWith('/go.mod');
    throw new ChecksumMismatchError({
      path: modulePath,
      version,
      downloaded: h1,
      recorded,
      message:
        `${modulePath}@${version.replace(/\/go\.mod$/, '')}: verifying ${goMod ? 'go.mod' : 'module'}: checksum mismatch\n` +
        `\tdownloaded: ${h1}\n\t${this.name}: ${recorded}${SUMDB_MISMATCH}`,
    });
  }

  private async provenRecord(modulePath: string, version: string, signal: AbortSignal | undefined): Promise<ProvenRecord> {
    const escaped = `${escapePath(modulePath)}@${escapeVersion(version)}`;
    const key = `${this.name}/lookup/${escaped}`;
    let record = this.proven.get(key);
    if (record === undefined) {
      let proving = this.lookups.get(key);
      if (proving === undefined) {
        proving = this.verifiedRecord(key, `lookup/${escaped}`, modulePath, version).finally(() => this.lookups.delete(key));
        this.lookups.set(key, proving);
      }
      record = await abortable(proving, signal);
      this.proven.set(key, record);
      if (this.proven.size > PROVEN_RECORDS) this.proven.delete(this.proven.keys().next().value!);
    }
    return record;
  }

  /** The record of `modulePath@version`, from the store or the database, proven before it is kept or used. */
  private async verifiedRecord(key: string, remotePath: string, modulePath: string, version: string): Promise<ProvenRecord> {
    await this.init();
    const stored = await this.recall(key);
    if (stored !== null) {
      try {
        return await this.checkLookup(stored, modulePath, version);
      } catch (err) {
        // A stored answer that no longer checks out is asked for again; a fork is reported at once.
        if (!(err instanceof SumdbVerificationError)) throw err;
      }
    }
    const data = Buffer.from(await this.options.fetch(remotePath));
    const record = await this.checkLookup(data, modulePath, version);
    await this.keep(key, data);
    return record;
  }

  /**
   * The record of a lookup answer, once its head is merged, the record proven in the latest tree, and
   * the record found to be the one asked for.
   */
  private async checkLookup(data: Buffer, modulePath: string, version: string): Promise<ProvenRecord> {
    const { id, text, rest } = parseRecord(data);
    await this.mergeLatest(rest);
    await this.checkRecord(id, text);
    checkRecordIsFor(id, text, modulePath, version);
    return { id, text };
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      const stored = await this.options.store.read(`${this.name}/latest`);
      if (stored !== null && stored.length > 0) await this.mergeLatest(stored, false);
    })().catch((err: unknown) => {
      this.ready = null;
      throw within(`reading the remembered ${this.name} tree`, err);
    });
    return this.ready;
  }

  /** Runs `fn` after every earlier merge: heads move forward one at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Merges a signed head into the remembered timeline and stores it when it moved the timeline forward. */
  private async mergeLatest(msg: Buffer, persist = true): Promise<void> {
    const tree = this.openTree(msg);
    const known = this.latestTree;
    if (tree.n === known.n && tree.hash.equals(known.hash)) return;
    await this.serial(async () => {
      const when = await this.mergeLatestMem(msg, tree);
      if (when !== 'future' || !persist) return;
      // Another process may have moved the stored head on: take it in before writing ours.
      const stored = await this.recall(`${this.name}/latest`);
      if (stored !== null && stored.length > 0 && !stored.equals(this.latestTree.note)) {
        if ((await this.mergeLatestMem(stored, this.openTree(stored))) === 'future') return;
      }
      await this.keep(`${this.name}/latest`, this.latestTree.note);
    });
  }

  private openTree(msg: Buffer): Tree {
    try {
      return parseTree(openNote(msg, [this.verifier]).text);
    } catch (err) {
      if (err instanceof SumdbVerificationError) {
        throw new SumdbVerificationError(`reading tree note: ${err.message}\nnote:\n${msg.toString('utf8')}`, { cause: err });
      }
      throw err;
    }
  }

  /** Where a signed head falls on the remembered timeline; moves the timeline when it is newer. */
  private async mergeLatestMem(msg: Buffer, tree: Tree): Promise<When> {
    const latest = this.latestTree;
    if (tree.n <= latest.n) {
      await this.checkTrees({ ...tree, note: msg }, latest, true);
      return tree.n < latest.n ? 'past' : 'now';
    }
    await this.checkTrees(latest, { ...tree, note: msg }, false);
    this.latestTree = { ...tree, note: msg };
    return 'future';
  }

  /** Checks that `older` is a prefix of `newer`; `servedOlder` says which of the two the database just served. */
  private async checkTrees(older: SignedTree, newer: SignedTree, servedOlder: boolean): Promise<void> {
    const thr = this.hashReader(newer);
    let h;
    try {
      h = await treeHash(older.n, thr);
    } catch (err) {
      throw within(older.n === newer.n ? `checking tree#${older.n}` : `checking tree#${older.n} against tree#${newer.n}`, err);
    }
    if (h.equals(older.hash)) return;

    // A fork. The report carries everything needed to prove it without the database: both signed
    // heads, and the proof that the newer tree's prefix of the older size has another hash.
    let report = `SECURITY ERROR\ngo.sum database server misbehavior detected!\n\n`;
    report += `old database:\n\t${indent(older.note)}\n`;
    report += `new database:\n\t${indent(newer.note)}\n`;
    report += `proof of misbehavior:\n\t${formatHash(h)}`;
    try {
      for (const p of await proveTree(newer.n, older.n, thr)) report += `\n\t${formatHash(p)}`;
    } catch (err) {
      report += `\n\tinternal error: ${(err as Error).message}`;
    }
    const remembered = servedOlder ? newer : older;
    const served = servedOlder ? older : newer;
    throw new SumdbForkError(
      report,
      { size: remembered.n, hash: formatHash(remembered.hash) },
      { size: served.n, hash: formatHash(served.hash) },
      formatHash(h),
      servedOlder && older.n < newer.n,
    );
  }

  /** Checks that record `id` of the latest tree hashes to `text`. */
  private async checkRecord(id: number, text: Buffer): Promise<void> {
    const latest = this.latestTree;
    if (id >= latest.n) throw new SumdbVerificationError(`cannot validate record ${id} in tree of size ${latest.n}`);
    const [h] = await this.hashReader(latest).readHashes([storedHashIndex(0, id)]);
    if (!h!.equals(recordHash(text))) throw new SumdbVerificationError('cannot authenticate record data in server response');
  }

  /**
   * Hashes of `tree`, read from tiles. Stored tiles are preferred; if what they give does not add up
   * (a store poisoned with unproven tiles), the tiles are read again from the database alone, and the
   * good ones replace the bad. `proven` is told every tile that was checked against the tree.
   */
  private hashReader(tree: Tree, proven?: (tiles: readonly Tile[], data: readonly Buffer[]) => void): HashReader {
    return {
      readHashes: async (indexes) => {
        const cached = { used: false };
        try {
          return await tileHashReader(tree, this.tileReader(true, cached, proven)).readHashes(indexes);
        } catch (err) {
          if (!(err instanceof SumdbVerificationError && err.message === 'downloaded inconsistent tile' && cached.used)) throw err;
          return tileHashReader(tree, this.tileReader(false, cached, proven)).readHashes(indexes);
        }
      },
    };
  }

  private tileReader(useStore: boolean, cached: { used: boolean }, proven?: (tiles: readonly Tile[], data: readonly Buffer[]) => void): TileReader {
    return {
      height: this.height,
      readTiles: (tiles) => Promise.all(tiles.map((t) => this.readTile(t, useStore, cached))),
      saveTiles: async (tiles, data) => {
        proven?.(tiles, data);
        await Promise.all(
          tiles.map(async (t, i) => {
            const d = data[i]!;
            if (!this.unsaved.has(d)) return;
            this.unsaved.delete(d);
            await this.keep(`${this.name}/${tilePath(t)}`, d);
          }),
        );
      },
    };
  }

  /** One tile: from the store (itself or its full tile), else the database (itself, else its full tile). */
  private async readTile(t: Tile, useStore: boolean, cached: { used: boolean }): Promise<Buffer> {
    const size = t.width * 32;
    const full: Tile = { ...t, width: 2 ** t.height };
    if (useStore) {
      for (const candidate of t.width === full.width ? [t] : [t, full]) {
        const data = await this.recall(`${this.name}/${tilePath(candidate)}`);
        if (data !== null && data.length === candidate.width * 32) {
          cached.used = true;
          return data.subarray(0, size);
        }
      }
    }
    const key = tilePath(t);
    let fetching = this.tiles.get(key);
    if (fetching === undefined) {
      fetching = this.fetchTile(t, full).finally(() => this.tiles.delete(key));
      this.tiles.set(key, fetching);
    }
    return fetching;
  }

  private async fetchTile(t: Tile, full: Tile): Promise<Buffer> {
    let data: Buffer;
    try {
      data = Buffer.from(await this.options.fetch(tilePath(t)));
    } catch (err) {
      // A partial tile may be gone because the tile is complete now: its prefix is what we need.
      if (t.width === full.width || !(err instanceof NotFoundError)) throw err;
      try {
        data = Buffer.from(await this.options.fetch(tilePath(full))).subarray(0, t.width * 32);
      } catch {
        throw err;
      }
    }
    this.unsaved.add(data);
    return data;
  }

  /** Stores what was verified; a failing store costs a later fetch, not this answer. */
  private async keep(key: string, data: Buffer): Promise<void> {
    try {
      await this.options.store.write(key, data);
    } catch (err) {
      this.options.onStoreError?.(key, err);
    }
  }

  /** What the store holds under `key`; a store that fails to read counts as holding nothing, as go treats its cache. */
  private async recall(key: string): Promise<Buffer | null> {
    try {
      return await this.options.store.read(key);
    } catch (err) {
      this.options.onStoreError?.(key, err);
      return null;
    }
  }
}
