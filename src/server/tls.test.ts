import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTestCa, type IssuedCertificate } from '../../test/support/tls.js';
import { createLogger } from '../telemetry/logger.js';
import { CertificateWatcher, loadCertificate, type CertificateFiles, type CertificatePair } from './tls.js';

let root: string;
let first: IssuedCertificate;
let second: IssuedCertificate;
let third: IssuedCertificate;
// From another CA: a renewal may change the issuer too.
let otherCa: IssuedCertificate;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'godepot-tls-'));
  const ca = await makeTestCa(root);
  first = await ca.issue('first', ['127.0.0.1']);
  second = await ca.issue('second', ['127.0.0.1']);
  third = await ca.issue('third', ['127.0.0.1']);
  otherCa = await (await makeTestCa(root, 'other-ca')).issue('other', ['localhost']);
});
after(() => rm(root, { recursive: true, force: true }));

type LogLine = Record<string, unknown>;

/** A folder holding `cert.pem` and `key.pem` (copies of `issued`) and a watcher on them that records what it applies and logs. */
async function watched(issued: IssuedCertificate, options: { pollMs?: number; settleMs?: number; layout?: (dir: string) => Promise<CertificateFiles> } = {}) {
  const dir = await mkdtemp(join(root, 'watched-'));
  const files = options.layout === undefined ? { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') } : await options.layout(dir);
  if (options.layout === undefined) await put(files, issued);
  const applied: string[] = [];
  const logs: LogLine[] = [];
  const { logger } = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } });
  const watcher = new CertificateWatcher({
    files,
    loaded: await loadCertificate(files),
    apply: (pair: CertificatePair) => void applied.push(new X509Certificate(pair.cert).serialNumber),
    logger,
    settleMs: options.settleMs ?? 50,
    pollMs: options.pollMs ?? 60_000,
  });
  return {
    dir,
    files,
    applied,
    logs,
    watcher,
    /** Waits until `count` pairs have been applied (or fails after 5 s). */
    async appliedCount(count: number): Promise<string[]> {
      for (let i = 0; i < 500 && applied.length < count; i++) await sleep(10);
      assert.equal(applied.length, count, `applied: ${applied.join(', ')}; logs: ${JSON.stringify(logs)}`);
      return applied;
    },
    messages: () => logs.map((l) => l.msg),
  };
}

async function put(files: CertificateFiles, issued: IssuedCertificate): Promise<void> {
  await writeFile(files.certFile, issued.cert);
  await writeFile(files.keyFile, issued.key);
}

test('loadCertificate: a chain file is served whole, and the log names its first certificate', async () => {
  const chainFile = join(root, 'chain.pem');
  await writeFile(chainFile, first.cert + (await readFile(join(root, 'ca.pem'), 'utf8')));
  const loaded = await loadCertificate({ certFile: chainFile, keyFile: first.keyFile });
  assert.equal(loaded.serialNumber, first.serialNumber);
  assert.equal(loaded.subject, 'CN=127.0.0.1');
  assert.equal(loaded.cert.toString(), await readFile(chainFile, 'utf8'));
});

test('files rewritten in place, renamed over, or from another CA: each new pair is applied once and logged', async (t) => {
  const w = await watched(first);
  t.after(() => w.watcher.close());
  await put(w.files, second);
  assert.deepEqual(await w.appliedCount(1), [second.serialNumber]);
  // As most tools renew: the new file written beside, then renamed over the old one.
  await writeFile(join(w.dir, 'cert.pem.new'), third.cert);
  await writeFile(join(w.dir, 'key.pem.new'), third.key);
  await rename(join(w.dir, 'key.pem.new'), w.files.keyFile);
  await rename(join(w.dir, 'cert.pem.new'), w.files.certFile);
  assert.deepEqual(await w.appliedCount(2), [second.serialNumber, third.serialNumber]);
  await put(w.files, otherCa);
  assert.deepEqual(await w.appliedCount(3), [second.serialNumber, third.serialNumber, otherCa.serialNumber]);
  const reloaded = w.logs.filter((l) => l.msg === 'certificate reloaded');
  assert.deepEqual(reloaded.map((l) => [l.reason, l.serialNumber]), [['changed', second.serialNumber], ['changed', third.serialNumber], ['changed', otherCa.serialNumber]]);
  assert.equal(reloaded[2]!.subject, 'CN=localhost');
});

