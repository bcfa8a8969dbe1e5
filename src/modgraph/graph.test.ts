import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, InvalidRequestError, NotFoundError } from '../errors.js';
import { GoModSyntaxError } from '../module/gomod.js';
import { GraphLoadError, resolveGraph, type GoModSource, type ModuleGraph, type ModuleVersion } from './graph.js';

/** go.mod text: `go` '' for none, requirements as `path version`. */
function gomod(path: string, go: string, ...requires: string[]): string {
  return `module ${path}\n${go === '' ? '' : `\ngo ${go}\n`}${requires.map((r) => `\nrequire ${r}\n`).join('')}`;
}

/** A GOPROXY in memory that records every .mod fetched and how many ran at once. */
class MemorySource implements GoModSource {
  readonly fetched: string[] = [];
  maxInFlight = 0;
  private inFlight = 0;
  private readonly mods = new Map<string, string>();
  private readonly queries = new Map<string, string>();

  add(path: string, version: string, text: string): this {
    this.mods.set(`${path}@${version}`, text);
    return this;
  }

  query(path: string, query: string, version: string): this {
    this.queries.set(`${path}@${query}`, version);
    return this;
  }

  async mod(path: string, version: string): Promise<Buffer> {
    this.fetched.push(`${path}@${version}`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(1);
      const text = this.mods.get(`${path}@${version}`);
      if (text === undefined) throw new NotFoundError(`${path}@${version}: not found`);
      return Buffer.from(text);
    } finally {
      this.inFlight--;
    }
  }

  async info(path: string, query: string): Promise<Buffer> {
    const version = this.queries.get(`${path}@${query}`);
    if (version === undefined) throw new NotFoundError(`${path}@${query}: no matching versions`);
    return Buffer.from(JSON.stringify({ Version: version, Time: '2023-01-02T03:04:05Z' }));
  }
}

let work: string;
let projectCount = 0;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-modgraph-'));
});
after(() => rm(work, { recursive: true, force: true }));

/** Writes `files` (relative path -> text) into a fresh folder and returns it. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = join(work, `p${projectCount++}`);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const names = (list: ModuleVersion[]): string[] => list.map((m) => `${m.path}@${m.version}`);

async function resolveOne(source: GoModSource, files: Record<string, string>, spec = '.'): Promise<ModuleGraph> {
  return resolveGraph([spec], source, { cwd: await project(files) });
}

/** a -> b -> c -> d, every one at go `go`. */
function chain(go: string): MemorySource {
  return new MemorySource()
    .add('example.com/a', 'v1.0.0', gomod('example.com/a', go, 'example.com/b v1.0.0'))
    .add('example.com/b', 'v1.0.0', gomod('example.com/b', go, 'example.com/c v1.0.0'))
    .add('example.com/c', 'v1.0.0', gomod('example.com/c', go, 'example.com/d v1.0.0'))
    .add('example.com/d', 'v1.0.0', gomod('example.com/d', go));
}

