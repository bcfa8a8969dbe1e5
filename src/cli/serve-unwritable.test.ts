// A storage folder godepot may not write, as an operator meets it: at start, and when its permissions
// change under a running server. Every message names the user godepot runs as, the folder it needs
// write access to, and a command that gives it; the go client is told only that storing fails.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, chown, copyFile, cp, link, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { godepotBin } from '../../test/support/cli.js';
import { addModule, type ProxyEntry } from '../../test/support/modgraph.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';

// As root every mode is writable: godepot runs as nobody then, as a service user would.
const root = process.getuid?.() === 0;
const runAs = root ? { uid: 65534, gid: 65534 } : {};
const user = root ? { name: 'nobody', uid: 65534 } : { name: userInfo().username, uid: process.getuid!() };
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GODEPOT_') && !name.startsWith('GO')));

let work: string;
let upstream: Upstream;
let small: ProxyEntry;
/** Node.js and godepot's main.js as the godepot user can run them. */
let program = { node: process.execPath, bin: godepotBin };

/** Whether the godepot user may read `file` (every folder on its path entered). */
function reachable(file: string): boolean {
  return spawnSync(process.execPath, ['-e', 'require("node:fs").accessSync(process.argv[1])', file], { ...runAs, stdio: 'ignore' }).status === 0;
}

/**
 * Where the checkout or Node.js sits in a folder only root may enter (a CI clone under /root, Node.js
 * unpacked in a mktemp -d), nobody cannot run them: a copy in the test's own folder then (the
 * compiled program with the dependencies beside it, and a link to Node.js or, across file systems, a copy).
 */
async function runnableProgram(): Promise<typeof program> {
  let { node, bin } = program;
  if (!reachable(node)) {
    node = join(work, 'node');
    await link(process.execPath, node).catch(() => copyFile(process.execPath, node));
  }
  if (!reachable(bin)) {
    const checkout = dirname(dirname(dirname(dirname(godepotBin))));
    const app = join(work, 'app');
    for (const part of ['package.json', 'node_modules', join('dist', 'src')]) await cp(join(checkout, part), join(app, part), { recursive: true });
    bin = join(app, 'dist', 'src', 'cli', 'main.js');
  }
  return { node, bin };
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-unwritable-'));
  // nobody must reach what it is given.
  await chmod(work, 0o755);
  if (root) program = await runnableProgram();
  small = await addModule(join(work, 'tree'), join(work, 'src'), 'example.com/small', 'v1.0.0', { 's.go': 'package small\n' });
  upstream = await startUpstream({ root: join(work, 'tree') });
});
after(async () => {
  await upstream?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** A folder the godepot user owns and may write. */
async function ownFolder(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { mode: 0o755 });
  if (root) await chown(dir, user.uid, user.uid);
  return dir;
}

/** Takes write access to `dir` and every folder in it from the godepot user. */
async function takeAway(dir: string): Promise<void> {
  const inside = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name));
  for (const folder of [dir, ...inside]) {
    if (root) await chown(folder, 0, 0);
    await chmod(folder, 0o555);
  }
}

function serveArgs(storage: string, state: string): string[] {
  return [program.bin, 'serve', '--listen', '127.0.0.1:0', '--storage', storage, '--state-dir', state, '--upstream', upstream.url, '--sumdb', 'off'];
}

async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await done()); i++) await sleep(10);
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    })
      .on('error', reject)
      .end();
  });
}

test('serve refuses to start on a storage folder it cannot make, naming the user and the folder that needs write access', async () => {
  const parent = join(work, 'locked');
  await mkdir(parent, { mode: 0o755 });
  await takeAway(parent);
  const storage = join(parent, 'storage');
  const child = spawn(program.node, serveArgs(storage, await ownFolder('state-start')), { env, ...runAs, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 1);
  assert.equal(
    stderr,
    `godepot: storage: folder ${storage} cannot be used: EACCES: permission denied, mkdir '${storage}'; ` +
      `godepot runs as user ${user.name} (uid ${user.uid}), which needs write access to ${parent} (to make ${storage} there): ` +
      `e.g. chown -R ${user.name} ${parent}, or run godepot as the user that owns it\n`,
  );
});

test('a storage folder that stops being writable: 503 for what must be stored, the fix in the log and in /readyz, stored modules still served', async () => {
  const storage = await ownFolder('storage-runtime');
  const child = spawn(program.node, serveArgs(storage, await ownFolder('state-runtime')), { env, ...runAs, stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => void (child.exitCode === null && child.kill('SIGKILL')));
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'listening') resolve(String(entry.url));
    });
    // A server that never starts fails the test, not hangs it.
    child.once('close', (code) => reject(new Error(`godepot serve exited (${String(code)}) before listening: ${stderr}`)));
  });
  // Stored while it could be (behind the answer: waited for).
  assert.equal((await get(`${url}${small.urls.mod}`)).status, 200);
  await until(() => stat(join(storage, small.urls.mod)).then(() => true, () => false));
  await takeAway(storage);

  const refused = await get(`${url}${small.urls.zip}`);
  assert.equal(refused.status, 503, JSON.stringify(logs.slice(-2)));
  assert.equal(refused.body, 'service unavailable: storage cannot be written, so new modules cannot be stored now (the server log says why)\n');
  const fix = `godepot runs as user ${user.name} (uid ${user.uid}), which needs write access to ${storage}: e.g. chown -R ${user.name} ${storage}, or run godepot as the user that owns it`;
  // The request's line is written once it is answered.
  await until(async () => logs.some((l) => l.msg === 'request' && l.status === 503));
  const line = logs.find((l) => l.msg === 'request' && l.status === 503)!;
  assert.match(String(line.error), /^storage .* cannot be written \(EACCES: /);
  assert.ok(String(line.error).endsWith(`: ${fix}`), String(line.error));

  // A .info is answered before it is stored: the failed store behind it is logged with the fix, no stack.
  assert.equal((await get(`${url}${small.urls.info}`)).status, 200);
  await until(async () => logs.some((l) => l.msg === 'could not store an answered file; it is fetched again when asked for'));
  const behind = logs.find((l) => l.msg === 'could not store an answered file; it is fetched again when asked for')!;
  assert.ok(String(behind.reason).endsWith(`: ${fix}`), JSON.stringify(behind));
  assert.ok(logs.every((l) => l.err === undefined), JSON.stringify(logs));

  const ready = await get(`${url}/readyz`);
  assert.equal(ready.status, 503);
  assert.ok(ready.body.includes(`is not writable (EACCES: `) && ready.body.includes(fix), ready.body);
  // What it holds is still served.
  assert.equal((await get(`${url}${small.urls.mod}`)).status, 200);
  child.kill('SIGTERM');
});
