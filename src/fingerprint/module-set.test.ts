import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import test from 'node:test';
import { parseGoSum } from '../module/gosum.js';
import { ModuleSet } from './module-set.js';

const goSum = `example.com/Upper/Mixed v1.0.0 h1:muVl/8uy3xxIHLJ+6Q+GD1+YHR2U/7gobqXIZ0gMA+o=
example.com/Upper/Mixed v1.0.0/go.mod h1:LNTnMA85i4keTrJVzMsDnTWC6JH8Z1A7zoY8MvyxQ98=
example.com/app/log v1.0.0/go.mod h1:0KiWQRPlu1q2OJrhweRLs8htU5ZaASyiNzUoMTzsQuA=
example.com/app/log v1.2.0 h1:GY9WjjDqHQ3CUy/JMvwy8JzniT+3ss8qm+SSJl2TDQk=
example.com/app/log v1.2.0/go.mod h1:0KiWQRPlu1q2OJrhweRLs8htU5ZaASyiNzUoMTzsQuA=
example.com/legacy v2.0.0+incompatible h1:IUzZqHJYyrS35aC4W6YiYDbjiW2EbpxwKQF354+FAwE=
example.com/legacy v2.0.0+incompatible/go.mod h1:pS2KLshur9YBlehNARWQ3af1njEt+NcOfNS6ku9j6Ng=
example.com/pseudo v0.0.0-20230102030405-0123456789ab/go.mod h1:bzyDJOkIMnzIrsaY8EsX9+E0//2jlzeFZDOCDDFIRbs=
`;

const setOf = (text: string): ModuleSet => ModuleSet.fromGoSumLines(parseGoSum(text).lines());

test('the fingerprint is what the documented shell pipeline prints: LC_ALL=C sort -u | sha256sum', () => {
  const shuffled = goSum.split('\n').filter(Boolean).reverse().join('\n') + '\n';
  const sorted = execFileSync('sort', ['-u'], { input: shuffled, env: { ...process.env, LC_ALL: 'C' } });
  const hex = execFileSync('sha256sum', [], { input: sorted }).toString().split(' ')[0];
  const set = setOf(shuffled);
  assert.equal(set.canonicalText(), sorted.toString());
  assert.equal(set.fingerprint(), `sha256:${hex}`);
});

test('order, spacing, CRLF, blank and repeated lines of a go.sum do not change the fingerprint', () => {
  const lines = goSum.split('\n').filter(Boolean);
  const messy = ['', ...lines.slice(4), '  ' + lines[0]!.replace(/ /g, ' \t '), ...lines.slice(1, 4), lines[2]!, ''].join('\r\n');
  assert.equal(setOf(messy).fingerprint(), setOf(goSum).fingerprint());
  assert.deepEqual(setOf(messy).lines(), setOf(goSum).lines());
});

test('a changed hash, a changed version, a lost or an added line each change the fingerprint', () => {
  const base = setOf(goSum).fingerprint();
  const variants = [
    goSum.replace('h1:GY9WjjDqHQ3CUy', 'h1:HY9WjjDqHQ3CUy'),
    goSum.replace('log v1.2.0 h1:', 'log v1.2.1 h1:'),
    goSum.replace('example.com/pseudo v0.0.0-20230102030405-0123456789ab/go.mod h1:bzyDJOkIMnzIrsaY8EsX9+E0//2jlzeFZDOCDDFIRbs=\n', ''),
    goSum + 'example.com/pseudo v0.0.0-20230102030405-0123456789ab h1:PPT8UU/4wffe99wkxU9DmQ4rcOZ8IDmQPBU/21pr38s=\n',
    // The same hash moved from the zip's line to the go.mod's is another entry.
    goSum.replace('example.com/legacy v2.0.0+incompatible h1:', 'example.com/legacy v2.0.0+incompatible/go.mod h1:'),
  ];
  const prints = variants.map((v) => setOf(v).fingerprint());
  for (const p of prints) assert.notEqual(p, base);
  assert.equal(new Set(prints).size, prints.length);
});

test('an empty set has the SHA-256 of no bytes', () => {
  assert.equal(new ModuleSet([]).fingerprint(), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(setOf('\n\n').size, 0);
});

test('counts, versions and hashes of a set', () => {
  const set = setOf(goSum + 'example.com/app/log v1.2.0 h2:another-kind-of-hash\n');
  assert.equal(set.moduleCount(), 4);
  assert.equal(set.versionCount(), 5);
  assert.equal(set.size, 9);
  assert.deepEqual(set.paths(), ['example.com/Upper/Mixed', 'example.com/app/log', 'example.com/legacy', 'example.com/pseudo']);
  assert.deepEqual(set.versionsOf('example.com/app/log'), ['v1.0.0', 'v1.2.0']);
  assert.deepEqual(set.hashesOf({ path: 'example.com/app/log', version: 'v1.2.0', file: 'zip' }), [
    'h1:GY9WjjDqHQ3CUy/JMvwy8JzniT+3ss8qm+SSJl2TDQk=',
    'h2:another-kind-of-hash',
  ]);
  assert.deepEqual(set.hashesOf({ path: 'example.com/pseudo', version: 'v0.0.0-20230102030405-0123456789ab', file: 'zip' }), []);
  assert.deepEqual(set.entries()[0], {
    path: 'example.com/Upper/Mixed',
    version: 'v1.0.0',
    file: 'zip',
    hash: 'h1:muVl/8uy3xxIHLJ+6Q+GD1+YHR2U/7gobqXIZ0gMA+o=',
  });
});

test("restrictedTo keeps this set's entries for the files the other set names, whatever their hash", () => {
  const project = setOf(goSum);
  const environment = setOf(
    goSum.replace('h1:GY9WjjDqHQ3CUy', 'h1:TAMPERED3CUy') +
      'example.com/app/log v1.1.0 h1:ZZZ0KiWQRPlu1q2OJrhweRLs8htU5ZaASyiNzUoMTzs=\n' +
      'example.com/pseudo v0.0.0-20230102030405-0123456789ab h1:PPT8UU/4wffe99wkxU9DmQ4rcOZ8IDmQPBU/21pr38s=\n',
  );
  const restricted = environment.restrictedTo(project);
  assert.equal(restricted.size, project.size, 'the extra version and the extra zip hash are left out');
  assert.notEqual(restricted.fingerprint(), project.fingerprint(), 'the tampered hash stays in');
  const honest = setOf(goSum + 'example.com/app/log v1.1.0 h1:ZZZ0KiWQRPlu1q2OJrhweRLs8htU5ZaASyiNzUoMTzs=\n');
  assert.equal(honest.restrictedTo(project).fingerprint(), project.fingerprint());
  const lacking = setOf(goSum.replace('example.com/app/log v1.0.0/go.mod h1:0KiWQRPlu1q2OJrhweRLs8htU5ZaASyiNzUoMTzsQuA=\n', ''));
  assert.notEqual(lacking.restrictedTo(project).fingerprint(), project.fingerprint());
});
