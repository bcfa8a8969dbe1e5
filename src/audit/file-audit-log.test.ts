import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashLine } from './audit-line.js';
import type { AuditEvent } from './audit.js';
import { AuditLogError } from './errors.js';
import { openAuditLog } from './file-audit-log.js';
import { verifyAuditLog } from './verify.js';

const event = (n: number, extra: Partial<AuditEvent> = {}): AuditEvent => ({ action: 'request.denied', actor: 'anonymous', from: '127.0.0.1', target: `/example.com/m${n}/@v/list`, outcome: 'unauthenticated', ...extra });

async function lines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'));
  return text.split('\n').slice(0, -1);
}

/** Runs `script` (an ES module body) in a new node process; `moduleUrl` is importable as `$MODULE`. */
function child(script: string, moduleUrl: string): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--input-type=module', '-e', script.replaceAll('$MODULE', JSON.stringify(moduleUrl))], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function exited(proc: ReturnType<typeof spawn>): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
  const [code] = (await once(proc, 'exit')) as [number | null];
  return code;
}

/** A pid that belonged to a process and no longer does. */
async function deadPid(): Promise<number> {
  const proc = spawn(process.execPath, ['-e', '']);
  await exited(proc);
  assert.ok(proc.pid !== undefined);
  return proc.pid;
}

