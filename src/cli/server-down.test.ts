// Every command that talks to a running godepot (--server) says so plainly when nothing answers there,
// instead of a stack trace of Node's connection error.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeGoModBundle } from '../../test/support/bundles.js';
import { runGodepot } from '../../test/support/cli.js';

// A port nothing listens on: below 1024, where no test binds, and never handed out as an ephemeral port.
const server = '127.0.0.1:1';
let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-cli-server-down-'));
});
after(() => rm(work, { recursive: true, force: true }));

test('publish, bundle import and the storage commands with --server: a server that is not running is named, exit 1, no stack', async () => {
  const module = join(work, 'module');
  await mkdir(module);
  await writeFile(join(module, 'go.mod'), 'module example.com/down\n\ngo 1.19\n');
  await writeFile(join(module, 'down.go'), 'package down\n');
  const bundle = join(work, 'deps.tar.gz');
  await writeGoModBundle(bundle, 2);
  const url = `http://${server}`;
  const commands = [
    ['publish', module, '--version', 'v1.0.0'],
    ['bundle', 'import', bundle],
    ['storage', 'ls'],
    ['storage', 'du'],
    ['storage', 'rm', 'example.com/down@v1.0.0'],
    ['storage', 'gc', '--unused-for', '30'],
  ];
  for (const args of commands) {
    const result = await runGodepot([...args, '--server', url], { env: { GODEPOT_TOKEN: 'secret-admin-token', GODEPOT_IMPORT_TOKEN: 'secret-admin-token' } });
    const what = `godepot ${args.join(' ')}`;
    assert.equal(result.code, 1, `${what}: ${result.stderr}`);
    assert.ok(result.stderr.endsWith(`godepot: ${url} cannot be reached: connection refused: is godepot serve running, listening on ${server}?\n`), `${what}: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /\n\s+at |ECONNREFUSED|secret-admin-token/, what);
  }
});

test('mirror --from a server that is not running: named as the --server commands name it, exit 1, no stack, no token', async () => {
  const url = `http://${server}`;
  const result = await runGodepot(['mirror', '--from', url, '--storage', join(work, 'mirror'), '--token', 'secret-follow-token']);
  assert.equal(result.code, 1, result.stderr);
  assert.ok(result.stderr.endsWith(`godepot: ${url} cannot be reached: connection refused: is godepot serve running, listening on ${server}?\n`), result.stderr);
  // Above it, the retry it made and the warning that the server is down, which show the connection's own error.
  assert.doesNotMatch(result.stderr, /\n\s+at |secret-follow-token/);
  assert.equal(result.stdout, '');
});
