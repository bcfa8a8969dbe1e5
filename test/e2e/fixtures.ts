import { writeTree } from '../support/git.js';

/** A module version the end-to-end tests create: its source tree and what its zip must (not) hold. */
export interface ModuleFixture {
  modulePath: string;
  version: string;
  /** Go package name of the module root, when the consumer imports it. */
  packageName?: string;
  files: Record<string, string>;
  /** Files that must be in the zip, and files that must be left out of it, relative to the module root. */
  included: string[];
  excluded: string[];
}

const rootFile = (pkg: string, modulePath: string) => `package ${pkg}\n\n// Path names the module this package came from.\nconst Path = "${modulePath}"\n`;
const goMod = (modulePath: string, go = '1.17') => `module ${modulePath}\n\ngo ${go}\n`;

/**
 * Module trees covering what go's zip rules care about: vendor directories, testdata, nested modules,
 * odd but legal names, a LICENSE, VCS metadata, no go.mod, upper-case paths, v2+ and gopkg.in paths,
 * +incompatible, prerelease and pseudo-versions.
 */
export const proxyFixtures: ModuleFixture[] = [
  {
    modulePath: 'example.com/basic',
    version: 'v1.0.0',
    packageName: 'basic',
    files: {
      'go.mod': goMod('example.com/basic'),
      'basic.go': rootFile('basic', 'example.com/basic'),
      'basic_test.go': 'package basic\n',
      LICENSE: 'Permission is granted.\n',
      'README.md': '# basic\n',
      'testdata/input.txt': 'kept: testdata is part of the module\n',
      'internal/deep/deep.go': 'package deep\n',
    },
    included: ['go.mod', 'basic.go', 'LICENSE', 'testdata/input.txt', 'internal/deep/deep.go'],
    excluded: [],
  },
  {
    modulePath: 'example.com/vendored',
    version: 'v1.1.0',
    packageName: 'vendored',
    files: {
      'go.mod': goMod('example.com/vendored'),
      'vendored.go': rootFile('vendored', 'example.com/vendored'),
      'vendor/modules.txt': '# example.org/dep v1.0.0\n',
      'vendor/example.org/dep/dep.go': 'package dep\n',
      'pkg/vendor/inner.go': 'package vendor\n',
      'pkg/keep.go': 'package pkg\n',
    },
    included: ['vendor/modules.txt', 'pkg/keep.go'],
    excluded: ['vendor/example.org/dep/dep.go', 'pkg/vendor/inner.go'],
  },
  {
    modulePath: 'example.com/nested',
    version: 'v1.0.0',
    packageName: 'nested',
    files: {
      'go.mod': goMod('example.com/nested'),
      'nested.go': rootFile('nested', 'example.com/nested'),
      'sub/go.mod': goMod('example.com/nested/sub'),
      'sub/sub.go': 'package sub\n',
      'other/GO.MOD': 'module example.com/nested/other\n',
      'other/other.go': 'package other\n',
      '.hg_archival.txt': 'repo: 0123\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
    },
    included: ['nested.go'],
    excluded: ['sub/go.mod', 'sub/sub.go', 'other/other.go', '.hg_archival.txt', '.git/HEAD'],
  },
  {
    modulePath: 'example.com/oddnames',
    version: 'v0.3.0',
    packageName: 'oddnames',
    files: {
      'go.mod': goMod('example.com/oddnames'),
      'oddnames.go': rootFile('oddnames', 'example.com/oddnames'),
      'data/with space.txt': 'space\n',
      'data/!#$%&()+,-.=@[]^_{}~.txt': 'punctuation go allows\n',
      'data/ñandú-日本.txt': 'unicode letters\n',
      'data/go.mod/not-a-module.txt': 'a directory named go.mod is fine\n',
    },
    included: ['data/with space.txt', 'data/!#$%&()+,-.=@[]^_{}~.txt', 'data/ñandú-日本.txt', 'data/go.mod/not-a-module.txt'],
    excluded: [],
  },
  {
    modulePath: 'example.com/nomod',
    version: 'v1.0.0',
    packageName: 'nomod',
    files: { 'nomod.go': rootFile('nomod', 'example.com/nomod') },
    included: ['nomod.go'],
    excluded: [],
  },
  {
    modulePath: 'example.com/Upper/CaseMod',
    version: 'v1.2.0',
    packageName: 'casemod',
    files: { 'go.mod': goMod('example.com/Upper/CaseMod'), 'casemod.go': rootFile('casemod', 'example.com/Upper/CaseMod') },
    included: ['casemod.go'],
    excluded: [],
  },
  {
    modulePath: 'example.com/major/v2',
    version: 'v2.3.0',
    packageName: 'major',
    files: { 'go.mod': goMod('example.com/major/v2'), 'major.go': rootFile('major', 'example.com/major/v2') },
    included: ['major.go'],
    excluded: [],
  },
  {
    modulePath: 'example.com/legacy',
    version: 'v3.0.0+incompatible',
    packageName: 'legacy',
    files: { 'legacy.go': rootFile('legacy', 'example.com/legacy') },
    included: ['legacy.go'],
    excluded: [],
  },
  {
    modulePath: 'example.com/pre',
    version: 'v1.5.0-RC.1',
    packageName: 'pre',
    files: { 'go.mod': goMod('example.com/pre'), 'pre.go': rootFile('pre', 'example.com/pre') },
    included: ['pre.go'],
    excluded: [],
  },
  {
    modulePath: 'example.com/pseudo',
    version: 'v0.0.0-20230102030405-0123456789ab',
    packageName: 'pseudo',
    files: { 'go.mod': goMod('example.com/pseudo'), 'pseudo.go': rootFile('pseudo', 'example.com/pseudo') },
    included: ['pseudo.go'],
    excluded: [],
  },
  {
    modulePath: 'gopkg.in/yaml.v3',
    version: 'v3.0.1',
    packageName: 'yaml',
    files: { 'go.mod': goMod('gopkg.in/yaml.v3'), 'yaml.go': rootFile('yaml', 'gopkg.in/yaml.v3') },
    included: ['yaml.go'],
    excluded: [],
  },
  {
    modulePath: 'example.com/empty',
    version: 'v1.0.0',
    files: { 'go.mod': goMod('example.com/empty') },
    included: ['go.mod'],
    excluded: [],
  },
];

/** Writes a fixture's source tree into `dir`. */
export async function writeFixture(dir: string, fixture: ModuleFixture): Promise<void> {
  await writeTree(dir, fixture.files);
}

/** The `.mod` a proxy serves for a fixture: its go.mod, or the one go synthesises when there is none. */
export function fixtureGoMod(fixture: ModuleFixture): string {
  return fixture.files['go.mod'] ?? `module ${fixture.modulePath}\n`;
}
