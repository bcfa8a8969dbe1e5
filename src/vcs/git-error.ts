// What a failed git command means for the module asked about, read from git's own words. The classes
// extend the Origin contract's errors, so that the server's table, the upstream chain (fall through on
// not found) and the depot (serve what is stored when the origin fails) treat them as they treat an
// upstream proxy's answers; each keeps the command and git's reason for the message.
import { InvalidContentError, NotFoundError, OriginUnavailableError, TimeoutError, UpstreamError } from '../errors.js';

/** Which way a git command failed, as far as its stderr and its end tell. */
export type GitFailureKind = 'not-found' | 'auth' | 'refused' | 'other';

/** Details every git failure carries: the command as run (without secrets) and the stderr lines that say why. */
export interface GitFailure {
  readonly command: string;
  readonly reason: string;
}

/** The repository does not exist (or the server will not say it does): 404, and the chain may go on. */
export class GitNotFoundError extends NotFoundError implements GitFailure {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`${command}: repository not found: ${reason}`);
  }
}

/** The server refused our credentials, or we had none to give: 502, git's reason in the body. */
export class GitAuthError extends UpstreamError implements GitFailure {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`${command}: authentication refused (godepot never prompts; configure a credential helper, .netrc or ssh key for git): ${reason}`);
  }
}

/** A transport godepot does not allow (file://, ext::, http:// to a host not marked insecure, ...): never run. */
export class GitTransportRefusedError extends OriginUnavailableError implements GitFailure {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`${command}: transport refused: ${reason}`);
  }
}

/** The command did not finish within its time limit and was killed with its children. */
export class GitTimeoutError extends TimeoutError implements GitFailure {
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`${command}: no answer within ${timeoutMs / 1000} s; git and its helpers were stopped`);
  }

  get reason(): string {
    return `timed out after ${this.timeoutMs} ms`;
  }
}

/** The command wrote more than it may (a zip past go's 500 MiB, refs or a go.mod past their bound): stopped. */
export class GitOutputTooLargeError extends InvalidContentError implements GitFailure {
  constructor(
    readonly command: string,
    readonly limit: number,
    what: string,
  ) {
    super(`${command}: ${what} larger than ${limit} bytes; stopped reading`);
  }

  get reason(): string {
    return `output over ${this.limit} bytes`;
  }
}

/** Any other failure (unreachable host, server error, broken repository): 502 with git's reason. */
export class GitFailedError extends UpstreamError implements GitFailure {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`${command}: ${reason}`);
  }
}

// Git's messages (LC_ALL=C) for a repository that is not there, over smart HTTP, dumb HTTP, ssh hosts
// (GitHub, GitLab, Gitea) and git daemon, which answers the same for missing and unexported repositories.
const notFound = [
  /repository '.*' not found/i,
  /repository not found/i,
  /does not appear to be a git repository/,
  /the requested url returned error: 404/i,
  /the requested url returned error: 410/i,
  /access denied or repository not exported/,
  /not found: did you run git update-server-info/,
  /project .* was not found/i,
  /no such repository/i,
];
// Credentials missing or refused: git cannot prompt (GIT_TERMINAL_PROMPT=0, ssh BatchMode), or the server said no.
const authRefused = [
  /could not read (username|password)/i,
  /terminal prompts disabled/,
  /authentication failed/i,
  /the requested url returned error: 40[13]/i,
  /permission denied \(/i,
  /host key verification failed/i,
  /invalid username or password/i,
];
const transportRefused = [/transport '.*' not allowed/, /unsupported protocol/i, /unable to find remote helper/];

/** Classifies a failed command by git's stderr. */
export function classifyGitFailure(stderr: string): GitFailureKind {
  if (transportRefused.some((re) => re.test(stderr))) return 'refused';
  if (authRefused.some((re) => re.test(stderr))) return 'auth';
  if (notFound.some((re) => re.test(stderr))) return 'not-found';
  return 'other';
}

/** The lines of git's stderr worth showing a user: its `fatal:`/`error:`/`remote:` lines, else the last ones. */
export function gitReason(stderr: string, exitCode: number | null, signal: string | null): string {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const telling = lines.filter((line) => /^(fatal|error|remote|ssh|warning: redirecting)\b/i.test(line));
  // git prints URLs as configured, and an insteadOf rule or credential may put a password in one;
  // the reason goes to clients and logs.
  const shown = (telling.length > 0 ? telling : lines)
    .slice(-4)
    .join('; ')
    .replace(/(:\/\/[^/@\s:]*):[^/@\s]*@/g, '$1:xxxxx@');
  const end = signal !== null ? `killed by ${signal}` : `exit status ${exitCode}`;
  return shown === '' ? end : `${shown} (${end})`;
}

/** The typed error for a command that failed with `stderr`. */
export function gitFailure(command: string, stderr: string, exitCode: number | null, signal: string | null): Error {
  const reason = gitReason(stderr, exitCode, signal);
  switch (classifyGitFailure(stderr)) {
    case 'not-found':
      return new GitNotFoundError(command, reason);
    case 'auth':
      return new GitAuthError(command, reason);
    case 'refused':
      return new GitTransportRefusedError(command, reason);
    case 'other':
      return new GitFailedError(command, reason);
  }
}
