// Cases transcribed from golang.org/x/mod/modfile's read_test.go and rule_test.go tables, plus error
// texts checked against the real go 1.19 (`go mod edit -fmt` / `-json` on a scratch go.mod).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGodepotError } from '../errors.js';
import {
  addNewRequire,
  addRequire,
  autoQuote,
  formatGoMod,
  GoModSyntaxError,
  isDirectoryPath,
  mustQuote,
  parseGoMod,
  parseGoModLax,
  setGo,
  setModule,
  type GoModFile,
} from './gomod.js';
import { InvalidVersionError } from './version.js';

/** The message of the GoModSyntaxError `fn` throws. */
function syntaxError(fn: () => unknown): GoModSyntaxError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GoModSyntaxError, `expected GoModSyntaxError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

function errorText(data: string, lax = false): string {
  return syntaxError(() => (lax ? parseGoModLax : parseGoMod)('go.mod', data)).message;
}

/** go.mod text as go would write it: parsed and formatted, so test tables can be indented freely. */
function canonicalText(data: string): string {
  return formatGoMod(parseGoMod('out', data));
}

test('formatting removes needless quotes and canonicalises versions', () => {
  const f = parseGoMod('go.mod', 'module "abc"\n\nrequire "golang.org/x/time" "v0.8"\n');
  assert.equal(formatGoMod(f), 'module abc\n\nrequire golang.org/x/time v0.8.0\n');
  assert.deepEqual(f.require[0]!.mod, { path: 'golang.org/x/time', version: 'v0.8.0' });
});

test('a path that needs quotes keeps them', () => {
  const f = parseGoMod(
    'go.mod',
    'module m\nreplace (\n\t"w" v1.0.0 => "./a,"\n\tw v1.0.1 => "./a()"\n\tw v1.0.2 => "./a[]"\n\tw v1.0.3 => "./a{}"\n\txyz v1.4.5 => "/tmp/my dir"\n)\n',
  );
  assert.equal(
    formatGoMod(f),
    'module m\n\nreplace (\n\tw v1.0.0 => "./a,"\n\tw v1.0.1 => "./a()"\n\tw v1.0.2 => "./a[]"\n\tw v1.0.3 => "./a{}"\n\txyz v1.4.5 => "/tmp/my dir"\n)\n',
  );
  assert.deepEqual(
    f.replace.map((r) => r.new.path),
    ['./a,', './a()', './a[]', './a{}', '/tmp/my dir'],
  );
});

test('mustQuote and autoQuote follow modfile.MustQuote', () => {
  for (const s of ['a b', 'a"b', "a'b", 'a`b', 'a,', '(x)', 'a[', '{}', '', 'a//b', 'a/*b', 'tab\there', '\u00a0']) {
    assert.ok(mustQuote(s), `${JSON.stringify(s)} must be quoted`);
  }
  for (const s of ['example.com/m', 'v1.2.3', '=>', ',', '(', ']', '../dir', 'héllo', 'a/b']) {
    assert.ok(!mustQuote(s), `${JSON.stringify(s)} needs no quotes`);
  }
  assert.equal(autoQuote('/tmp/my dir'), '"/tmp/my dir"');
  assert.equal(autoQuote('a\tb'), '"a\\tb"');
  assert.equal(autoQuote('x/y'), 'x/y');
});

test('isDirectoryPath accepts every system spelling of a directory', () => {
  for (const p of ['.', '..', './x', '../x', '.\\x', '..\\x', '/abs', '\\abs', 'c:\\x', 'C:/x']) {
    assert.ok(isDirectoryPath(p), p);
  }
  for (const p of ['x', 'example.com/m', '.x', '..x', 'x/../y']) assert.ok(!isDirectoryPath(p), p);
});

