// The real go command reads zips, .mod and .info files that godepot wrote into a GOPROXY=file:// tree:
// it must accept every one, and the h1: hashes it reports must equal the ones godepot printed.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { hashDir } from '../../src/module/hash.js';
import { runGodepot } from '../support/cli.js';
import { makeGoWorld, parseJsonStream, type GoWorld } from '../support/go.js';
import { writeProxyMetadata } from '../support/modgraph.js';
import { fixtureGoMod, proxyFixtures, writeFixture, type ModuleFixture } from './fixtures.js';

interface Made {
  fixture: ModuleFixture;
  zipH1: string;
  modH1: string;
  zipFile: string;
}

interface Downloaded {
  Path: string;
  Version: string;
  Dir: string;
  Sum: string;
  GoModSum: string;
  Error?: string;
}

let work: string;
let tree: string;
let world: GoWorld;
const made = new Map<string, Made>();
const key = (f: ModuleFixture) => `${f.modulePath}@${f.version}`;

/** The last word godepot printed: the h1: of a go.sum line. */
const lastWord = (stdout: string) => stdout.trim().split(/\s+/).pop() ?? '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-zip-'));
  tree = join(work, 'goproxy');
  for (const fixture of proxyFixtures) {
    const src = join(work, 'src', fixture.modulePath, fixture.version);
    await writeFixture(src, fixture);
    if (fixture.modulePath === 'example.com/basic') {
      // Symlinks and empty directories are never part of a module zip.
      await symlink('basic.go', join(src, 'link.go'));
      await mkdir(join(src, 'empty', 'dir'), { recursive: true });
    }
    const base = await writeProxyMetadata(tree, fixture.modulePath, fixture.version, fixtureGoMod(fixture));
    const zipped = await runGodepot(['mod', 'zip', src, '--module', fixture.modulePath, '--version', fixture.version, '--output', `${base}.zip`]);
    assert.equal(zipped.code, 0, zipped.stderr);
    assert.equal(zipped.stdout.trim().split(/\s+/).slice(0, 2).join(' '), `${fixture.modulePath} ${fixture.version}`);
    const modHash = await runGodepot(['mod', 'hash', `${base}.mod`]);
    assert.equal(modHash.code, 0, modHash.stderr);
    const zipHash = await runGodepot(['mod', 'hash', `${base}.zip`]);
    assert.equal(zipHash.code, 0, zipHash.stderr);
    assert.equal(lastWord(zipHash.stdout), lastWord(zipped.stdout), 'mod hash and mod zip agree on the zip h1');
    made.set(key(fixture), { fixture, zipH1: lastWord(zipped.stdout), modH1: lastWord(modHash.stdout), zipFile: `${base}.zip` });
  }
  world = await makeGoWorld(pathToFileURL(tree).href);
});

after(async () => {
  await world?.dispose();
  await rm(work, { recursive: true, force: true });
});

test('go mod download accepts every godepot zip and reports the same h1 hashes', async () => {
  const { stdout } = await world.go(['mod', 'download', '-json', ...proxyFixtures.map(key)]);
  const downloads = parseJsonStream<Downloaded>(stdout);
  assert.equal(downloads.length, proxyFixtures.length);
  for (const d of downloads) {
    const m = made.get(`${d.Path}@${d.Version}`);
    assert.ok(m, `go downloaded something we did not make: ${d.Path}@${d.Version}`);
    assert.equal(d.Error, undefined, `${d.Path}@${d.Version}: ${d.Error}`);
    assert.equal(d.Sum, m.zipH1, `zip h1 of ${d.Path}@${d.Version}`);
    assert.equal(d.GoModSum, m.modH1, `go.mod h1 of ${d.Path}@${d.Version}`);
    // go extracted the zip; hashing its tree our way must give the same h1 again.
    assert.equal(await hashDir(d.Dir, `${d.Path}@${d.Version}/`), d.Sum, `h1 of the tree go extracted for ${d.Path}`);
    for (const file of m.fixture.included) {
      assert.equal(await readFile(join(d.Dir, file), 'utf8'), m.fixture.files[file], `${d.Path}: ${file} is in the zip`);
    }
    for (const file of m.fixture.excluded) {
      await assert.rejects(readFile(join(d.Dir, file)), { code: 'ENOENT' }, `${d.Path}: ${file} must be left out`);
    }
  }
  const basic = downloads.find((d) => d.Path === 'example.com/basic');
  await assert.rejects(readFile(join(basic!.Dir, 'link.go')), { code: 'ENOENT' }, 'symlinks are left out');
});

test('go builds a consumer of every fixture module and writes our hashes into go.sum', async () => {
  const consumer = join(work, 'consumer');
  const imported = proxyFixtures.filter((f) => f.packageName);
  const requires = proxyFixtures.map((f) => `\t${f.modulePath} ${f.version}`).join('\n');
  await mkdir(consumer, { recursive: true });
  await writeFile(join(consumer, 'go.mod'), `module example.com/consumer\n\ngo 1.17\n\nrequire (\n${requires}\n)\n`);
  const imports = imported.map((f, i) => `\tm${i} "${f.modulePath}"`).join('\n');
  const uses = imported.map((_, i) => `\tfmt.Println(m${i}.Path)`).join('\n');
  await writeFile(join(consumer, 'main.go'), `package main\n\nimport (\n\t"fmt"\n\n${imports}\n)\n\nfunc main() {\n${uses}\n}\n`);
  await world.go(['mod', 'download'], { cwd: consumer });
  await world.go(['build', '-mod=mod', '-o', join(work, 'consumer.bin'), '.'], { cwd: consumer });
  const { execFile } = await import('node:child_process');
  const printed = await new Promise<string>((resolve, reject) =>
    execFile(join(work, 'consumer.bin'), (err, out) => (err ? reject(err) : resolve(out))),
  );
  assert.deepEqual(printed.trim().split('\n'), imported.map((f) => f.modulePath));

  const goSum = await readFile(join(consumer, 'go.sum'), 'utf8');
  for (const m of made.values()) {
    const { modulePath, version } = m.fixture;
    assert.ok(goSum.includes(`${modulePath} ${version}/go.mod ${m.modH1}\n`), `go.sum holds our go.mod hash of ${modulePath}`);
    if (m.fixture.packageName) {
      assert.ok(goSum.includes(`${modulePath} ${version} ${m.zipH1}\n`), `go.sum holds our zip hash of ${modulePath}`);
    }
  }
});
