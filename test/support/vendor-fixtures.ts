// Modules and a project that exercise what `go mod vendor` decides: which packages are vendored (those
// the main module and its tests import, never what dependencies' tests import), which files of a
// package folder are copied (build-tagged files yes, `ignore` files, tests and subfolders no), license
// files of the folders above a package, `//go:embed` files, replacements by another module and by a
// folder, a module without go.mod, an upper-case path, and a replacement nothing uses.
import { writeTree } from './git.js';
import { addModule } from './modgraph.js';

const V = 'example.com/vend';

function goMod(path: string, go: string, require: string[] = []): string {
  const req = require.length > 0 ? `\nrequire (\n${require.map((r) => `\t${r}\n`).join('')})\n` : '';
  return `module ${path}\n\ngo ${go}\n${req}`;
}

/** Go source of package `name` importing `imports` and naming them in Name, so each import is used. */
function source(name: string, imports: string[], extra = ''): string {
  const imp = imports.length > 0 ? `import (\n${imports.map((p, i) => `\tp${i} "${p}"\n`).join('')})\n\n` : '';
  const uses = imports.map((_, i) => ` + p${i}.Name`).join('');
  return `package ${name}\n\n${imp}// Name names the package and what it imports.\nvar Name = "${name}"${uses}\n${extra}`;
}

function testSource(name: string, imports: string[]): string {
  const imp = imports.map((p, i) => `\tp${i} "${p}"\n`).join('');
  const uses = imports.map((_, i) => `\tif p${i}.Name == "" {\n\t\tt.Fatal("empty")\n\t}\n`).join('');
  return `package ${name}\n\nimport (\n\t"testing"\n\n${imp})\n\nfunc TestName(t *testing.T) {\n${uses}}\n`;
}