test('every directive form is read', () => {
  const f = parseGoMod(
    'go.mod',
    [
      '// Deprecated: use example.com/n',
      'module example.com/m',
      '',
      'go 1.21.0',
      '',
      'toolchain go1.21.3',
      '',
      'godebug default=go1.21',
      'godebug (',
      '\tpanicnil=1',
      ')',
      '',
      'require (',
      '\texample.com/a v1.0.0',
      '\texample.com/b/v2 v2.1.0 // indirect',
      '\texample.com/c v2.0.0+incompatible // indirect; old',
      ')',
      '',
      'exclude example.com/a v0.9.0',
      '',
      'replace example.com/a => ../a',
      'replace example.com/a v1.0.0 => ./a1',
      'replace example.com/b/v2 v2.1.0 => example.com/fork/v2 v2.1.1',
      'replace example.com/c => example.com/d v1.0.0',
      '',
      'retract v1.0.1 // broken',
      'retract [v1.1.0, v1.2.0]',
      '',
      'tool example.com/a/cmd/x',
      '',
      'ignore ./node_modules',
      '',
    ].join('\n'),
  );
  assert.deepEqual(f.module?.mod, { path: 'example.com/m', version: '' });
  assert.equal(f.module?.deprecated, 'use example.com/n');
  assert.equal(f.go?.version, '1.21.0');
  assert.equal(f.toolchain?.name, 'go1.21.3');
  assert.deepEqual(f.godebug.map((g) => [g.key, g.value]), [['default', 'go1.21'], ['panicnil', '1']]);
  assert.deepEqual(
    f.require.map((r) => [r.mod.path, r.mod.version, r.indirect]),
    [
      ['example.com/a', 'v1.0.0', false],
      ['example.com/b/v2', 'v2.1.0', true],
      ['example.com/c', 'v2.0.0+incompatible', true],
    ],
  );
  assert.deepEqual(f.exclude.map((x) => x.mod), [{ path: 'example.com/a', version: 'v0.9.0' }]);
  assert.deepEqual(
    f.replace.map((r) => [r.old, r.new]),
    [
      [{ path: 'example.com/a', version: '' }, { path: '../a', version: '' }],
      [{ path: 'example.com/a', version: 'v1.0.0' }, { path: './a1', version: '' }],
      [{ path: 'example.com/b/v2', version: 'v2.1.0' }, { path: 'example.com/fork/v2', version: 'v2.1.1' }],
      [{ path: 'example.com/c', version: '' }, { path: 'example.com/d', version: 'v1.0.0' }],
    ],
  );
  assert.deepEqual(
    f.retract.map((r) => [r.low, r.high, r.rationale]),
    [['v1.0.1', 'v1.0.1', 'broken'], ['v1.1.0', 'v1.2.0', '']],
  );
  assert.deepEqual(f.tool.map((t) => t.path), ['example.com/a/cmd/x']);
  assert.deepEqual(f.ignore.map((t) => t.path), ['./node_modules']);
});

test('the lax parse ignores what a dependency may say (TestParseLax)', () => {
  const f = parseGoModLax(
    'file',
    `module m
		surprise attack
		x y (
			z
		)
		exclude v1.2.3
		replace <-!!!
		retract v1.2.3 v1.2.4
		retract (v1.2.3, v1.2.4]
		retract v1.2.3 (
			key1 value1
			key2 value2
		)
		require good v1.0.0
	`,
  );
  assert.equal(f.module?.mod.path, 'm');
  assert.deepEqual(f.require.map((r) => r.mod.path), ['good']);
  assert.equal(f.exclude.length, 0);
  assert.equal(f.replace.length, 0);
});

test('the lax parse still rejects bad syntax and bad honoured directives', () => {
  assert.equal(errorText('module m\nrequire (\n', true), 'go.mod:3: syntax error (unterminated block started at go.mod:2:1)');
  assert.equal(errorText('module m\nrequire x 1.0\n', true), 'go.mod:2: require x: version "1.0" invalid: must be of the form v1.2.3');
  assert.equal(errorText('module m\nmodule n\n', true), 'go.mod:2: repeated module statement');
});

