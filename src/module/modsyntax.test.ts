// Syntax-layer cases transcribed from golang.org/x/mod/modfile's read_test.go, and a bounded fuzz run of
// the whole go.mod/go.work stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../test/support/garbage.js';
import { isGodepotError } from '../errors.js';
import { formatGoMod, parseGoMod, parseGoModLax, type GoModFile } from './gomod.js';
import { formatGoWork, parseGoWork, type GoWorkFile } from './gowork.js';
import {
  cleanup,
  formatSyntax,
  goUnquote,
  GoModSyntaxError,
  newLine,
  noComments,
  parseSyntax,
  type Comments,
  type FileSyntax,
  type LineBlock,
} from './modsyntax.js';

// TestParsePunctuation: brackets and commas are tokens of their own even inside words.
const punctuationCases: [string, string, string][] = [
  ['paren', 'require ()', 'require ( )'],
  ['brackets', 'require []{},', 'require [ ] { } ,'],
  ['mix', 'require a[b]c{d}e,', 'require a [ b ] c { d } e ,'],
  ['block_mix', 'require (\n\ta[b]\n)', 'require ( a [ b ] )'],
  ['interval', 'require [v1.0.0, v1.1.0)', 'require [ v1.0.0 , v1.1.0 )'],
];

for (const [desc, src, want] of punctuationCases) {
  test(`punctuation: ${desc}`, () => {
    const tokens: string[] = [];
    for (const stmt of parseSyntax('go.mod', src).stmt) {
      assert.notEqual(stmt.kind, 'comments');
      if (stmt.kind === 'line') tokens.push(...stmt.token);
      if (stmt.kind === 'block') tokens.push(...stmt.token, '(', ...stmt.line.flatMap((l) => l.token), ')');
    }
    assert.equal(tokens.join(' '), want);
  });
}

test('quoted strings and words are separate tokens even without a space', () => {
  const stmt = parseSyntax('go.mod', 'module "a"b`c`\n').stmt[0];
  assert.equal(stmt?.kind, 'line');
  assert.deepEqual(stmt.kind === 'line' && stmt.token, ['module', '"a"', 'b`c`']);
});

// TestComments: where each comment lands.
function describeComments(f: FileSyntax): string {
  const out: string[] = [];
  const add = (prefix: string, c: Comments): void => {
    for (const x of c.before) out.push(`${prefix} before ${JSON.stringify(x.token)}`);
    for (const x of c.suffix) out.push(`${prefix} suffix ${JSON.stringify(x.token)}`);
    for (const x of c.after) out.push(`${prefix} after ${JSON.stringify(x.token)}`);
  };
  add('file', f.comments);
  for (const stmt of f.stmt) {
    if (stmt.kind === 'comments') add('comments', stmt.comments);
    if (stmt.kind === 'line') add('line', stmt.comments);
    if (stmt.kind === 'block') {
      add('block', stmt.comments);
      add('lparen', stmt.lparen.comments);
      for (const line of stmt.line) add('blockline', line.comments);
      add('rparen', stmt.rparen.comments);
    }
  }
  return out.join('\n');
}

const commentCases: [string, string, string][] = [
  ['comment_only', '\n// a\n// b\n', 'comments before "// a"\ncomments before "// b"'],
  [
    'line',
    '\n// a\n\n// b\nmodule m // c\n// d\n\n// e\n',
    'comments before "// a"\nline before "// b"\nline suffix "// c"\ncomments before "// d"\ncomments before "// e"',
  ],
  [
    'block',
    '\n// a\n\n// b\nblock ( // c\n\t// d\n\n\t// e\n\tx // f\n\t// g\n\n\t// h\n) // i\n// j\n\n// k\n',
    [
      'comments before "// a"',
      'block before "// b"',
      'lparen suffix "// c"',
      'blockline before "// d"',
      'blockline before ""',
      'blockline before "// e"',
      'blockline suffix "// f"',
      'rparen before "// g"',
      'rparen before ""',
      'rparen before "// h"',
      'rparen suffix "// i"',
      'comments before "// j"',
      'comments before "// k"',
    ].join('\n'),
  ],
  ['cr_removed', '// a\r\r\n', 'comments before "// a\\r"'],
];

for (const [desc, input, want] of commentCases) {
  test(`comments: ${desc}`, () => {
    assert.equal(describeComments(parseGoModLax('go.mod', input).syntax), want);
  });
}

test('the printer keeps one blank line where several were, and none at the top or end', () => {
  const f = parseSyntax('go.mod', '\n\n\nmodule m\n\n\n\nrequire (\n\n\ta v1.0.0\n\n\n\tb v1.0.0\n\n)\n\n\n');
  assert.equal(formatSyntax(f), 'module m\n\nrequire (\n\ta v1.0.0\n\n\tb v1.0.0\n)\n');
});

test('the printer indents comments inside blocks and trims comment text', () => {
  const f = parseSyntax('go.mod', 'require (   //  open  \n  // inside   \n a   v1.0.0   //   eol   \n  )\n');
  assert.equal(formatSyntax(f), 'require ( //  open\n\t// inside\n\ta v1.0.0 //   eol\n)\n');
});

// TestCleanup.
test('cleanup drops removed lines and collapses one-line blocks, keeping the line object', () => {
  const keep = newLine(['b', 'v1.0.0'], true);
  const removed = newLine([], true);
  const block: LineBlock = {
    kind: 'block',
    comments: noComments(),
    start: { line: 0, lineRune: 0, byte: 0 },
    lparen: { comments: noComments(), pos: { line: 0, lineRune: 0, byte: 0 } },
    token: ['require'],
    line: [keep, removed],
    rparen: { comments: noComments(), pos: { line: 0, lineRune: 0, byte: 0 } },
  };
  const f: FileSyntax = { name: 'go.mod', comments: noComments(), stmt: [newLine(['module', 'a'], false), block, newLine([], false)] };
  cleanup(f);
  assert.equal(f.stmt.length, 2);
  assert.equal(f.stmt[1], keep);
  assert.deepEqual(keep.token, ['require', 'b', 'v1.0.0']);
  assert.equal(formatSyntax(f), 'module a\n\nrequire b v1.0.0\n');
});

