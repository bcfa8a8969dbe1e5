import assert from 'node:assert/strict';
import test from 'node:test';
import { parseTxtar } from './txtar.js';

test('parseTxtar splits comment and files, keeping exact bytes', () => {
  const a = parseTxtar(Buffer.from('path=x\n-- a --\nx\n-- b --\n'));
  assert.equal(a.comment.toString(), 'path=x\n');
  assert.deepEqual(a.files.map((f) => [f.name, f.data.toString()]), [['a', 'x\n'], ['b', '']]);
});

test('parseTxtar appends a final newline only to non-empty last data', () => {
  const a = parseTxtar(Buffer.from('-- a --\nx\n-- b --\ny'));
  assert.equal(a.files[1]!.data.toString(), 'y\n');
  assert.equal(parseTxtar(Buffer.from('just a comment')).comment.toString(), 'just a comment\n');
  assert.deepEqual(parseTxtar(Buffer.from('-- -- --\n')).files.map((f) => f.name), ['--']);
  assert.equal(parseTxtar(Buffer.from('x-- a --\n')).files.length, 0);
});