// TestParseVersions: [description, input, strict ok, lax ok]. (Go's table only says where lax parsing may
// succeed; these say where it does.)
const versionCases: [string, string, boolean, boolean][] = [
  ['empty', 'module m\ngo \n', false, false],
  ['one', 'module m\ngo 1\n', false, false],
  ['two', 'module m\ngo 1.22\n', true, true],
  ['three', 'module m\ngo 1.22.333', true, true],
  ['before', 'module m\ngo v1.2\n', false, false], // the lax form needs something after 1.2
  ['after', 'module m\ngo 1.2rc1\n', true, true],
  ['space', 'module m\ngo 1.2 3.4\n', false, false],
  ['alt1', 'module m\ngo 1.2.3\n', true, true],
  ['alt2', 'module m\ngo 1.2rc1\n', true, true],
  ['alt3', 'module m\ngo 1.2beta1\n', true, true],
  ['alt4', 'module m\ngo 1.2.beta1\n', false, true],
  ['v-alt1', 'module m\ngo v1.2.3\n', false, true],
  ['v-alt2', 'module m\ngo v1.2rc1\n', false, true],
  ['v-alt3', 'module m\ngo v1.2beta1\n', false, true],
  ['v-alt4', 'module m\ngo v1.2.beta1\n', false, true],
  ['tool', 'module m\ntoolchain go1.2\n', true, true],
  ['tool1', 'module m\ntoolchain go1.2.3\n', true, true],
  ['tool2', 'module m\ntoolchain go1.2rc1\n', true, true],
  ['tool3', 'module m\ntoolchain go1.2rc1-gccgo\n', true, true],
  ['tool4', 'module m\ntoolchain default\n', true, true],
  ['tool5', 'module m\ntoolchain inconceivable!\n', false, true],
];

for (const [desc, input, strictOK, laxOK] of versionCases) {
  test(`go and toolchain versions: ${desc}`, () => {
    if (strictOK) parseGoMod('go.mod', input);
    else assert.throws(() => parseGoMod('go.mod', input), GoModSyntaxError);
    if (laxOK) parseGoModLax('go.mod', input);
    else assert.throws(() => parseGoModLax('go.mod', input), GoModSyntaxError);
  });
}

test('the lax parse keeps only major.minor of a v-prefixed go version', () => {
  const f = parseGoModLax('go.mod', 'module m\ngo v1.2.3\n');
  assert.equal(f.go?.version, '1.2');
  assert.equal(formatGoMod(f), 'module m\n\ngo 1.2\n');
});

