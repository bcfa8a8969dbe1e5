import assert from 'node:assert/strict';
import test from 'node:test';
import { garbageStrings, seededRandom } from '../../test/support/garbage.js';
import { GodepotError } from '../errors.js';
import { InvalidPathError } from './path.js';
import { major } from './semver.js';
import {
  InvalidVersionError,
  canonicalVersion,
  checkModule,
  isPseudoVersion,
  isZeroPseudoVersion,
  pseudoVersion,
  pseudoVersionBase,
  pseudoVersionRev,
  pseudoVersionTime,
  zeroPseudoVersion,
} from './version.js';

/** Calls `f` and returns the InvalidVersionError it threw, checking the error's type, code and message. */
function versionError(f: () => unknown, message: string): InvalidVersionError {
  let caught: unknown;
  try {
    f();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidVersionError, `not an InvalidVersionError: ${String(caught)}`);
  assert.ok(caught instanceof GodepotError);
  assert.equal(caught.code, 'INVALID_VERSION');
  assert.equal(caught.name, 'InvalidVersionError');
  assert.equal(caught.message, message);
  return caught;
}

// [module path, version, accepted]: the cases of x/mod's checkTests, and a few more.
const moduleCases: Array<[string, string, boolean]> = [
  ['rsc.io/quote', '0.1.0', false],
  ['rsc io/quote', 'v1.0.0', false],
  ['github.com/go-yaml/yaml', 'v0.8.0', true],
  ['github.com/go-yaml/yaml', 'v1.0.0', true],
  ['github.com/go-yaml/yaml', 'v2.0.0', false],
  ['github.com/go-yaml/yaml', 'v2.1.5', false],
  ['github.com/go-yaml/yaml', 'v3.0.0', false],
  ['github.com/go-yaml/yaml/v2', 'v1.0.0', false],
  ['github.com/go-yaml/yaml/v2', 'v2.0.0', true],
  ['github.com/go-yaml/yaml/v2', 'v2.1.5', true],
  ['github.com/go-yaml/yaml/v2', 'v3.0.0', false],
  ['gopkg.in/yaml.v0', 'v0.8.0', true],
  ['gopkg.in/yaml.v0', 'v1.0.0', false],
  ['gopkg.in/yaml.v0', 'v2.0.0', false],
  ['gopkg.in/yaml.v0', 'v2.1.5', false],
  ['gopkg.in/yaml.v0', 'v3.0.0', false],
  ['gopkg.in/yaml.v1', 'v0.8.0', false],
  ['gopkg.in/yaml.v1', 'v1.0.0', true],
  ['gopkg.in/yaml.v1', 'v2.0.0', false],
  ['gopkg.in/yaml.v1', 'v2.1.5', false],
  ['gopkg.in/yaml.v1', 'v3.0.0', false],
  // ".v1" means v1 only, but early vgo wrote v0 pseudo-versions for it, still required by published go.mod files.
  ['gopkg.in/check.v1', 'v0.0.0', false],
  ['gopkg.in/check.v1', 'v0.0.0-20160102150405-abcdef123456', true],
  ['gopkg.in/yaml.v2', 'v1.0.0', false],
  ['gopkg.in/yaml.v2', 'v2.0.0', true],
  ['gopkg.in/yaml.v2', 'v2.1.5', true],
  ['gopkg.in/yaml.v2', 'v3.0.0', false],
  ['rsc.io/quote', 'v17.0.0', false],
  ['rsc.io/quote', 'v17.0.0+incompatible', true],
  // module.Check wants a valid version, not a canonical one.
  ['x.y/z', 'v1.2', true],
  ['x.y/z/v2', 'v2.0.0+incompatible', true],
  ['x.y/z', 'v2.0.0+Incompatible', false],
];

