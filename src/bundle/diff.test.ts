import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffManifests, formatDiff } from './diff.js';
import { formatManifest, manifestId } from './manifest.js';
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
  it('reads a NEW made with --since OLD as what it adds: nothing OLD holds is removed', () => {
    const old = makeFixture([a1, b, c]).manifest;
    const oldId = manifestId(formatManifest(old));
    const next = makeFixture([a2, { ...b, info: '{}\n', zip: Buffer.from('b') }]).manifest;
    next.since = { sha256: oldId, modules: 3 };
    const diff = diffManifests(old, next, oldId);
    assert.deepEqual(diff.removed, []);
    assert.deepEqual(diff.notInNew, []);
    assert.equal(
      formatDiff(diff, { old: 'march.tar.gz', new: 'april.tar.gz' }),
      [
        `april.tar.gz adds to march.tar.gz (manifest id ${oldId}): what only march.tar.gz holds stays`,
        '+ example.com/a v1.2.0',
        '! example.com/b v0.1.0: .info added; .zip added',
        '1 added, 0 removed, 1 changed, 2 unchanged',
        '',
      ].join('\n'),
    );
    // Read without knowing it adds to OLD (another base), what only OLD holds is in doubt, not removed.
    next.since.sha256 = 'f'.repeat(64);
    const other = diffManifests(old, next, oldId);
    assert.deepEqual(other.removed, []);
    assert.equal(
      formatDiff(other, { old: 'march.tar.gz', new: 'april.tar.gz' }),
      [
        `april.tar.gz adds to another bundle than march.tar.gz (manifest id ${'f'.repeat(64)}): what only march.tar.gz holds (?) may be in that one`,
        '? example.com/a v1.0.0',
        '+ example.com/a v1.2.0',
        '! example.com/b v0.1.0: .info added; .zip added',
        '? example.com/c v2.0.0+incompatible',
        '1 added, 0 removed, 1 changed, 0 unchanged, 2 only in march.tar.gz',
        '',
      ].join('\n'),
    );
  });

  it('names a release archive that came, went or changed', () => {
    const plain = makeFixture([a1]).manifest;
    const withRelease = makeFixture([a1], { release: Buffer.from('release 1') }).manifest;
    const sha = withRelease.release!.file.sha256;
    assert.match(formatDiff(diffManifests(plain, withRelease)), new RegExp(`^release: none → godepot 9\\.8\\.7 for linux-x64 \\(sha256 ${sha}\\)$`, 'm'));
    assert.match(formatDiff(diffManifests(withRelease, plain)), /^release: godepot 9\.8\.7 for linux-x64 \(sha256 [0-9a-f]{64}\) → none$/m);
    const rebuilt = makeFixture([a1], { release: Buffer.from('release 2') }).manifest;
    assert.equal(diffManifests(withRelease, rebuilt).release?.after?.file.sha256, rebuilt.release!.file.sha256);
    assert.equal(diffManifests(withRelease, withRelease).release, null);
  });
});
