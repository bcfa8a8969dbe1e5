import assert from 'node:assert/strict';
import test from 'node:test';
import { garbageStrings, seededRandom } from '../../test/support/garbage.js';
import { build, canonical, compare, isValid, major, majorMinor, max, prerelease, sortVersions } from './semver.js';

// [version, canonical form or '' when invalid], in increasing precedence: the cases of x/mod's semver
// tests. Equal canonical forms mean equal precedence.
const ordered: Array<[string, string]> = [
  ['bad', ''],
  ['v1-alpha.beta.gamma', ''],
  ['v1-pre', ''],
  ['v1+meta', ''],
  ['v1-pre+meta', ''],
  ['v1.2-pre', ''],
  ['v1.2+meta', ''],
  ['v1.2-pre+meta', ''],
  ['v1.0.0-alpha', 'v1.0.0-alpha'],
  ['v1.0.0-alpha.1', 'v1.0.0-alpha.1'],
  ['v1.0.0-alpha.beta', 'v1.0.0-alpha.beta'],
  ['v1.0.0-beta', 'v1.0.0-beta'],
  ['v1.0.0-beta.2', 'v1.0.0-beta.2'],
  ['v1.0.0-beta.11', 'v1.0.0-beta.11'],
  ['v1.0.0-rc.1', 'v1.0.0-rc.1'],
  ['v1', 'v1.0.0'],
  ['v1.0', 'v1.0.0'],
  ['v1.0.0', 'v1.0.0'],
  ['v1.2', 'v1.2.0'],
  ['v1.2.0', 'v1.2.0'],
  ['v1.2.3-456', 'v1.2.3-456'],
  ['v1.2.3-456.789', 'v1.2.3-456.789'],
  ['v1.2.3-456-789', 'v1.2.3-456-789'],
  ['v1.2.3-456a', 'v1.2.3-456a'],
  ['v1.2.3-pre', 'v1.2.3-pre'],
  ['v1.2.3-pre+meta', 'v1.2.3-pre'],
  ['v1.2.3-pre.1', 'v1.2.3-pre.1'],
  ['v1.2.3-zzz', 'v1.2.3-zzz'],
  ['v1.2.3', 'v1.2.3'],
  ['v1.2.3+meta', 'v1.2.3'],
  ['v1.2.3+meta-pre', 'v1.2.3'],
  ['v1.2.3+meta-pre.sha.256a', 'v1.2.3'],
];

test('isValid and canonical', () => {
  for (const [version, want] of ordered) {
    assert.equal(isValid(version), want !== '', `isValid(${version})`);
    assert.equal(canonical(version), want, `canonical(${version})`);
  }
  for (const version of ['', 'v', 'V1.0.0', '1.0.0', 'v01.0.0', 'v1.00.0', 'v1.0.00', 'v1.0.0-01', 'v1.0.0-', 'v1.0.0+', 'v1.0.0-a..b', 'v1.0.0-é', 'v1.0.0 ', 'v1.0.0\n', 'v1.0.0.0', 'v1.', 'v1..0']) {
    assert.equal(isValid(version), false, JSON.stringify(version));
    assert.equal(canonical(version), '');
  }
  // Leading zeros are fine in build metadata and in alphanumeric prerelease identifiers.
  for (const version of ['v1.0.0+01', 'v1.0.0-01a', 'v1.0.0-0', 'v0.0.0', 'v123456789012345678901234567890.0.0']) {
    assert.equal(isValid(version), true, version);
  }
});

test('major, majorMinor, prerelease and build', () => {
  for (const [version, canon] of ordered) {
    const valid = canon !== '';
    assert.equal(major(version), valid ? canon.slice(0, canon.indexOf('.')) : '');
    const release = canon.replace(/[-+].*$/, '');
    assert.equal(majorMinor(version), valid ? release.slice(0, release.lastIndexOf('.')) : '');
    assert.equal(prerelease(version), valid && canon.includes('-') ? canon.slice(canon.indexOf('-')) : '');
    assert.equal(build(version), valid && version.includes('+') ? version.slice(version.indexOf('+')) : '');
  }
  assert.equal(major('v2.1.0'), 'v2');
  assert.equal(majorMinor('v2'), 'v2.0');
  assert.equal(majorMinor('v2.1'), 'v2.1');
  assert.equal(prerelease('v2.1.0-pre+meta'), '-pre');
  assert.equal(build('v2.1.0+meta'), '+meta');
});

