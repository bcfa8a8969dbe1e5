import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffManifests, formatDiff } from './diff.js';
import { makeFixture, type FixtureModule } from '../../test/support/bundle-fixtures.js';

const a1: FixtureModule = { path: 'example.com/a', version: 'v1.0.0', info: '{}\n', mod: 'module example.com/a\n', zip: Buffer.from('a1') };
const a2: FixtureModule = { path: 'example.com/a', version: 'v1.2.0', info: '{}\n', mod: 'module example.com/a\n', zip: Buffer.from('a2') };
const b: FixtureModule = { path: 'example.com/b', version: 'v0.1.0', mod: 'module example.com/b\n' };
const c: FixtureModule = { path: 'example.com/c', version: 'v2.0.0+incompatible', info: '{}\n', mod: 'module example.com/c\n', zip: Buffer.from('c') };

describe('diffManifests', () => {
  it('finds added, removed and changed module versions, and proofs that moved on', () => {
    const old = makeFixture([a1, b, c], { sumdb: 'sum.example.com' }).manifest;
    const next = makeFixture([a2, { ...b, info: '{}\n', zip: Buffer.from('b') }, { ...c, zip: Buffer.from('c, altered') }], { sumdb: 'sum.example.com' }).manifest;
    next.sumdb[0]!.treeSize = 9;
    const diff = diffManifests(old, next);
    assert.deepEqual(diff.added.map((m) => `${m.path}@${m.version}`), ['example.com/a@v1.2.0']);
    assert.deepEqual(diff.removed.map((m) => `${m.path}@${m.version}`), ['example.com/a@v1.0.0']);
    assert.deepEqual(diff.changed.map((ch) => [ch.path, ch.differences]), [
      ['example.com/b', ['.info added', '.zip added']],
      ['example.com/c', [`zipHash ${old.modules[2]!.zipHash!} → ${next.modules[2]!.zipHash!}`, '.zip sha256 changed']],
    ]);
    assert.equal(
      formatDiff(diff),
      [
        '- example.com/a v1.0.0',
        '+ example.com/a v1.2.0',
        '! example.com/b v0.1.0: .info added; .zip added',
        `! example.com/c v2.0.0+incompatible: zipHash ${old.modules[2]!.zipHash!} → ${next.modules[2]!.zipHash!}; .zip sha256 changed`,
        'sumdb sum.example.com: tree size 3 → tree size 9',
        '1 added, 1 removed, 2 changed, 0 unchanged',
        '',
      ].join('\n'),
    );
  });

  it('reports identical manifests as such, and a database only one side carries', () => {
    const m = makeFixture([a1, b]).manifest;
    assert.equal(formatDiff(diffManifests(m, m)), '0 added, 0 removed, 0 changed, 2 unchanged\n');
    const withProofs = makeFixture([a1, b], { sumdb: 'sum.example.com' }).manifest;
    assert.equal(formatDiff(diffManifests(m, withProofs)), 'sumdb sum.example.com: none → tree size 3\n0 added, 0 removed, 0 changed, 2 unchanged\n');
  });
});