test('goUnquote follows strconv.Unquote', () => {
  assert.equal(goUnquote('"a\\tb\\x41\\101\\u00e9\\U0001F600\\"\\\\"'), 'a\tbAAé😀"\\');
  for (const bad of ['"\\q"', '"\\\'"', '"\\x4"', '"\\400"', '"\\ud800"', '"a', 'a"', '"a"b"']) {
    assert.equal(goUnquote(bad), null, bad);
  }
});

// --- Bounded fuzz -------------------------------------------------------------------------------


const validGoMod = [
  '// Deprecated: use other',
  'module "example.com/m"',
  '',
  'go 1.21.0',
  'toolchain go1.21.3',
  'godebug (',
  '\tpanicnil=1 // why',
  ')',
  'require (',
  '\texample.com/a v1.0.0',
  '\t"example.com/b/v2" "v2.1" // indirect',
  '',
  '\t// lone comment',
  ')',
  'exclude example.com/a v0.9.0',
  'replace example.com/a => ../a',
  'replace example.com/b/v2 v2.1.0 => "/tmp/my dir"',
  'retract [ "v1.1.0" , v1.2.0 ] // oops',
  'retract (',
  '\tv1.0.1',
  ')',
  'tool example.com/a/cmd/x',
  'use ./x',
  'block ( // eol',
  ')',
  'x ( ) y',
].join('\n');

const alphabet = ['a', 'v', '1', '.', '/', ' ', '\t', '\n', '\r', '(', ')', '[', ']', '{', '}', ',', '"', '`', "'", '\\', '=', '>', '@', '/', '*', 'é', '\u00a0', '\u0000'];
const words = ['module', 'go', 'toolchain', 'godebug', 'require', 'exclude', 'replace', 'retract', 'tool', 'ignore', 'use', '=>', '(', ')', '[', ']', ',', '//', 'x', 'example.com/m', 'v1.0.0', 'v2.0.0', '"v1.0.0"', '"a b"', '1.21', 'go1.21', 'k=v', '../d', '\n', '\n', '\t'];

function generate(rand: () => number): string | Uint8Array {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const n = Math.floor(rand() * 60);
  switch (Math.floor(rand() * 4)) {
    case 0:
      return Uint8Array.from({ length: n }, () => (rand() < 0.3 ? Math.floor(rand() * 256) : pick(alphabet).charCodeAt(0) & 0xff));
    case 1:
      return Array.from({ length: n }, () => pick(words)).join(rand() < 0.5 ? ' ' : '');
    case 2: {
      let s = validGoMod;
      for (let i = 0, edits = 1 + Math.floor(rand() * 4); i < edits; i++) {
        const at = Math.floor(rand() * (s.length + 1));
        const cut = Math.floor(rand() * 4);
        s = s.slice(0, at) + (rand() < 0.5 ? pick(alphabet) : pick(words)) + s.slice(at + cut);
      }
      return s;
    }
    default:
      return validGoMod.slice(0, Math.floor(rand() * (validGoMod.length + 1)));
  }
}

// Everything but positions and which node a comment hangs on, which a round trip may change.
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!['comments', 'start', 'end', 'pos'].includes(key)) out[key] = shape(v);
  }
  return out;
}

type Parsed = GoModFile | GoWorkFile;
const parsers: [string, (data: string | Uint8Array) => Parsed, (f: Parsed) => string][] = [
  ['parseGoMod', (d) => parseGoMod('go.mod', d), (f) => formatGoMod(f as GoModFile)],
  ['parseGoModLax', (d) => parseGoModLax('go.mod', d), (f) => formatGoMod(f as GoModFile)],
  ['parseGoWork', (d) => parseGoWork('go.work', d), (f) => formatGoWork(f as GoWorkFile)],
];

test('fuzz: parsers either succeed or throw a typed error, and what parses formats stably', () => {
  const rand = seededRandom(20240611);
  let parsed = 0;
  for (let i = 0; i < 3000; i++) {
    const input = generate(rand);
    const label = `input #${i}: ${JSON.stringify(typeof input === 'string' ? input : Array.from(input))}`;
    let syntax: FileSyntax | null = null;
    try {
      syntax = parseSyntax('go.mod', input);
    } catch (err) {
      assert.ok(err instanceof GoModSyntaxError, `parseSyntax threw ${String(err)} for ${label}`);
    }
    if (syntax !== null) {
      const text = formatSyntax(syntax);
      assert.equal(formatSyntax(parseSyntax('go.mod', text)), text, `syntax format is not stable for ${label}`);
    }
    for (const [name, parse, format] of parsers) {
      let f: Parsed;
      try {
        f = parse(input);
      } catch (err) {
        assert.ok(isGodepotError(err), `${name} threw untyped ${String(err)} for ${label}`);
        continue;
      }
      parsed++;
      const text = format(f);
      const again = parse(text);
      assert.equal(format(again), text, `${name}: format -> parse -> format changed ${label}`);
      assert.deepEqual(shape(again), shape(f), `${name}: format -> parse changed the file for ${label}`);
    }
  }
  // The generator must reach the interesting path, not only errors.
  assert.ok(parsed > 500, `only ${parsed} inputs parsed`);
});
