import assert from 'node:assert/strict';
import test from 'node:test';
import { garbageStrings } from '../../test/support/garbage.js';
import { GodepotError } from '../errors.js';
import {
  InvalidPathError,
  checkFilePath,
  checkImportPath,
  checkPath,
  checkPathMajor,
  escapePath,
  escapeVersion,
  matchPathMajor,
  splitPathVersion,
  unescapePath,
  unescapeVersion,
} from './path.js';
import { InvalidVersionError } from './version.js';

// [path, valid module path, valid import path, valid file path]: the cases of x/mod's checkPathTests.
const pathCases: Array<[string, boolean, boolean, boolean]> = [
  ['x.y/z', true, true, true],
  ['x.y', true, true, true],
  ['', false, false, false],
  ['x.y/\ud800z', false, false, false],
  ['/x.y/z', false, false, false],
  ['x./z', false, false, false],
  ['.x/z', false, true, true],
  ['-x/z', false, false, true],
  ['x..y/z', true, true, true],
  ['x.y/z/../../w', false, false, false],
  ['x.y//z', false, false, false],
  ['x.y/z//w', false, false, false],
  ['x.y/z/', false, false, false],
  ['x.y/z/v0', false, true, true],
  ['x.y/z/v1', false, true, true],
  ['x.y/z/v2', true, true, true],
  ['x.y/z/v2.0', false, true, true],
  ['X.y/z', false, true, true],
  ['!x.y/z', false, false, true],
  ['_x.y/z', false, true, true],
  ['x.y!/z', false, false, true],
  ['x.y"/z', false, false, false],
  ['x.y#/z', false, false, true],
  ['x.y$/z', false, false, true],
  ['x.y%/z', false, false, true],
  ['x.y&/z', false, false, true],
  ["x.y'/z", false, false, false],
  ['x.y(/z', false, false, true],
  ['x.y)/z', false, false, true],
  ['x.y*/z', false, false, false],
  ['x.y+/z', false, true, true],
  ['x.y,/z', false, false, true],
  ['x.y-/z', true, true, true],
  ['x.y./zt', false, false, false],
  ['x.y:/z', false, false, false],
  ['x.y;/z', false, false, false],
  ['x.y</z', false, false, false],
  ['x.y=/z', false, false, true],
  ['x.y>/z', false, false, false],
  ['x.y?/z', false, false, false],
  ['x.y@/z', false, false, true],
  ['x.y[/z', false, false, true],
  ['x.y\\/z', false, false, false],
  ['x.y]/z', false, false, true],
  ['x.y^/z', false, false, true],
  ['x.y_/z', false, true, true],
  ['x.y`/z', false, false, false],
  ['x.y{/z', false, false, true],
  ['x.y}/z', false, false, true],
  ['x.y~/z', false, true, true],
  ['x.y/z!', false, false, true],
  ['x.y/z"', false, false, false],
  ['x.y/z#', false, false, true],
  ['x.y/z$', false, false, true],
  ['x.y/z%', false, false, true],
  ['x.y/z&', false, false, true],
  ["x.y/z'", false, false, false],
  ['x.y/z(', false, false, true],
  ['x.y/z)', false, false, true],
  ['x.y/z*', false, false, false],
  ['x.y/z++', false, true, true],
  ['x.y/z,', false, false, true],
  ['x.y/z-', true, true, true],
  ['x.y/z.t', true, true, true],
  ['x.y/z/t', true, true, true],
  ['x.y/z:', false, false, false],
  ['x.y/z;', false, false, false],
  ['x.y/z<', false, false, false],
  ['x.y/z=', false, false, true],
  ['x.y/z>', false, false, false],
  ['x.y/z?', false, false, false],
  ['x.y/z@', false, false, true],
  ['x.y/z[', false, false, true],
  ['x.y/z\\', false, false, false],
  ['x.y/z]', false, false, true],
  ['x.y/z^', false, false, true],
  ['x.y/z_', true, true, true],
  ['x.y/z`', false, false, false],
  ['x.y/z{', false, false, true],
  ['x.y/z}', false, false, true],
  ['x.y/z~', true, true, true],
  ['x.y/x.foo', true, true, true],
  ['x.y/aux.foo', false, false, false],
  ['x.y/prn', false, false, false],
  ['x.y/prn2', true, true, true],
  ['x.y/com', true, true, true],
  ['x.y/com1', false, false, false],
  ['x.y/com1.txt', false, false, false],
  ['x.y/calm1', true, true, true],
  ['x.y/z~0', false, false, true],
  ['x.y/z~09', false, false, true],
  ['x.y/z09', true, true, true],
  ['x.y/z09~', true, true, true],
  ['x.y/z09~09z', true, true, true],
  ['x.y/z09~09z~09', false, false, true],
  ['github.com/!123/logrus', false, false, true],
  // Non-ASCII letters are file-name material only, until go settles how to escape them.
  ['github.com/user/unicode/испытание', false, false, true],
  ['../x', false, false, false],
  ['./y', false, false, false],
  ['x:y', false, false, false],
  ['\\temp\\foo', false, false, false],
  ['.gitignore', false, true, true],
  ['.github/ISSUE_TEMPLATE', false, true, true],
  ['x☺y', false, false, false],
];