describe('pruning', () => {
  test('a main module at go 1.17 reads only its roots: their requirements join the build list, unread', async () => {
    const source = chain('1.17');
    const g = await resolveOne(source, { 'go.mod': gomod('example.com/main', '1.17', 'example.com/a v1.0.0') });
    assert.deepEqual(source.fetched, ['example.com/a@v1.0.0']);
    assert.deepEqual(names(g.buildList), ['example.com/a@v1.0.0', 'example.com/b@v1.0.0']);
    assert.deepEqual(names(g.goMods), ['example.com/a@v1.0.0', 'example.com/b@v1.0.0'], 'goMods covers the build list');
    assert.equal(g.inputs[0]!.pruning, 'pruned');
  });

  test('a main module at go 1.16, or without a go line, reads the whole transitive closure', async () => {
    for (const go of ['1.16', '']) {
      const source = chain('1.17');
      const g = await resolveOne(source, { 'go.mod': gomod('example.com/main', go, 'example.com/a v1.0.0') });
      assert.deepEqual([...source.fetched].sort(), ['example.com/a@v1.0.0', 'example.com/b@v1.0.0', 'example.com/c@v1.0.0', 'example.com/d@v1.0.0'], go);
      assert.deepEqual(names(g.buildList), ['example.com/a@v1.0.0', 'example.com/b@v1.0.0', 'example.com/c@v1.0.0', 'example.com/d@v1.0.0']);
      assert.equal(g.inputs[0]!.pruning, 'unpruned');
    }
  });

  test('below an unpruned dependency everything is loaded, even modules at go 1.17', async () => {
    const source = chain('1.17').add('example.com/old', 'v1.0.0', gomod('example.com/old', '1.16', 'example.com/a v1.0.0'));
    const g = await resolveOne(source, { 'go.mod': gomod('example.com/main', '1.18', 'example.com/old v1.0.0') });
    assert.deepEqual(names(g.buildList), ['example.com/a@v1.0.0', 'example.com/b@v1.0.0', 'example.com/c@v1.0.0', 'example.com/d@v1.0.0', 'example.com/old@v1.0.0']);
    assert.equal(source.fetched.length, 5);
  });

  test('an unpruned module below a pruned non-root is never reached', async () => {
    const source = new MemorySource()
      .add('example.com/p', 'v1.0.0', gomod('example.com/p', '1.17', 'example.com/q v1.0.0'))
      .add('example.com/q', 'v1.0.0', gomod('example.com/q', '1.16', 'example.com/r v1.0.0'));
    const g = await resolveOne(source, { 'go.mod': gomod('example.com/main', '1.17', 'example.com/p v1.0.0') });
    assert.deepEqual(source.fetched, ['example.com/p@v1.0.0']);
    assert.deepEqual(names(g.buildList), ['example.com/p@v1.0.0', 'example.com/q@v1.0.0']);
  });

  test('a go.mod-less module (synthetic .mod) is unpruned: a root of it pulls in its whole closure', async () => {
    const source = chain('1.17').add('example.com/nomod', 'v1.0.0', 'module example.com/nomod\n');
    const g = await resolveOne(source, {
      'go.mod': gomod('example.com/main', '1.17', 'example.com/nomod v1.0.0', 'example.com/b v1.0.0'),
    });
    // b is a root, so read; b is pruned, so c is in the graph but unread, and d is not there at all.
    assert.deepEqual(names(g.buildList), ['example.com/b@v1.0.0', 'example.com/c@v1.0.0', 'example.com/nomod@v1.0.0']);
    assert.deepEqual([...source.fetched].sort(), ['example.com/b@v1.0.0', 'example.com/nomod@v1.0.0']);
  });
});

