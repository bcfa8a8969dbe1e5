// Git repositories for the tests of the git origin: made in a work tree with fixed dates, published
// as bare repositories below a root that test/support/git-http.ts serves (`<root>/<host>/<path>`),
// reached through an insteadOf git config, and resolved the way go's static rule resolves github.com
// paths (the first three path elements are the repository).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepoRoot } from '../../src/vcs/repo-root.js';
import { git, writeTree } from './git.js';
import { startGitHttpServer, type GitHttpServer } from './git-http.js';

/** A repository under test: a work tree and the bare repository git clients are served. */
export class TestRepo {
  private constructor(
    /** The work tree commits are made in. */
    readonly work: string,
    /** The bare repository below the served root. */
    readonly bare: string,
  ) {}

  /** Makes an empty repository `<root>/<repoPath>` (bare, served) with a work tree beside the root. */
  static async create(root: string, repoPath: string, branch = 'main'): Promise<TestRepo> {
    const work = join(`${root}-work`, repoPath);
    const bare = join(root, repoPath);
    await mkdir(root, { recursive: true });
    await git(root, ['init', '-q', '-b', branch, work]);
    await git(root, ['init', '-q', '--bare', '-b', branch, bare]);
    return new TestRepo(work, bare);
  }

  /**
   * Commits `files` at `date` (ISO 8601, as author and committer date) and returns the commit hash;
   * `null` removes a file. With `replace`, every other file is removed first.
   */
  async commit(files: Record<string, string | Buffer | null>, date: string, options: { replace?: boolean; message?: string } = {}): Promise<string> {
    if (options.replace === true) await git(this.work, ['rm', '-r', '-q', '--ignore-unmatch', '.']);
    const written: Record<string, string | Buffer> = {};
    for (const [name, content] of Object.entries(files)) {
      if (content === null) await rm(join(this.work, name), { force: true });
      else written[name] = content;
    }
    await writeTree(this.work, written);
    await git(this.work, ['add', '-A']);
    const dates = { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
    await git(this.work, ['commit', '-q', '--allow-empty', '-m', options.message ?? `commit at ${date}`], dates);
    return (await git(this.work, ['rev-parse', 'HEAD'])).trim();
  }

  /** Tags `target` (HEAD by default); annotated tags get `date` as their tagger date. */
  async tag(name: string, options: { target?: string; annotated?: boolean; date?: string } = {}): Promise<void> {
    const target = options.target ?? 'HEAD';
    if (options.annotated === true) {
      const date = options.date ?? '2020-01-01T00:00:00Z';
      await git(this.work, ['tag', '-a', '-m', `tag ${name}`, name, target], { GIT_COMMITTER_DATE: date });
    } else {
      await git(this.work, ['tag', name, target]);
    }
  }

  /** Runs git in the work tree (branches, resets). */
  run(args: string[]): Promise<string> {
    return git(this.work, args);
  }

  /** Publishes every branch and tag to the served bare repository, as they are in the work tree. */
  async publish(): Promise<void> {
    await git(this.work, ['push', '-q', '--mirror', this.bare]);
  }
}

/**
 * go's static rule for github.com, applied to every host: the first three path elements name the
 * repository, reached at `https://<those elements>`.
 */
export async function resolveByThreeElements(modulePath: string): Promise<RepoRoot> {
  const root = modulePath.split('/').slice(0, 3).join('/');
  return { root, vcs: 'git', urls: [`https://${root}`], fromMetaTag: false };
}

/** The environment git runs in for a test: only `gitconfig` as its configuration, a private HOME. */
export function testGitEnv(gitconfig: string, home: string): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: gitconfig };
}

/** The git server of a test and the git config file that sends its hosts there. */
export interface ServedRepositories {
  server: GitHttpServer;
  /** For GIT_CONFIG_GLOBAL: `https://<host>/<path>` becomes `<server>/<host>/<path>` for each host. */
  gitconfig: string;
}

/**
 * Serves the bare repositories below `root` over smart HTTP and writes the git config that reaches
 * them as `https://<host>/...` for each of `hosts`. A fault for one host matches the repository `<host>`
 * (the first path element the server sees).
 */
export async function serveRepositories(root: string, hosts: readonly string[]): Promise<ServedRepositories> {
  await mkdir(root, { recursive: true });
  const server = await startGitHttpServer({ root });
  const gitconfig = `${root}.gitconfig`;
  await writeFile(gitconfig, hosts.map((host) => `[url "${server.url}/${host}/"]\n\tinsteadOf = https://${host}/\n`).join(''));
  return { server, gitconfig };
}