test('checkModule accepts and rejects as module.Check does', () => {
  for (const [modulePath, version, ok] of moduleCases) {
    if (ok) {
      checkModule(modulePath, version);
    } else {
      assert.throws(
        () => checkModule(modulePath, version),
        (err) => err instanceof InvalidVersionError || err instanceof InvalidPathError,
        `checkModule(${modulePath}, ${version})`,
      );
    }
  }
});

test('checkModule errors name the module as go prints them', () => {
  const err = versionError(
    () => checkModule('example.com/m', 'v2.0.0'),
    'example.com/m@v2.0.0: invalid version: should be v0 or v1, not v2',
  );
  assert.equal(err.path, 'example.com/m');
  assert.equal(err.version, 'v2.0.0');
  assert.equal(err.reason, 'should be v0 or v1, not v2');
  assert.equal(err.pseudo, false);
  versionError(() => checkModule('rsc.io/quote', '0.1.0'), 'rsc.io/quote@0.1.0: invalid version: not a semantic version');
  versionError(() => checkModule('x.y/z', ''), 'x.y/z@: invalid version: not a semantic version');
  versionError(
    () => checkModule('github.com/go-yaml/yaml/v2', 'v3.0.0'),
    'github.com/go-yaml/yaml/v2@v3.0.0: invalid version: should be v2, not v3',
  );
  versionError(() => checkModule('gopkg.in/check.v1', 'v0.0.0'), 'gopkg.in/check.v1@v0.0.0: invalid version: should be v1, not v0');
  assert.throws(
    () => checkModule('rsc io/quote', 'v1.0.0'),
    (err) => err instanceof InvalidPathError && err.message === `malformed module path "rsc io/quote": invalid char ' '`,
  );
});

test('InvalidVersionError message shapes', () => {
  assert.equal(
    new InvalidVersionError('x.y/z', 'v1.0.0-2020', 'syntax error', { pseudo: true }).message,
    'x.y/z@v1.0.0-2020: invalid pseudo-version: syntax error',
  );
  assert.equal(new InvalidVersionError('', 'v1\n', 'oops').message, 'version "v1\\n" invalid: oops');
  assert.equal(new InvalidVersionError('', 'v1', 'oops', { pseudo: true }).message, 'pseudo-version "v1" invalid: oops');
});

test('canonicalVersion keeps +incompatible', () => {
  assert.equal(canonicalVersion('v2.0.0+incompatible'), 'v2.0.0+incompatible');
  assert.equal(canonicalVersion('v2.0.0+meta'), 'v2.0.0');
  assert.equal(canonicalVersion('v2'), 'v2.0.0');
  assert.equal(canonicalVersion('v2+incompatible'), '');
  assert.equal(canonicalVersion('junk'), '');
});

// [major, older tag, pseudo-version for 2006-01-02T15:04:05Z and "hash"]: x/mod's pseudoTests.
const pseudoCases: Array<[string, string, string]> = [
  ['', '', 'v0.0.0-20060102150405-hash'],
  ['v0', '', 'v0.0.0-20060102150405-hash'],
  ['v1', '', 'v1.0.0-20060102150405-hash'],
  ['v2', '', 'v2.0.0-20060102150405-hash'],
  ['unused', 'v0.0.0', 'v0.0.1-0.20060102150405-hash'],
  ['unused', 'v1.2.3', 'v1.2.4-0.20060102150405-hash'],
  ['unused', 'v1.2.99999999999999999', 'v1.2.100000000000000000-0.20060102150405-hash'],
  ['unused', 'v1.2.3-pre', 'v1.2.3-pre.0.20060102150405-hash'],
  ['unused', 'v1.3.0-pre', 'v1.3.0-pre.0.20060102150405-hash'],
  ['unused', 'v0.0.0--', 'v0.0.0--.0.20060102150405-hash'],
  ['unused', 'v1.0.0+metadata', 'v1.0.1-0.20060102150405-hash+metadata'],
  ['unused', 'v2.0.0+incompatible', 'v2.0.1-0.20060102150405-hash+incompatible'],
  ['unused', 'v2.3.0-pre+incompatible', 'v2.3.0-pre.0.20060102150405-hash+incompatible'],
];
const pseudoTime = new Date(Date.UTC(2006, 0, 2, 15, 4, 5));

