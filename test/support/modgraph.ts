// A graph of test modules laid out as a static GOPROXY tree (the module cache download layout), and a
// consumer project that depends on them: what the proxy end-to-end tests and bench/proxy serve to go.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { hashGoMod, hashZip } from '../../src/module/hash.js';
import { escapePath, escapeVersion } from '../../src/module/path.js';
import { isPseudoVersion } from '../../src/module/version.js';
import { createZipFromDir } from '../../src/module/zip.js';
import { writeTree } from './git.js';

/** One module version in a GOPROXY tree, with the hashes go must write into go.sum for it. */
export interface ProxyEntry {
  modulePath: string;
  version: string;
  /** The `.mod` body the tree serves: the module's go.mod, or the one go synthesises when it has none. */
  goMod: string;
  /** `h1:` of the zip and of the `.mod`, as go.sum holds them. */
  zipH1: string;
  modH1: string;
  /** Absolute paths of the three files in the tree. */
  zipFile: string;
  modFile: string;
  infoFile: string;
  /** URL paths of the three files below the proxy root, escaped: `/example.com/!upper/x/@v/v1.0.0.zip`. */
  urls: { info: string; mod: string; zip: string; list: string };
}

/** The built graph: the tree to serve, every entry in it, and how to make a consumer of it. */
export interface ModuleGraph {
  tree: string;
  entries: ProxyEntry[];
  /** The entry for `modulePath@version`; throws when the graph has none. */
  entry(modulePath: string, version: string): ProxyEntry;
  /** The h1 go.sum must hold for a `<modulePath> <version>[/go.mod]` line, or undefined for a line we never served. */
  expectedSum(modulePath: string, versionField: string): string | undefined;
}

/** The `.info` time of every entry the helpers write unless told otherwise. */
export const fixedTime = '2023-01-02T03:04:05Z';

/** URL paths, below a proxy root, of a module version's files. */
export function proxyUrls(modulePath: string, version: string): ProxyEntry['urls'] {
  const base = `/${escapePath(modulePath)}/@v/`;
  const v = escapeVersion(version);
  return { info: `${base}${v}.info`, mod: `${base}${v}.mod`, zip: `${base}${v}.zip`, list: `${base}list` };
}

/**
 * Writes a version's `.mod` and `.info` into a GOPROXY tree and adds it to the module's `list` (kept
 * sorted by insertion, pseudo-versions left out as proxies do). The caller writes the `.zip` at the
 * returned base path + `.zip`. Shared by every test that builds a static GOPROXY tree.
 */
export async function writeProxyMetadata(
  tree: string,
  modulePath: string,
  version: string,
  goMod: string,
  time = fixedTime,
): Promise<string> {
  const vdir = join(tree, escapePath(modulePath), '@v');
  await mkdir(vdir, { recursive: true });
  const base = join(vdir, escapeVersion(version));
  await writeFile(`${base}.mod`, goMod);
  await writeFile(`${base}.info`, JSON.stringify({ Version: version, Time: time }) + '\n');
  const listFile = join(vdir, 'list');
  const listed = (await readFile(listFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  if (!isPseudoVersion(version) && !listed.includes(version)) listed.push(version);
  await writeFile(listFile, listed.map((v) => v + '\n').join(''));
  return base;
}

/**
 * Adds one module version made from `files` (relative path -> content; no go.mod means go synthesises
 * one) to `tree`: zip made by godepot's createZipFromDir from a source folder under `work`.
 */
export async function addModule(
  tree: string,
  work: string,
  modulePath: string,
  version: string,
  files: Record<string, string | Buffer>,
  time = fixedTime,
): Promise<ProxyEntry> {
  const src = join(work, 'src', escapePath(modulePath), escapeVersion(version));
  await writeTree(src, files);
  const goModFile = files['go.mod'];
  const goMod = goModFile === undefined ? `module ${modulePath}\n` : goModFile.toString();
  const base = await writeProxyMetadata(tree, modulePath, version, goMod, time);
  const zipFile = `${base}.zip`;
  await createZipFromDir(createWriteStream(zipFile), modulePath, version, src);
  return {
    modulePath,
    version,
    goMod,
    zipH1: await hashZip(zipFile),
    modH1: hashGoMod(Buffer.from(goMod)),
    zipFile,
    modFile: `${base}.mod`,
    infoFile: `${base}.info`,
    urls: proxyUrls(modulePath, version),
  };
}

/**
 * Adds a module whose zip is about `bytes` long: one file of random (incompressible) bytes under a
 * small go.mod, so the zip's size is what the slow-download, crash and throughput tests need.
 */
export async function addBigModule(tree: string, work: string, modulePath: string, version: string, bytes: number): Promise<ProxyEntry> {
  const src = join(work, 'src', escapePath(modulePath), escapeVersion(version));
  await mkdir(src, { recursive: true });
  const chunk = 1 << 20;
  let left = bytes;
  const data = new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(chunk, left);
      left -= n;
      this.push(randomBytes(n));
    },
  });
  await pipeline(data, createWriteStream(join(src, 'blob.bin')));
  return addModule(tree, work, modulePath, version, {
    'go.mod': `module ${modulePath}\n\ngo 1.17\n`,
    'big.go': `package big\n\n// Size is the length of blob.bin.\nconst Size = ${bytes}\n`,
  });
}

