import assert from 'node:assert/strict';
import test from 'node:test';
import { CollisionChecker, foldKey } from './zipcollision.js';

test('foldKey folds as go strings.EqualFold-style orbits, not as toLowerCase', () => {
  assert.equal(foldKey('abc/def.go'), 'abc/def.go');
  assert.equal(foldKey('ABC/Def.GO'), 'abc/def.go');
  // The Kelvin sign shares k's orbit, the long s shares s's, the Ångström sign shares å's.
  assert.equal(foldKey('\u212a'), 'k');
  assert.equal(foldKey('\u017f'), 's');
  assert.equal(foldKey('\u212b'), foldKey('å'));
  assert.equal(foldKey('Σ'), foldKey('ς'));
  assert.equal(foldKey('ǅ'), foldKey('ǆ'));
  assert.equal(foldKey('ß'), foldKey('ẞ'));
  // Astral letters fold too (Deseret).
  assert.equal(foldKey('\u{10400}'), foldKey('\u{10428}'));
  // Go keeps dotted İ and dotless ı apart from i and I, although their case mappings point there.
  assert.notEqual(foldKey('İ'), foldKey('i'));
  assert.notEqual(foldKey('ı'), foldKey('i'));
  assert.notEqual(foldKey('İ'), foldKey('ı'));
  // "SS" is ß's full upper case, but not a simple fold.
  assert.notEqual(foldKey('ß'), foldKey('ss'));
});

test('CollisionChecker reports go messages, checking every parent directory', () => {
  const c = new CollisionChecker();
  assert.equal(c.check('m.go', false), null);
  assert.equal(c.check('M.GO', false), 'case-insensitive file name collision: "m.go" and "M.GO"');
  assert.equal(c.check('m.go', false), 'multiple entries for file "m.go"');
  assert.equal(c.check('a/b/c.go', false), null);
  assert.equal(c.check('a/b/d.go', false), null);
  assert.equal(c.check('A/x.go', false), 'case-insensitive file name collision: "a" and "A"');
  assert.equal(c.check('a/b', false), 'entry "a/b" is both a file and a directory');
  assert.equal(c.check('m.go/x', false), 'entry "m.go" is both a file and a directory');
  assert.equal(c.check('\u212aelvin', false), null);
  assert.equal(c.check('kelvin', false), 'case-insensitive file name collision: "\u212aelvin" and "kelvin"');
});

test('CollisionChecker finds paths again through their sources, and grows past what it expected', () => {
  const paths = Array.from({ length: 5000 }, (_, i) => `d${i % 7}/sub${i % 13}/f${i}.go`);
  const c = new CollisionChecker({ expected: 4, pathOf: (i) => paths[i]! });
  paths.forEach((p, i) => assert.equal(c.check(p, false, i), null, p));
  const more = (p: string, isDir = false): string | null => {
    paths.push(p);
    return c.check(p, isDir, paths.length - 1);
  };
  assert.equal(more('D3/x.go'), 'case-insensitive file name collision: "d3" and "D3"');
  assert.equal(more('d0/sub0/f0.go'), 'multiple entries for file "d0/sub0/f0.go"');
  assert.equal(more('d1/sub1'), 'entry "d1/sub1" is both a file and a directory');
  assert.equal(more('d2/SUB2/F2.GO'), 'case-insensitive file name collision: "d2/sub2/f2.go" and "d2/SUB2/F2.GO"');
  assert.equal(more('d2/SUB2/new.go'), 'case-insensitive file name collision: "d2/sub2" and "d2/SUB2"');
  assert.equal(more('d4/sub4', true), null);
  assert.equal(more('d4/sub4/f4.go/x'), 'entry "d4/sub4/f4.go" is both a file and a directory');
});
