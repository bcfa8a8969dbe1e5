// What every godepot command does before its own work, as a user at a shell sees it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { godepotBin, runGodepot } from '../../test/support/cli.js';

test('a mistyped GODEPOT_ variable stops every command, naming it and the setting meant', async () => {
  for (const args of [['serve'], ['token', 'list'], ['fingerprint', '.'], ['--version']]) {
    const result = await runGodepot(args, { env: { GODEPOT_LIST_TLL: '0' } });
    assert.equal(result.code, 1, args.join(' '));
    assert.equal(result.stderr, 'godepot: GODEPOT_LIST_TLL: unknown setting (did you mean GODEPOT_LIST_TTL?)\n', args.join(' '));
    assert.equal(result.stdout, '');
  }
});

test('bare godepot prints the help on stdout and exits 0, as godepot --help does', async () => {
  const bare = await runGodepot([]);
  const help = await runGodepot(['--help']);
  assert.equal(bare.code, 0);
  assert.equal(bare.stderr, '');
  assert.match(bare.stdout, /^Usage: godepot /);
  assert.equal(bare.stdout, help.stdout);
});

// The subcommands a help text lists under "Commands:", but help itself.
function subcommands(help: string): string[] {
  const section = /\nCommands:\n((?: {2}.*\n?)+)/.exec(help)?.[1] ?? '';
  return section
    .split('\n')
    .map((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

test('the --help of every command has examples, and writes every default one way: (default: X)', async () => {
  const seen: string[] = [];
  const visit = async (path: string[]): Promise<void> => {
    const { code, stdout } = await runGodepot([...path, '--help']);
    const name = ['godepot', ...path].join(' ');
    seen.push(name);
    assert.equal(code, 0, name);
    assert.match(stdout, /\nExamples:\n {2}\S/, `${name} --help has examples`);
    // Examples run the command they document.
    for (const line of stdout.split('\nExamples:\n')[1]!.split('\n').filter((l) => /^ {2}\S/.test(l))) {
      assert.ok(line.includes(`godepot ${path.join(' ')}`.trimEnd()), `${name}: ${line}`);
    }
    assert.doesNotMatch(stdout, /\(default [^:]|default \$|\(default: "/, `${name}: a default not written as (default: X)`);
    for (const sub of subcommands(stdout)) await visit([...path, sub]);
  };
  await visit([]);
  for (const name of ['godepot serve', 'godepot bundle create', 'godepot sumdb key generate', 'godepot token revoke', 'godepot compare']) assert.ok(seen.includes(name), name);
});

test('output into a pipe its reader has closed (godepot --help | head) ends quietly, exit 0, no stack', async () => {
  for (const args of [['--help'], ['bundle', 'list', '--help'], ['storage', 'gc', '--help']]) {
    const child = spawn(process.execPath, [godepotBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before godepot writes a byte: every write it makes meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(stderr, '', args.join(' '));
    assert.equal(code, 0, args.join(' '));
  }
});