describe('minimal version selection', () => {
  test('a diamond selects the highest version anyone requires; the lower go.mod is not read under pruning', async () => {
    const source = new MemorySource()
      .add('example.com/a', 'v1.0.0', gomod('example.com/a', '1.17', 'example.com/c v1.1.0'))
      .add('example.com/b', 'v1.0.0', gomod('example.com/b', '1.17', 'example.com/c v1.2.0'));
    const g = await resolveOne(source, { 'go.mod': gomod('example.com/main', '1.17', 'example.com/a v1.0.0', 'example.com/b v1.0.0') });
    assert.deepEqual(names(g.buildList), ['example.com/a@v1.0.0', 'example.com/b@v1.0.0', 'example.com/c@v1.2.0']);
    assert.deepEqual(names(g.goMods), names(g.buildList));
  });

  test('requirements of versions that lose still count, in an unpruned graph', async () => {
    const source = new MemorySource()
      .add('example.com/a', 'v1.0.0', gomod('example.com/a', '', 'example.com/c v1.0.0'))
      .add('example.com/b', 'v1.0.0', gomod('example.com/b', '', 'example.com/c v1.1.0'))
      .add('example.com/c', 'v1.0.0', gomod('example.com/c', '', 'example.com/e v2.0.0+incompatible'))
      .add('example.com/c', 'v1.1.0', gomod('example.com/c', ''))
      .add('example.com/e', 'v2.0.0+incompatible', 'module example.com/e\n');
    const g = await resolveOne(source, { 'go.mod': gomod('example.com/main', '1.16', 'example.com/a v1.0.0', 'example.com/b v1.0.0') });
    assert.deepEqual(names(g.buildList), ['example.com/a@v1.0.0', 'example.com/b@v1.0.0', 'example.com/c@v1.1.0', 'example.com/e@v2.0.0+incompatible']);
    assert.ok(names(g.goMods).includes('example.com/c@v1.0.0'), 'the losing c was read');
  });

  test('a root below its selected version is raised and the graph loaded again (go’s expandGraph)', async () => {
    const source = new MemorySource()
      .add('example.com/a', 'v1.0.0', gomod('example.com/a', '1.17', 'example.com/d v1.1.0'))
      .add('example.com/d', 'v1.0.0', gomod('example.com/d', '1.17', 'example.com/old v1.0.0'))
      .add('example.com/d', 'v1.1.0', gomod('example.com/d', '1.17', 'example.com/new v1.0.0'));
    const g = await resolveOne(source, { 'go.mod': gomod('example.com/main', '1.17', 'example.com/a v1.0.0', 'example.com/d v1.0.0') });
    // First load: roots a, d v1.0.0 (so `old` enters); d is selected at v1.1.0, so the roots move and
    // the second load reads d v1.1.0 and no longer reaches `old`.
    assert.deepEqual(names(g.buildList), ['example.com/a@v1.0.0', 'example.com/d@v1.1.0', 'example.com/new@v1.0.0']);
    assert.deepEqual(names(g.goMods), ['example.com/a@v1.0.0', 'example.com/d@v1.0.0', 'example.com/d@v1.1.0', 'example.com/new@v1.0.0']);
  });

  test('duplicate roots keep the highest version and the lower one is never read', async () => {
    const source = new MemorySource()
      .add('example.com/a', 'v1.0.0', gomod('example.com/a', '1.17', 'example.com/x v1.0.0'))
      .add('example.com/a', 'v1.1.0', gomod('example.com/a', '1.17'));
    const g = await resolveOne(source, { 'go.mod': gomod('example.com/main', '1.17', 'example.com/a v1.1.0', 'example.com/a v1.0.0') });
    assert.deepEqual(source.fetched, ['example.com/a@v1.1.0']);
    assert.deepEqual(names(g.buildList), ['example.com/a@v1.1.0']);
  });

  test('a cycle terminates, and a dependency requiring the main module reads that version of it', async () => {
    const source = new MemorySource()
      .add('example.com/a', 'v1.0.0', gomod('example.com/a', '', 'example.com/b v1.0.0'))
      .add('example.com/b', 'v1.0.0', gomod('example.com/b', '', 'example.com/a v1.1.0', 'example.com/main v0.9.0'))
      .add('example.com/a', 'v1.1.0', gomod('example.com/a', '', 'example.com/b v1.0.0'))
      .add('example.com/main', 'v0.9.0', gomod('example.com/main', '', 'example.com/z v1.0.0'))
      .add('example.com/z', 'v1.0.0', gomod('example.com/z', ''));
    const g = await resolveOne(source, { 'go.mod': gomod('example.com/main', '1.16', 'example.com/a v1.0.0') });
    assert.deepEqual(names(g.buildList), ['example.com/a@v1.1.0', 'example.com/b@v1.0.0', 'example.com/z@v1.0.0']);
    assert.deepEqual(names(g.goMods), ['example.com/a@v1.0.0', 'example.com/a@v1.1.0', 'example.com/b@v1.0.0', 'example.com/main@v0.9.0', 'example.com/z@v1.0.0']);
    assert.equal(source.fetched.length, 5, 'each go.mod fetched once');
  });
});