const goMod = (modulePath: string, requires: string[] = []) =>
  `module ${modulePath}\n\ngo 1.17\n` + (requires.length > 0 ? `\nrequire (\n${requires.map((r) => `\t${r}\n`).join('')})\n` : '');

/** A package whose `Name` names its module and version, importing `imports` (path and package name). */
function source(pkg: string, modulePath: string, version: string, imports: Array<[string, string]> = []): string {
  const imp = imports.length > 0 ? `import (\n${imports.map(([p]) => `\t"${p}"\n`).join('')})\n\n` : '';
  const deps = imports.map(([, name]) => ` + " " + ${name}.Name`).join('');
  return `package ${pkg}\n\n${imp}// Name names the module version this package came from and what it imports.\nvar Name = "${modulePath}@${version}"${deps}\n`;
}

/** A module version of the graph: its requirements and the packages its root package imports. */
interface GraphSpec {
  modulePath: string;
  version: string;
  pkg: string;
  /** `path version` lines for go.mod; none and `noGoMod` means go synthesises the go.mod. */
  requires?: string[];
  imports?: Array<[string, string]>;
  noGoMod?: boolean;
  time?: string;
}

const log = 'example.com/app/log';
const deepB = 'example.com/deep/b';

/**
 * The graph: 12 modules, 17 versions. MVS must pick log v1.2.0 (the consumer asks v1.1.0, util v1.2.0,
 * major/v2 v1.0.0; v1.3.0-beta.1 is a prerelease nobody asks for) and deep/b v1.1.0; deep/b, deep/c and
 * modonly enter only through other modules' go.mod files; nomod and legacy have no go.mod (legacy is
 * +incompatible); Upper/Mixed has an upper-case path; pseudo is at a pseudo-version, pre at a prerelease.
 */
const graphSpecs: GraphSpec[] = [
  { modulePath: log, version: 'v1.0.0', pkg: 'log', time: '2023-01-01T00:00:00Z' },
  { modulePath: log, version: 'v1.1.0', pkg: 'log', time: '2023-02-01T00:00:00Z' },
  { modulePath: log, version: 'v1.2.0', pkg: 'log', time: '2023-03-01T00:00:00Z' },
  { modulePath: log, version: 'v1.3.0-beta.1', pkg: 'log', time: '2023-04-01T00:00:00Z' },
  { modulePath: 'example.com/app/util', version: 'v1.0.0', pkg: 'util', requires: [`${log} v1.2.0`], imports: [[log, 'log']] },
  {
    modulePath: 'example.com/major/v2',
    version: 'v2.1.0',
    pkg: 'major',
    requires: [`${log} v1.0.0`, 'example.com/Upper/Mixed v1.0.0'],
    imports: [['example.com/Upper/Mixed', 'mixed']],
  },
  { modulePath: 'example.com/Upper/Mixed', version: 'v1.0.0', pkg: 'mixed' },
  { modulePath: 'example.com/pseudo', version: 'v0.0.0-20230102030405-0123456789ab', pkg: 'pseudo' },
  { modulePath: 'example.com/nomod', version: 'v1.0.0', pkg: 'nomod', noGoMod: true },
  { modulePath: 'example.com/legacy', version: 'v2.0.0+incompatible', pkg: 'legacy', noGoMod: true },
  { modulePath: 'example.com/pre', version: 'v1.5.0-rc.1', pkg: 'pre' },
  { modulePath: 'example.com/deep/a', version: 'v1.0.0', pkg: 'a', requires: [`${deepB} v1.1.0`], imports: [[deepB, 'b']] },
  { modulePath: deepB, version: 'v1.0.0', pkg: 'b', requires: ['example.com/deep/c v1.0.0'], imports: [['example.com/deep/c', 'c']] },
  { modulePath: deepB, version: 'v1.1.0', pkg: 'b', requires: ['example.com/deep/c v1.0.0'], imports: [['example.com/deep/c', 'c']] },
  { modulePath: 'example.com/deep/c', version: 'v1.0.0', pkg: 'c', requires: ['example.com/modonly v1.0.0'] },
  { modulePath: 'example.com/modonly', version: 'v1.0.0', pkg: 'modonly' },
  { modulePath: 'example.com/modonly', version: 'v0.9.0', pkg: 'modonly' },
];

