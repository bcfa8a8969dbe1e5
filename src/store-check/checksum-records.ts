// The hashes the checksum databases godepot holds record for a module version, read from what godepot
// keeps and never fetched: the lookups its verifying client proved and kept under `sumdb/<name>/`
// (proven again here, from the signed head and tiles kept beside them), and the records of its own
// database (`--sumdb-host`).
import { StorageClientStore, SumdbClient } from '../checksum/client.js';
import type { ChecksumDatabase } from '../checksum/database.js';
import { isGodepotError, NotFoundError } from '../errors.js';
import type { Storage } from '../storage/storage.js';

/** What one database records for a module version: the `h1:` of its zip and of its go.mod, as far as it says. */
export interface RecordedHashes {
  /** The database's name. */
  database: string;
  zip?: string;
  mod?: string;
}

/** The checksum records godepot holds. */
export interface ChecksumRecords {
  /** The held records of `modulePath@version`, one for each database that has one. */
  of(modulePath: string, version: string): Promise<RecordedHashes[]>;
}

/**
 * The lookups of the trusted database `verifierKey` that godepot's client kept in `storage`, each
 * counted only when what is kept still proves it (a lookup that does not is as good as none). Nothing is
 * fetched and nothing is written: the database is not asked, and the kept head does not move.
 */
export function keptLookups(storage: Storage, verifierKey: string): ChecksumRecords {
  const kept = new StorageClientStore(storage);
  const client = new SumdbClient({
    verifierKey,
    fetch: (path) => Promise.reject(new NotFoundError(`${path}: not kept in storage`)),
    store: { read: (key) => kept.read(key), write: async () => undefined },
  });
  return {
    async of(modulePath, version) {
      let text: Buffer;
      try {
        ({ text } = await client.record(modulePath, version));
      } catch (err) {
        if (isGodepotError(err)) return [];
        throw err;
      }
      return [{ database: client.name, ...hashesOf(text.toString('utf8'), modulePath, version) }];
    },
  };
}

/** The records of godepot's own checksum database. */
export function hostedRecords(database: Pick<ChecksumDatabase, 'name' | 'record'>): ChecksumRecords {
  return {
    async of(modulePath, version) {
      const record = database.record(modulePath, version);
      return record === null ? [] : [{ database: database.name, ...hashesOf(record.text, modulePath, version) }];
    },
  };
}

/** The records of every source, in the order given. */
export function allRecords(sources: readonly ChecksumRecords[]): ChecksumRecords {
  return {
    async of(modulePath, version) {
      return (await Promise.all(sources.map((source) => source.of(modulePath, version)))).flat();
    },
  };
}

/** The `h1:` hashes of a record's go.sum lines for the module version. */
function hashesOf(text: string, modulePath: string, version: string): { zip?: string; mod?: string } {
  const hashes: { zip?: string; mod?: string } = {};
  for (const line of text.split('\n')) {
    const [path, field, hash] = line.split(' ');
    if (path !== modulePath || hash?.startsWith('h1:') !== true) continue;
    if (field === version) hashes.zip = hash;
    else if (field === `${version}/go.mod`) hashes.mod = hash;
  }
  return hashes;
}
