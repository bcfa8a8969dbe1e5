// The git repositories of issue 12's direct-mode tests: bare repositories built from a description with
// `git fast-import`, so that every commit, tag and hash is the same on every machine and every run (fixed
// identities and dates, no user or system git config). Each scenario comes with what go 1.19 in direct
// mode must make of it: versions, @latest, the version each query resolves to, the files of its zips.
// Those expectations were checked against go itself (test/e2e/git-direct-go.test.ts, first describe);
// the comments say which go behaviour each one pins down.
//
// Module paths are github.com/godepot-test/<repository>, so that go's static rule for github.com applies
// (no go-get discovery), and a test-private git config rewrites https://github.com/godepot-test/<repo>
// to the local smart-HTTP server (see gitConfigFor).
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { git } from './git.js';

/** The GitHub owner every fixture module lives under. */
export const fixtureOwner = 'github.com/godepot-test';

/** A commit a fixture made: its hash, and its committer time, which go's `.info` Time and pseudo-versions use. */
export interface FixtureCommit {
  hash: string;
  time: Date;
}

/** A bare repository the fixtures built. */
export interface FixtureRepo {
  /** Its name: the folder is `<root>/<name>.git`, its module paths start with github.com/godepot-test/<name>. */
  name: string;
  gitDir: string;
  /** The URL go asks git for (rewritten to the local server by the test git config). */
  remote: string;
  /** Every commit by the label the scenario gave it. */
  commits: Record<string, FixtureCommit>;
  /** Tag name -> the commit label it points at. */
  tags: Record<string, string>;
  /** Branch name -> the commit label at its tip. */
  branches: Record<string, string>;
}

/** A query to put to go for a module, and what go direct answers. */
export interface FixtureQuery {
  /** What follows `@`: a version, a version prefix or comparison, a branch, a tag, a full or short hash. */
  query: string;
  /** The version go resolves it to; absent when go refuses the query. */
  version?: string;
  /** When go refuses it: a pattern its error message matches. */
  error?: RegExp;
  /** The go behaviour this query exercises. */
  note: string;
  /**
   * Set when go itself refuses the query as soon as a GOPROXY answers for the module, whatever the proxy
   * says: a proxy must not be expected to match direct mode there. Says why.
   */
  proxyRefuses?: string;
}

/** A module of the fixtures, with what go direct makes of it. */
export interface FixtureModule {
  modulePath: string;
  /** The repository it lives in (FixtureRepo.name). */
  repo: string;
  /** What its version tags start with: `sub/` for a module in sub/, '' at the root (major subdirectories too). */
  tagPrefix: string;
  /** What the scenario exercises, for messages. */
  about: string;
  /** `go list -m -versions`: retracted versions hidden. */
  versions: string[];
  /** `go list -m -versions -retracted`. */
  allVersions: string[];
  /** The version `@latest` resolves to. */
  latest: string;
  queries: FixtureQuery[];
  /** Sorted file names of the zip go makes, for the versions whose content is the point of the scenario. */
  files: Record<string, string[]>;
  /** A package a consumer module can import and build, the version to require, and the `Note` it declares there. */
  consumer?: { importPath: string; version: string; note: string };
}

/** Every fixture repository and module, built under one folder. */
export interface GitFixtures {
  /** The folder holding `<name>.git` for every repository: the git server's project root. */
  root: string;
  repos: Record<string, FixtureRepo>;
  modules: FixtureModule[];
}

// ---------------------------------------------------------------------------------------------------
// Building repositories with git fast-import.

/** A file in a commit: text or bytes, or one of the other kinds of tree entry git knows. */
export type FileSpec =
  | string
  | Buffer
  | { data: string | Buffer; executable: true }
  | { symlink: string }
  /** A submodule: a gitlink to a commit of another repository (which need not exist anywhere). */
  | { gitlink: string };

/** A tag on a commit; annotated tags get a tagger date 30 days after the commit's. */
export interface TagSpec {
  name: string;
  annotated?: boolean;
}

/** One commit of a scenario. */
export interface CommitSpec {
  label: string;
  /** The branch it is committed to (`main` when absent); created at `parent` when new. */
  branch?: string;
  /** The parent commit's label; the branch's current tip when absent (none for the first commit). */
  parent?: string;
  /** Files changed by this commit; null deletes a path. */
  files?: Record<string, FileSpec | null>;
  tags?: Array<string | TagSpec>;
}

/** The identity and clock of every fixture commit: nothing comes from the user's git config. */
const identity = 'godepot fixtures <fixtures@godepot.invalid>';
const hour = 3600;

/** The environment fixture git commands run in: no system config, a test-private global one. */
export function fixtureGitEnv(root: string): NodeJS.ProcessEnv {
  return {
    HOME: root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(root, 'build.gitconfig'),
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
  };
}

/** A Date from seconds since the epoch. */
const fromUnix = (seconds: number): Date => new Date(seconds * 1000);