/** What the consumer requires directly (path, version asked, package name). */
const consumerRequires: Array<[string, string, string]> = [
  [log, 'v1.1.0', 'log'],
  ['example.com/app/util', 'v1.0.0', 'util'],
  ['example.com/major/v2', 'v2.1.0', 'major'],
  ['example.com/pseudo', 'v0.0.0-20230102030405-0123456789ab', 'pseudo'],
  ['example.com/nomod', 'v1.0.0', 'nomod'],
  ['example.com/legacy', 'v2.0.0+incompatible', 'legacy'],
  ['example.com/pre', 'v1.5.0-rc.1', 'pre'],
  ['example.com/deep/a', 'v1.0.0', 'a'],
];

/** Builds the graph's GOPROXY tree at `<work>/goproxy` (sources under `<work>/src`). */
export async function buildModuleGraph(work: string): Promise<ModuleGraph> {
  const tree = join(work, 'goproxy');
  const entries: ProxyEntry[] = [];
  for (const spec of graphSpecs) {
    const files: Record<string, string> = { [`${spec.pkg}.go`]: source(spec.pkg, spec.modulePath, spec.version, spec.imports) };
    if (spec.noGoMod !== true) files['go.mod'] = goMod(spec.modulePath, spec.requires);
    entries.push(await addModule(tree, work, spec.modulePath, spec.version, files, spec.time));
  }
  const sums = new Map<string, string>();
  for (const e of entries) {
    sums.set(`${e.modulePath} ${e.version}`, e.zipH1);
    sums.set(`${e.modulePath} ${e.version}/go.mod`, e.modH1);
  }
  return {
    tree,
    entries,
    entry(modulePath, version) {
      const found = entries.find((e) => e.modulePath === modulePath && e.version === version);
      if (found === undefined) throw new Error(`no ${modulePath}@${version} in the module graph`);
      return found;
    },
    expectedSum: (modulePath, versionField) => sums.get(`${modulePath} ${versionField}`),
  };
}

/**
 * The `Name` lines the consumer binary prints when go picked the versions MVS must pick: the proof that
 * the build used log v1.2.0 and deep/b v1.1.0 and not any other version in the tree.
 */
export const consumerOutput: string[] = [
  'example.com/app/log@v1.2.0',
  'example.com/app/util@v1.0.0 example.com/app/log@v1.2.0',
  'example.com/major/v2@v2.1.0 example.com/Upper/Mixed@v1.0.0',
  'example.com/pseudo@v0.0.0-20230102030405-0123456789ab',
  'example.com/nomod@v1.0.0',
  'example.com/legacy@v2.0.0+incompatible',
  'example.com/pre@v1.5.0-rc.1',
  'example.com/deep/a@v1.0.0 example.com/deep/b@v1.1.0 example.com/deep/c@v1.0.0',
];

/**
 * Writes the consumer project into `dir`: a go.mod naming only its direct requirements (go finds the
 * rest through their go.mod files; `go mod tidy` completes it and writes go.sum) and a main package
 * printing every imported package's `Name`, one a line, in consumerOutput's order.
 */
export async function writeConsumer(dir: string): Promise<void> {
  const requires = consumerRequires.map(([p, v]) => `${p} ${v}`);
  const imports = consumerRequires.map(([p, , name], i) => `\tm${i} "${p}" // ${name}\n`).join('');
  const prints = consumerRequires.map((_, i) => `\tfmt.Println(m${i}.Name)\n`).join('');
  await writeTree(dir, {
    'go.mod': goMod('example.com/consumer', requires),
    'main.go': `package main\n\nimport (\n\t"fmt"\n\n${imports})\n\nfunc main() {\n${prints}}\n`,
  });
}
