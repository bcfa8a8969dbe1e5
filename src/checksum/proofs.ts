// Checksum-database proofs that travel with a bundle: for a set of module versions, the files below
// `sumdb/<name>/` that let the go command verify them with no database to reach, and the check of such
// a set on its own. go proves every record against the newest head it has merged; lookups signed at
// different sizes would make it ask for tiles proving one head extends another. So every lookup is
// rewritten to carry one head (the newest the client verified: the database signed it, so go accepts it
// beside any record of that tree), and the set holds exactly the hash tiles go reads to prove each
// record in that head, named and sized as go asks for them.
import { GodepotError } from '../errors.js';
import { escapePath, escapeVersion, unescapePath, unescapeVersion } from '../module/path.js';
import type { ProvenRecord, SumdbClient } from './client.js';
import { SumdbVerificationError } from './errors.js';
import { newVerifier, openNote, type NoteVerifier } from './note.js';
import {
  HASH_SIZE,
  formatRecord,
  hashFromTile,
  nodeHash,
  parseRecord,
  parseTilePath,
  parseTree,
  recordHash,
  storedHashIndex,
  tileForIndex,
  tilePath,
  type Hash,
  type Tile,
  type Tree,
} from './tlog.js';

/** The proofs of a set of module versions, as the files go reads below `sumdb/<name>/`. */
export interface ProofFiles {
  name: string;
  verifierKey: string;
  treeSize: number;
  /** Relative names below `sumdb/<name>/`: `latest`, `lookup/<escaped module>@<escaped version>`, `tile/8/...`, each with its bytes; sorted by name. */
  files: Array<{ name: string; data: Buffer }>;
}

/** A module version to prove, with the hashes it must have. */
export interface ProofModule {
  path: string;
  version: string;
  /** `h1:` of the go.mod. */
  modHash: string;
  /** `h1:` of the zip, for versions whose zip is carried. */
  zipHash?: string;
}

/**
 * A proof set that does not verify: `files` names the files at fault (for right-edge tiles that do not
 * add up to the signed head, every one of them: which is wrong cannot be told), or the missing file.
 */
export class ProofFileError extends SumdbVerificationError {
  constructor(
    readonly files: readonly string[],
    why: string,
  ) {
    super(`${files.join(', ')}: ${why}`);
  }
}

/** The tile height of every Go checksum database (go's client never asks for another). */
const HEIGHT = 8;
const WIDTH = 2 ** HEIGHT;
const DEFAULT_CONCURRENCY = 8;

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const lookupName = (modulePath: string, version: string): string => `lookup/${escapePath(modulePath)}@${escapeVersion(version)}`;

/** Options of collectProofs. */
export interface CollectProofsOptions {
  /** Lookups verified at once (default 8). */
  concurrency?: number;
  /**
   * Signed heads of the database that the go commands using the proofs may remember (the `latest` of
   * earlier proof sets, such as an older bundle's): go refuses a head until it has checked that the head
   * extends the one it remembers, so the tiles for that check are carried too.
   */
  olderHeads?: readonly Uint8Array[];
  signal?: AbortSignal;
}

/**
 * Verifies every module version with `client` (go.mod hash, and zip hash when given) and returns the
 * proofs go needs to verify them offline. Throws what SumdbClient.verify throws (ChecksumMismatchError
 * for a hash the database disagrees with, SumdbVerificationError, SumdbForkError, fetch errors), and
 * SumdbForkError when the database's head does not extend one of `olderHeads`.
 */
export async function collectProofs(client: SumdbClient, modules: ReadonlyArray<ProofModule>, options: CollectProofsOptions = {}): Promise<ProofFiles> {
  const records = new Map<string, ProvenRecord>();
  // The first failure stops the other workers: their lookups would only be thrown away.
  const stop = new AbortController();
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < modules.length) {
      const m = modules[next++]!;
      signal.throwIfAborted();
      await client.verify(m.path, `${m.version}/go.mod`, m.modHash, signal);
      if (m.zipHash !== undefined) await client.verify(m.path, m.version, m.zipHash, signal);
      records.set(lookupName(m.path, m.version), await client.record(m.path, m.version, signal));
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, modules.length));
  try {
    await Promise.all(
      Array.from({ length: workers }, () =>
        work().catch((err: unknown) => {
          stop.abort(err);
          throw err;
        }),
      ),
    );
  } catch (err) {
    // The caller's abort, not the stop it caused, is what the caller should see.
    throw options.signal?.aborted ? options.signal.reason : err;
  }

  const { tree, tiles } = await client.proveRecords([...records.values()], { olderHeads: options.olderHeads, signal: options.signal });
  const files: ProofFiles['files'] = [];
  if (tree.note.length > 0) files.push({ name: 'latest', data: tree.note });
  for (const [name, r] of records) files.push({ name, data: Buffer.concat([formatRecord(r.id, r.text), tree.note]) });
  for (const { tile, data } of tiles) files.push({ name: tilePath(tile), data });
  return { name: client.name, verifierKey: client.verifierKey, treeSize: tree.n, files: files.sort(byName) };
}

