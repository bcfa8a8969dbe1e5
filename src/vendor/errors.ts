import { GodepotError } from '../errors.js';

/**
 * A package that go mod vendor could not load: an import no module of the build list provides, one
 * that several provide, a malformed import path, a folder with no Go file that builds, an unreadable
 * Go file, or an embed pattern that names nothing. The message names the importing package.
 */
export class PackageLoadError extends GodepotError {
  readonly code = 'PACKAGE_LOAD';
}

/**
 * The project's go.mod is not what go mod vendor would leave it (go would rewrite it before vendoring:
 * a requirement below its selected version, a missing requirement, no `go` line). Nothing is written;
 * the message says what to change, usually `go mod tidy`.
 */
export class ProjectNotTidyError extends GodepotError {
  readonly code = 'PROJECT_NOT_TIDY';
}