test('compare orders versions by precedence', () => {
  ordered.forEach(([vi, ci], i) => {
    ordered.forEach(([vj, cj], j) => {
      const want = ci === cj ? 0 : i < j ? -1 : 1;
      assert.equal(compare(vi, vj), want, `compare(${vi}, ${vj})`);
    });
  });
  // Numeric identifiers compare by value, however long; numbers sort below words.
  assert.equal(compare('v1.0.0-99999999999999999999', 'v1.0.0-100000000000000000000'), -1);
  assert.equal(compare('v1.0.0-9', 'v1.0.0-10'), -1);
  assert.equal(compare('v1.0.0-999', 'v1.0.0-a'), -1);
  assert.equal(compare('v1.0.0-a', 'v1.0.0-a.0'), -1);
  assert.equal(compare('v1.0.0-B', 'v1.0.0-a'), -1);
  assert.equal(compare('v18446744073709551616.0.0', 'v18446744073709551615.0.0'), 1);
  assert.equal(compare('v1.2.3+a', 'v1.2.3+b'), 0);
});

test('max returns the greater canonical version', () => {
  ordered.forEach(([vi], i) => {
    ordered.forEach(([vj], j) => {
      assert.equal(max(vi, vj), i < j ? canonical(vj) : canonical(vi), `max(${vi}, ${vj})`);
    });
  });
});

test('sortVersions sorts as semver.Sort, ties broken by the text', () => {
  const random = seededRandom(3);
  const shuffled = ordered.map(([v]) => v);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const frozen = Object.freeze([...shuffled]);
  assert.deepEqual(sortVersions(frozen), [
    'bad',
    'v1+meta',
    'v1-alpha.beta.gamma',
    'v1-pre',
    'v1-pre+meta',
    'v1.2+meta',
    'v1.2-pre',
    'v1.2-pre+meta',
    'v1.0.0-alpha',
    'v1.0.0-alpha.1',
    'v1.0.0-alpha.beta',
    'v1.0.0-beta',
    'v1.0.0-beta.2',
    'v1.0.0-beta.11',
    'v1.0.0-rc.1',
    'v1',
    'v1.0',
    'v1.0.0',
    'v1.2',
    'v1.2.0',
    'v1.2.3-456',
    'v1.2.3-456.789',
    'v1.2.3-456-789',
    'v1.2.3-456a',
    'v1.2.3-pre',
    'v1.2.3-pre+meta',
    'v1.2.3-pre.1',
    'v1.2.3-zzz',
    'v1.2.3',
    'v1.2.3+meta',
    'v1.2.3+meta-pre',
    'v1.2.3+meta-pre.sha.256a',
  ]);
  assert.deepEqual(frozen, shuffled, 'the input is left alone');
  // Go orders the text of invalid versions by UTF-8 bytes, that is by code point, not by UTF-16 unit.
  assert.deepEqual(sortVersions(['\u{1F600}', '\uFF21', 'b']), ['b', '\uFF21', '\u{1F600}']);
});

test('fuzz: semver functions never throw and agree with each other', () => {
  const valid = ordered.filter(([, c]) => c !== '').map(([v]) => v);
  const inputs = garbageStrings(4, 4000, valid);
  for (const v of inputs) {
    const canon = canonical(v);
    assert.equal(isValid(v), canon !== '');
    if (canon !== '') {
      assert.equal(canonical(canon), canon);
      assert.equal(compare(v, canon), 0);
      assert.ok(canon.startsWith(majorMinor(v)));
      assert.ok(majorMinor(v).startsWith(major(v)));
      assert.ok(canon.endsWith(prerelease(v)));
      assert.ok(v.endsWith(build(v)));
    } else {
      assert.equal(major(v), '');
      assert.equal(prerelease(v), '');
      assert.equal(build(v), '');
    }
  }
  for (let i = 0; i + 2 < inputs.length; i += 3) {
    const [a, b, c] = [inputs[i]!, inputs[i + 1]!, inputs[i + 2]!];
    assert.equal(compare(a, b), -compare(b, a) || 0, `compare(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
    assert.equal(compare(a, a), 0);
    if (compare(a, b) <= 0 && compare(b, c) <= 0) assert.ok(compare(a, c) <= 0);
  }
  const sorted = sortVersions(inputs.slice(0, 500));
  for (let i = 1; i < sorted.length; i++) assert.ok(compare(sorted[i - 1]!, sorted[i]!) <= 0);
});
