import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findEmbedPatterns, parseEmbedLine, readGoHeader } from './go-file.js';

const read = (text: string | Buffer): ReturnType<typeof readGoHeader> => readGoHeader(Buffer.isBuffer(text) ? text : Buffer.from(text));

describe('readGoHeader', () => {
  test('reads the package name and every import form, and stops at the first declaration', () => {
    const src =
      '// Package p does things.\npackage p // trailing\n\nimport "fmt"\nimport (\n\tx "example.com/x"\n\t. "example.com/dot"\n\t_ `example.com/raw`\n\t/* c */ "example.com/y"; "example.com/z"\n)\nimport "example.com/late"\n\nfunc F() {}\nimport "example.com/never"\n';
    const h = read(src);
    assert.equal(h.packageName, 'p');
    assert.deepEqual(h.imports, ['fmt', 'example.com/x', 'example.com/dot', 'example.com/raw', 'example.com/y', 'example.com/z', 'example.com/late']);
    assert.equal(h.syntaxError, false);
    // The header ends right before the byte that ended the imports: the `f` of func.
    assert.equal(h.header.toString(), src.slice(0, src.indexOf('func')));
  });

  test('a syntax error keeps the imports read so far and makes the whole file the header', () => {
    const src = 'package p\nimport "a"\nimport b c\nimport "d"\n';
    const h = read(src);
    assert.equal(h.syntaxError, true);
    assert.deepEqual(h.imports, ['a']);
    assert.equal(h.header.toString(), src);
  });

  test('an import with escapes is unquoted as go does, and one that does not unquote is dropped', () => {
    const h = read('package p\nimport ("example.com/\\x61" "bad\\q" `raw\r`)\n');
    assert.deepEqual(h.imports, ['example.com/a', 'raw']);
  });

  test('a byte-order mark is skipped and a NUL in the header is reported', () => {
    const bom = read(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('package q\nimport "x"\nvar v = 1\n')]));
    assert.equal(bom.packageName, 'q');
    assert.deepEqual(bom.imports, ['x']);
    assert.ok(bom.header.toString().startsWith('package q'));
    assert.equal(read(Buffer.from('package p\nimport "a\0"\n')).nul, true);
    assert.equal(read(Buffer.from('package p\nvar s = "\0"\n')).nul, false, 'a NUL after the imports is never read');
  });

  test('a file that ends after its package clause is read whole', () => {
    const h = read('package main');
    assert.equal(h.packageName, 'main');
    assert.equal(h.header.toString(), 'package main');
    assert.equal(h.syntaxError, false);
  });

  test('an unterminated block comment or string is a syntax error', () => {
    assert.equal(read('package p /* never closed').syntaxError, true);
    assert.equal(read('package p\nimport "abc\n"\n').syntaxError, true);
    assert.equal(read('packagex p\n').syntaxError, true);
  });
});

describe('embed patterns', () => {
  test('only //go:embed comments starting a line count, outside strings and comments', () => {
    const src = [
      'package p',
      'import "embed"',
      '//go:embed a.txt "b c.txt" `d.txt`',
      'var f embed.FS',
      '\t//go:embed\tindented/*',
      'var g embed.FS',
      'var s = "//go:embed notme"',
      'var r = `',
      '//go:embed notme/either',
      '`',
      '/*',
      '//go:embed nor/this',
      '*/',
      'x := 1 //go:embed nor/that',
      '//go:embedded not/a/directive',
      '//go:embed "bad\\q" skipped',
      "var c = '\"' //go:embed after/rune",
      '//go:embed last',
    ].join('\n');
    assert.deepEqual(findEmbedPatterns(Buffer.from(src)), ['a.txt', 'b c.txt', 'd.txt', 'indented/*', 'last']);
  });

  test('a NUL byte or an unterminated string stops the scan', () => {
    assert.deepEqual(findEmbedPatterns(Buffer.from('package p\n//go:embed one\n\0\n//go:embed two\n')), ['one']);
    assert.deepEqual(findEmbedPatterns(Buffer.from('package p\n//go:embed one\nvar s = "open\n//go:embed two\n')), ['one']);
  });

  test('parseEmbedLine takes words, Go strings and raw strings, and refuses what go refuses', () => {
    assert.deepEqual(parseEmbedLine('  a b\t"c d" `e f` \r'), ['a', 'b', 'c d', 'e f']);
    assert.equal(parseEmbedLine('"unterminated'), null);
    assert.equal(parseEmbedLine('`unterminated'), null);
    assert.equal(parseEmbedLine('"a"b'), null, 'a quoted pattern must be followed by space');
    assert.deepEqual(parseEmbedLine(''), []);
  });
});