describe('replace and exclude', () => {
  const source = (): MemorySource =>
    new MemorySource()
      .add('example.com/a', 'v1.0.0', gomod('example.com/a', '1.17', 'example.com/shared v1.0.0'))
      .add('example.com/a', 'v1.1.0', gomod('example.com/a', '1.17'))
      .add('example.com/fork/a', 'v1.0.1', gomod('example.com/a', '1.17', 'example.com/fromfork v1.0.0'))
      .add('example.com/fork/b', 'v2.0.0', gomod('example.com/fork/b', '1.17'))
      .add('example.com/shared', 'v1.0.0', gomod('example.com/shared', '1.17'))
      .add('example.com/shared', 'v1.1.0', gomod('example.com/shared', '1.17'))
      .add('example.com/shared', 'v1.2.0', gomod('example.com/shared', '1.17'))
      .add('example.com/fromlocal', 'v1.0.0', gomod('example.com/fromlocal', '1.17', 'example.com/shared v1.2.0'));

  test('a version replacement, a wildcard one and a local folder: read where they point, reported after replacement', async () => {
    const s = source();
    const g = await resolveOne(s, {
      'go.mod':
        gomod('example.com/main', '1.17', 'example.com/a v1.0.0', 'example.com/b v1.5.0', 'example.com/local v1.0.0') +
        'replace example.com/a v1.0.0 => example.com/fork/a v1.0.1\n' +
        'replace example.com/b => example.com/fork/b v2.0.0\n' +
        'replace example.com/local => ./local\n',
      // A local replacement's go.mod may say anything about its own path.
      'local/go.mod': gomod('something.else/entirely', '1.16', 'example.com/fromlocal v1.0.0'),
    });
    assert.deepEqual(names(g.buildList), [
      'example.com/fork/a@v1.0.1',
      'example.com/fork/b@v2.0.0',
      'example.com/fromfork@v1.0.0',
      'example.com/fromlocal@v1.0.0',
      'example.com/shared@v1.2.0',
    ]);
    // The local module is unpruned (go 1.16): fromlocal is read and its requirement on shared counts.
    assert.deepEqual(names(g.goMods), names(g.buildList));
    assert.ok(!s.fetched.includes('example.com/a@v1.0.0') && !s.fetched.includes('example.com/b@v1.5.0'), 'replaced versions are not fetched');
    assert.ok(!s.fetched.some((m) => m.startsWith('example.com/local@')), 'a folder replacement is never fetched');
  });

  test('a version replacement does not apply to another selected version', async () => {
    const g = await resolveOne(source(), {
      'go.mod': gomod('example.com/main', '1.17', 'example.com/a v1.1.0') + 'replace example.com/a v1.0.0 => example.com/fork/a v1.0.1\n',
    });
    assert.deepEqual(names(g.buildList), ['example.com/a@v1.1.0']);
  });

  test('a fork whose go.mod names another module is refused', async () => {
    const s = source().add('example.com/wrong', 'v1.0.0', gomod('example.com/other', '1.17'));
    await assert.rejects(
      resolveOne(s, { 'go.mod': gomod('example.com/main', '1.17', 'example.com/a v1.0.0') + 'replace example.com/a => example.com/wrong v1.0.0\n' }),
      (err: unknown) => err instanceof GraphLoadError && /declares its path as example.com\/other/.test(err.message),
    );
  });

  test('exclude drops the main module’s own requirement and dependencies’ requirements on that version', async () => {
    const s = source().add('example.com/c', 'v1.0.0', gomod('example.com/c', '1.17', 'example.com/shared v1.1.0'));
    const g = await resolveOne(s, {
      'go.mod':
        gomod('example.com/main', '1.17', 'example.com/a v1.0.0', 'example.com/c v1.0.0', 'example.com/x v1.0.0') +
        'exclude example.com/shared v1.1.0\nexclude example.com/x v1.0.0\n',
    });
    assert.deepEqual(names(g.buildList), ['example.com/a@v1.0.0', 'example.com/c@v1.0.0', 'example.com/shared@v1.0.0']);
    assert.ok(!s.fetched.includes('example.com/x@v1.0.0'));
  });
});