test('a Kubernetes secret: files reached through a ..data link that is swapped to a new folder', async (t) => {
  const w = await watched(first, {
    layout: async (dir) => {
      await mkdir(join(dir, 'v1'));
      await writeFile(join(dir, 'v1', 'tls.crt'), first.cert);
      await writeFile(join(dir, 'v1', 'tls.key'), first.key);
      await symlink('v1', join(dir, '..data'));
      await symlink('..data/tls.crt', join(dir, 'tls.crt'));
      await symlink('..data/tls.key', join(dir, 'tls.key'));
      return { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
    },
  });
  t.after(() => w.watcher.close());
  await mkdir(join(w.dir, 'v2'));
  await writeFile(join(w.dir, 'v2', 'tls.crt'), second.cert);
  await writeFile(join(w.dir, 'v2', 'tls.key'), second.key);
  await symlink('v2', join(w.dir, '..data_tmp'));
  await rename(join(w.dir, '..data_tmp'), join(w.dir, '..data'));
  assert.deepEqual(await w.appliedCount(1), [second.serialNumber]);
});

test('a bad replacement keeps the pair in use and is logged once; the next good pair is applied', async (t) => {
  const w = await watched(first, { pollMs: 50 });
  t.after(() => w.watcher.close());
  await writeFile(w.files.keyFile, 'garbage\n');
  for (let i = 0; i < 100 && !w.messages().includes('certificate not reloaded: still serving the previous one'); i++) await sleep(10);
  // Several polls later, the same bad files are not read (nor logged) again.
  await sleep(300);
  const failures = w.logs.filter((l) => l.msg === 'certificate not reloaded: still serving the previous one');
  assert.equal(failures.length, 1, JSON.stringify(w.logs));
  assert.equal(failures[0]!.level, 50, 'logged as an error');
  assert.match(String(failures[0]!.error), /key\.pem is not an unencrypted PEM private key/);
  assert.deepEqual(w.applied, []);
  // A key that is not the certificate's.
  await writeFile(w.files.keyFile, second.key);
  for (let i = 0; i < 100 && w.logs.filter((l) => l.level === 50).length < 2; i++) await sleep(10);
  assert.match(String(w.logs.filter((l) => l.level === 50)[1]?.error), /key\.pem is not the private key of the certificate in .*cert\.pem/);
  assert.deepEqual(w.applied, []);
  await writeFile(w.files.certFile, second.cert);
  assert.deepEqual(await w.appliedCount(1), [second.serialNumber]);
});

test('reload(): reads the files whether they changed or not; false when they do not load', async (t) => {
  const w = await watched(first);
  t.after(() => w.watcher.close());
  assert.equal(await w.watcher.reload('SIGHUP'), true);
  assert.deepEqual(w.applied, [first.serialNumber]);
  assert.equal(w.logs.find((l) => l.msg === 'certificate reloaded')?.reason, 'SIGHUP');
  await unlink(w.files.certFile);
  assert.equal(await w.watcher.reload('SIGHUP'), false);
  assert.match(String(w.logs.at(-1)?.error), /cannot read .*cert\.pem: ENOENT/);
  assert.deepEqual(w.applied, [first.serialNumber]);
});

test('the periodic look finds changes fs.watch did not report', async (t) => {
  // Events never settle within the test: only the periodic look can see the change.
  const w = await watched(first, { settleMs: 3_600_000, pollMs: 50 });
  t.after(() => w.watcher.close());
  await put(w.files, second);
  assert.deepEqual(await w.appliedCount(1), [second.serialNumber]);
});

test('close(): changes are no longer applied', async () => {
  const w = await watched(first, { pollMs: 20 });
  w.watcher.close();
  await put(w.files, second);
  await sleep(300);
  assert.deepEqual(w.applied, []);
});
