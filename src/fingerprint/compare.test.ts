import assert from 'node:assert/strict';
import test from 'node:test';
import { parseGoSum } from '../module/gosum.js';
import { compareModuleSets, isIdentical } from './compare.js';
import { ModuleSet } from './module-set.js';

const setOf = (text: string): ModuleSet => ModuleSet.fromGoSumLines(parseGoSum(text).lines());

const a = setOf(`example.com/same v1.0.0 h1:SAME
example.com/same v1.0.0/go.mod h1:SAMEMOD
example.com/log v1.1.0 h1:LOG11
example.com/log v1.1.0/go.mod h1:LOGMOD
example.com/log v1.0.0/go.mod h1:LOGMOD
example.com/tampered v1.0.0 h1:ORIGINAL
example.com/tampered v1.0.0/go.mod h1:TMOD
example.com/gone v0.1.0/go.mod h1:GONE
example.com/modonly v1.0.0/go.mod h1:MO
`);

const b = setOf(`example.com/same v1.0.0/go.mod h1:SAMEMOD
example.com/same v1.0.0 h1:SAME
example.com/log v1.2.0 h1:LOG12
example.com/log v1.2.0/go.mod h1:LOGMOD
example.com/log v1.0.0/go.mod h1:LOGMOD
example.com/tampered v1.0.0 h1:REPLACED
example.com/tampered v1.0.0/go.mod h1:TMOD
example.com/new v2.0.0+incompatible/go.mod h1:NEW
example.com/new v1.0.0/go.mod h1:NEW1
example.com/modonly v1.0.0/go.mod h1:MO
example.com/modonly v1.0.0 h1:MOZIP
`);

test('compareModuleSets sorts every difference into its kind', () => {
  const diff = compareModuleSets(a, b);
  assert.deepEqual(diff.hashMismatches, [{ path: 'example.com/tampered', version: 'v1.0.0', file: 'zip', a: ['h1:ORIGINAL'], b: ['h1:REPLACED'] }]);
  assert.deepEqual(diff.versionChanges, [{ path: 'example.com/log', a: ['v1.1.0'], b: ['v1.2.0'] }]);
  assert.deepEqual(diff.onlyInA, [{ path: 'example.com/gone', versions: ['v0.1.0'] }]);
  assert.deepEqual(diff.onlyInB, [{ path: 'example.com/new', versions: ['v1.0.0', 'v2.0.0+incompatible'] }]);
  assert.deepEqual(diff.oneSided, [{ path: 'example.com/modonly', version: 'v1.0.0', file: 'zip', side: 'b' }]);
  assert.deepEqual(
    diff.notInB.map((e) => `${e.path} ${e.version} ${e.file}`),
    ['example.com/gone v0.1.0 go.mod', 'example.com/log v1.1.0 zip', 'example.com/log v1.1.0 go.mod', 'example.com/tampered v1.0.0 zip'],
  );
  assert.equal(diff.notInA.length, 6);
  assert.equal(isIdentical(diff), false);
});

test('the comparison is symmetric: swapping the sides swaps A and B in every finding', () => {
  const ab = compareModuleSets(a, b);
  const ba = compareModuleSets(b, a);
  assert.deepEqual(ba.onlyInA, ab.onlyInB);
  assert.deepEqual(ba.onlyInB, ab.onlyInA);
  assert.deepEqual(ba.versionChanges, ab.versionChanges.map((c) => ({ path: c.path, a: c.b, b: c.a })));
  assert.deepEqual(ba.hashMismatches, ab.hashMismatches.map((m) => ({ ...m, a: m.b, b: m.a })));
  assert.deepEqual(ba.oneSided, ab.oneSided.map((o) => ({ ...o, side: o.side === 'a' ? 'b' : 'a' })));
  assert.deepEqual(ba.notInA, ab.notInB);
});

test('sets with the same entries in another order are identical, with nothing to report', () => {
  const again = setOf(a.lines().slice().reverse().join('\n'));
  const diff = compareModuleSets(a, again);
  assert.ok(isIdentical(diff));
  for (const list of [diff.hashMismatches, diff.versionChanges, diff.onlyInA, diff.onlyInB, diff.oneSided]) assert.deepEqual(list, []);
});

test('an extra hash for a file both sides hash is a mismatch, not an addition', () => {
  const extra = setOf(a.canonicalText() + 'example.com/same v1.0.0 h1:SECOND\n');
  const diff = compareModuleSets(a, extra);
  assert.deepEqual(diff.hashMismatches, [{ path: 'example.com/same', version: 'v1.0.0', file: 'zip', a: ['h1:SAME'], b: ['h1:SAME', 'h1:SECOND'] }]);
  assert.deepEqual(diff.notInB, []);
  assert.equal(diff.notInA.length, 1);
});
