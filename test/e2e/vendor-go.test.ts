// `godepot vendor` and `bundle export --vendor` against the go command's own `go mod vendor`: for a
// project at go 1.18 (pruned graph, go versions in modules.txt), at go 1.16 (unpruned, go.mod files of
// dependencies kept) and at go 1.13 (no `## explicit`), the vendor folder godepot writes from a bundle,
// from a storage folder and from a running godepot must be the one go writes, file for file and byte for
// byte, and go must build and test the project from it with no network and no module cache.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { escapePath } from '../../src/module/path.js';
import { runGodepot, type CliResult } from '../support/cli.js';
import { startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { makeGoWorld, type GoWorld } from '../support/go.js';
import { startUpstream, type Upstream } from '../support/upstream.js';
import { addVendorModules, writeVendorProject } from '../support/vendor-fixtures.js';

const TOKEN = 'vendor-test-token-0123456789';

/** Every folder and file below `dir` (`name/` for a folder), sorted, with each file's bytes. */
async function treeOf(dir: string): Promise<Map<string, Buffer | null>> {
  const tree = new Map<string, Buffer | null>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const rel = (e: (typeof entries)[number]): string => relative(dir, join(e.parentPath ?? e.path, e.name)).split(sep).join('/');
  for (const e of entries.sort((a, b) => (rel(a) < rel(b) ? -1 : 1))) {
    if (e.isDirectory()) tree.set(`${rel(e)}/`, null);
    else tree.set(rel(e), await readFile(join(e.parentPath ?? e.path, e.name)));
  }
  return tree;
}

/** Asserts that two vendor folders hold the same folders and files with the same bytes. */
async function assertSameTree(got: string, want: string, label: string): Promise<void> {
  const [a, b] = [await treeOf(got), await treeOf(want)];
  assert.deepEqual([...a.keys()], [...b.keys()], `${label}: the same folders and files as go's`);
  for (const [name, data] of b) {
    if (data === null) continue;
    assert.ok(a.get(name)!.equals(data), `${label}: ${name} differs from go's:\n--- godepot\n${a.get(name)!.toString()}\n--- go\n${data.toString()}`);
  }
}

function ok(result: CliResult, what: string): CliResult {
  assert.equal(result.code, 0, `${what} exited ${result.code}:\n${result.stderr}`);
  return result;
}

async function godepot(args: string[]): Promise<CliResult> {
  return runGodepot(args, { env: { GOSUMDB: '', GODEPOT_UPSTREAM: '', GODEPOT_TOKEN: '' } });
}

describe('vendor/ as go mod vendor writes it, from a bundle, a storage and a running godepot', { concurrency: false }, () => {
  let work: string;
  let upstream: Upstream;
  const worlds: GoWorld[] = [];
  const servers: GodepotServer[] = [];

  async function world(goproxy: string, env: NodeJS.ProcessEnv = {}): Promise<GoWorld> {
    const w = await makeGoWorld(goproxy, env);
    worlds.push(w);
    return w;
  }

  async function copyOf(project: string, name: string): Promise<string> {
    const dir = join(work, name);
    await cp(project, dir, { recursive: true });
    return dir;
  }

  /** Builds and tests the project from its vendor folder alone: no proxy, an empty module cache. */
  async function buildVendored(dir: string): Promise<void> {
    const offline = await world('off', { GOFLAGS: '-modcacherw -mod=vendor' });
    await offline.go(['build', './...'], { cwd: dir });
    await offline.go(['test', './...'], { cwd: dir });
    const out = await offline.go(['run', '.'], { cwd: dir });
    assert.match(out.stdout, /^orig\n/m, 'the fork replaced orig');
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-vendor-e2e-'));
    const tree = join(work, 'goproxy');
    await addVendorModules(tree, work);
    upstream = await startUpstream({ root: tree });
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.dispose()));
    await upstream?.stop();
    await Promise.all(worlds.map((w) => w.dispose()));
    await rm(work, { recursive: true, force: true });
  });

  for (const goVersion of ['1.18', '1.16', '1.13']) {
    describe(`a project at go ${goVersion}`, { concurrency: false }, () => {
      let project: string;
      let goVendor: string;
      let server: GodepotServer;

      before(async () => {
        project = join(work, `project-${goVersion}`);
        await writeVendorProject(project, goVersion);
        const online = await world(upstream.url, { GOFLAGS: '-modcacherw -mod=mod' });
        await online.go(['mod', 'tidy'], { cwd: project });
        // A requirement that provides no package: go keeps it and lists it in modules.txt.
        await writeFile(join(project, 'go.mod'), `${await readFile(join(project, 'go.mod'), 'utf8')}\nrequire example.com/vend/testonly v1.0.0 // indirect\n`);
        const byGo = await copyOf(project, `by-go-${goVersion}`);
        await (await world(upstream.url, { GOFLAGS: '-modcacherw -mod=mod' })).go(['mod', 'vendor'], { cwd: byGo });
        goVendor = join(byGo, 'vendor');
        server = await startGodepot({ upstream: upstream.url });
        servers.push(server);
      });

      it('go vendors what the fixtures are about (so that the comparison below means something)', async () => {
        const modulesTxt = await readFile(join(goVendor, 'modules.txt'), 'utf8');
        assert.match(modulesTxt, /^example\.com\/vend\/testdep$/m, 'a package only a test of the main module imports');
        assert.match(modulesTxt, /^example\.com\/vend\/winonly$/m, 'an import of a windows-only file');
        assert.doesNotMatch(modulesTxt, /^example\.com\/vend\/testonly$/m, "a dependency's test import");
        if (goVersion !== '1.13') assert.match(modulesTxt, /^# example\.com\/vend\/testonly v1\.0\.0\n## explicit(; go 1\.17)?\n#/m, 'a requirement without packages');
        assert.match(modulesTxt, /^# example\.com\/vend\/local v1\.0\.0 => \.\/local$/m);
        const files = [...(await treeOf(goVendor)).keys()];
        assert.ok(files.includes('example.com/vend/embedder/static/sub/deep.txt'), 'an embedded file');
        assert.ok(files.includes('example.com/vend/a/sub/COPYING'), 'a license file of a folder above a package');
        assert.ok(!files.includes('example.com/vend/tagged/generate.go'), 'an ignore file');
        assert.ok(files.includes('example.com/vend/tagged/tagged_windows.go'), 'a build-tagged file');
      });

      it('bundle export --vendor writes the same vendor/ as go, and go builds from it offline', async () => {
        const bundle = join(work, `project-${goVersion}.tar.gz`);
        ok(await godepot(['bundle', 'create', '--quiet', '--upstream', upstream.url, '--sumdb', 'off', '--output', bundle, project]), 'bundle create');
        const dir = await copyOf(project, `from-bundle-${goVersion}`);
        // An old vendor folder is replaced, as go mod vendor replaces it.
        await writeFile(join(dir, 'vendor-junk.txt'), 'kept: not in vendor/\n');
        await cp(goVendor, join(dir, 'vendor'), { recursive: true });
        await writeFile(join(dir, 'vendor', 'stale.txt'), 'removed\n');
        const result = ok(await godepot(['bundle', 'export', bundle, '--vendor', dir]), 'bundle export --vendor');
        assert.match(result.stdout, /vendor: \d+ modules, \d+ packages, \d+ files\n$/);
        await assertSameTree(join(dir, 'vendor'), goVendor, 'bundle');
        assert.equal(await readFile(join(dir, 'vendor-junk.txt'), 'utf8'), 'kept: not in vendor/\n');
        await buildVendored(dir);
      });

      it('vendor --server writes the same vendor/ as go, and go builds from it offline', async () => {
        const dir = await copyOf(project, `from-server-${goVersion}`);
        ok(await godepot(['vendor', dir, '--server', server.url]), 'vendor --server');
        await assertSameTree(join(dir, 'vendor'), goVendor, 'server');
        await buildVendored(dir);
      });

      it('vendor --storage writes the same vendor/ as go, from what the server stored', async () => {
        // Stopped first: the server writes some files just after answering them.
        await server.stop();
        const dir = await copyOf(project, `from-storage-${goVersion}`);
        ok(await godepot(['vendor', dir, '--storage', server.storage]), 'vendor --storage');
        await assertSameTree(join(dir, 'vendor'), goVendor, 'storage');
      });
    });
  }

  describe('bad input', { concurrency: false }, () => {
    let project: string;
    let storage: string;

    before(async () => {
      project = join(work, 'bad-project');
      await writeVendorProject(project, '1.18');
      await (await world(upstream.url, { GOFLAGS: '-modcacherw -mod=mod' })).go(['mod', 'tidy'], { cwd: project });
      const server = await startGodepot({ upstream: upstream.url });
      servers.push(server);
      ok(await godepot(['vendor', await copyOf(project, 'fill'), '--server', server.url]), 'vendor --server');
      await server.stop();
      storage = server.storage;
    });

    it('a module the storage lacks is named, and the old vendor/ is left as it was', async () => {
      const lacking = join(work, 'lacking-storage');
      await cp(storage, lacking, { recursive: true });
      await rm(join(lacking, escapePath('example.com/vend/embedder'), '@v', 'v1.0.0.zip'));
      const dir = await copyOf(project, 'lacking');
      await mkdir(join(dir, 'vendor'));
      await writeFile(join(dir, 'vendor', 'modules.txt'), '# old\n');
      const result = await godepot(['vendor', dir, '--storage', lacking]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /example\.com\/vend\/embedder@v1\.0\.0 \(zip\): not in storage /);
      assert.deepEqual([...(await treeOf(join(dir, 'vendor'))).keys()], ['modules.txt']);
      assert.equal(await readFile(join(dir, 'vendor', 'modules.txt'), 'utf8'), '# old\n');
      assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.vendor-')), [], 'no staging folder left behind');
    });

    it('a bundle made for something else names the first module it lacks', async () => {
      const other = join(work, 'other.tar.gz');
      ok(await godepot(['bundle', 'create', '--quiet', '--upstream', upstream.url, '--sumdb', 'off', '--output', other, 'example.com/vend/adep@v1.0.0']), 'bundle create');
      const dir = await copyOf(project, 'other-bundle');
      const result = await godepot(['bundle', 'export', other, '--vendor', dir]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /example\.com\/vend\/[A-Za-z]+@v1\.\d\.\d \(go\.mod\): not in bundle /);
      assert.deepEqual((await readdir(dir)).filter((n) => n === 'vendor' || n.startsWith('.vendor-')), []);
    });

    it('a go.mod go mod vendor would rewrite is refused, naming the requirement to add', async () => {
      const dir = await copyOf(project, 'untidy');
      const gomod = await readFile(join(dir, 'go.mod'), 'utf8');
      await writeFile(join(dir, 'go.mod'), gomod.replace(/^\s*example\.com\/vend\/adep v1\.0\.0( \/\/ indirect)?\n/m, ''));
      const result = await godepot(['vendor', dir, '--storage', storage]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /does not require example\.com\/vend\/adep, which provides package example\.com\/vend\/adep/);
    });

    it('a server that needs a token refuses without it and serves with it', async () => {
      const closed = await startGodepot({ upstream: upstream.url, args: ['--anonymous', 'none', '--import-token', TOKEN] });
      servers.push(closed);
      const refused = await godepot(['vendor', await copyOf(project, 'no-token'), '--server', closed.url]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /unauthorized|401/);
      const dir = await copyOf(project, 'with-token');
      ok(await godepot(['vendor', dir, '--server', closed.url, '--token', TOKEN]), 'vendor --server --token');
      assert.match(await readFile(join(dir, 'vendor', 'modules.txt'), 'utf8'), /^# example\.com\/vend\/a v1\.0\.0$/m);
    });

    it('a project without dependencies gets no vendor folder, as from go', async () => {
      const alone = join(work, 'alone');
      await mkdir(join(alone, 'vendor'), { recursive: true });
      await writeFile(join(alone, 'go.mod'), 'module example.com/alone\n\ngo 1.18\n');
      await writeFile(join(alone, 'main.go'), 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("alone") }\n');
      await writeFile(join(alone, 'vendor', 'modules.txt'), '# stale\n');
      const byGo = await copyOf(alone, 'alone-by-go');
      const said = await (await world('off', { GOFLAGS: '-modcacherw -mod=mod' })).go(['mod', 'vendor'], { cwd: byGo });
      assert.match(said.stderr, /no dependencies to vendor/);
      const result = ok(await godepot(['vendor', alone, '--storage', storage]), 'vendor of a project without dependencies');
      assert.match(result.stderr, /no dependencies to vendor/);
      assert.equal(result.stdout, '');
      assert.deepEqual((await readdir(alone)).sort(), (await readdir(byGo)).sort());
      assert.ok(!(await readdir(alone)).includes('vendor'));
    });

    it('exactly one of --storage and --server', async () => {
      const result = await godepot(['vendor', project]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /give exactly one of --storage and --server/);
    });
  });
});