/** Adds the modules the vendor project needs to the GOPROXY tree `tree` (sources under `work`). */
export async function addVendorModules(tree: string, work: string): Promise<void> {
  const add = (path: string, version: string, files: Record<string, string>): Promise<unknown> => addModule(tree, work, path, version, files);
  await add(`${V}/a`, 'v1.0.0', {
    'go.mod': goMod(`${V}/a`, '1.17', [`${V}/adep v1.0.0`, `${V}/testonly v1.0.0`]),
    LICENSE: 'the license of a\n',
    'README.md': '# a\n',
    'doc.txt': 'copied beside the package\n',
    'a.go': source('a', [`${V}/adep`]),
    // A dependency's test import is never vendored.
    'a_test.go': testSource('a', [`${V}/testonly`]),
    'testdata/fixture.txt': 'never copied\n',
    'sub/COPYING': 'copying of a/sub\n',
    'sub/NOTICE-sub': 'notice of a/sub\n',
    'sub/inner/inner.go': source('inner', []),
    'unused/unused.go': source('unused', []),
  });
  await add(`${V}/adep`, 'v1.0.0', { 'go.mod': goMod(`${V}/adep`, '1.17'), 'adep.go': source('adep', []) });
  await add(`${V}/testonly`, 'v1.0.0', { 'go.mod': goMod(`${V}/testonly`, '1.17'), 'testonly.go': source('testonly', []) });
  await add(`${V}/winonly`, 'v1.0.0', { 'go.mod': goMod(`${V}/winonly`, '1.17'), 'winonly.go': source('winonly', []) });
  await add(`${V}/tagged`, 'v1.0.0', {
    'go.mod': goMod(`${V}/tagged`, '1.16', [`${V}/winonly v1.0.0`, `${V}/testonly v1.0.0`]),
    'tagged.go': source('tagged', []),
    'tagged_linux.go': 'package tagged\n\n// OS is set by a file only linux builds.\nconst OS = "linux"\n',
    'tagged_other.go': '//go:build !linux\n\npackage tagged\n\n// OS is set by a file only other systems build.\nconst OS = "other"\n',
    // Built on windows only, so its import is vendored too.
    'tagged_windows.go': `//go:build windows\n\npackage tagged\n\nimport w "${V}/winonly"\n\n// Win names winonly.\nvar Win = w.Name\n`,
    'tools.go': '// +build tools\n\npackage tagged\n',
    'generate.go': '//go:build ignore\n\npackage main\n\nimport "fmt"\n\nfunc main() { fmt.Println("never vendored") }\n',
    'old_ignore.go': '// +build ignore\n\npackage main\n',
    'cgo.go': '//go:build cgo\n\npackage tagged\n\n// #include <stdlib.h>\nimport "C"\n',
    'asm.txt': 'any other file of the folder is copied\n',
    'tagged_test.go': testSource('tagged', [`${V}/testonly`]),
  });
  await add(`${V}/embedder`, 'v1.0.0', {
    'go.mod': goMod(`${V}/embedder`, '1.17'),
    'embedder.go': 'package embedder\n\nimport "embed"\n\n// FS holds the static files and templates.\n//\n//go:embed static/* tmpl\nvar FS embed.FS\n\n// Name names the package.\nvar Name = "embedder"\n',
    'static/a.txt': 'a\n',
    'static/b.css': 'b {}\n',
    'static/sub/deep.txt': 'embedded through static/*, a folder\n',
    'tmpl/page.tmpl': '{{.}}\n',
    'tmpl/.hidden': 'not embedded from a folder\n',
    'tmpl/_draft': 'not embedded from a folder\n',
    'other/unembedded.txt': 'never copied\n',
  });
  await add(`${V}/orig`, 'v1.0.0', { 'go.mod': goMod(`${V}/orig`, '1.17'), 'orig.go': source('orig', []) });
  // A fork that keeps the module line of what it replaces, as forks do.
  await add(`${V}/fork`, 'v1.0.1', { 'go.mod': goMod(`${V}/orig`, '1.18'), 'fork.go': source('orig', [], '\n// Fork says this is the fork.\nconst Fork = true\n'), LICENSE: 'fork license\n' });
  await add(`${V}/testdep`, 'v1.0.0', { 'go.mod': goMod(`${V}/testdep`, '1.17'), 'testdep.go': source('testdep', []) });
  // No go.mod: the proxy serves `module example.com/vend/nomod`, without a go line.
  await add(`${V}/nomod`, 'v1.0.0', { 'nomod.go': source('nomod', []) });
  await add(`${V}/Upper`, 'v1.2.0', { 'go.mod': goMod(`${V}/Upper`, '1.17'), 'upper.go': source('upper', []) });
}

/**
 * Writes the project into `dir` with `go <goVersion>` in its go.mod: its requirements are left for go mod
 * tidy to write. `./local` replaces example.com/vend/local; an unused replace names a version nobody requires.
 */
export async function writeVendorProject(dir: string, goVersion: string): Promise<void> {
  const imports = [`${V}/a`, `${V}/a/sub/inner`, `${V}/tagged`, `${V}/embedder`, `${V}/orig`, `${V}/local`, `${V}/nomod`, `${V}/Upper`];
  await writeTree(dir, {
    'go.mod':
      `module example.com/vendmain\n\ngo ${goVersion}\n\n` +
      `require ${V}/local v1.0.0\n\n` +
      `replace ${V}/orig => ${V}/fork v1.0.1\n\n` +
      `replace ${V}/local => ./local\n\n` +
      `replace ${V}/nothing v1.0.0 => ${V}/fork v1.0.1\n`,
    'main.go': `package main\n\nimport (\n\t"fmt"\n\n${imports.map((p, i) => `\tp${i} "${p}"\n`).join('')})\n\nfunc main() {\n${imports.map((_, i) => `\tfmt.Println(p${i}.Name)\n`).join('')}}\n`,
    // A package only a test of the main module imports is vendored.
    'main_test.go': testSource('main', [`${V}/testdep`]),
    'internal/helper/helper.go': source('helper', [`${V}/adep`]),
    'testdata/skip/skip.go': source('skip', [`${V}/testonly`]),
    'local/go.mod': goMod(`${V}/local`, '1.16', [`${V}/adep v1.0.0`]),
    'local/local.go': source('local', [`${V}/adep`]),
    'local/LICENSE': 'local license\n',
  });
}
