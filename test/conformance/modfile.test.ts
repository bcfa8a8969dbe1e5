// The golang.org/x/mod modfile printer vectors (README section 6), read in place: each .golden must be a
// fixed point of parse+format, each .in must format to its .golden (through the strict parse when that
// succeeds), and parse -> format -> parse must give the same tree.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatGoMod, parseGoMod, type GoModFile } from '../../src/module/gomod.js';
import { formatGoWork, parseGoWork, type GoWorkFile } from '../../src/module/gowork.js';
import { formatSyntax, parseSyntax } from '../../src/module/modsyntax.js';
import { conformanceDir } from '../support/conformance.js';

// The strict go.mod parse is expected to fail only on these, which repeat `module` or use made-up verbs.
const syntaxOnly = new Set(['block.golden', 'block.in', 'comment.golden', 'comment.in', 'rule1.golden']);

/** The tree without positions and comment attachment, which the round trip may legitimately change. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (['comments', 'start', 'end', 'pos'].includes(key)) continue;
    out[key] = shape(v);
  }
  return out;
}

function checkVector(dir: string, name: string, work: boolean): void {
  const path = join(dir, name);
  const data = readFileSync(path, 'utf8');
  const base = `testdata/${work ? 'work/' : ''}${name}`;

  // 1. A golden file is a fixed point of the syntax parser and printer.
  const syntax = parseSyntax(base, data);
  const ndata = formatSyntax(syntax);
  if (name.endsWith('.golden')) assert.equal(ndata, data, `${base} is not a fixed point`);

  // 3. parse -> format -> parse gives the same syntax tree.
  assert.deepEqual(shape(parseSyntax(base, ndata)), shape(syntax), `${base}: syntax changed across a round trip`);

  // 2. The strict parse (when it succeeds) rewrites tokens; its output must be the golden text.
  const expectFailure = !work && syntaxOnly.has(name);
  let out = ndata;
  let strict: GoModFile | GoWorkFile | null = null;
  try {
    strict = work ? parseGoWork(base, data) : parseGoMod(base, data);
  } catch (err) {
    if (!expectFailure) throw err;
  }
  if (strict !== null) {
    assert.ok(!expectFailure, `${base} should not parse strictly`);
    out = work ? formatGoWork(strict as GoWorkFile) : formatGoMod(strict as GoModFile);
    const again = work ? parseGoWork(base, out) : parseGoMod(base, out);
    assert.deepEqual(shape(again), shape(strict), `${base}: parsed file changed across a round trip`);
    assert.deepEqual(
      shape(work ? parseGoWork(base, ndata) : parseGoMod(base, ndata)),
      shape(strict),
      `${base}: syntax formatting changed the parsed file`,
    );
  }
  if (name.endsWith('.in')) {
    const golden = readFileSync(join(dir, name.replace(/\.in$/, '.golden')), 'utf8');
    assert.equal(out, golden, `${base} does not format to its golden file`);
  }
}

const root = conformanceDir();
if (root === null) {
  test('golang.org/x/mod modfile vectors', { skip: 'conformance vectors absent: see test/support/conformance.ts' }, () => {});
} else {
  for (const [sub, work] of [['modfile/testdata', false], ['modfile/testdata/work', true]] as const) {
    const dir = join(root, sub);
    const names = readdirSync(dir).filter((n) => n.endsWith('.in') || n.endsWith('.golden')).sort();
    for (const name of names) {
      test(`x/mod ${sub}/${name}`, () => checkVector(dir, name, work));
    }
  }
}