describe('workspaces', () => {
  test('every use folder is a main module; a requirement below the selected version loads the selected one’s requirements', async () => {
    const source = new MemorySource()
      .add('example.com/b', 'v1.0.0', gomod('example.com/b', '1.18'))
      .add('example.com/d', 'v1.0.0', gomod('example.com/d', '1.18'))
      .add('example.com/d', 'v1.1.0', gomod('example.com/d', '1.18', 'example.com/e v1.0.0'))
      .add('example.com/e', 'v1.0.0', gomod('example.com/e', '1.18', 'example.com/f v1.0.0'))
      .add('example.com/fork/g', 'v1.0.0', gomod('example.com/g', '1.18'));
    const dir = await project({
      'go.work': 'go 1.18\n\nuse (\n\t./a\n\t./b\n)\n\nreplace example.com/g => example.com/fork/g v1.0.0\n',
      'a/go.mod': gomod('example.com/a', '1.18', 'example.com/b v1.0.0', 'example.com/d v1.0.0', 'example.com/g v1.0.0') + 'replace example.com/g => ../nowhere\n',
      'b/go.mod': gomod('example.com/b', '1.18', 'example.com/d v1.1.0'),
      'a/go.sum': 'example.com/d v1.0.0/go.mod h1:aaa=\n',
      'go.work.sum': 'example.com/d v1.1.0/go.mod h1:bbb=\n',
    });
    const g = await resolveGraph([dir], source, { cwd: work });
    const input = g.inputs[0]!;
    assert.equal(input.kind, 'gowork');
    assert.equal(input.pruning, 'workspace');
    assert.deepEqual(input.mainModules, ['example.com/a', 'example.com/b']);
    assert.deepEqual(input.goSum, ['example.com/d v1.0.0/go.mod h1:aaa=', 'example.com/d v1.1.0/go.mod h1:bbb=']);
    // d v1.1.0 is loaded again as a module whose dependencies matter, so e's go.mod is read: f appears.
    // go.work's replacement of g wins over a's; b's own path at v1.0.0 is read from the source.
    assert.deepEqual(names(g.buildList), ['example.com/d@v1.1.0', 'example.com/e@v1.0.0', 'example.com/f@v1.0.0', 'example.com/fork/g@v1.0.0']);
    assert.deepEqual(names(g.goMods), [
      'example.com/b@v1.0.0',
      'example.com/d@v1.0.0',
      'example.com/d@v1.1.0',
      'example.com/e@v1.0.0',
      'example.com/f@v1.0.0',
      'example.com/fork/g@v1.0.0',
    ]);
  });

  test('a folder whose name holds an @ is a folder, not a module query', async () => {
    const dir = await project({ 'at@v1.0.0/go.mod': gomod('example.com/at', '1.17') });
    const g = await resolveGraph(['at@v1.0.0'], new MemorySource(), { cwd: dir });
    assert.equal(g.inputs[0]!.kind, 'gomod');
    assert.deepEqual(g.inputs[0]!.mainModules, ['example.com/at']);
  });

  test('a folder holding go.work and go.mod is read as the workspace', async () => {
    const dir = await project({ 'go.work': 'go 1.18\n\nuse .\n', 'go.mod': gomod('example.com/w', '1.18') });
    const g = await resolveGraph(['.'], new MemorySource(), { cwd: dir });
    assert.equal(g.inputs[0]!.kind, 'gowork');
  });
});

describe('module@version inputs', () => {
  test('module@latest is resolved through info, then its whole closure is loaded, even below go 1.17 modules', async () => {
    const source = chain('1.17').query('example.com/a', 'latest', 'v1.0.0');
    const g = await resolveGraph(['example.com/a@latest'], source, { cwd: work });
    assert.deepEqual(g.inputs[0]!.mainModules, ['example.com/a']);
    assert.equal(g.inputs[0]!.kind, 'module');
    assert.deepEqual(names(g.buildList), ['example.com/a@v1.0.0', 'example.com/b@v1.0.0', 'example.com/c@v1.0.0', 'example.com/d@v1.0.0']);
    assert.deepEqual(names(g.goMods), names(g.buildList));
  });

  test('several inputs: the union, each go.mod fetched once, never more than `concurrency` at a time', async () => {
    const source = chain('1.16')
      .add('example.com/x', 'v1.0.0', gomod('example.com/x', '1.16', 'example.com/c v1.0.0', 'example.com/y v1.0.0'))
      .add('example.com/y', 'v1.0.0', gomod('example.com/y', '1.16'))
      .query('example.com/x', 'v1.0.0', 'v1.0.0');
    const dir = await project({ 'go.mod': gomod('example.com/main', '1.16', 'example.com/a v1.0.0') });
    const g = await resolveGraph([dir, 'example.com/x@v1.0.0'], source, { cwd: work, concurrency: 2 });
    assert.deepEqual(names(g.buildList), [
      'example.com/a@v1.0.0',
      'example.com/b@v1.0.0',
      'example.com/c@v1.0.0',
      'example.com/d@v1.0.0',
      'example.com/x@v1.0.0',
      'example.com/y@v1.0.0',
    ]);
    assert.deepEqual(names(g.inputs[1]!.buildList), ['example.com/c@v1.0.0', 'example.com/d@v1.0.0', 'example.com/x@v1.0.0', 'example.com/y@v1.0.0']);
    assert.equal(new Set(source.fetched).size, source.fetched.length, 'no go.mod fetched twice');
    assert.ok(source.maxInFlight <= 2, `at most 2 fetches at once, saw ${source.maxInFlight}`);
  });
});