test('pseudoVersion builds the three forms', () => {
  for (const [majorVersion, older, want] of pseudoCases) {
    assert.equal(pseudoVersion(majorVersion, older, pseudoTime, 'hash'), want);
  }
  // Times are written in UTC, whole seconds.
  assert.equal(pseudoVersion('v1', '', new Date('2006-01-02T23:04:05.999+08:00'), 'abc'), 'v1.0.0-20060102150405-abc');
  assert.equal(pseudoVersion('v1', 'v1.9.99', pseudoTime, 'abc'), 'v1.9.100-0.20060102150405-abc');
  assert.throws(() => pseudoVersion('v1', '', new Date(Number.NaN), 'abc'), RangeError);
});

test('pseudo-versions parse back into time, revision and base', () => {
  for (const [, older, version] of pseudoCases) {
    assert.equal(isPseudoVersion(version), true, version);
    assert.equal(pseudoVersionTime(version).getTime(), pseudoTime.getTime(), version);
    assert.equal(pseudoVersionRev(version), 'hash');
    assert.equal(pseudoVersionBase(version), older);
    if (older === '') continue;
    assert.equal(isPseudoVersion(older), false, older);
    versionError(() => pseudoVersionTime(older), `pseudo-version ${JSON.stringify(older)} invalid: syntax error`);
    versionError(() => pseudoVersionRev(older), `pseudo-version ${JSON.stringify(older)} invalid: syntax error`);
  }
  const err = versionError(() => pseudoVersionTime('---'), 'pseudo-version "---" invalid: syntax error');
  assert.equal(err.pseudo, true);
  assert.equal(err.path, '');
  assert.equal(err.reason, 'syntax error');
});

test('pseudoVersionBase rejects impossible bases in go\'s words', () => {
  const cases: Array<[string, string]> = [
    ['v0.0.0', 'syntax error'],
    ['v0.0.0-', 'syntax error'],
    ['v0.0.0-0.20060102150405-hash', 'version before v0.0.0 would have negative patch number'],
    ['v0.1.0-0.20060102150405-hash', 'version before v0.1.0 would have negative patch number'],
    ['v1.0.0-0.20060102150405-hash', 'version before v1.0.0 would have negative patch number'],
    ['v0.0.0-20060102150405-hash+incompatible', 'lacks base version, but has build metadata "+incompatible"'],
    ['v0.0.0-20060102150405-hash+metadata', 'lacks base version, but has build metadata "+metadata"'],
  ];
  for (const [version, reason] of cases) {
    const err = versionError(() => pseudoVersionBase(version), `pseudo-version ${JSON.stringify(version)} invalid: ${reason}`);
    assert.equal(err.reason, reason);
  }
  assert.equal(pseudoVersionBase('v1.2.10-0.20060102150405-hash'), 'v1.2.9');
  assert.equal(pseudoVersionBase('v1.2.100-0.20060102150405-hash'), 'v1.2.99');
  assert.equal(pseudoVersionBase('v1.2.3-rc.1.0.20060102150405-hash'), 'v1.2.3-rc.1');
});

test('pseudoVersionTime accepts only real calendar times', () => {
  const ok: Array<[string, string]> = [
    ['20040229150405', '2004-02-29T15:04:05.000Z'],
    ['20000229235959', '2000-02-29T23:59:59.000Z'],
    ['00000101000000', '0000-01-01T00:00:00.000Z'],
    ['00010101000000', '0001-01-01T00:00:00.000Z'],
    ['00990101000000', '0099-01-01T00:00:00.000Z'],
  ];
  for (const [stamp, iso] of ok) assert.equal(pseudoVersionTime(`v0.0.0-${stamp}-hash`).toISOString(), iso);
  for (const stamp of ['20060231150405', '21000229150405', '20000229240000', '20000229236000', '20000229235960', '20061301000000', '20060001000000', '20060100000000', '20060431000000']) {
    const version = `v0.0.0-${stamp}-hash`;
    const err = versionError(() => pseudoVersionTime(version), `pseudo-version "${version}" invalid: malformed time "${stamp}"`);
    assert.equal(err.pseudo, true);
  }
});