// Errors checked word for word against go 1.19's `go mod edit -fmt`, except where newer
// golang.org/x/mod words them differently (noted).
const errorCases: [string, string][] = [
  ['module m\nrequire x 1.2\n', 'go.mod:2: require x: version "1.2" invalid: must be of the form v1.2.3'],
  ['module m\nrequire x/v2 v1.0.0\n', 'go.mod:2: require x/v2: version "v1.0.0" invalid: should be v2, not v1'],
  ['module m\nrequire x v2.0.0\n', 'go.mod:2: require x: version "v2.0.0" invalid: should be v0 or v1, not v2'],
  ['module m\nfoo bar\n', 'go.mod:2: unknown directive: foo'],
  [
    'module m\nrequire (\n\tx v1.0.0\n\ty\n)\nbar (\n)\n',
    'go.mod:4:2: usage: require module/path v1.2.3\ngo.mod:6: unknown block type: bar',
  ],
  ['module m\nrequire "x\\q" v1.0.0\n', 'go.mod:2: invalid quoted string: invalid syntax'],
  ['module m\nrequire x "v1\\q"\n', 'go.mod:2: require x: version "\\"v1\\\\q\\"" invalid: invalid syntax'],
  ['module m /* hi */\n', 'go.mod:1:10: mod files must use // comments (not /* */ comments)'],
  ['module m\nreplace a => ./b v1.0.0\n', 'go.mod:2: replacement module directory path "./b" cannot have version'],
  ["module m\nrequire 'x' v1.0.0\n", 'go.mod:2: invalid quoted string: unquoted string cannot contain quote'],
  ['module m\nretract v1.0.0 foo\n', 'go.mod:2: unexpected token after version: "foo"'],
  ['module m\nretract [v1.0.0, v1.1.0\n', "go.mod:2: expected ']' after version"],
  ['module m\nretract (v1.0.0, v1.1.0]\n', "go.mod:2: expected '[' or version"],
  ['module m\nrequire x v1.0.0 \u0001\n', "go.mod:2:18: unexpected input character '\\x01'"],
  ['\ufeffmodule m\n', "go.mod:1: unexpected input character '\\ufeff'"],
  ['module m\nrequire (\n\tx v1.0.0\n', 'go.mod:4: syntax error (unterminated block started at go.mod:2:1)'],
  ['module m\nrequire (\n\tx v1.0.0\n) x\n', 'go.mod:4:4: syntax error (expected newline after closing paren)'],
  ['module m\nrequire x "v1.0.0\n', 'go.mod:2:18: unexpected newline in string'],
  ['module m\nrequire x "v1.0.0', 'go.mod:2:11: unexpected EOF in string'],
  ['module m\nmodule n\n', 'go.mod:2: repeated module statement'],
  ['module\n', 'go.mod:1: usage: module module/path'],
  ['module m\ngo 1.21\ngo 1.22\n', 'go.mod:3: repeated go statement'],
  ['module m\ngo 1.2 1.3\n', 'go.mod:2: go directive expects exactly one argument'],
  ['module m\ngo 1.x\n', "go.mod:2: invalid go version '1.x': must match format 1.23.0"],
  ['module m\ntoolchain go1.21 go1.22\n', 'go.mod:2: toolchain directive expects exactly one argument'],
  ['module m\ntoolchain 1.21\n', "go.mod:2: invalid toolchain version '1.21': must match format go1.23.0 or default"],
  ['module m\ngodebug x\n', 'go.mod:2: usage: godebug key=value'],
  ['module m\ngodebug "x=1"\n', 'go.mod:2: usage: godebug key=value'],
  ['module m\nreplace x v1.0.0\n', 'go.mod:2: usage: replace module/path [v1.2.3] => other/module v1.4\n\t or replace module/path [v1.2.3] => ../local/directory'],
  // go 1.19 says "(rooted or starting with ./ or ../)"; golang.org/x/mod now says what follows.
  ['module m\nreplace a => b\n', 'go.mod:2: replacement module without version must be directory path (rooted or starting with . or ..)'],
  ['module m\nreplace a => b@v1.0.0\n', "go.mod:2: replacement module must match format 'path version', not 'path@version'"],
  ['module m\nreplace a => ..\\b\n', 'go.mod:2: replacement directory appears to be Windows path (on a non-windows system)'],
  ['module m\nreplace a/v2 v1.0.0 => ../b\n', 'go.mod:2: replace a/v2: version "v1.0.0" invalid: should be v2, not v1'],
  ['module m\nreplace a/v1 => ../b\n', 'go.mod:2: replace a/v1: invalid module path'],
  ['module m\nrequire a/v1 v1.0.0\n', 'go.mod:2: invalid module path'],
  ['module m\nexclude a\n', 'go.mod:2: usage: exclude module/path v1.2.3'],
  ['module m\ntool\n', 'go.mod:2: tool directive expects exactly one argument'],
  ['module m\nrequire x v1.0.0 extra\n', 'go.mod:2: usage: require module/path v1.2.3'],
  ['module m\nrequire x v1.0.0 // c\n\tbad line\n', 'go.mod:3:2: unknown directive: bad'],
  ['module m\nrequire x/y z v1\n', 'go.mod:2: usage: require module/path v1.2.3'],
  ['module m\nrequire x (v1.0.0)\n', 'go.mod:2: usage: require module/path v1.2.3'],
];