/** The fast-import `data` command for `content`. */
function dataCommand(content: string | Buffer): Buffer {
  const bytes = Buffer.from(content);
  return Buffer.concat([Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n')]);
}

/** The fast-import file command that puts `spec` at `path`. */
function fileCommand(path: string, spec: FileSpec | null): Buffer {
  // fast-import takes C-style quoted paths; quoting every one keeps odd names (spaces, brackets) intact.
  const quoted = JSON.stringify(path);
  if (spec === null) return Buffer.from(`D ${quoted}\n`);
  if (typeof spec === 'string' || Buffer.isBuffer(spec)) return Buffer.concat([Buffer.from(`M 100644 inline ${quoted}\n`), dataCommand(spec)]);
  if ('executable' in spec) return Buffer.concat([Buffer.from(`M 100755 inline ${quoted}\n`), dataCommand(spec.data)]);
  if ('symlink' in spec) return Buffer.concat([Buffer.from(`M 120000 inline ${quoted}\n`), dataCommand(spec.symlink)]);
  return Buffer.from(`M 160000 ${spec.gitlink} ${quoted}\n`);
}

/**
 * Runs `git fast-import` into a new bare repository `<root>/<name>.git` with the stream `commands`
 * yields, then returns the hash of every mark. `init.defaultBranch` is main, so HEAD is refs/heads/main.
 */
async function fastImport(root: string, name: string, commands: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<{ gitDir: string; marks: Map<number, string> }> {
  const gitDir = join(root, `${name}.git`);
  const env = fixtureGitEnv(root);
  await git(root, ['-c', 'init.defaultBranch=main', 'init', '-q', '--bare', gitDir], env);
  // Kept only until read: the root is what the git server serves.
  const marksFile = join(root, `${name}.marks`);
  const child = spawn('git', ['fast-import', '--quiet', '--done', `--export-marks=${marksFile}`], {
    cwd: gitDir,
    env: { PATH: process.env.PATH, ...env, GIT_DIR: gitDir },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  await pipeline(Readable.from(commands), child.stdin);
  const code = await exited;
  if (code !== 0) throw new Error(`git fast-import of ${name} failed (${code}): ${stderr}`);
  const marks = new Map<number, string>();
  for (const line of (await readFile(marksFile, 'utf8')).split('\n')) {
    const m = /^:(\d+) ([0-9a-f]{40})$/.exec(line);
    if (m !== null) marks.set(Number(m[1]), m[2]!);
  }
  await rm(marksFile);
  return { gitDir, marks };
}

/**
 * Builds a scenario's repository: commits in order, one hour apart from `start` (committer time; the author
 * time is a day earlier, so that a test can tell which one go reads), with their tags.
 */
export async function buildRepo(root: string, name: string, start: string, commits: CommitSpec[]): Promise<FixtureRepo> {
  const startSeconds = Date.parse(start) / 1000;
  const marks = new Map<string, number>();
  const times = new Map<string, number>();
  const tips = new Map<string, string>();
  const tags: Record<string, string> = {};
  const stream: Buffer[] = [];
  commits.forEach((c, i) => {
    const mark = i + 1;
    const branch = c.branch ?? 'main';
    const parent = c.parent ?? tips.get(branch);
    const time = startSeconds + i * hour;
    const lines = [
      `commit refs/heads/${branch}`,
      `mark :${mark}`,
      `author ${identity} ${time - 24 * hour} +0000`,
      `committer ${identity} ${time} +0000`,
    ];
    stream.push(Buffer.from(lines.join('\n') + '\n'), dataCommand(`${c.label}\n`));
    if (parent !== undefined) stream.push(Buffer.from(`from :${marks.get(parent)!}\n`));
    for (const [path, spec] of Object.entries(c.files ?? {})) stream.push(fileCommand(path, spec));
    stream.push(Buffer.from('\n'));
    marks.set(c.label, mark);
    times.set(c.label, time);
    tips.set(branch, c.label);
    for (const t of c.tags ?? []) {
      const tag = typeof t === 'string' ? { name: t } : t;
      tags[tag.name] = c.label;
      if (tag.annotated === true) {
        stream.push(Buffer.from(`tag ${tag.name}\nfrom :${mark}\ntagger ${identity} ${time + 30 * 24 * hour} +0000\n`), dataCommand(`release ${tag.name}\n`));
      } else {
        stream.push(Buffer.from(`reset refs/tags/${tag.name}\nfrom :${mark}\n\n`));
      }
    }
  });
  stream.push(Buffer.from('done\n'));
  const { gitDir, marks: hashes } = await fastImport(root, name, stream);
  const described: Record<string, FixtureCommit> = {};
  for (const [label, mark] of marks) described[label] = { hash: hashes.get(mark)!, time: fromUnix(times.get(label)!) };
  return { name, gitDir, remote: `https://${fixtureOwner}/${name}`, commits: described, tags, branches: Object.fromEntries(tips) };
}

// ---------------------------------------------------------------------------------------------------
// What go calls a commit: pseudo-versions, computed here independently of godepot's own code.

/** A time as a pseudo-version writes it: yyyymmddhhmmss in UTC. */
function stamp(time: Date): string {
  return time.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * The pseudo-version go gives `commit` when the highest tag below it (for this module) is `base` ('' when
 * none): vX.0.0-T-H without one, vX.Y.(Z+1)-0.T-H above a release, vX.Y.Z-pre.0.T-H above a prerelease.
 * `major` is the module path's major version (v0 for none, v2, v3...); `+incompatible` is appended when asked.
 */
export function expectedPseudo(commit: FixtureCommit, base: string, major = 'v0', incompatible = false): string {
  const tail = `${stamp(commit.time)}-${commit.hash.slice(0, 12)}`;
  let version: string;
  if (base === '') version = `${major}.0.0-${tail}`;
  else if (base.includes('-')) version = `${base}.0.${tail}`;
  else {
    const [x, y, z] = base.slice(1).split('.').map(Number) as [number, number, number];
    version = `v${x}.${y}.${z + 1}-0.${tail}`;
  }
  return incompatible ? `${version}+incompatible` : version;
}

// ---------------------------------------------------------------------------------------------------
// The scenarios.

const goMod = (modulePath: string, extra = ''): string => `module ${modulePath}\n\ngo 1.17\n${extra}`;
const goFile = (pkg: string, note: string): string => `// Package ${pkg} is a godepot test fixture.\npackage ${pkg}\n\n// Note says which commit this is.\nconst Note = ${JSON.stringify(note)}\n`;
const license = 'Fixture license: do what you like with these bytes.\n';
const sorted = (names: string[]): string[] => [...names].sort();
/** A pseudo-version that is valid in form but names a time the commit does not have. */
const wrongTime = (c: FixtureCommit, base: string): string => expectedPseudo({ hash: c.hash, time: new Date(c.time.getTime() + 1000) }, base);

/** tags: releases, prereleases, untagged commits before and after tags, junk tags, a branch. */
async function tagsScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/tags`;
  const repo = await buildRepo(root, 'tags', '2023-01-02T03:04:05Z', [
    { label: 'first', files: { 'go.mod': goMod(m), 'tags.go': goFile('tags', 'first') } },
    { label: 'v0.1.0', files: { 'tags.go': goFile('tags', 'v0.1.0') }, tags: ['v0.1.0'] },
    // An annotated tag (its tagger date is a month later), and junk names on the same commit.
    { label: 'v1.0.0', files: { 'tags.go': goFile('tags', 'v1.0.0') }, tags: [{ name: 'v1.0.0', annotated: true }, 'release-1', 'v1.0', '1.0.0'] },
    { label: 'rc', files: { 'tags.go': goFile('tags', 'v1.1.0-rc.1') }, tags: ['v1.1.0-rc.1'] },
    { label: 'after-rc', files: { 'tags.go': goFile('tags', 'after rc') } },
    { label: 'v1.1.0', files: { 'tags.go': goFile('tags', 'v1.1.0') }, tags: ['v1.1.0'] },
    // Build metadata makes a tag non-canonical: not listed, yet still a pseudo-version base.
    { label: 'meta', files: { 'tags.go': goFile('tags', 'meta') }, tags: ['v1.2.0+meta'] },
    // A tag shaped like a pseudo-version, and a v2 tag on a module whose go.mod has no /v2.
    { label: 'head', files: { 'tags.go': goFile('tags', 'head') }, tags: ['v0.0.0-20200101000000-0123456789ab', 'v2.0.0'] },
    { label: 'feature', branch: 'feature', parent: 'rc', files: { 'feature.go': 'package tags\n\nconst Feature = true\n' } },
  ]);
  const c = repo.commits;
  const headPseudo = expectedPseudo(c.head!, 'v1.2.0');
  const files = sorted(['go.mod', 'tags.go']);
  return {
    repo,
    modules: [
      {
        modulePath: m,
        repo: 'tags',
        tagPrefix: '',
        about: 'tags, prereleases, untagged commits before and after tags, junk tags, a branch',
        versions: ['v0.1.0', 'v1.0.0', 'v1.1.0-rc.1', 'v1.1.0'],
        allVersions: ['v0.1.0', 'v1.0.0', 'v1.1.0-rc.1', 'v1.1.0'],
        latest: 'v1.1.0',
        files: { 'v1.0.0': files, 'v1.1.0': files, [headPseudo]: files },
        consumer: { importPath: m, version: 'v1.1.0', note: 'v1.1.0' },
        queries: [
          { query: 'v1.0.0', version: 'v1.0.0', note: 'an annotated tag: Time is the commit time, not the tagger time' },
          { query: 'v1.1.0-rc.1', version: 'v1.1.0-rc.1', note: 'a prerelease tag' },
          { query: 'v1', version: 'v1.1.0', note: 'a major version prefix: the highest release' },
          { query: 'v1.0', version: 'v1.0.0', note: 'a version prefix, although a tag has that name too' },
          { query: '<v1.1.0', version: 'v1.0.0', note: 'a comparison prefers releases to the prerelease below it' },
          { query: 'release-1', version: 'v1.0.0', note: 'a tag that is no version resolves to the version tag on its commit' },
          { query: '1.0.0', version: 'v1.0.0', note: 'a tag without the v is only a name' },
          { query: c['v1.0.0']!.hash, version: 'v1.0.0', note: 'the full hash of a tagged commit gives its tag' },
          { query: c['v1.0.0']!.hash.slice(0, 12), version: 'v1.0.0', note: 'a 12-digit short hash' },
          { query: c['v1.0.0']!.hash.slice(0, 7), version: 'v1.0.0', note: 'a 7-digit short hash, the shortest go takes' },
          { query: c.first!.hash, version: expectedPseudo(c.first!, ''), note: 'a commit before any tag: v0.0.0-T-H' },
          { query: c['after-rc']!.hash.slice(0, 12), version: expectedPseudo(c['after-rc']!, 'v1.1.0-rc.1'), note: 'after a prerelease: vX.Y.Z-pre.0.T-H' },
          { query: c.meta!.hash, version: expectedPseudo(c.meta!, 'v1.2.0'), note: 'a commit tagged v1.2.0+meta: no version of its own, but v1.2.0 is its pseudo-version base' },
          { query: 'main', version: headPseudo, note: 'a branch: the pseudo-version of its tip (junk tags on it ignored)' },
          { query: 'HEAD', version: headPseudo, note: 'HEAD is the default branch' },
          { query: 'feature', version: expectedPseudo(c.feature!, 'v1.1.0-rc.1'), note: 'another branch, forked at the prerelease' },
          { query: expectedPseudo(c['after-rc']!, 'v1.1.0-rc.1'), version: expectedPseudo(c['after-rc']!, 'v1.1.0-rc.1'), note: 'a pseudo-version asked for by name' },
          { query: wrongTime(c['after-rc']!, 'v1.1.0-rc.1'), error: /does not match version-control timestamp/, note: 'a pseudo-version whose time is wrong' },
          { query: 'v2.0.0', error: /module path must match major version/, note: 'a v2 tag on a module with go.mod and no /v2' },
          { query: 'v1.2.0', error: /unknown revision v1\.2\.0/, note: 'v1.2.0+meta does not make v1.2.0 a version' },
          { query: 'no-such-branch', error: /unknown revision no-such-branch/, note: 'a name that is neither branch nor tag' },
        ],
      },
    ],
  };
}

/** notags: commits and a branch, never a tag: every version is a v0.0.0 pseudo-version. */
async function notagsScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/notags`;
  const repo = await buildRepo(root, 'notags', '2023-02-03T04:05:06Z', [
    { label: 'c0', files: { 'go.mod': goMod(m), 'notags.go': goFile('notags', 'c0') } },
    { label: 'c1', files: { 'notags.go': goFile('notags', 'c1') } },
    { label: 'c2', files: { 'notags.go': goFile('notags', 'c2') } },
    { label: 'dev', branch: 'dev', parent: 'c1', files: { 'dev.go': 'package notags\n' } },
  ]);
  const c = repo.commits;
  const latest = expectedPseudo(c.c2!, '');
  return {
    repo,
    modules: [
      {
        modulePath: m,
        repo: 'notags',
        tagPrefix: '',
        about: 'no tags at all: @latest is the default branch tip',
        versions: [],
        allVersions: [],
        latest,
        files: { [latest]: ['go.mod', 'notags.go'] },
        consumer: { importPath: m, version: latest, note: 'c2' },
        queries: [
          { query: 'main', version: latest, note: 'the default branch' },
          { query: 'dev', version: expectedPseudo(c.dev!, ''), note: 'another branch' },
          { query: c.c1!.hash.slice(0, 8), version: expectedPseudo(c.c1!, ''), note: 'an 8-digit short hash of a commit that is no branch tip' },
          { query: expectedPseudo(c.c0!, ''), version: expectedPseudo(c.c0!, ''), note: 'the first commit by pseudo-version' },
          { query: 'v0.0.0', error: /unknown revision v0\.0\.0/, note: 'no such version' },
        ],
      },
    ],
  };
}

/** prerelease: only prerelease tags, ordered by semver (beta.10 above beta.2). */
async function prereleaseScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/prerelease`;
  const repo = await buildRepo(root, 'prerelease', '2023-03-04T05:06:07Z', [
    { label: 'alpha', files: { 'go.mod': goMod(m), 'pre.go': goFile('prerelease', 'alpha') }, tags: ['v0.1.0-alpha'] },
    { label: 'beta.2', files: { 'pre.go': goFile('prerelease', 'beta.2') }, tags: ['v0.1.0-beta.2'] },
    { label: 'beta.10', files: { 'pre.go': goFile('prerelease', 'beta.10') }, tags: ['v0.1.0-beta.10'] },
    { label: 'head', files: { 'pre.go': goFile('prerelease', 'head') } },
  ]);
  const c = repo.commits;
  return {
    repo,
    modules: [
      {
        modulePath: m,
        repo: 'prerelease',
        tagPrefix: '',
        about: 'prereleases only: @latest is the highest prerelease',
        versions: ['v0.1.0-alpha', 'v0.1.0-beta.2', 'v0.1.0-beta.10'],
        allVersions: ['v0.1.0-alpha', 'v0.1.0-beta.2', 'v0.1.0-beta.10'],
        latest: 'v0.1.0-beta.10',
        files: {},
        consumer: { importPath: m, version: 'v0.1.0-beta.10', note: 'beta.10' },
        queries: [
          { query: 'v0.1', error: /no matching versions for query "v0\.1"/, note: 'a version prefix matches releases only, never prereleases' },
          { query: 'main', version: expectedPseudo(c.head!, 'v0.1.0-beta.10'), note: 'above a prerelease' },
          { query: 'v0.1.0', error: /unknown revision v0\.1\.0/, note: 'the release is not tagged' },
        ],
      },
    ],
  };
}

/** retract: a latest version that retracts itself and a range, seen by lists, @latest and pseudo-versions. */
async function retractScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/retract`;
  const retractions = '\nretract (\n\tv1.3.0 // published by mistake\n\t[v1.0.5, v1.1.0] // broken build\n)\n';
  const repo = await buildRepo(root, 'retract', '2023-04-05T06:07:08Z', [
    { label: 'v1.0.0', files: { 'go.mod': goMod(m), 'retract.go': goFile('retract', 'v1.0.0') }, tags: ['v1.0.0'] },
    { label: 'v1.0.5', files: { 'retract.go': goFile('retract', 'v1.0.5') }, tags: ['v1.0.5'] },
    { label: 'v1.1.0', files: { 'retract.go': goFile('retract', 'v1.1.0') }, tags: ['v1.1.0'] },
    { label: 'v1.2.0', files: { 'retract.go': goFile('retract', 'v1.2.0') }, tags: ['v1.2.0'] },
    { label: 'v1.3.0', files: { 'go.mod': goMod(m, retractions), 'retract.go': goFile('retract', 'v1.3.0') }, tags: ['v1.3.0'] },
    { label: 'head', files: { 'retract.go': goFile('retract', 'head') } },
  ]);
  const c = repo.commits;
  return {
    repo,
    modules: [
      {
        modulePath: m,
        repo: 'retract',
        tagPrefix: '',
        about: 'retract: the highest release retracts itself and [v1.0.5, v1.1.0]',
        versions: ['v1.0.0', 'v1.2.0'],
        allVersions: ['v1.0.0', 'v1.0.5', 'v1.1.0', 'v1.2.0', 'v1.3.0'],
        latest: 'v1.2.0',
        files: {},
        consumer: { importPath: m, version: 'v1.2.0', note: 'v1.2.0' },
        queries: [
          { query: 'v1.1.0', version: 'v1.1.0', note: 'a retracted version asked for by name is still served' },
          { query: 'v1.3.0', version: 'v1.3.0', note: 'the version that retracts itself' },
          { query: 'v1', version: 'v1.2.0', note: 'a prefix query skips retracted versions' },
          { query: 'main', version: expectedPseudo(c.head!, 'v1.2.0'), note: 'a retracted tag is no pseudo-version base: v1.2.1-0..., below v1.3.0' },
          { query: c['v1.1.0']!.hash, version: expectedPseudo(c['v1.1.0']!, 'v1.0.0'), note: 'the hash of a retracted tag gives a pseudo-version above the last unretracted tag' },
        ],
      },
    ],
  };
}

/** v2root: a go.mod declaring /v2 at the repository root, after v1 tags. */
async function v2rootScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/v2root`;
  const repo = await buildRepo(root, 'v2root', '2023-05-06T07:08:09Z', [
    { label: 'v1.0.0', files: { 'go.mod': goMod(m), 'v2root.go': goFile('v2root', 'v1.0.0') }, tags: ['v1.0.0'] },
    { label: 'v2.0.0', files: { 'go.mod': goMod(`${m}/v2`), 'v2root.go': goFile('v2root', 'v2.0.0') }, tags: ['v2.0.0'] },
    { label: 'v2.1.0', files: { 'v2root.go': goFile('v2root', 'v2.1.0') }, tags: ['v2.1.0'] },
    { label: 'head', files: { 'v2root.go': goFile('v2root', 'head') } },
  ]);
  const c = repo.commits;
  const files = ['go.mod', 'v2root.go'];
  return {
    repo,
    modules: [
      {
        modulePath: `${m}/v2`,
        repo: 'v2root',
        tagPrefix: '',
        about: 'a /v2 module at the repository root: v2 tags only',
        versions: ['v2.0.0', 'v2.1.0'],
        allVersions: ['v2.0.0', 'v2.1.0'],
        latest: 'v2.1.0',
        files: { 'v2.1.0': files },
        consumer: { importPath: `${m}/v2`, version: 'v2.1.0', note: 'v2.1.0' },
        queries: [
          { query: 'main', version: expectedPseudo(c.head!, 'v2.1.0'), note: 'a v2 pseudo-version' },
          { query: 'v1.0.0', error: /v1\.0\.0/, note: 'a v1 tag is no version of the /v2 module' },
        ],
      },
      {
        modulePath: m,
        repo: 'v2root',
        tagPrefix: '',
        about: 'the v1 module of the same repository: v2 tags have go.mod, so no +incompatible',
        versions: ['v1.0.0'],
        allVersions: ['v1.0.0'],
        latest: 'v1.0.0',
        files: { 'v1.0.0': files },
        queries: [
          { query: 'v2.0.0', error: /go\.mod has post-v2 module path "github\.com\/godepot-test\/v2root\/v2" at revision v2\.0\.0/, note: 'go.mod at v2.0.0 names the /v2 path: no +incompatible' },
          { query: 'main', error: /v2root\/v2/, note: 'the tip declares the /v2 path' },
        ],
      },
    ],
  };
}

/** majors: a v3/ major subdirectory beside a v1 module at the root, LICENSE only at the root. */
async function majorsScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/majors`;
  const repo = await buildRepo(root, 'majors', '2023-06-07T08:09:10Z', [
    { label: 'v1.0.0', files: { LICENSE: license, 'go.mod': goMod(m), 'majors.go': goFile('majors', 'v1.0.0') }, tags: ['v1.0.0'] },
    { label: 'v3.0.0', files: { 'v3/go.mod': goMod(`${m}/v3`), 'v3/majors.go': goFile('majors', 'v3.0.0') }, tags: ['v3.0.0'] },
    { label: 'v3.1.0', files: { 'v3/majors.go': goFile('majors', 'v3.1.0'), 'majors.go': goFile('majors', 'v1.1.0') }, tags: ['v3.1.0', 'v1.1.0'] },
    { label: 'head', files: { 'v3/majors.go': goFile('majors', 'head') } },
  ]);
  const c = repo.commits;
  return {
    repo,
    modules: [
      {
        modulePath: `${m}/v3`,
        repo: 'majors',
        tagPrefix: '',
        about: 'a major version subdirectory: unprefixed v3 tags, files from v3/, LICENSE from the root',
        versions: ['v3.0.0', 'v3.1.0'],
        allVersions: ['v3.0.0', 'v3.1.0'],
        latest: 'v3.1.0',
        files: { 'v3.1.0': sorted(['LICENSE', 'go.mod', 'majors.go']) },
        consumer: { importPath: `${m}/v3`, version: 'v3.1.0', note: 'v3.1.0' },
        queries: [{ query: 'main', version: expectedPseudo(c.head!, 'v3.1.0'), note: 'a v3 pseudo-version from the root tags' }],
      },
      {
        modulePath: m,
        repo: 'majors',
        tagPrefix: '',
        about: 'the root module: v3/ is a nested module, left out of its zip',
        versions: ['v1.0.0', 'v1.1.0'],
        allVersions: ['v1.0.0', 'v1.1.0'],
        latest: 'v1.1.0',
        files: { 'v1.1.0': sorted(['LICENSE', 'go.mod', 'majors.go']) },
        consumer: { importPath: m, version: 'v1.1.0', note: 'v1.1.0' },
        queries: [{ query: 'main', version: expectedPseudo(c.head!, 'v1.1.0'), note: 'the v1 pseudo-version of the same commit' }],
      },
    ],
  };
}

/** incompat: no go.mod through v2, then go.mod for /v3 at the root. */
async function incompatScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/incompat`;
  const repo = await buildRepo(root, 'incompat', '2023-07-08T09:10:11Z', [
    { label: 'v1.0.0', files: { 'incompat.go': goFile('incompat', 'v1.0.0') }, tags: ['v1.0.0'] },
    { label: 'v2.0.0', files: { 'incompat.go': goFile('incompat', 'v2.0.0') }, tags: ['v2.0.0'] },
    { label: 'v2.1.0', files: { 'incompat.go': goFile('incompat', 'v2.1.0') }, tags: ['v2.1.0'] },
    { label: 'v3.0.0', files: { 'go.mod': goMod(`${m}/v3`), 'incompat.go': goFile('incompat', 'v3.0.0') }, tags: ['v3.0.0'] },
    { label: 'head', files: { 'incompat.go': goFile('incompat', 'head') } },
    { label: 'legacy', branch: 'legacy', parent: 'v2.1.0', files: { 'incompat.go': goFile('incompat', 'legacy') } },
  ]);
  const c = repo.commits;
  return {
    repo,
    modules: [
      {
        modulePath: m,
        repo: 'incompat',
        tagPrefix: '',
        about: '+incompatible v2 tags without go.mod; v3 has a go.mod, so it is not +incompatible',
        versions: ['v1.0.0', 'v2.0.0+incompatible', 'v2.1.0+incompatible'],
        allVersions: ['v1.0.0', 'v2.0.0+incompatible', 'v2.1.0+incompatible'],
        latest: 'v2.1.0+incompatible',
        files: { 'v2.1.0+incompatible': ['incompat.go'], 'v1.0.0': ['incompat.go'] },
        consumer: { importPath: m, version: 'v2.1.0+incompatible', note: 'v2.1.0' },
        queries: [
          { query: 'v2.0.0', version: 'v2.0.0+incompatible', note: 'a v2 tag without go.mod gains +incompatible' },
          { query: 'legacy', version: expectedPseudo(c.legacy!, 'v2.1.0', 'v0', true), note: 'a +incompatible pseudo-version' },
          { query: 'v3.0.0', error: /go\.mod has post-v3 module path "github\.com\/godepot-test\/incompat\/v3" at revision v3\.0\.0/, note: 'v3.0.0 has a go.mod naming /v3' },
          { query: 'main', error: /incompat\/v3/, note: 'the tip declares the /v3 path' },
        ],
      },
      {
        modulePath: `${m}/v3`,
        repo: 'incompat',
        tagPrefix: '',
        about: 'the /v3 module at the root of the same repository',
        versions: ['v3.0.0'],
        allVersions: ['v3.0.0'],
        latest: 'v3.0.0',
        files: { 'v3.0.0': ['go.mod', 'incompat.go'] },
        consumer: { importPath: `${m}/v3`, version: 'v3.0.0', note: 'v3.0.0' },
        queries: [{ query: 'main', version: expectedPseudo(c.head!, 'v3.0.0'), note: 'a v3 pseudo-version' }],
      },
    ],
  };
}

/** nomod: no go.mod at any commit: go makes one up (`module <path>`), and packages live below the root. */
async function nomodScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/nomod`;
  const repo = await buildRepo(root, 'nomod', '2023-08-09T10:11:12Z', [
    { label: 'v0.1.0', files: { 'README.md': '# nomod\n', 'util/util.go': goFile('util', 'v0.1.0') }, tags: ['v0.1.0'] },
    { label: 'v1.0.0', files: { 'util/util.go': goFile('util', 'v1.0.0') }, tags: ['v1.0.0'] },
    { label: 'head', files: { 'util/util.go': goFile('util', 'head') } },
  ]);
  const c = repo.commits;
  return {
    repo,
    modules: [
      {
        modulePath: m,
        repo: 'nomod',
        tagPrefix: '',
        about: 'no go.mod at all: a synthesized go.mod',
        versions: ['v0.1.0', 'v1.0.0'],
        allVersions: ['v0.1.0', 'v1.0.0'],
        latest: 'v1.0.0',
        files: { 'v1.0.0': ['README.md', 'util/util.go'] },
        consumer: { importPath: `${m}/util`, version: 'v1.0.0', note: 'v1.0.0' },
        queries: [{ query: 'main', version: expectedPseudo(c.head!, 'v1.0.0'), note: 'a pseudo-version of a module without go.mod' }],
      },
    ],
  };
}

/** monorepo: a nested sub/ module with sub/vX tags; LICENSE only at the root. */
async function monorepoScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/monorepo`;
  const repo = await buildRepo(root, 'monorepo', '2023-09-10T11:12:13Z', [
    { label: 'v1.0.0', files: { LICENSE: license, 'go.mod': goMod(m), 'root.go': goFile('monorepo', 'v1.0.0') }, tags: ['v1.0.0'] },
    { label: 'sub/v0.1.0', files: { 'sub/go.mod': goMod(`${m}/sub`), 'sub/sub.go': goFile('sub', 'v0.1.0') }, tags: ['sub/v0.1.0'] },
    // Junk beside the real tag: an incomplete version, a name, and a v2 tag for a sub/go.mod without /v2.
    { label: 'sub/v0.2.0', files: { 'sub/sub.go': goFile('sub', 'v0.2.0') }, tags: ['sub/v0.2.0', 'sub/v0.3', 'sub/latest', 'sub/v2.0.0'] },
    { label: 'root-v1.1.0', files: { 'root.go': goFile('monorepo', 'v1.1.0') }, tags: ['v1.1.0'] },
    { label: 'sub/beta', files: { 'sub/sub.go': goFile('sub', 'beta') }, tags: ['sub/v0.3.0-beta.1'] },
    { label: 'head', files: { 'sub/sub.go': goFile('sub', 'head') } },
  ]);
  const c = repo.commits;
  return {
    repo,
    modules: [
      {
        modulePath: `${m}/sub`,
        repo: 'monorepo',
        tagPrefix: 'sub/',
        about: 'a subdirectory module: versions from sub/ tags, LICENSE copied from the root',
        versions: ['v0.1.0', 'v0.2.0', 'v0.3.0-beta.1'],
        allVersions: ['v0.1.0', 'v0.2.0', 'v0.3.0-beta.1'],
        latest: 'v0.2.0',
        files: { 'v0.2.0': sorted(['LICENSE', 'go.mod', 'sub.go']) },
        consumer: { importPath: `${m}/sub`, version: 'v0.2.0', note: 'v0.2.0' },
        queries: [
          { query: 'v0.2.0', version: 'v0.2.0', note: 'the version of tag sub/v0.2.0' },
          { query: c['root-v1.1.0']!.hash, version: expectedPseudo(c['root-v1.1.0']!, 'v0.2.0'), note: 'a commit with a root tag: the base comes from sub/ tags only' },
          { query: 'main', version: expectedPseudo(c.head!, 'v0.3.0-beta.1'), note: 'above a sub/ prerelease' },
          {
            query: 'sub/v0.2.0',
            version: 'v0.2.0',
            note: 'direct mode takes the tag name itself as a query',
            proxyRefuses: 'a version with a slash cannot be escaped into a proxy URL: "disallowed version string"',
          },
          { query: 'v2.0.0', error: /v2\.0\.0/, note: 'no +incompatible in a subdirectory module' },
        ],
      },
      {
        modulePath: m,
        repo: 'monorepo',
        tagPrefix: '',
        about: 'the root module: sub/ left out, sub/ tags ignored',
        versions: ['v1.0.0', 'v1.1.0'],
        allVersions: ['v1.0.0', 'v1.1.0'],
        latest: 'v1.1.0',
        files: { 'v1.1.0': sorted(['LICENSE', 'go.mod', 'root.go']) },
        consumer: { importPath: m, version: 'v1.1.0', note: 'v1.1.0' },
        queries: [{ query: c['sub/beta']!.hash.slice(0, 12), version: expectedPseudo(c['sub/beta']!, 'v1.1.0'), note: 'a sub/ prerelease tag is no base for the root' }],
      },
    ],
  };
}

/** UpperCase: an upper-case module path, escaped as !upper!case in URLs and the module cache. */
async function upperScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/UpperCase`;
  const repo = await buildRepo(root, 'UpperCase', '2023-10-11T12:13:14Z', [
    { label: 'v1.0.0', files: { 'go.mod': goMod(m), 'Upper.go': goFile('uppercase', 'v1.0.0'), 'Docs/README.md': 'upper\n' }, tags: ['v1.0.0'] },
    { label: 'head', files: { 'Upper.go': goFile('uppercase', 'head') } },
  ]);
  const c = repo.commits;
  return {
    repo,
    modules: [
      {
        modulePath: m,
        repo: 'UpperCase',
        tagPrefix: '',
        about: 'an upper-case module path',
        versions: ['v1.0.0'],
        allVersions: ['v1.0.0'],
        latest: 'v1.0.0',
        files: { 'v1.0.0': sorted(['Docs/README.md', 'Upper.go', 'go.mod']) },
        consumer: { importPath: m, version: 'v1.0.0', note: 'v1.0.0' },
        queries: [{ query: 'main', version: expectedPseudo(c.head!, 'v1.0.0'), note: 'a pseudo-version of an upper-case path' }],
      },
    ],
  };
}

/** Deterministic bytes that do not compress: a simple xorshift stream. */
export function noiseBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The files of tree@v1.0.0 that go keeps in its zip. Everything else in that commit is left out. */
const treeKept = sorted([
  '.gitattributes',
  '.github/workflows/ci.yml',
  '.gitmodules',
  '.hidden/h.txt',
  '-dash.txt',
  '_underscore/u.go',
  'big/blob.bin',
  'crlf.txt',
  'empty.txt',
  'export-ignored.txt',
  'go.mod',
  'ident.txt',
  'odd name [1] {2} (3) ~!#$%&+,=@^_.txt',
  'script.sh',
  'subst.txt',
  'testdata/data.txt',
  'tree.go',
  'vendor/modules.txt',
  'vendor/vendored.go',
  'ünïcödé/ファイル.txt',
]);

/** tree: vendor/, testdata/, nested modules, symlinks, a submodule, odd names, .gitattributes, a 3 MiB file. */
async function treeScenario(root: string, submoduleHash: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/tree`;
  const repo = await buildRepo(root, 'tree', '2023-11-12T13:14:15Z', [
    {
      label: 'v1.0.0',
      files: {
        'go.mod': goMod(m),
        'tree.go': goFile('tree', 'v1.0.0'),
        // vendor/: top-level files are kept, packages below it are not; a nested vendor/ loses everything.
        'vendor/modules.txt': '# example.com/dep v1.0.0\nexample.com/dep\n',
        'vendor/vendored.go': 'package vendor\n',
        'vendor/example.com/dep/dep.go': 'package dep\n',
        'internal/vendor/v.go': 'package vendor\n',
        // testdata/ is kept, unless a go.mod makes a nested module of it.
        'testdata/data.txt': 'data\n',
        'testdata/module/go.mod': goMod('example.com/testdata'),
        'testdata/module/m.go': 'package m\n',
        // Nested modules: go.mod found case-insensitively.
        'inner/go.mod': goMod(`${m}/inner`),
        'inner/inner.go': 'package inner\n',
        'legacy/GO.MOD': goMod(`${m}/legacy`),
        'legacy/legacy.go': 'package legacy\n',
        // Symbolic links, to a file and to a folder.
        'link.go': { symlink: 'tree.go' },
        'linkdir': { symlink: 'testdata' },
        // A submodule: the gitlink cannot be archived; .gitmodules is an ordinary file.
        '.gitmodules': '[submodule "third_party/sub"]\n\tpath = third_party/sub\n\turl = https://github.com/godepot-test/notags\n',
        'third_party/sub': { gitlink: submoduleHash },
        // Names go accepts that are unusual.
        'odd name [1] {2} (3) ~!#$%&+,=@^_.txt': 'odd\n',
        'ünïcödé/ファイル.txt': 'unicode\n',
        '-dash.txt': 'dash\n',
        '.hidden/h.txt': 'hidden\n',
        '_underscore/u.go': 'package underscore\n',
        '.github/workflows/ci.yml': 'on: push\n',
        '.hg_archival.txt': 'repo: 0000\n',
        'empty.txt': '',
        'script.sh': { data: '#!/bin/sh\necho fixture\n', executable: true },
        'big/blob.bin': noiseBytes(3 << 20, 12),
        // .gitattributes: export-ignore and export-subst (which go turns off with info/attributes), and
        // attributes git archive applies on the way out whatever go says: eol=crlf and ident.
        '.gitattributes': 'export-ignored.txt export-ignore\nsubst.txt export-subst\ncrlf.txt text eol=crlf\nident.txt ident\n*.bin binary\n',
        'export-ignored.txt': 'go keeps this file although .gitattributes says export-ignore\n',
        'subst.txt': 'commit $Format:%H$ stays unsubstituted\n',
        'crlf.txt': 'line one\nline two\n',
        'ident.txt': 'id: $Id$\n',
      },
      tags: ['v1.0.0'],
    },
  ]);
  return {
    repo,
    modules: [
      {
        modulePath: m,
        repo: 'tree',
        tagPrefix: '',
        about: 'vendor/, testdata/, nested modules, symlinks, a submodule, odd names, .gitattributes, a 3 MiB file',
        versions: ['v1.0.0'],
        allVersions: ['v1.0.0'],
        latest: 'v1.0.0',
        files: { 'v1.0.0': treeKept },
        consumer: { importPath: m, version: 'v1.0.0', note: 'v1.0.0' },
        queries: [{ query: 'v1.0.0', version: 'v1.0.0', note: 'the one version' }],
      },
    ],
  };
}

/** badnames: versions whose trees go cannot make a zip of, then one it can. */
async function badnamesScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/badnames`;
  const repo = await buildRepo(root, 'badnames', '2023-12-13T14:15:16Z', [
    { label: 'v1.0.0', files: { 'go.mod': goMod(m), 'ok.go': goFile('badnames', 'v1.0.0'), 'bad:colon.txt': 'colon\n' }, tags: ['v1.0.0'] },
    { label: 'v1.1.0', files: { 'bad:colon.txt': null, README: 'upper\n', readme: 'lower\n' }, tags: ['v1.1.0'] },
    { label: 'v1.2.0', files: { readme: null, 'AUX.txt': 'reserved on Windows\n' }, tags: ['v1.2.0'] },
    { label: 'v1.3.0', files: { 'AUX.txt': null, 'ok.go': goFile('badnames', 'v1.3.0') }, tags: ['v1.3.0'] },
  ]);
  return {
    repo,
    modules: [
      {
        modulePath: m,
        repo: 'badnames',
        tagPrefix: '',
        about: 'file names go refuses in a zip: listed versions that cannot be downloaded',
        versions: ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0'],
        allVersions: ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0'],
        latest: 'v1.3.0',
        files: { 'v1.3.0': sorted(['README', 'go.mod', 'ok.go']) },
        consumer: { importPath: m, version: 'v1.3.0', note: 'v1.3.0' },
        queries: [
          { query: 'v1.0.0', error: /malformed file path "bad:colon\.txt"/, note: 'a colon in a file name' },
          { query: 'v1.1.0', error: /case-insensitive file name collision/, note: 'README and readme' },
          { query: 'v1.2.0', error: /AUX\.txt/, note: 'a name Windows reserves' },
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// The large repository: tens of megabytes of files and thousands of commits, through fast-import.

/** The shape of the large repository; the defaults are the tests'. */
export interface LargeRepoOptions {
  /** Commits on main (default 3000). */
  commits?: number;
  /** Data files (default 64), added one a commit from 100 commits before the tip. */
  dataFiles?: number;
  /** Bytes per data file (default 512 KiB): 64 of them make 32 MiB. */
  dataFileBytes?: number;
  /** A tag v0.N.0 every this many commits (default 300); v1.0.0 ten commits before the tip. */
  tagEvery?: number;
  /**
   * Bytes of fresh text that every tenth commit writes over `history/churn.txt` (default 0: no such
   * file): a history far larger than any one tree, as long-lived repositories have, which a full
   * fetch carries and a shallow one does not.
   */
  churnBytes?: number;
}

/** Words the generated text is made of: it compresses about as well as source code. */
const words = 'func return package import type struct interface map chan select case default if else for range go defer var const nil true false error string int byte rune'.split(' ');

/** A deterministic Go-like text file of `size` bytes. */
function textFile(size: number, seed: number): Buffer {
  const noise = noiseBytes(Math.ceil(size / 2) + 16, seed);
  const parts: string[] = [];
  let length = 0;
  let i = 0;
  while (length < size) {
    const line = `\t${words[noise[i++ % noise.length]! % words.length]} v${noise[i++ % noise.length]!.toString(16)}${noise[i++ % noise.length]!.toString(16)} = ${noise[i++ % noise.length]! * 257}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/** The large repository's data file names. */
const dataName = (i: number): string => `data/chunk-${String(i).padStart(3, '0')}.txt`;
/** The file every tenth commit rewrites when churnBytes is set. */
const churnName = 'history/churn.txt';
/** The small files the history adds, one every ten commits. */
const historyName = (i: number): string => `history/h${String(i).padStart(5, '0')}.go`;

/**
 * Builds `<root>/<name>.git`: `commits` commits on main, each rewriting a counter, every tenth adding a
 * small Go file, and, from 100 commits before the tip, one a commit, `dataFiles` files of `dataFileBytes`
 * (so the tip and v1.0.0 hold 32 MiB and more, while the older tags stay small and cheap to zip). Tags
 * v0.N.0 every `tagEvery` commits, v1.0.0 ten commits before the tip. One fast-import stream: seconds, not
 * the minutes a `git commit` per commit takes. Exported so that a benchmark can build it too.
 */
export async function buildLargeRepository(root: string, name: string, modulePath: string, options: LargeRepoOptions = {}): Promise<FixtureRepo & { files: (commit: number) => string[] }> {
  const commits = options.commits ?? 3000;
  const dataFiles = options.dataFiles ?? 64;
  const dataFileBytes = options.dataFileBytes ?? 512 << 10;
  const tagEvery = options.tagEvery ?? 300;
  const churnBytes = options.churnBytes ?? 0;
  const firstData = commits - 100 + 1;
  const start = Date.parse('2022-01-01T00:00:00Z') / 1000;
  const tags: Record<string, string> = {};
  const tagOf = (n: number): string | undefined => {
    if (n === commits - 10) return 'v1.0.0';
    if (n % tagEvery === 0 && n < commits - 10) return `v0.${n / tagEvery}.0`;
    return undefined;
  };
  async function* stream(): AsyncGenerator<Buffer> {
    for (let n = 1; n <= commits; n++) {
      const time = start + n * 600;
      yield Buffer.from(`commit refs/heads/main\nmark :${n}\nauthor ${identity} ${time - 24 * hour} +0000\ncommitter ${identity} ${time} +0000\n`);
      yield dataCommand(`commit ${n}\n`);
      if (n > 1) yield Buffer.from(`from :${n - 1}\n`);
      if (n === 1) {
        yield fileCommand('go.mod', goMod(modulePath));
        yield fileCommand('large.go', goFile('large', 'large'));
      }
      yield fileCommand('counter.txt', `${n}\n`);
      if (n % 10 === 0) yield fileCommand(historyName(n), `package history\n\nconst C${n} = ${n}\n`);
      if (churnBytes > 0 && n % 10 === 0) yield fileCommand(churnName, textFile(churnBytes, commits + n));
      if (n >= firstData && n < firstData + dataFiles) yield fileCommand(dataName(n - firstData), textFile(dataFileBytes, n));
      yield Buffer.from('\n');
      const tag = tagOf(n);
      if (tag !== undefined) {
        tags[tag] = `c${n}`;
        yield Buffer.from(`reset refs/tags/${tag}\nfrom :${n}\n\n`);
      }
    }
    yield Buffer.from('done\n');
  }
  const { gitDir, marks } = await fastImport(root, name, stream());
  // fast-import's pack holds few deltas; one repack gives the server the pack a real host would have.
  await git(gitDir, ['repack', '-a', '-d', '-q'], fixtureGitEnv(root));
  const described: Record<string, FixtureCommit> = {};
  for (const [n, hash] of marks) described[`c${n}`] = { hash, time: fromUnix(start + n * 600) };
  /** The files of the tree at commit `n`, sorted. */
  const files = (n: number): string[] => {
    const names = ['go.mod', 'large.go', 'counter.txt'];
    for (let i = 0; i < dataFiles && firstData + i <= n; i++) names.push(dataName(i));
    for (let h = 10; h <= n; h += 10) names.push(historyName(h));
    if (churnBytes > 0 && n >= 10) names.push(churnName);
    return names.sort();
  };
  return { name, gitDir, remote: `https://${fixtureOwner}/${name}`, commits: described, tags, branches: { main: `c${commits}` }, files };
}

/** large: 32 MiB of files at its last tag and tip, 3000 commits. */
async function largeScenario(root: string): Promise<{ repo: FixtureRepo; modules: FixtureModule[] }> {
  const m = `${fixtureOwner}/large`;
  const { files, ...repo } = await buildLargeRepository(root, 'large', m);
  const c = repo.commits;
  const versions = [...Array.from({ length: 9 }, (_, i) => `v0.${i + 1}.0`), 'v1.0.0'];
  return {
    repo,
    modules: [
      {
        modulePath: m,
        repo: 'large',
        tagPrefix: '',
        about: '32 MiB of files, 3000 commits, 10 tags',
        versions,
        allVersions: versions,
        latest: 'v1.0.0',
        files: { 'v1.0.0': files(2990), 'v0.3.0': files(900) },
        consumer: { importPath: m, version: 'v1.0.0', note: 'large' },
        queries: [
          { query: 'main', version: expectedPseudo(c.c3000!, 'v1.0.0'), note: 'the tip, ten commits above the last tag' },
          { query: c.c1555!.hash, version: expectedPseudo(c.c1555!, 'v0.5.0'), note: 'deep in the history: 1,445 commits below the tip, 55 above its base tag v0.5.0' },
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------

/** Builds every scenario under `root` (which must exist and be empty); `large: false` leaves the large repository out. */
export async function buildGitFixtures(root: string, options: { large?: boolean } = {}): Promise<GitFixtures> {
  await mkdir(root, { recursive: true });
  // The global config of every fixture git command: empty but for the default branch.
  await writeFile(join(root, 'build.gitconfig'), '[init]\n\tdefaultBranch = main\n');
  const built = [
    await tagsScenario(root),
    await notagsScenario(root),
    await prereleaseScenario(root),
    await retractScenario(root),
    await v2rootScenario(root),
    await majorsScenario(root),
    await incompatScenario(root),
    await nomodScenario(root),
    await monorepoScenario(root),
    await upperScenario(root),
    await badnamesScenario(root),
  ];
  built.push(await treeScenario(root, built[1]!.repo.commits.c0!.hash));
  if (options.large !== false) built.push(await largeScenario(root));
  return {
    root,
    repos: Object.fromEntries(built.map((b) => [b.repo.name, b.repo])),
    modules: built.flatMap((b) => b.modules),
  };
}

/**
 * The test-private git config of one test world: every fixture repository's github.com URL rewritten to
 * the local server (`url.<server>/<repo>.git.insteadOf https://github.com/godepot-test/<repo>`), and any
 * other github.com URL to a path the server does not have, so that nothing ever leaves loopback. go and
 * godepot both run git with GIT_CONFIG_GLOBAL pointing at this file.
 */
export function gitConfigFor(fixtures: GitFixtures, serverUrl: string): string {
  const lines: string[] = [];
  for (const name of Object.keys(fixtures.repos).sort()) {
    lines.push(`[url "${serverUrl}/${name}.git"]`, `\tinsteadOf = https://${fixtureOwner}/${name}`);
  }
  lines.push(`[url "${serverUrl}/no-such-repository/"]`, '\tinsteadOf = https://github.com/');
  // go's own `git init --bare` in its module cache would otherwise print a hint about the default branch.
  lines.push('[init]', '\tdefaultBranch = main');
  return lines.join('\n') + '\n';
}