/** Calls `f` and returns what it threw, failing the test when it returned instead. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
}

function assertPathError(f: () => unknown, kind: string, path: string, message: string): void {
  const err = thrown(f);
  assert.ok(err instanceof InvalidPathError, `not an InvalidPathError: ${String(err)}`);
  assert.ok(err instanceof GodepotError);
  assert.equal(err.code, 'INVALID_PATH');
  assert.equal(err.name, 'InvalidPathError');
  assert.equal(err.kind, kind);
  assert.equal(err.path, path);
  assert.equal(err.message, message);
  assert.ok(message.endsWith(`: ${err.reason}`));
}

function assertVersionError(f: () => unknown, message: string): InvalidVersionError {
  const err = thrown(f);
  assert.ok(err instanceof InvalidVersionError, `not an InvalidVersionError: ${String(err)}`);
  assert.ok(err instanceof GodepotError);
  assert.equal(err.code, 'INVALID_VERSION');
  assert.equal(err.message, message);
  return err;
}

function accepts(check: (path: string) => void, path: string): boolean {
  try {
    check(path);
    return true;
  } catch (err) {
    if (err instanceof InvalidPathError) return false;
    throw err;
  }
}

test('checkPath, checkImportPath and checkFilePath accept and reject as x/mod does', () => {
  for (const [path, moduleOK, importOK, fileOK] of pathCases) {
    assert.equal(accepts(checkPath, path), moduleOK, `checkPath(${JSON.stringify(path)})`);
    assert.equal(accepts(checkImportPath, path), importOK, `checkImportPath(${JSON.stringify(path)})`);
    assert.equal(accepts(checkFilePath, path), fileOK, `checkFilePath(${JSON.stringify(path)})`);
  }
});

test('path errors carry go\'s exact text', () => {
  // [check, kind, path, go's message]; the messages were produced by golang.org/x/mod itself.
  const cases: Array<[(p: string) => void, string, string, string]> = [
    [checkPath, 'module', '', 'malformed module path "": empty string'],
    [checkPath, 'module', 'x.y/z/', 'malformed module path "x.y/z/": trailing slash'],
    [checkPath, 'module', '-x/z', 'malformed module path "-x/z": leading dash'],
    [checkPath, 'module', 'x.y//z', 'malformed module path "x.y//z": double slash'],
    [checkPath, 'module', '/x.y/z', 'malformed module path "/x.y/z": empty path element'],
    [checkPath, 'module', 'x./z', 'malformed module path "x./z": trailing dot in path element'],
    [checkPath, 'module', '.x/z', 'malformed module path ".x/z": leading dot in path element'],
    [checkPath, 'module', 'x.y/z/../../w', 'malformed module path "x.y/z/../../w": invalid path element ".."'],
    [checkPath, 'module', 'x.y/z/v1', 'malformed module path "x.y/z/v1": invalid version'],
    [checkPath, 'module', 'x.y/z/v0', 'malformed module path "x.y/z/v0": invalid version'],
    [checkPath, 'module', 'x.y/z/v2.0', 'malformed module path "x.y/z/v2.0": invalid version'],
    [checkPath, 'module', 'gopkg.in/yaml', 'malformed module path "gopkg.in/yaml": invalid version'],
    [checkPath, 'module', 'gopkg.in/yaml.v01', 'malformed module path "gopkg.in/yaml.v01": invalid version'],
    [checkPath, 'module', 'X.y/z', `malformed module path "X.y/z": invalid char 'X' in first path element`],
    [checkPath, 'module', 'x/y', 'malformed module path "x/y": missing dot in first path element'],
    [checkPath, 'module', "x.y/z'", `malformed module path "x.y/z'": invalid char '\\''`],
    [checkPath, 'module', 'x.y/\t', `malformed module path "x.y/\\t": invalid char '\\t'`],
    [checkPath, 'module', 'x☺y', `malformed module path "x☺y": invalid char '☺'`],
    [checkPath, 'module', 'x.y/😀', `malformed module path "x.y/😀": invalid char '😀'`],
    [
      checkPath,
      'module',
      'github.com/user/unicode/испытание',
      `malformed module path "github.com/user/unicode/испытание": invalid char 'и'`,
    ],
    [
      checkPath,
      'module',
      'x.y/aux.foo',
      'malformed module path "x.y/aux.foo": "aux" disallowed as path element component on Windows',
    ],
    [
      checkPath,
      'module',
      'x.y/COM1',
      'malformed module path "x.y/COM1": "COM1" disallowed as path element component on Windows',
    ],
    [checkPath, 'module', 'x.y/z~09', 'malformed module path "x.y/z~09": trailing tilde and digits in path element'],
    [checkImportPath, 'import', 'x.y/z~0', 'malformed import path "x.y/z~0": trailing tilde and digits in path element'],
    [checkImportPath, 'import', '-x', 'malformed import path "-x": leading dash'],
    [checkImportPath, 'import', '..', 'malformed import path "..": invalid path element ".."'],
    [checkImportPath, 'import', 'x.y/z"', `malformed import path "x.y/z\\"": invalid char '"'`],
    [checkFilePath, 'file', 'x.y/z*', `malformed file path "x.y/z*": invalid char '*'`],
    [checkFilePath, 'file', 'a/./b', 'malformed file path "a/./b": invalid path element "."'],
    [
      checkFilePath,
      'file',
      'x.y/Nul.txt',
      'malformed file path "x.y/Nul.txt": "Nul" disallowed as path element component on Windows',
    ],
    [checkFilePath, 'file', 'x.y/z\\\\', `malformed file path "x.y/z\\\\\\\\": invalid char '\\\\'`],
    [checkFilePath, 'file', 'x☺y', `malformed file path "x☺y": invalid char '☺'`],
  ];
  for (const [check, kind, path, message] of cases) assertPathError(() => check(path), kind, path, message);

  // What go reports for bytes that are not UTF-8, a lone surrogate is for us.
  for (const [check, kind] of [[checkPath, 'module'], [checkImportPath, 'import'], [checkFilePath, 'file']] as const) {
    assertPathError(() => check('x.y/\udc00z'), kind, 'x.y/\udc00z', `malformed ${kind} path "x.y/\\ufffdz": invalid UTF-8`);
  }
});

test('file paths allow Unicode letters, spaces, leading dashes and Windows short names', () => {
  for (const path of ['dir/ünïcödé.go', 'a b/c d.txt', '-x/z', 'x.y/z~0', 'x/𝔸.go']) checkFilePath(path);
  // The Kelvin sign and long s fold to "k" and "s" in Go, but no reserved Windows name contains those.
  checkFilePath('x/\u212aON');
  checkFilePath('x/ſ');
});

test('splitPathVersion splits off a well-formed major version suffix', () => {
  const cases: Array<[string, string]> = [
    ['x.y/z', ''],
    ['x.y/z', '/v2'],
    ['x.y/z', '/v3'],
    ['x.y/v', ''],
    ['gopkg.in/yaml', '.v0'],
    ['gopkg.in/yaml', '.v1'],
    ['gopkg.in/yaml', '.v2'],
    ['gopkg.in/yaml', '.v3'],
    ['gopkg.in/yaml', '.v1-unstable'],
  ];
  for (const [prefix, pathMajor] of cases) {
    assert.deepEqual(splitPathVersion(prefix + pathMajor), { prefix, pathMajor });
  }
  for (const path of ['x.y/z/v1', 'x.y/z/v0', 'x.y/z/v02', 'x.y/z/v2.0', 'x.y/z/v1.2', 'gopkg.in/yaml', 'gopkg.in/yaml.v', 'gopkg.in/yaml.v00', 'gopkg.in/yaml.v01']) {
    assert.equal(splitPathVersion(path), null, path);
  }
  // Whatever it says, the two parts put together give back the path.
  for (const [path] of pathCases) {
    const split = splitPathVersion(path);
    if (split !== null) assert.equal(split.prefix + split.pathMajor, path);
  }
});

test('matchPathMajor and checkPathMajor follow the major version rules', () => {
  const cases: Array<[string, string, boolean]> = [
    ['v0.0.0', '', true],
    ['v0.0.0', '/v2', false],
    ['v0.0.0', '.v0', true],
    ['v0.0.0-20190510104115-cbcb75029529', '.v1', true],
    ['v1.0.0', '/v2', false],
    ['v1.0.0', '.v1', true],
    ['v1.0.0', '.v1-unstable', true],
    ['v2.0.0+incompatible', '', true],
    ['v2.0.0', '', false],
    ['v2.0.0', '/v2', true],
    ['v2.0.0', '.v2', true],
  ];
  for (const [version, pathMajor, want] of cases) {
    assert.equal(matchPathMajor(version, pathMajor), want, `matchPathMajor(${version}, ${pathMajor})`);
  }
  checkPathMajor('v2.0.0', '/v2');
  const err = assertVersionError(
    () => checkPathMajor('v2.0.0', ''),
    'version "v2.0.0" invalid: should be v0 or v1, not v2',
  );
  assert.equal(err.path, '');
  assert.equal(err.version, 'v2.0.0');
  assert.equal(err.pseudo, false);
  assert.equal(err.reason, 'should be v0 or v1, not v2');
  assertVersionError(() => checkPathMajor('v1.0.0', '/v2'), 'version "v1.0.0" invalid: should be v2, not v1');
  assertVersionError(() => checkPathMajor('v1.0.0', '.v0'), 'version "v1.0.0" invalid: should be v0, not v1');
  assertVersionError(() => checkPathMajor('v3.0.0', '.v2-unstable'), 'version "v3.0.0" invalid: should be v2, not v3');
  assertVersionError(() => checkPathMajor('bad', '/v2'), 'version "bad" invalid: should be v2, not ');
});

test('escapePath and unescapePath use !-escaping for upper case', () => {
  const cases: Array<[string, string]> = [
    ['ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789', 'ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789'],
    ['github.com/GoogleCloudPlatform/omega', 'github.com/!google!cloud!platform/omega'],
    ['github.com/Azure/azure-sdk-for-go', 'github.com/!azure/azure-sdk-for-go'],
  ];
  for (const [path, escaped] of cases) {
    assert.equal(escapePath(path), escaped);
    assert.equal(unescapePath(escaped), path);
  }
  for (const [path, moduleOK] of pathCases) {
    if (moduleOK) continue;
    assert.throws(() => escapePath(path), InvalidPathError, `escapePath(${JSON.stringify(path)})`);
    assert.throws(() => unescapePath(path), InvalidPathError, `unescapePath(${JSON.stringify(path)})`);
  }
  assertPathError(() => escapePath('X.y/z'), 'module', 'X.y/z', `malformed module path "X.y/z": invalid char 'X' in first path element`);
});

test('unescapePath rejects what escapePath could not have written, in go\'s words', () => {
  const undecodable = [
    'github.com/GoogleCloudPlatform/omega',
    'github.com/!google!cloud!platform!/omega',
    'github.com/!0google!cloud!platform/omega',
    'github.com/!_google!cloud!platform/omega',
    'github.com/!!google!cloud!platform/omega',
    'github.com/google!',
    'github.com/é',
  ];
  for (const escaped of undecodable) {
    const err = thrown(() => unescapePath(escaped));
    assert.ok(err instanceof InvalidPathError);
    assert.equal(err.code, 'INVALID_PATH');
    assert.equal(err.escapedPath, escaped);
    assert.equal(err.path, '');
    assert.equal(err.reason, '');
    assert.equal(err.message, `invalid escaped module path ${JSON.stringify(escaped)}`);
  }
  const err = thrown(() => unescapePath(''));
  assert.ok(err instanceof InvalidPathError);
  assert.equal(err.message, 'invalid escaped module path "": malformed module path "": empty string');
  const decoded = thrown(() => unescapePath('!x.y/z'));
  assert.ok(decoded instanceof InvalidPathError);
  assert.equal(decoded.path, 'X.y/z');
  assert.equal(decoded.escapedPath, '!x.y/z');
  assert.equal(
    decoded.message,
    `invalid escaped module path "!x.y/z": malformed module path "X.y/z": invalid char 'X' in first path element`,
  );
});

test('escapeVersion and unescapeVersion', () => {
  assert.equal(escapeVersion('v1.2.3'), 'v1.2.3');
  assert.equal(escapeVersion('v1.2.3-RC1'), 'v1.2.3-!r!c1');
  assert.equal(escapeVersion('master'), 'master');
  assert.equal(unescapeVersion('v1.2.3-!r!c1'), 'v1.2.3-RC1');
  for (const version of ['', 'v1!', 'a/b', 'v1.', '..', 'com1', 'v1*', 'vé']) {
    const err = assertVersionError(
      () => escapeVersion(version),
      `version ${JSON.stringify(version)} invalid: disallowed version string`,
    );
    assert.equal(err.reason, 'disallowed version string');
  }
  assertVersionError(() => unescapeVersion('v1.2.3-RC1'), 'invalid escaped version "v1.2.3-RC1"');
  assertVersionError(() => unescapeVersion('v1!'), 'invalid escaped version "v1!"');
  // go quotes the decoded version here, not the text it was given.
  const err = assertVersionError(() => unescapeVersion('!v1*'), `invalid escaped version "V1*": invalid char '*'`);
  assert.equal(err.escapedVersion, '!v1*');
  assert.equal(err.version, 'V1*');
  assertVersionError(() => unescapeVersion(''), 'invalid escaped version "": empty path element');
});

const validPaths = pathCases.filter(([, moduleOK]) => moduleOK).map(([path]) => path).concat([
  'github.com/GoogleCloudPlatform/omega',
  'gopkg.in/yaml.v2',
  'example.com/Some_Module~x/v10',
]);

test('fuzz: path checks only ever throw InvalidPathError, and the grammars nest', () => {
  for (const path of garbageStrings(1, 4000, validPaths)) {
    const moduleOK = accepts(checkPath, path);
    const importOK = accepts(checkImportPath, path);
    const fileOK = accepts(checkFilePath, path);
    // Every module path is an import path, and every import path is a file path.
    if (moduleOK) assert.ok(importOK, JSON.stringify(path));
    if (importOK) assert.ok(fileOK, JSON.stringify(path));
    const split = splitPathVersion(path);
    if (split !== null) assert.equal(split.prefix + split.pathMajor, path);
    if (moduleOK) {
      const escaped = escapePath(path);
      assert.doesNotMatch(escaped, /[A-Z]/);
      assert.equal(unescapePath(escaped), path);
    } else {
      assert.throws(() => escapePath(path), InvalidPathError);
    }
  }
});

test('fuzz: unescapePath and unescapeVersion only ever throw their typed errors, and invert escaping', () => {
  const escapedInputs = validPaths.map((p) => escapePath(p)).concat(['v1.2.3-!r!c1', 'master']);
  for (const escaped of garbageStrings(2, 4000, escapedInputs)) {
    try {
      const path = unescapePath(escaped);
      assert.equal(escapePath(path), escaped);
    } catch (err) {
      assert.ok(err instanceof InvalidPathError, `unescapePath(${JSON.stringify(escaped)}) threw ${String(err)}`);
    }
    try {
      const version = unescapeVersion(escaped);
      assert.equal(escapeVersion(version), escaped);
    } catch (err) {
      assert.ok(err instanceof InvalidVersionError, `unescapeVersion(${JSON.stringify(escaped)}) threw ${String(err)}`);
    }
    try {
      escapeVersion(escaped);
    } catch (err) {
      assert.ok(err instanceof InvalidVersionError, `escapeVersion(${JSON.stringify(escaped)}) threw ${String(err)}`);
    }
  }
});