test('zero pseudo-versions', () => {
  assert.equal(zeroPseudoVersion(''), 'v0.0.0-00010101000000-000000000000');
  assert.equal(zeroPseudoVersion('v2'), 'v2.0.0-00010101000000-000000000000');
  assert.equal(isZeroPseudoVersion('v0.0.0-00010101000000-000000000000'), true);
  assert.equal(isZeroPseudoVersion('v2.0.0-00010101000000-000000000000'), true);
  assert.equal(isZeroPseudoVersion('v2.0.0-00010101000000-000000000001'), false);
  assert.equal(isZeroPseudoVersion('junk'), false);
  assert.equal(pseudoVersionTime(zeroPseudoVersion('v1')).getUTCFullYear(), 1);
});

const validVersions = pseudoCases
  .flatMap(([, older, version]) => [older, version])
  .filter((v) => v !== '')
  .concat(['v1.0.0-20200229000000-abcdef123456', 'v3.1.0-rc.1.0.20991231235959-0123456789ab+incompatible']);

test('fuzz: pseudo-version parsing only throws InvalidVersionError and round-trips', () => {
  for (const version of garbageStrings(5, 4000, validVersions)) {
    let base: string;
    let time: Date;
    let rev: string;
    try {
      rev = pseudoVersionRev(version);
      time = pseudoVersionTime(version);
      base = pseudoVersionBase(version);
    } catch (err) {
      assert.ok(err instanceof InvalidVersionError, `${JSON.stringify(version)} threw ${String(err)}`);
      assert.equal(err.pseudo, true);
      assert.equal(err.version, version);
      continue;
    }
    assert.equal(isPseudoVersion(version), true);
    // A pseudo-version is exactly what pseudoVersion would write for its own parts.
    assert.equal(pseudoVersion(major(version), base, time, rev), version);
  }
});

test('fuzz: pseudoVersion output always parses back', () => {
  const random = seededRandom(6);
  const olders = ['', 'v0.0.0', 'v1.2.3', 'v1.2.3-pre', 'v2.0.0+incompatible', 'v1.9.9', 'v0.0.0--', 'junk', 'v1.2'];
  for (let i = 0; i < 2000; i++) {
    // Years 0 to 9999: the range a 14-digit timestamp can hold.
    const time = new Date(Math.floor(random() * 315569520000) * 1000 - 62167219200000);
    const older = olders[Math.floor(random() * olders.length)]!;
    const version = pseudoVersion('v1', older, time, 'abcdef123456');
    assert.equal(isPseudoVersion(version), true, version);
    assert.equal(pseudoVersionTime(version).getTime(), time.getTime());
    assert.equal(pseudoVersionRev(version), 'abcdef123456');
  }
});

test('fuzz: checkModule only throws InvalidPathError or InvalidVersionError', () => {
  const paths = garbageStrings(7, 3000, ['example.com/m', 'example.com/m/v2', 'gopkg.in/yaml.v2', 'gopkg.in/check.v1']);
  const versions = garbageStrings(8, 3000, validVersions);
  paths.forEach((modulePath, i) => {
    const version = versions[i]!;
    try {
      checkModule(modulePath, version);
    } catch (err) {
      if (err instanceof InvalidVersionError) {
        assert.equal(err.path, modulePath);
        assert.equal(err.version, version);
        assert.ok(err.message.startsWith(`${modulePath}@${version}: invalid version: `));
      } else {
        assert.ok(err instanceof InvalidPathError, `checkModule(${JSON.stringify(modulePath)}, ${JSON.stringify(version)}) threw ${String(err)}`);
      }
    }
  });
});