for (const [input, want] of errorCases) {
  test(`error: ${JSON.stringify(input)}`, () => {
    assert.equal(errorText(input), want);
  });
}

test('GoModSyntaxError carries a stable code, the position and every problem', () => {
  const err = syntaxError(() => parseGoMod('dir/go.mod', 'module m\n\nfoo\nrequire (\n\tbar\n)\n'));
  assert.ok(isGodepotError(err));
  assert.equal(err.code, 'GOMOD_SYNTAX');
  assert.equal(err.filename, 'dir/go.mod');
  assert.equal(err.line, 3);
  assert.equal(err.column, 1);
  assert.equal(err.problems.length, 2);
  assert.equal(err.message, 'dir/go.mod:3: unknown directive: foo\ndir/go.mod:5:2: usage: require module/path v1.2.3');
  const lexical = syntaxError(() => parseGoMod('go.mod', 'module m\nrequire x v1 /* */\n'));
  assert.deepEqual([lexical.line, lexical.column], [2, 14]);
});

test('bytes are read as go reads them', () => {
  const f = parseGoMod('go.mod', new TextEncoder().encode('module m\r\n\r\nrequire x v1.0.0 // indirect\r\n'));
  assert.equal(f.require[0]?.indirect, true);
  assert.equal(formatGoMod(f), 'module m\n\nrequire x v1.0.0 // indirect\n');
  // A byte-order mark is not white space to go.
  assert.throws(() => parseGoMod('go.mod', Uint8Array.of(0xef, 0xbb, 0xbf, 0x6d)), GoModSyntaxError);
});

test('a version fixer canonicalises versions, retractions included (TestFixVersion)', () => {
  const fixV = (modulePath: string, version: string): string => {
    if (modulePath !== 'example.com/m') throw new Error('module path must be example.com/m');
    return 'v' + version;
  };
  const cases: [string, string, string][] = [
    ['require example.com/m 1.0.0', 'require example.com/m v1.0.0', ''],
    ['replace example.com/m 1.0.0 => example.com/m 1.1.0', 'replace example.com/m v1.0.0 => example.com/m v1.1.0', ''],
    ['replace example.com/m@v1.0.0 => example.com/m@v1.1.0', '', "replacement module must match format 'path version', not 'path@version'"],
    ['replace example.com/m => example.com/m@v1.1.0', '', "replacement module must match format 'path version', not 'path@version'"],
    ['exclude example.com/m 1.0.0', 'exclude example.com/m v1.0.0', ''],
    ['module example.com/m\nretract 1.0.0', 'module example.com/m\nretract v1.0.0', ''],
    ['module example.com/m\nretract [1.0.0, 1.1.0]', 'module example.com/m\nretract [v1.0.0, v1.1.0]', ''],
    ['retract 1.0.0', '', 'in:1: no module directive found, so retract cannot be used'],
    ['require example.com/other 1.0.0', '', 'in:1: module path must be example.com/m'],
  ];
  for (const [input, want, wantErr] of cases) {
    if (wantErr !== '') {
      assert.ok(syntaxError(() => parseGoMod('in', input, fixV)).message.includes(wantErr), input);
      continue;
    }
    assert.equal(formatGoMod(parseGoMod('in', input, fixV)), canonicalText(want), input);
  }
});

test('a version fixer rejecting with InvalidVersionError is reported as go reports a ModuleError', () => {
  const reject = (modulePath: string, version: string): string => {
    throw new InvalidVersionError(modulePath, version, 'unknown revision');
  };
  assert.equal(
    syntaxError(() => parseGoMod('go.mod', 'module m\nrequire x master\n', reject)).message,
    'go.mod:2: require x: version "master" invalid: unknown revision',
  );
});