/** Tile `n` of `level` in a tree of `size` records, as wide as the tree makes it; null when the tree has none. */
function treeTile(level: number, n: number, size: number): Tile | null {
  const hashes = Math.floor(size / 2 ** (HEIGHT * level));
  const width = Math.min(WIDTH, hashes - n * WIDTH);
  return width > 0 ? { height: HEIGHT, level, n, width } : null;
}

/** The stored indexes of the complete subtrees whose hashes make up the tree hash, left to right. */
function subtreeIndexes(size: number): number[] {
  const indexes: number[] = [];
  for (let k = Math.floor(Math.log2(size)) + 1; k >= 0; k--) {
    const count = Math.floor(size / 2 ** k);
    if (count % 2 === 1) indexes.push(storedHashIndex(k, count - 1));
  }
  return indexes;
}

/** The tile that holds stored hash `index`, as wide as the tree of `size` records makes it. */
function holding(index: number, size: number): Tile {
  const t = tileForIndex(HEIGHT, index);
  return treeTile(t.level, t.n, size)!;
}

/** The hash of a full tile's subtree: what its parent tile holds for it. */
function tileRoot(data: Buffer): Hash {
  let level: Hash[] = [];
  for (let i = 0; i < data.length; i += HASH_SIZE) level.push(data.subarray(i, i + HASH_SIZE));
  while (level.length > 1) {
    const up: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
    level = up;
  }
  return level[0]!;
}

interface CheckedLookup {
  name: string;
  modulePath: string;
  version: string;
  id: number;
  text: Buffer;
}

/** Opens a signed tree note; a failure names `file`. */
function openTree(file: string, msg: Buffer, verifier: NoteVerifier): Tree {
  try {
    return parseTree(openNote(msg, [verifier]).text);
  } catch (err) {
    if (err instanceof GodepotError) throw new ProofFileError([file], `reading tree note: ${err.message}`);
    throw err;
  }
}

function checkLookup(name: string, data: Buffer, head: Tree, verifier: NoteVerifier): CheckedLookup {
  const target = name.slice('lookup/'.length);
  const at = target.indexOf('@');
  let modulePath: string;
  let version: string;
  try {
    if (at <= 0) throw new SumdbVerificationError('no @version');
    modulePath = unescapePath(target.slice(0, at));
    version = unescapeVersion(target.slice(at + 1));
    if (lookupName(modulePath, version) !== name) throw new SumdbVerificationError('not the canonical name of its module version');
  } catch (err) {
    if (err instanceof GodepotError) throw new ProofFileError([name], `not a lookup file name: ${err.message}`);
    throw err;
  }
  let record;
  try {
    record = parseRecord(data);
  } catch (err) {
    if (err instanceof GodepotError) throw new ProofFileError([name], err.message);
    throw err;
  }
  const tree = openTree(name, record.rest, verifier);
  if (tree.n !== head.n || !tree.hash.equals(head.hash)) {
    throw new ProofFileError([name], `carries tree#${tree.n}, not tree#${head.n} of latest: one head must prove every record`);
  }
  if (record.id >= head.n) throw new ProofFileError([name], `cannot validate record ${record.id} in tree of size ${head.n}`);
  return { name, modulePath, version, id: record.id, text: record.text };
}

/**
 * Checks a ProofFiles set on its own (as go would, with only these files): every lookup parses, is
 * signed by verifierKey, its record proves into the head via the given tiles; returns the go.sum
 * lines the proofs vouch for, keyed `path version[/go.mod]` → h1. Beyond what go needs, every lookup
 * must carry the head `latest` holds, and every tile must be a tile of that head, proven through its
 * parents up to the right-edge tiles that add up to the head (go checks fewer). Throws ProofFileError
 * naming the file at fault, ConfigError for a bad verifier key.
 */
