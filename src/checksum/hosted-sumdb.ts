// godepot's own checksum database at `/sumdb/<name>/`, beside the passthrough that answers every other
// name. Records are appended as the depot stores modules (through a RecordingVerifier); a lookup of a
// module version that has no record yet is answered the way sum.golang.org answers one: the module is
// fetched through the depot (storage first), recorded if the trusted database does not vouch for it,
// and then looked up. So go can verify every module it reads through godepot, go.mod-only ones too.
import type { Logger } from 'pino';
import type { Artifact } from '../protocol/artifact.js';
import { GoneError, InvalidRequestError, NotFoundError, OriginUnavailableError } from '../errors.js';
import { hashGoMod } from '../module/hash.js';
import { unescapePath, unescapeVersion } from '../module/path.js';
import { storageKey } from '../protocol/keys.js';
import { readStored } from '../storage/read-stored.js';
import type { Storage } from '../storage/storage.js';
import type { ChecksumDatabase } from './database.js';
import type { SumdbPassthrough } from './passthrough.js';
import type { Verifier } from './verifier.js';

/**
 * Where HostedSumdb gets a module version it has no record of: from storage, or fetched into it (the
 * proxy's depot). Its own shape, so that checksum/ needs nothing from depot/.
 */
export interface ModuleFiles {
  /** Resolves once the version's zip is stored. */
  zip(modulePath: string, version: string, signal?: AbortSignal): Promise<unknown>;
  /** The version's `.mod`, with its body. */
  mod(modulePath: string, version: string, signal?: AbortSignal): Promise<Artifact>;
}

/** Options of HostedSumdb. */
export interface HostedSumdbOptions {
  database: ChecksumDatabase;
  /** Answers every other database name. */
  others: Pick<SumdbPassthrough, 'get'>;
  /** Where a looked-up module version without a record is read from, or fetched into. */
  depot: ModuleFiles;
  /** The depot's storage, for the `.ziphash` of a stored zip. */
  storage: Storage;
  /** The verifier that records in `database` what the trusted database does not vouch for. */
  verifier: Verifier;
  logger?: Logger;
}

/**
 * Answers `/sumdb/<name>/<path>`: godepot's own database for its name (ChecksumDatabase.get, plus
 * lookups of module versions it has no record of yet, filled through the depot), the passthrough for
 * any other name. A lookup answers NotFoundError when the module does not exist, cannot be fetched, or
 * is vouched for by the trusted database instead; the depot's other errors (upstream failures,
 * checksum mismatches) pass through.
 */
export class HostedSumdb {
  readonly name: string;

  constructor(private readonly options: HostedSumdbOptions) {
    this.name = options.database.name;
  }

  async get(name: string, path: string, signal?: AbortSignal): Promise<Artifact> {
    const { database, others } = this.options;
    if (name !== this.name) return others.get(name, path, signal);
    try {
      return await database.get(path, signal);
    } catch (err) {
      if (!(err instanceof NotFoundError && path.startsWith('lookup/'))) throw err;
    }
    // ChecksumDatabase.get checked the syntax and unescaped it before it found no record.
    const target = path.slice('lookup/'.length);
    const at = target.indexOf('@');
    const modulePath = unescapePath(target.slice(0, at));
    const version = unescapeVersion(target.slice(at + 1));
    await this.fill(modulePath, version, signal);
    return database.get(path, signal);
  }

  /** Makes sure `modulePath@version` is stored and, unless the trusted database vouches for it, recorded. */
  private async fill(modulePath: string, version: string, signal: AbortSignal | undefined): Promise<void> {
    const { database, depot, storage, verifier, logger } = this.options;
    const notFound = (why: string, cause?: unknown): NotFoundError =>
      new NotFoundError(`${modulePath}@${version}: not found in checksum database ${this.name}: ${why}`, cause === undefined ? undefined : { cause });
    let mod: Buffer;
    try {
      await depot.zip(modulePath, version, signal);
      mod = (await depot.mod(modulePath, version, signal)).body!;
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof GoneError || err instanceof OriginUnavailableError || err instanceof InvalidRequestError) {
        throw notFound((err as Error).message, err);
      }
      throw err;
    }
    if (database.record(modulePath, version) !== null) return;
    // Stored before this database recorded as the depot stores (or before it existed): recorded now.
    const zip = (await readStored(storage, storageKey(modulePath, 'ziphash', version), signal))?.toString('utf8').trim() ?? null;
    if (zip === null) throw notFound('its zip is not stored');
    await verifier.verify(modulePath, version, { zip, mod: hashGoMod(mod) }, signal);
    if (database.record(modulePath, version) === null) throw notFound('the checksum database godepot trusts vouches for it');
    logger?.info({ sumdb: this.name, module: modulePath, version }, 'recorded a stored module on lookup');
  }
}
