import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Command } from 'commander';
import { writeTree } from '../../test/support/git.js';
import { addModule, type ProxyEntry } from '../../test/support/modgraph.js';
import { compareCommand, fingerprintCommand, type CommandStreams } from './fingerprint.js';

let work: string;
let tree: string;
let mod: ProxyEntry;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the commands in this process, as main() would, and collects what it wrote and its exit code. */
async function run(make: (streams: CommandStreams) => Command, args: string[]): Promise<Run> {
  const out = { stdout: '', stderr: '' };
  const command = make({ stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } });
  command.exitOverride();
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await command.parseAsync(args, { from: 'user' });
    return { code: Number(process.exitCode ?? 0), ...out };
  } finally {
    process.exitCode = saved;
  }
}

const sumLine = (e: ProxyEntry): string => `${e.modulePath} ${e.version} ${e.zipH1}`;
const modLine = (e: ProxyEntry): string => `${e.modulePath} ${e.version}/go.mod ${e.modH1}`;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-cli-fingerprint-'));
  tree = join(work, 'goproxy');
  mod = await addModule(tree, work, 'example.com/dep', 'v1.0.0', { 'go.mod': 'module example.com/dep\n', 'dep.go': 'package dep\n' });
  await addModule(tree, work, 'example.com/dep', 'v1.1.0', { 'go.mod': 'module example.com/dep\n', 'dep.go': 'package dep // newer\n' });
  await writeTree(join(work, 'app'), { 'go.mod': 'module example.com/app\n', 'go.sum': `${modLine(mod)}\n${sumLine(mod)}\n` });
  await writeTree(join(work, 'copy'), { 'go.mod': 'module example.com/app\n', 'go.sum': `${sumLine(mod)}\n\n${modLine(mod)}\n${modLine(mod)}\n` });
  const tampered = sumLine(mod).replace(/h1:./, (h) => (h === 'h1:A' ? 'h1:B' : 'h1:A'));
  await writeTree(join(work, 'tampered'), { 'go.mod': 'module example.com/app\n', 'go.sum': `${modLine(mod)}\n${tampered}\n` });
});

after(() => rm(work, { recursive: true, force: true }));

test('fingerprint prints the digest with the counts and the source, SOURCE defaulting to the working folder', async () => {
  const result = await run(fingerprintCommand, [join(work, 'app')]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^sha256:[0-9a-f]{64} {2}1 module, 1 version, 2 entries \(project .*\/app\)\n$/);
  const here = process.cwd();
  process.chdir(join(work, 'copy'));
  try {
    const fromCwd = await run(fingerprintCommand, []);
    assert.equal(fromCwd.stdout.split(' ')[0], result.stdout.split(' ')[0], 'same lines in another order, spacing and count: same digest');
  } finally {
    process.chdir(here);
  }
  const tampered = await run(fingerprintCommand, [join(work, 'tampered')]);
  assert.notEqual(tampered.stdout.split(' ')[0], result.stdout.split(' ')[0]);
});

test('fingerprint --canonical prints the hashed text and --json every entry', async () => {
  const canonical = await run(fingerprintCommand, ['--canonical', join(work, 'app')]);
  assert.equal(canonical.stdout, `${sumLine(mod)}\n${modLine(mod)}\n`);
  const json = JSON.parse((await run(fingerprintCommand, ['--json', join(work, 'app')])).stdout) as Record<string, unknown>;
  const text = await run(fingerprintCommand, [join(work, 'app')]);
  assert.equal(json.fingerprint, text.stdout.split(' ')[0]);
  assert.deepEqual(json.source, { kind: 'project', location: join(work, 'app') });
  assert.equal(json.modules, 1);
  assert.deepEqual(json.entries, [
    { path: 'example.com/dep', version: 'v1.0.0', file: 'zip', hash: mod.zipH1 },
    { path: 'example.com/dep', version: 'v1.0.0', file: 'go.mod', hash: mod.modH1 },
  ]);
});