export async function checkProofs(proofs: ProofFiles, signal?: AbortSignal): Promise<Map<string, string>> {
  const verifier = newVerifier(proofs.verifierKey);
  if (verifier.name !== proofs.name) throw new SumdbVerificationError(`proofs of ${proofs.name} come with a verifier key of ${verifier.name}`);
  const files = new Map<string, Buffer>();
  for (const f of proofs.files) {
    if (files.has(f.name)) throw new ProofFileError([f.name], 'appears twice');
    files.set(f.name, f.data);
  }

  const latest = files.get('latest');
  const lookupFiles = [...files.keys()].filter((name) => name.startsWith('lookup/'));
  if (latest === undefined) {
    if (lookupFiles.length > 0) throw new ProofFileError(['latest'], 'missing: the signed head the lookups are proven in');
  }
  const head: Tree = latest === undefined ? { n: 0, hash: Buffer.alloc(0) } : openTree('latest', latest, verifier);
  if (head.n !== proofs.treeSize) throw new ProofFileError(['latest'], `signs a tree of ${head.n} records, not the ${proofs.treeSize} the proofs name`);

  const tiles = new Map<string, { tile: Tile; data: Buffer }>();
  for (const [name, data] of files) {
    if (name === 'latest' || name.startsWith('lookup/')) continue;
    let tile: Tile;
    try {
      if (!name.startsWith('tile/')) throw new SumdbVerificationError('not a checksum database file');
      tile = parseTilePath(name);
    } catch (err) {
      if (err instanceof GodepotError) throw new ProofFileError([name], err.message);
      throw err;
    }
    if (tile.height !== HEIGHT || tile.level < 0) throw new ProofFileError([name], `go reads hash tiles of height ${HEIGHT} only`);
    if (data.length !== tile.width * HASH_SIZE) throw new ProofFileError([name], `${data.length} bytes in a tile of ${tile.width} hashes`);
    tiles.set(name, { tile, data });
  }

  const sums = new Map<string, string>();
  const lookups: CheckedLookup[] = [];
  for (const name of lookupFiles.sort()) {
    signal?.throwIfAborted();
    const l = checkLookup(name, files.get(name)!, head, verifier);
    let vouched = 0;
    for (const line of l.text.toString('utf8').split('\n')) {
      const [modulePath, version, hash] = line.split(' ');
      if (modulePath !== l.modulePath || !(version === l.version || version === `${l.version}/go.mod`) || !hash?.startsWith('h1:')) continue;
      // Two hashes for one file would vouch for two contents; go would take the first, the map the last.
      const known = sums.get(`${modulePath} ${version}`);
      if (known !== undefined && known !== hash) throw new ProofFileError([name], `its record holds two h1 hashes for ${modulePath} ${version}`);
      sums.set(`${modulePath} ${version}`, hash);
      vouched++;
    }
    if (vouched === 0) throw new ProofFileError([name], `its record holds no go.sum line for ${l.modulePath}@${l.version}`);
    lookups.push(l);
  }
  if (head.n === 0) {
    const [extra] = tiles.keys();
    if (extra !== undefined) throw new ProofFileError([extra], 'not a tile of tree#0');
    return sums;
  }

  // The tiles go reads, as go asks for them: the exact name, else a prefix of the full tile.
  const used = new Set<string>();
  const read = (t: Tile, why: string): Buffer => {
    const exact = tiles.get(tilePath(t));
    if (exact !== undefined) {
      used.add(tilePath(t));
      return exact.data;
    }
    const full = tilePath({ ...t, width: WIDTH });
    const wider = tiles.get(full);
    if (wider === undefined) throw new ProofFileError([tilePath(t)], `missing: needed ${why}`);
    used.add(full);
    return wider.data.subarray(0, t.width * HASH_SIZE);
  };

  // The right-edge tiles are proven by adding up to the signed tree hash.
  const edge = new Map<string, Buffer>();
  const subtrees = subtreeIndexes(head.n).map((index) => {
    const t = holding(index, head.n);
    const data = edge.get(tilePath(t)) ?? read(t, `to prove tree#${head.n}`);
    edge.set(tilePath(t), data);
    return hashFromTile(t, data, index);
  });
  let th = subtrees.at(-1)!;
  for (let i = subtrees.length - 2; i >= 0; i--) th = nodeHash(subtrees[i]!, th);
  if (!th.equals(head.hash)) throw new ProofFileError([...edge.keys()], `do not add up to the signed tree#${head.n} in latest (downloaded inconsistent tile)`);

  // Every other tile is a full one, proven by its parent's hash of it, from the right edge down.
  const proven = new Map<string, Buffer>(edge);
  const prove = (t: Tile, why: string): Buffer => {
    const known = proven.get(tilePath(t));
    if (known !== undefined) return known;
    const parent = treeTile(t.level + 1, Math.floor(t.n / WIDTH), head.n);
    if (parent === null) throw new ProofFileError([tilePath(t)], `not a tile of tree#${head.n}`);
    const parentData = prove(parent, why);
    const data = read(t, why);
    const at = (t.n % WIDTH) * HASH_SIZE;
    if (!tileRoot(data).equals(parentData.subarray(at, at + HASH_SIZE))) {
      throw new ProofFileError([tilePath(t)], `does not match its parent ${tilePath(parent)} (downloaded inconsistent tile)`);
    }
    proven.set(tilePath(t), data);
    return data;
  };
  for (const l of lookups) {
    signal?.throwIfAborted();
    const leaf = treeTile(0, Math.floor(l.id / WIDTH), head.n)!;
    if (!hashFromTile(leaf, prove(leaf, `to prove ${l.name}`), storedHashIndex(0, l.id)).equals(recordHash(l.text))) {
      throw new ProofFileError([l.name], `record ${l.id} does not hash to its place in tree#${head.n} (cannot authenticate record data)`);
    }
  }
  // Tiles no record needs (those proving the head extends an older one) must be tiles of the head too.
  for (const [name, { tile }] of tiles) {
    if (used.has(name)) continue;
    const t = treeTile(tile.level, tile.n, head.n);
    if (t === null || t.width !== tile.width) throw new ProofFileError([name], `not a tile of tree#${head.n}`);
    prove(t, `to prove ${name}`);
  }
  return sums;
}
