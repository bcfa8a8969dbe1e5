// The failures of the checksum-database code. A database answer that cannot be trusted is never an
// upstream hiccup: it is reported as what it is, with the evidence, so that nobody retries it into
// acceptance.
import { GodepotError, UpstreamError } from '../errors.js';

/**
 * A checksum database's answer failed verification: a malformed or unsigned note, a signature that does
 * not verify, a tile or record that does not match the signed tree, a failed proof. Messages are go's
 * where go has one (`invalid signature for key ...`, `downloaded inconsistent tile`).
 */
export class SumdbVerificationError extends GodepotError {
  readonly code = 'SUMDB_VERIFICATION';
}

/** A tree head, as the error reports carry them. */
export interface TreeHeadSummary {
  size: number;
  /** base64, as in the signed note. */
  hash: string;
}

/**
 * Two signed tree heads of one database that cannot both be true: the older is not a prefix of the
 * newer. `rollback` is set when the head just served is the smaller one (the database shrank or was
 * rebuilt). The message is go's security report: both signed notes and the proof of misbehavior.
 */
export class SumdbForkError extends GodepotError {
  readonly code = 'SUMDB_FORK';

  constructor(
    message: string,
    /** The head verified earlier and remembered. */
    readonly remembered: TreeHeadSummary,
    /** The head the database served now. */
    readonly served: TreeHeadSummary,
    /** The hash the larger tree gives for the smaller one's size (differs from the smaller one's own). */
    readonly computed: string,
    readonly rollback: boolean,
  ) {
    super(message);
  }
}

/**
 * A checksum database's own stored state cannot be used without forking its tree (records missing
 * below a head it signed, a data tile that is not a list of records). The database refuses to open
 * rather than sign a tree that contradicts one it signed before.
 */
export class SumdbStateError extends GodepotError {
  readonly code = 'SUMDB_STATE';
}

/**
 * The checksum database godepot trusts could not be asked about a module (down, unreachable, too
 * slow), so the module was not stored. An upstream failure like any other (502), whose message says
 * what godepot can be told instead: the settings that store such modules unverified, or a bundle.
 */
export class SumdbUnreachableError extends UpstreamError {
  constructor(
    readonly sumdb: string,
    modulePath: string,
    version: string,
    cause: Error,
  ) {
    super(
      `${modulePath}@${version}: not stored: checksum database ${sumdb} cannot be reached to verify it (${cause.message}); ` +
        `to store it anyway, exempt it with godepot's --nosumdb PATTERN (GONOSUMDB-style, e.g. ${modulePath}), turn checking off with --sumdb off, ` +
        'or bring it in a bundle made where the database can be reached (godepot bundle create, then bundle import or serve --bundle)',
      undefined,
      { cause },
    );
  }
}