test('retract without a fixer takes versions as written, as modfile.Parse(..., nil) does', () => {
  const f = parseGoMod('go.mod', 'module m\nretract "v1.0.0"\nretract [ "v1.1" , v1.2 ]\n');
  assert.deepEqual(f.retract.map((r) => [r.low, r.high]), [['v1.0.0', 'v1.0.0'], ['v1.1', 'v1.2']]);
  assert.equal(formatGoMod(f), 'module m\n\nretract v1.0.0\n\nretract [v1.1, v1.2]\n');
});

// TestRetractRationale.
const rationaleCases: [string, string, string][] = [
  ['no_comment', 'module m\nretract v1.0.0', ''],
  ['prefix_one', 'module m\n//   prefix\nretract v1.0.0\n', 'prefix'],
  ['prefix_multiline', 'module m\n//  one\n//\n//     two\n//\n// three\nretract v1.0.0', 'one\n\ntwo\n\nthree'],
  ['suffix', 'module m\nretract v1.0.0 // suffix\n', 'suffix'],
  ['prefix_suffix_after', 'module m\n// prefix\nretract v1.0.0 // suffix\n', 'prefix\nsuffix'],
  ['block_only', '// block\nretract (\n\tv1.0.0\n)\n', 'block'],
  ['block_and_line', '// block\nretract (\n\t// line\n\tv1.0.0\n)\n', 'line'],
];

for (const [desc, input, want] of rationaleCases) {
  test(`retract rationale: ${desc}`, () => {
    const f = parseGoMod('in', input);
    assert.equal(f.retract.length, 1);
    assert.equal(f.retract[0]!.rationale, want);
  });
}

// TestModuleDeprecated.
const deprecatedCases: [string, string, string][] = [
  ['no_comment', 'module m', ''],
  ['other_comment', '// yo\nmodule m', ''],
  ['deprecated_no_colon', '//Deprecated\nmodule m', ''],
  ['deprecated_no_space', '//Deprecated:blah\nmodule m', 'blah'],
  ['deprecated_simple', '// Deprecated: blah\nmodule m', 'blah'],
  ['deprecated_lowercase', '// deprecated: blah\nmodule m', ''],
  ['deprecated_multiline', '// Deprecated: one\n// two\nmodule m', 'one\ntwo'],
  ['deprecated_mixed', '// some other comment\n// Deprecated: blah\nmodule m', ''],
  ['deprecated_middle', '// module m is Deprecated: blah\nmodule m', ''],
  ['deprecated_multiple', '// Deprecated: a\n// Deprecated: b\nmodule m', 'a\nDeprecated: b'],
  ['deprecated_paragraph', '// Deprecated: a\n// b\n//\n// c\nmodule m', 'a\nb'],
  ['deprecated_paragraph_space', '// Deprecated: the next line has a space\n// \n// c\nmodule m', 'the next line has a space'],
  ['deprecated_suffix', 'module m // Deprecated: blah', 'blah'],
  ['deprecated_mixed_suffix', '// some other comment\nmodule m // Deprecated: blah', ''],
  ['deprecated_mixed_suffix_paragraph', '// some other comment\n//\nmodule m // Deprecated: blah', 'blah'],
  ['deprecated_block', '// Deprecated: blah\nmodule (\n\tm\n)', 'blah'],
];

for (const [desc, input, want] of deprecatedCases) {
  test(`module deprecation: ${desc}`, () => {
    assert.equal(parseGoMod('in', input).module?.deprecated, want);
  });
}

function edit(input: string, change: (f: GoModFile) => void): string {
  const f = parseGoMod('in', input);
  change(f);
  return formatGoMod(f);
}

