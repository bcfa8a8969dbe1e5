import { GodepotError } from '../errors.js';

/** One file that a module zip leaves out or rejects, with go's reason, e.g. `file is in vendor directory`. */
export interface FileProblem {
  path: string;
  reason: string;
}

/**
 * Why a module zip operation failed:
 * - `INVALID_ZIP`: the bytes are not a readable zip (not a zip, truncated, bad checksum, sizes that lie);
 * - `INVALID_ZIP_CONTENT`: a readable zip, file list or tree breaks the module zip rules (`problems` lists them);
 * - `ZIP_TOO_LARGE`: a size limit of golang.org/x/mod/zip is exceeded;
 * - `UNZIP_TARGET_NOT_EMPTY`: unzip was pointed at a directory that already holds files.
 * A bad module path or version keeps the code of the path or version error it wraps.
 */
export type ZipErrorCode = 'INVALID_ZIP' | 'INVALID_ZIP_CONTENT' | 'ZIP_TOO_LARGE' | 'UNZIP_TARGET_NOT_EMPTY';

/** A module zip could not be created, checked or extracted; the message is go's text for the same failure. */
export class ZipError extends GodepotError {
  readonly code: string;
  /** The invalid files behind an `INVALID_ZIP_CONTENT` error, in the order go reports them. */
  readonly problems: readonly FileProblem[];

  constructor(code: ZipErrorCode | string, message: string, options: { problems?: readonly FileProblem[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.problems = options.problems ?? [];
  }
}

/** Go's `FileErrorList`: one `path: reason` line per invalid file. */
export function invalidFilesError(invalid: readonly FileProblem[]): ZipError {
  return new ZipError('INVALID_ZIP_CONTENT', invalid.map((p) => `${p.path}: ${p.reason}`).join('\n'), { problems: invalid });
}

/**
 * Prefixes our own failures with the operation, as go's zip errors read (`create zip: ...`,
 * `unzip /tmp/m.zip: ...`). Anything that is not a godepot error (an I/O failure, a bug) is returned
 * unchanged, so that it is never mistaken for a problem with the module.
 */
export function withOperation(op: string, target: string | undefined, err: unknown): unknown {
  if (!(err instanceof GodepotError)) return err;
  const prefix = target === undefined ? op : `${op} ${target}`;
  return new ZipError(err.code, `${prefix}: ${err.message}`, {
    problems: err instanceof ZipError ? err.problems : [],
    cause: err,
  });
}