describe('errors', () => {
  test('unusable inputs name the input', async () => {
    const source = new MemorySource();
    await assert.rejects(resolveGraph(['missing/go.mod'], source, { cwd: work }), (e: unknown) => e instanceof ConfigError && /missing\/go.mod/.test(e.message));
    const empty = await project({ 'README': 'no go.mod here\n' });
    await assert.rejects(resolveGraph([empty], source, { cwd: work }), ConfigError);
    const bad = await project({ 'go.mod': 'module example.com/bad\n\nrequire example.com/a master\n' });
    await assert.rejects(resolveGraph([bad], source, { cwd: work }), (e: unknown) => e instanceof GoModSyntaxError && /not a canonical version/.test(e.message));
    const garbled = await project({ 'go.mod': 'module example.com/bad\n\nfrobnicate\n' });
    await assert.rejects(resolveGraph([garbled], source, { cwd: work }), GoModSyntaxError);
    const nameless = await project({ 'go.mod': 'go 1.17\n' });
    await assert.rejects(resolveGraph([nameless], source, { cwd: work }), (e: unknown) => e instanceof ConfigError && /no module directive/.test(e.message));
    await assert.rejects(resolveGraph(['Not A Module@v1.0.0'], source, { cwd: work }), InvalidRequestError);
    await assert.rejects(resolveGraph(['example.com/a@'], source, { cwd: work }), InvalidRequestError);
    await assert.rejects(resolveGraph(['example.com/a@latest'], source, { cwd: work }), NotFoundError);
  });

  test('a go.mod the graph needs and the source lacks: GraphLoadError with the chain, the source’s error as cause', async () => {
    const source = new MemorySource()
      .add('example.com/a', 'v1.0.0', gomod('example.com/a', '1.16', 'example.com/b v1.0.0'));
    const err = await resolveOne(source, { 'go.mod': gomod('example.com/main', '1.17', 'example.com/a v1.0.0') }).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GraphLoadError);
    assert.match(err.message, /^\.: example\.com\/main requires\n\texample\.com\/a@v1\.0\.0 requires\n\texample\.com\/b@v1\.0\.0: example\.com\/b@v1\.0\.0: not found$/);
    assert.deepEqual(err.module, { path: 'example.com/b', version: 'v1.0.0' });
    assert.deepEqual(err.chain, ['example.com/main', 'example.com/a@v1.0.0', 'example.com/b@v1.0.0']);
    assert.ok(err.cause instanceof NotFoundError);
  });

  test('a dependency go.mod that does not parse is a GraphLoadError caused by GoModSyntaxError', async () => {
    const source = new MemorySource().add('example.com/a', 'v1.0.0', 'module example.com/a\nrequire example.com/b\n');
    const err = await resolveOne(source, { 'go.mod': gomod('example.com/main', '1.17', 'example.com/a v1.0.0') }).catch((e: unknown) => e);
    assert.ok(err instanceof GraphLoadError && err.cause instanceof GoModSyntaxError, String(err));
  });

  test('an aborted resolve rejects with the abort reason', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const dir = await project({ 'go.mod': gomod('example.com/main', '1.17', 'example.com/a v1.0.0') });
    await assert.rejects(resolveGraph([dir], chain('1.17'), { cwd: work, signal: controller.signal }), /stop/);
  });
});
