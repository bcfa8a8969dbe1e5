// What stands between an origin's answer and storage (STYLE's Verifier): a module's hashes are checked
// against the checksum database godepot trusts, as the go command checks them, before the depot keeps
// the module. Modules that database does not vouch for (those the routing keeps from it, or `--sumdb off`) are
// recorded instead in godepot's own database when it hosts one, so that its clients can verify them.
import { GoneError, NotFoundError, TimeoutError, UpstreamError } from '../errors.js';
import { ChecksumMismatchError } from '../module/gosum.js';
import type { SumdbClient } from './client.js';
import type { ChecksumDatabase } from './database.js';
import { SumdbUnreachableError } from './errors.js';

/** The `h1:` hashes of a module version the depot is about to store. */
export interface ModuleSums {
  /** Of its go.mod (the `.mod` answer); always known. */
  mod: string;
  /** Of its zip, when the zip is what is being stored. */
  zip?: string;
}

/** Checks a fetched module's hashes before the depot stores it. */
export interface Verifier {
  /**
   * Resolves once `modulePath@version` may be stored with these hashes: to true when a checksum
   * database vouches for them, false when none was asked. Throws ChecksumMismatchError (go's message,
   * both hashes) when a database records other hashes, and the database's own errors when it cannot
   * answer; nothing may be stored then.
   */
  verify(modulePath: string, version: string, sums: ModuleSums, signal?: AbortSignal): Promise<boolean>;
}

/** Options of SumdbVerifier. */
export interface SumdbVerifierOptions {
  /** A client of the database named by `--sumdb`; null for `off`. */
  client: SumdbClient | null;
  /** Whether the database may be asked about a module (Routing.sumdbAllowed): false for private and no-sumdb ones. */
  lookedUp: (modulePath: string) => boolean;
}

/**
 * Verifies against the trusted checksum database, as go's checkSumDB does: the go.mod hash always, the
 * zip hash when a zip is stored, both from one verified lookup. A module the database has no record of
 * is refused, as go refuses it (NotFoundError saying how to store it unverified); one it cannot be asked
 * about, for now, too (SumdbUnreachableError, saying the same and naming the bundle route).
 */
export class SumdbVerifier implements Verifier {
  constructor(private readonly options: SumdbVerifierOptions) {}

  async verify(modulePath: string, version: string, sums: ModuleSums, signal?: AbortSignal): Promise<boolean> {
    const { client, lookedUp } = this.options;
    if (client === null || !lookedUp(modulePath)) return false;
    try {
      await client.verify(modulePath, `${version}/go.mod`, sums.mod, signal);
      if (sums.zip !== undefined) await client.verify(modulePath, version, sums.zip, signal);
    } catch (err) {
      if ((err instanceof UpstreamError || err instanceof TimeoutError) && !signal?.aborted) throw new SumdbUnreachableError(client.name, modulePath, version, err);
      if (!(err instanceof NotFoundError || err instanceof GoneError)) throw err;
      throw new NotFoundError(
        `${modulePath}@${version}: not stored: checksum database ${client.name} has no record of it, so it cannot be verified ` +
          `(go refuses it too; list it in --nosumdb or --private, or give its routing rule sumdb: false, to store it unverified): ${err.message}`,
        { cause: err },
      );
    }
    return true;
  }
}

/**
 * Wraps a Verifier so that a module version it does not vouch for is recorded in godepot's own
 * database before it is stored: from then on that record is what every later copy must match (a
 * ChecksumMismatchError otherwise, from the database). A go.mod checked alone cannot be recorded (a
 * record holds the zip's hash too); it is only held to a record made before.
 */
export class RecordingVerifier implements Verifier {
  constructor(
    private readonly inner: Verifier,
    private readonly database: ChecksumDatabase,
  ) {}

  async verify(modulePath: string, version: string, sums: ModuleSums, signal?: AbortSignal): Promise<boolean> {
    if (await this.inner.verify(modulePath, version, sums, signal)) return true;
    if (sums.zip !== undefined) {
      signal?.throwIfAborted();
      await this.database.add(modulePath, version, { zip: sums.zip, mod: sums.mod });
      return true;
    }
    const record = this.database.record(modulePath, version);
    if (record === null) return false;
    const prefix = `${modulePath} ${version}/go.mod `;
    const recorded = record.text.split('\n').find((line) => line.startsWith(prefix))?.slice(prefix.length);
    if (recorded !== undefined && recorded !== sums.mod) {
      throw new ChecksumMismatchError({
        path: modulePath,
        version: `${version}/go.mod`,
        downloaded: sums.mod,
        recorded,
        message: `${modulePath}@${version}: verifying go.mod: checksum mismatch\n\tdownloaded: ${sums.mod}\n\t${this.database.name}: ${recorded}`,
      });
    }
    return true;
  }
}
