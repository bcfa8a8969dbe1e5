// go.work cases; error texts checked against go 1.19's `go work edit -fmt` where it knows the directive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GoModSyntaxError } from './gomod.js';
import { formatGoWork, parseGoWork } from './gowork.js';

function errorText(data: string): string {
  try {
    parseGoWork('go.work', data);
  } catch (err) {
    assert.ok(err instanceof GoModSyntaxError);
    return err.message;
  }
  assert.fail('expected an error');
}

test('every go.work directive form is read', () => {
  const f = parseGoWork(
    'go.work',
    [
      'go 1.22.1',
      'toolchain go1.22.3',
      'godebug asynctimerchan=1',
      'use ./a',
      'use (',
      '\t"../b" // b',
      '',
      '\t"/tmp/my dir"',
      ')',
      'replace example.com/x v1.0.0 => ../x',
      'replace (',
      '\texample.com/y => example.com/z v1.2.0',
      ')',
      '',
    ].join('\n'),
  );
  assert.equal(f.go?.version, '1.22.1');
  assert.equal(f.toolchain?.name, 'go1.22.3');
  assert.deepEqual(f.godebug.map((g) => [g.key, g.value]), [['asynctimerchan', '1']]);
  assert.deepEqual(f.use.map((u) => u.path), ['./a', '../b', '/tmp/my dir']);
  assert.deepEqual(
    f.replace.map((r) => [r.old, r.new]),
    [
      [{ path: 'example.com/x', version: 'v1.0.0' }, { path: '../x', version: '' }],
      [{ path: 'example.com/y', version: '' }, { path: 'example.com/z', version: 'v1.2.0' }],
    ],
  );
  assert.equal(
    formatGoWork(f),
    'go 1.22.1\n\ntoolchain go1.22.3\n\ngodebug asynctimerchan=1\n\nuse ./a\n\nuse (\n\t../b // b\n\n\t"/tmp/my dir"\n)\n\n' +
      'replace example.com/x v1.0.0 => ../x\n\nreplace (\n\texample.com/y => example.com/z v1.2.0\n)\n',
  );
});

const errorCases: [string, string][] = [
  ['go 1.18\nuse\n', 'go.work:2: usage: use local/dir'],
  ['go 1.18\nuse a b\n', 'go.work:2: usage: use local/dir'],
  ['require x v1.0.0\n', 'go.work:1: unknown directive: require'],
  ['module m\n', 'go.work:1: unknown directive: module'],
  ['go 1.18\nfoo (\n)\nuse (\n', 'go.work:5: syntax error (unterminated block started at go.work:4:1)'],
  ['go 1.18\nrequire (\n)\nuse x\n', 'go.work:2: unknown block type: require'],
  ['go 1.18\nuse "a\\z"\n', 'go.work:2: invalid quoted string: invalid syntax'],
  ['go 1.18\nreplace x 1.0 => ../x\n', 'go.work:2: replace x: version "1.0" invalid: must be of the form v1.2.3'],
  // A go.work is always read strictly: no "v1.2.3" go lines.
  ['go v1.18.0\n', "go.work:1: invalid go version 'v1.18.0': must match format 1.23.0"],
  ['go 1.18\ngo 1.19\n', 'go.work:2: repeated go statement'],
  ['toolchain 1.21\n', "go.work:1: invalid toolchain version '1.21': must match format go1.23.0 or default"],
  ['godebug x\n', 'go.work:1: usage: godebug key=value'],
];

for (const [input, want] of errorCases) {
  test(`go.work error: ${JSON.stringify(input)}`, () => {
    assert.equal(errorText(input), want);
  });
}

test('go.work replacement versions are canonicalised', () => {
  const f = parseGoWork('go.work', 'replace "x" "v1" => "y" v1.2\n');
  assert.deepEqual([f.replace[0]?.old.version, f.replace[0]?.new.version], ['v1.0.0', 'v1.2.0']);
  assert.equal(formatGoWork(f), 'replace x v1.0.0 => y v1.2.0\n');
});