test("fingerprint --for a project gives the project's digest for a store that holds it, and another for one that does not", async () => {
  const project = (await run(fingerprintCommand, [join(work, 'app')])).stdout.split(' ')[0];
  const whole = await run(fingerprintCommand, [tree]);
  assert.notEqual(whole.stdout.split(' ')[0], project, 'the tree holds v1.1.0 too');
  const restricted = await run(fingerprintCommand, [tree, '--for', join(work, 'app')]);
  assert.equal(restricted.stdout.split(' ')[0], project);
  assert.match(restricted.stdout, /, for project .*\/app\n$/);
  const tampered = await run(fingerprintCommand, [tree, '--for', join(work, 'tampered')]);
  assert.notEqual(tampered.stdout.split(' ')[0], (await run(fingerprintCommand, [join(work, 'tampered')])).stdout.split(' ')[0]);
});

test('compare: the same module set exits 0 and says identical', async () => {
  const result = await run(compareCommand, [join(work, 'app'), join(work, 'copy')]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /\nidentical\n$/);
});

test('compare: the same version with another hash is reported first and loudly, with both hashes, exit 1', async () => {
  const result = await run(compareCommand, [join(work, 'app'), join(work, 'tampered')]);
  assert.equal(result.code, 1);
  const lines = result.stdout.split('\n');
  assert.match(lines[3]!, /^SAME VERSION, DIFFERENT CONTENT \(1\)/);
  assert.equal(lines[5], '  example.com/dep v1.0.0 (files)');
  assert.equal(lines[6], `    A: ${mod.zipH1}`);
  assert.notEqual(lines[7], `    B: ${mod.zipH1}`);
  assert.match(result.stdout, /\ndiffer: 1 hash mismatch\n$/);
});

test('compare a project with a store: the store must hold every go.sum line; --exact wants equal sets', async () => {
  const covered = await run(compareCommand, [join(work, 'app'), tree]);
  assert.equal(covered.code, 0, covered.stdout);
  assert.match(covered.stdout, /B also holds 2 entries A's go.sum does not list \(--exact lists them\)\nB covers every go.sum line of A\n$/);
  const swapped = await run(compareCommand, [tree, join(work, 'app')]);
  assert.equal(swapped.code, 0);
  assert.match(swapped.stdout, /A covers every go.sum line of B\n$/);
  const exact = await run(compareCommand, ['--exact', join(work, 'app'), tree]);
  assert.equal(exact.code, 1);
  assert.match(exact.stdout, /different versions \(1\):\n {2}example\.com\/dep {2}A: v1\.0\.0 {2}B: v1\.0\.0, v1\.1\.0\n/);
  const tampered = await run(compareCommand, [join(work, 'tampered'), tree]);
  assert.equal(tampered.code, 1);
  assert.match(tampered.stdout, /SAME VERSION, DIFFERENT CONTENT/);
  assert.match(tampered.stdout, new RegExp(`go.sum lines of A that B does not hold \\(1\\):\\n {2}example\\.com/dep v1\\.0\\.0 h1:\\S+\\n {6}B has ${mod.zipH1.replace(/[+/]/g, '\\$&')}\\n`));
  assert.match(tampered.stdout, /B does not cover A: 1 of A's 2 go.sum lines missing or different\n$/);
});

test('compare --json carries the mode, the verdict and every finding', async () => {
  const result = await run(compareCommand, ['--json', join(work, 'tampered'), tree]);
  assert.equal(result.code, 1);
  const json = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(json.mode, 'coverage');
  assert.equal(json.checksums, 'a');
  assert.equal(json.same, false);
  assert.deepEqual((json.hashMismatches as Array<{ b: string[] }>)[0]!.b, [mod.zipH1]);
  assert.deepEqual((json.uncovered as Array<{ version: string; file: string }>).map((e) => `${e.version} ${e.file}`), ['v1.0.0 zip']);
  assert.deepEqual((json.a as { kind: string }).kind, 'project');
  assert.deepEqual((json.b as { kind: string; modules: number }).modules, 1);
});

test('compare exits 2 and names the source it could not read', async () => {
  const result = await run(compareCommand, [join(work, 'app'), join(work, 'missing')]);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, `godepot: ${join(work, 'missing')}: no such file or directory\n`);
});