// TestAddRequire.
const addRequireCases: [string, string, string, string, string][] = [
  ['existing', 'module m\nrequire x.y/z v1.2.3\n', 'x.y/z', 'v1.5.6', 'module m\nrequire x.y/z v1.5.6\n'],
  [
    'existing2',
    'module m\nrequire (\n\tx.y/z v1.2.3 // first\n\tx.z/a v0.1.0 // first-a\n)\nrequire x.y/z v1.4.5 // second\nrequire (\n\tx.y/z v1.6.7 // third\n\tx.z/a v0.2.0 // third-a\n)\n',
    'x.y/z',
    'v1.8.9',
    'module m\n\nrequire (\n\tx.y/z v1.8.9 // first\n\tx.z/a v0.1.0 // first-a\n)\n\nrequire x.z/a v0.2.0 // third-a\n',
  ],
  ['new', 'module m\nrequire x.y/z v1.2.3\n', 'x.y/w', 'v1.5.6', 'module m\nrequire (\n\tx.y/z v1.2.3\n\tx.y/w v1.5.6\n)\n'],
  [
    'new2',
    'module m\nrequire x.y/z v1.2.3\nrequire x.y/q/v2 v2.3.4\n',
    'x.y/w',
    'v1.5.6',
    'module m\nrequire x.y/z v1.2.3\nrequire (\n\tx.y/q/v2 v2.3.4\n\tx.y/w v1.5.6\n)\n',
  ],
  [
    'unattached_comments',
    'module m\nrequire (\n\tfoo v0.0.0-00010101000000-000000000000\n\t// bar v0.0.0-00010101000000-000000000000\n)\n',
    'foo',
    'v0.0.0-00010101000000-000000000000',
    'module m\nrequire (\n\tfoo v0.0.0-00010101000000-000000000000\n\t// bar v0.0.0-00010101000000-000000000000\n)\n',
  ],
];

for (const [desc, input, modulePath, version, want] of addRequireCases) {
  test(`addRequire: ${desc}`, () => {
    const f = parseGoMod('in', input);
    addRequire(f, modulePath, version);
    assert.equal(formatGoMod(f), canonicalText(want));
    assert.equal(f.require.filter((r) => r.mod.path === modulePath).length, 1);
  });
}

test('addNewRequire marks indirect requirements', () => {
  assert.equal(
    edit('module m\n', (f) => addNewRequire(f, 'x.y/z', 'v1.0.0', true)),
    'module m\n\nrequire x.y/z v1.0.0 // indirect\n',
  );
});

// TestAddGo.
const addGoCases: [string, string, string][] = [
  ['module m\n', '1.14', 'module m\ngo 1.14\n'],
  ['module m\nrequire x.y/a v1.2.3\n', '1.14', 'module m\ngo 1.14\nrequire x.y/a v1.2.3\n'],
  ['require x.y/a v1.2.3\nmodule example.com/inverted\n', '1.14', 'require x.y/a v1.2.3\nmodule example.com/inverted\ngo 1.14\n'],
  ['require x.y/a v1.2.3\n', '1.14', 'require x.y/a v1.2.3\ngo 1.14\n'],
  ['module m\ngo 1.13\n', '1.21.0', 'module m\ngo 1.21.0\n'],
];

for (const [input, version, want] of addGoCases) {
  test(`setGo: ${JSON.stringify(input)}`, () => {
    assert.equal(edit(input, (f) => setGo(f, version)), canonicalText(want));
  });
}

test('setGo rejects a malformed language version', () => {
  assert.throws(() => setGo(parseGoMod('go.mod', ''), 'v1.21'), InvalidVersionError);
});

test('a go.mod can be built from nothing', () => {
  const f = parseGoMod('go.mod', '');
  setModule(f, 'example.com/m');
  setGo(f, '1.20');
  addRequire(f, 'example.com/a', 'v1.0.0');
  addNewRequire(f, 'example.com/b', 'v1.1.0', true);
  setModule(f, 'example.com/my module');
  assert.equal(
    formatGoMod(f),
    'module "example.com/my module"\n\ngo 1.20\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/b v1.1.0 // indirect\n)\n',
  );
  const again = parseGoMod('go.mod', formatGoMod(f));
  assert.equal(again.module?.mod.path, 'example.com/my module');
  assert.deepEqual(again.require.map((r) => [r.mod.path, r.indirect]), [['example.com/a', false], ['example.com/b', true]]);
});
