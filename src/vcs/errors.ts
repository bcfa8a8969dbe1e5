// Why finding a module's repository failed, beyond the network failures of the HTTP client
// (UpstreamError, TimeoutError): the path names no repository, or names one godepot will not use.
import { GodepotError, NotFoundError } from '../errors.js';

/**
 * Go finds no repository for the module path: no rule or meta tag names one (`unrecognized import path
 * "example.com/x": reading https://example.com/x?go-get=1: 404 Not Found`), or a rule refuses the path
 * (`invalid github.com import path "github.com/user"`). The message is go's own.
 */
export class ImportPathError extends NotFoundError {
  constructor(
    readonly modulePath: string,
    message: string,
  ) {
    super(message);
  }
}

/** The repository is kept in a version control system godepot does not speak: only git is supported. */
export class VcsNotSupportedError extends GodepotError {
  readonly code = 'VCS_NOT_SUPPORTED';
  constructor(
    readonly modulePath: string,
    /** The VCS command go would run: `hg`, `svn`, `bzr`, `fossil`. */
    readonly vcs: string,
    /** Where go would fetch it from (a URL, or a path naming its VCS), for the message. */
    readonly repo: string,
  ) {
    super(`${modulePath}: ${repo} is a ${VCS_NAMES[vcs] ?? vcs} (${vcs}) repository; godepot fetches modules from git repositories only`);
  }
}

const VCS_NAMES: Readonly<Record<string, string>> = { hg: 'Mercurial', svn: 'Subversion', bzr: 'Bazaar', fossil: 'Fossil' };

/**
 * The repository URL uses a transport godepot refuses: a local one (`file://`), one that runs a command
 * (`ext::`), one it does not know, or plain http or git:// for a host that does not match the
 * insecure patterns.
 */
export class RepoUrlRefusedError extends GodepotError {
  readonly code = 'REPO_URL_REFUSED';
  constructor(
    readonly modulePath: string,
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}