describe('openAuditLog', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'godepot-audit-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('creates the folder and a 0600 file, and chains 1,000 events line by line from 64 zeros', async () => {
    const file = join(work, 'chain', 'sub', 'audit.log');
    const log = await openAuditLog(file);
    for (let i = 0; i < 1000; i++) await log.record(event(i, i === 0 ? { detail: { size: 12, h1: 'h1:abc=', private: true } } : {}));
    await log.close();
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const written = await lines(file);
    assert.equal(written.length, 1000);
    assert.match(written[0] as string, /^\{"seq":1,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","action":"request.denied","actor":"anonymous","from":"127.0.0.1","target":"\/example.com\/m0\/@v\/list","outcome":"unauthenticated","detail":\{"size":12,"h1":"h1:abc=","private":true\},"prev":"0{64}"\}$/);
    let prev = '0'.repeat(64);
    written.forEach((line, i) => {
      const entry = JSON.parse(line) as { seq: number; prev: string; target: string };
      assert.equal(entry.seq, i + 1);
      assert.equal(entry.prev, prev);
      assert.equal(entry.target, `/example.com/m${i}/@v/list`);
      prev = hashLine(line);
    });
    assert.deepEqual(await verifyAuditLog(file), { ok: true, lines: 1000, lastHash: prev });
  });

  it('has each event in the file by the time its record() resolves', async () => {
    const file = join(work, 'durable.log');
    const log = await openAuditLog(file);
    for (let i = 0; i < 20; i++) {
      await log.record(event(i));
      const written = await lines(file);
      assert.equal(written.length, i + 1);
      assert.equal((JSON.parse(written[i] as string) as { target: string }).target, event(i).target);
    }
    await log.close();
  });

  it('writes 1,000 concurrent record() calls in call order, in batches', async () => {
    const file = join(work, 'concurrent.log');
    const log = await openAuditLog(file);
    const settled: number[] = [];
    await Promise.all(Array.from({ length: 1000 }, (_, i) => log.record(event(i)).then(() => settled.push(i))));
    await log.close();
    assert.deepEqual(settled, Array.from({ length: 1000 }, (_, i) => i));
    assert.deepEqual((await lines(file)).map((line) => (JSON.parse(line) as { target: string }).target), Array.from({ length: 1000 }, (_, i) => event(i).target));
    assert.equal((await verifyAuditLog(file)).ok, true);
  });

  it('cuts long strings, keeps control characters escaped on one line and never lets a detail key change the prototype', async () => {
    const file = join(work, 'sanitised.log');
    const log = await openAuditLog(file);
    // Parsed, so that `__proto__` is an own key as it would be in a detail built from request data.
    const detail = JSON.parse('{"__proto__":"x","note":"a\\nb\\u0000c"}') as Record<string, string | number>;
    detail.n = Number.NaN;
    await log.record(event(0, { target: `/${'p'.repeat(5000)}\n"injected":1`, detail }));
    await log.close();
    const written = await lines(file);
    assert.equal(written.length, 1);
    const entry = JSON.parse(written[0] as string) as { target: string; detail: Record<string, unknown> };
    assert.equal(entry.target, `/${'p'.repeat(1023)}…[3990 more characters cut]`);
    assert.deepEqual(Object.entries(entry.detail), [['__proto__', 'x'], ['note', 'a\nb\u0000c'], ['n', 'NaN']]);
    assert.equal((await verifyAuditLog(file)).ok, true);
  });

  it('refuses record() after close()', async () => {
    const log = await openAuditLog(join(work, 'closed.log'));
    await log.close();
    await assert.rejects(log.record(event(0)), AuditLogError);
  });

  it('cuts off a line a crash left without its newline, and records what it removed', async () => {
    const file = join(work, 'torn.log');
    const log = await openAuditLog(file);
    for (let i = 0; i < 3; i++) await log.record(event(i));
    await log.close();
    const torn = '{"seq":4,"time":"2024-01-01T00:00:00.000Z","act';
    await appendFile(file, torn);
    assert.equal((await verifyAuditLog(file)).firstBad?.line, 4);

    const reopened = await openAuditLog(file);
    await reopened.record(event(3));
    await reopened.close();
    const written = await lines(file);
    assert.equal(written.length, 5);
    const repaired = JSON.parse(written[3] as string) as { seq: number; action: string; detail: Record<string, unknown> };
    assert.equal(repaired.seq, 4);
    assert.equal(repaired.action, 'audit.repaired');
    assert.deepEqual(repaired.detail, { removedBytes: Buffer.byteLength(torn), removedSha256: hashLine(torn), reason: 'a line left unfinished by a crash' });
    assert.equal((JSON.parse(written[4] as string) as { seq: number }).seq, 5);
    assert.equal((await verifyAuditLog(file)).ok, true);
  });

  it('repairs a file holding only a torn first line', async () => {
    const file = join(work, 'torn-only.log');
    await writeFile(file, '{"seq":1,"ti');
    const log = await openAuditLog(file);
    await log.close();
    const [line] = await lines(file);
    assert.match(line as string, /^\{"seq":1,.*"action":"audit.repaired".*"removedBytes":12,.*"prev":"0{64}"\}$/);
  });

  it('refuses to chain onto a complete last line that godepot did not write, naming the file', async () => {
    const file = join(work, 'corrupt.log');
    const log = await openAuditLog(file);
    await log.record(event(0));
    await log.close();
    await appendFile(file, 'garbage\n');
    const before = await readFile(file);
    await assert.rejects(openAuditLog(file), (err: unknown) => err instanceof AuditLogError && err.message.includes(file) && err.message.includes('not JSON'));
    assert.deepEqual(await readFile(file), before);
  });

  it('starts a new chain when the log was moved away (rotated) while open', async () => {
    const file = join(work, 'rotated.log');
    const log = await openAuditLog(file);
    await log.record(event(0));
    await log.record(event(1));
    await rename(file, `${file}.1`);
    await log.record(event(2));
    await log.close();
    assert.equal((await lines(`${file}.1`)).length, 2);
    const [line] = await lines(file);
    assert.match(line as string, /^\{"seq":1,.*"prev":"0{64}"\}$/);
  });

  it('keeps one chain when three processes append 200 events each at once', async () => {
    const file = join(work, 'shared.log');
    const script = `
      const { openAuditLog } = await import($MODULE);
      const log = await openAuditLog(${JSON.stringify(file)});
      for (let i = 0; i < 200; i++) {
        const pending = log.record({ action: 'publish', actor: 'p' + process.pid, from: 'cli', target: String(i), outcome: 'ok' });
        // Half awaited one by one, half in bursts, so appends both alternate and batch.
        if (i < 100 || i % 10 === 9) await pending;
      }
      await log.close();`;
    const url = new URL('./file-audit-log.js', import.meta.url).href;
    const procs = [child(script, url), child(script, url), child(script, url)];
    assert.deepEqual(await Promise.all(procs.map(exited)), [0, 0, 0]);
    const report = await verifyAuditLog(file);
    assert.equal(report.ok, true, report.firstBad?.problem);
    assert.equal(report.lines, 600);
    // Each process's events are in its own call order.
    const byActor = new Map<string, string[]>();
    for (const line of await lines(file)) {
      const { actor, target } = JSON.parse(line) as { actor: string; target: string };
      byActor.set(actor, [...(byActor.get(actor) ?? []), target]);
    }
    assert.equal(byActor.size, 3);
    for (const targets of byActor.values()) assert.deepEqual(targets, Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it('takes over a lock left by a dead process, and waits for a live one', async () => {
    const file = join(work, 'locked.log');
    const lock = `${file}.lock`;
    await writeFile(lock, JSON.stringify({ pid: await deadPid(), host: hostname(), time: new Date().toISOString(), token: 'x' }));
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const log = await openAuditLog(file);
    await log.record(event(0));
    await log.close();
    await assert.rejects(stat(lock), { code: 'ENOENT' });

    // A lock this process holds (it is alive) is never taken over, however old.
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString(), token: 'y' }));
    await utimes(lock, old, old);
    await assert.rejects(openAuditLog(file, { lockTimeoutMs: 300 }), (err: unknown) => err instanceof AuditLogError && err.message.includes(`pid ${process.pid}`));
    await rm(lock);
  });

  it('recovers the lock of a process killed (SIGKILL) while holding it', async () => {
    const file = join(work, 'killed.log');
    const lock = `${file}.lock`;
    const log = await openAuditLog(file, { staleLockMs: 200, lockTimeoutMs: 10_000 });
    await log.record(event(0));
    const holder = child(
      `const { acquireLockFile } = await import($MODULE);
       await acquireLockFile(${JSON.stringify(lock)}, { timeoutMs: 5000, staleMs: 5000 });
       process.stdout.write('locked\\n');
       setInterval(() => {}, 1000);`,
      new URL('../lock/lock-file.js', import.meta.url).href,
    );
    assert.ok(holder.stdout !== null);
    await once(holder.stdout, 'data');
    holder.kill('SIGKILL');
    await exited(holder);
    assert.match(await readFile(lock, 'utf8'), new RegExp(`"pid":${holder.pid}`));
    await log.record(event(1));
    await log.close();
    assert.deepEqual(await verifyAuditLog(file), { ok: true, lines: 2, lastHash: hashLine((await lines(file))[1] as string) });
  });
});
