import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { writeTree } from '../../test/support/git.js';
import { ChecksumDatabase } from '../checksum/database.js';
import { generateKey } from '../checksum/note.js';
import { ForbiddenError } from '../errors.js';
import { hashGoMod, hashZip } from '../module/hash.js';
import { createZipFromDir, MAX_ZIP_FILE } from '../module/zip.js';
import { DiskStorage } from '../storage/disk.js';
import { removeVersion } from '../store/remove-version.js';
import { PublishConflictError, PublishRefusedError, PublishTooLargeError } from './errors.js';
import { ModulePublisher, type ModulePublisherOptions, type PublishUpload } from './module-publisher.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface World {
  dir: string;
  root: string;
  storage: DiskStorage;
  publisher: ModulePublisher;
  /** The versions onStored was told of, as module@version. */
  stored: string[];
  /** Every file under the storage root but the checksum database's, as sorted relative paths. */
  files(): Promise<string[]>;
  /** Files left in the storage's temporary folder. */
  staged(): Promise<string[]>;
  /** Writes the module zip of `files` for modulePath@version and returns its path. */
  zip(modulePath: string, version: string, files: Record<string, string>): Promise<string>;
}

async function makeWorld(options: Partial<ModulePublisherOptions> = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-publisher-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'store');
  const storage = new DiskStorage({ root });
  const stored: string[] = [];
  const publisher = new ModulePublisher({
    storage,
    staging: storage,
    accepts: (modulePath) => modulePath.startsWith('corp.example.com/'),
    onStored: (modulePath, version) => stored.push(`${modulePath}@${version}`),
    ...options,
  });
  let zips = 0;
  return {
    dir,
    root,
    storage,
    publisher,
    stored,
    files: async () => (await storage.list('')).filter((key) => !key.startsWith('sumdb/')),
    staged: () => readdir(join(root, '.tmp')).catch(() => []),
    async zip(modulePath, version, files) {
      const n = ++zips;
      const source = join(dir, `source-${n}`);
      await writeTree(source, files);
      const file = join(dir, `module-${n}.zip`);
      await createZipFromDir(createWriteStream(file), modulePath, version, source);
      return file;
    },
  };
}

const M = 'corp.example.com/lib';
const goMod = (modulePath: string): string => `module ${modulePath}\n\ngo 1.19\n`;
const libFiles = (text: string): Record<string, string> => ({ 'go.mod': goMod(M), 'lib.go': `package lib\n\nconst Text = ${JSON.stringify(text)}\n` });

function upload(modulePath: string, version: string, file: string, extra: Partial<PublishUpload> = {}): PublishUpload {
  return { modulePath, version, body: createReadStream(file), ...extra };
}

/** A body that records whether anything read it. */
function untouchedBody(): { body: Readable; read: () => boolean } {
  let read = false;
  const body = new Readable({
    read() {
      read = true;
      this.push(null);
    },
  });
  return { body, read: () => read };
}

test('a zip is stored in the module-cache layout the depot serves: .zip, .ziphash, .mod and .info with the commit time', async () => {
  const w = await makeWorld();
  const zip = await w.zip(M, 'v1.2.3', libFiles('one'));
  const time = new Date('2024-02-03T04:05:06Z');
  const result = await w.publisher.publish(upload(M, 'v1.2.3', zip, { time }));
  const h1 = await hashZip(zip);
  assert.deepEqual(result, { module: M, version: 'v1.2.3', h1, goModH1: hashGoMod(Buffer.from(goMod(M))), time: '2024-02-03T04:05:06Z', created: true });
  const at = (file: string): string => join(w.root, 'corp.example.com', 'lib', '@v', file);
  assert.deepEqual(await readFile(at('v1.2.3.zip')), await readFile(zip));
  assert.equal(await readFile(at('v1.2.3.ziphash'), 'utf8'), h1);
  assert.equal(await readFile(at('v1.2.3.mod'), 'utf8'), goMod(M));
  assert.deepEqual(JSON.parse(await readFile(at('v1.2.3.info'), 'utf8')), { Version: 'v1.2.3', Time: '2024-02-03T04:05:06Z' });
  assert.deepEqual(w.stored, [`${M}@v1.2.3`]);
  assert.deepEqual(await w.staged(), []);
});

test('without a commit time, the .info Time is when the version was stored, in whole seconds', async () => {
  const w = await makeWorld();
  const before = Math.floor(Date.now() / 1000) * 1000;
  const result = await w.publisher.publish(upload(M, 'v0.1.0', await w.zip(M, 'v0.1.0', libFiles('now'))));
  assert.match(result.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Date.parse(result.time) >= before && Date.parse(result.time) <= Date.now());
});

test('republishing identical bytes changes nothing; other bytes are refused naming both hashes, and the first stay', async () => {
  const w = await makeWorld();
  const first = await w.zip(M, 'v1.0.0', libFiles('first'));
  await w.publisher.publish(upload(M, 'v1.0.0', first, { time: new Date('2024-01-01T00:00:00Z') }));
  const files = await w.files();
  const again = await w.publisher.publish(upload(M, 'v1.0.0', await w.zip(M, 'v1.0.0', libFiles('first')), { time: new Date('2025-01-01T00:00:00Z') }));
  assert.equal(again.created, false);
  assert.equal(again.time, '2024-01-01T00:00:00Z', 'the first .info stays');
  assert.deepEqual(w.stored, [`${M}@v1.0.0`], 'nothing was stored the second time');

  const other = await w.zip(M, 'v1.0.0', libFiles('second'));
  const [h1First, h1Other] = [await hashZip(first), await hashZip(other)];
  await assert.rejects(w.publisher.publish(upload(M, 'v1.0.0', other)), (err: Error) => {
    assert.ok(err instanceof PublishConflictError);
    assert.match(err.message, /^corp\.example\.com\/lib@v1\.0\.0 is already published with other content/);
    assert.ok(err.message.includes(`published: ${h1First}, go.mod h1:`), err.message);
    assert.ok(err.message.includes(`uploaded:  ${h1Other}, go.mod h1:`), err.message);
    return true;
  });
  assert.deepEqual(await w.files(), files);
  assert.deepEqual(await readFile(join(w.root, 'corp.example.com', 'lib', '@v', 'v1.0.0.zip')), await readFile(first));
  assert.deepEqual(await w.staged(), []);
});

test('a removed version is published again only with the bytes it had: other bytes are refused naming the removed hashes', async () => {
  const w = await makeWorld();
  const first = await w.zip(M, 'v1.1.0', libFiles('first'));
  await w.publisher.publish(upload(M, 'v1.1.0', first));
  await removeVersion(w.storage, M, 'v1.1.0', new Date('2026-05-06T07:08:09Z'));
  assert.deepEqual((await w.files()).filter((key) => !key.startsWith('godepot/')), [], 'its files are gone');

  const other = await w.zip(M, 'v1.1.0', libFiles('second'));
  await assert.rejects(w.publisher.publish(upload(M, 'v1.1.0', other)), (err: Error) => {
    assert.ok(err instanceof PublishConflictError);
    assert.match(err.message, /^corp\.example\.com\/lib@v1\.1\.0 was published with other content and removed on 2026-05-06T07:08:09\.000Z, and a published version never changes/);
    return true;
  });
  assert.deepEqual((await w.files()).filter((key) => !key.startsWith('godepot/')), [], 'nothing of the refused upload is kept');

  const same = await w.publisher.publish(upload(M, 'v1.1.0', await w.zip(M, 'v1.1.0', libFiles('first'))));
  assert.equal(same.created, true, 'the same bytes may come back');
  assert.equal(same.h1, await hashZip(first));
});

test('concurrent publishes of one version: exactly one stores it; identical others change nothing, different ones are conflicts', async () => {
  const w = await makeWorld();
  const same = await w.zip(M, 'v1.0.0', libFiles('same'));
  const identical = await Promise.all(Array.from({ length: 6 }, () => w.publisher.publish(upload(M, 'v1.0.0', same))));
  assert.equal(identical.filter((r) => r.created).length, 1);
  assert.equal(new Set(identical.map((r) => r.time)).size, 1, 'every answer tells the one .info stored');

  const zips = await Promise.all(['a', 'b', 'c', 'd'].map((text) => w.zip(M, 'v2.0.0+incompatible', libFiles(text))));
  const outcomes = await Promise.allSettled(zips.map((zip) => w.publisher.publish(upload(M, 'v2.0.0+incompatible', zip))));
  const won = outcomes.filter((o) => o.status === 'fulfilled');
  assert.equal(won.length, 1);
  assert.ok(outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof PublishConflictError));
  const winner = zips[outcomes.indexOf(won[0]!)]!;
  assert.deepEqual(await readFile(join(w.root, 'corp.example.com', 'lib', '@v', 'v2.0.0+incompatible.zip')), await readFile(winner));
  assert.deepEqual(await w.staged(), []);
});

test('a path this server may fetch from elsewhere is forbidden before the body is read', async () => {
  const w = await makeWorld();
  const { body, read } = untouchedBody();
  await assert.rejects(w.publisher.publish({ modulePath: 'github.com/public/lib', version: 'v1.0.0', body }), ForbiddenError);
  assert.equal(read(), false);
});

test('versions that cannot be published are refused before the body is read, with go\'s reasons', async () => {
  const w = await makeWorld();
  const cases: Array<[string, string, RegExp]> = [
    ['corp.example.com/lib/v2', 'v1.0.0', /corp\.example\.com\/lib\/v2@v1\.0\.0: invalid version: should be v2, not v1/],
    [M, 'v1.0', /not a canonical version \(should be v1\.0\.0\)/],
    [M, 'v1.0.0+incompatible', /\+incompatible suffix not allowed: major version v1 is compatible/],
    [M, 'v2.0.0', /should be v0 or v1, not v2/],
    ['corp.example.com/lib/v2', 'v2.0.0+incompatible', /\+incompatible suffix not allowed/],
    [M, 'v1.0.1-0.20240102030405-0123456789ab', /a pseudo-version names a commit, not a release/],
  ];
  for (const [modulePath, version, reason] of cases) {
    const { body, read } = untouchedBody();
    await assert.rejects(w.publisher.publish({ modulePath, version, body }), (err: Error) => err instanceof PublishRefusedError && reason.test(err.message));
    assert.equal(read(), false, `${modulePath}@${version}`);
  }
  assert.deepEqual(await w.files(), []);
});

test('zips that break go\'s rules or name another module are refused, and nothing of them is kept', async () => {
  const w = await makeWorld();
  const refused = async (modulePath: string, version: string, file: string, reason: RegExp): Promise<void> => {
    await assert.rejects(w.publisher.publish(upload(modulePath, version, file)), (err: Error) => err instanceof PublishRefusedError && reason.test(err.message));
  };
  // The go.mod inside names another module.
  await refused(M, 'v1.0.0', await w.zip(M, 'v1.0.0', { 'go.mod': goMod('corp.example.com/other'), 'a.go': 'package a\n' }), /its go\.mod declares module "corp\.example\.com\/other", not "corp\.example\.com\/lib"/);
  // A /v2 module whose go.mod forgot the suffix.
  const v2 = 'corp.example.com/lib/v2';
  await refused(v2, 'v2.0.0', await w.zip(v2, 'v2.0.0', libFiles('v2')), /declares module "corp\.example\.com\/lib", not "corp\.example\.com\/lib\/v2"/);
  // A go.mod go cannot parse.
  await refused(M, 'v1.0.0', await w.zip(M, 'v1.0.0', { 'go.mod': 'module corp.example.com/lib\nrequire (\n' }), /its go\.mod does not parse/);
  // A zip made for another version: its files are outside corp.example.com/lib@v1.0.0/.
  await refused(M, 'v1.0.0', await w.zip(M, 'v1.0.1', libFiles('x')), /not a valid module zip: .*corp\.example\.com\/lib@v1\.0\.1\/go\.mod/);
  // Not a zip at all.
  const junk = join(w.dir, 'junk.zip');
  await writeFile(junk, 'not a zip');
  await refused(M, 'v1.0.0', junk, /not a valid module zip: zip: not a valid zip file/);
  assert.deepEqual(await w.files(), []);
  assert.deepEqual(await w.staged(), []);
  assert.deepEqual(w.stored, []);
  // A module without go.mod is published with the go.mod go makes up, which names it.
  const legacy = await w.publisher.publish(upload(M, 'v0.0.1', await w.zip(M, 'v0.0.1', { 'a.go': 'package a\n' })));
  assert.equal(legacy.goModH1, hashGoMod(Buffer.from(`module ${M}\n`)));
});

test('a body over 500 MiB is refused unread when declared, else cut as soon as it passes the limit; nothing is kept', async () => {
  const w = await makeWorld();
  const declared = untouchedBody();
  await assert.rejects(w.publisher.publish({ modulePath: M, version: 'v1.0.0', body: declared.body, size: MAX_ZIP_FILE + 1 }), PublishTooLargeError);
  assert.equal(declared.read(), false);

  const chunk = Buffer.alloc(1 << 20);
  let sent = 0;
  const endless = Readable.from(
    (function* () {
      for (;;) {
        sent += chunk.length;
        yield chunk;
      }
    })(),
  );
  await assert.rejects(w.publisher.publish({ modulePath: M, version: 'v1.0.0', body: endless }), (err: Error) => err instanceof PublishTooLargeError && /larger than a module zip may be \(524288000 bytes\)/.test(err.message));
  assert.ok(sent > MAX_ZIP_FILE && sent < MAX_ZIP_FILE + (64 << 20), `read ${sent} bytes`);
  assert.deepEqual(await w.files(), []);
  assert.deepEqual(await w.staged(), []);
});

test('a zip an interrupted commit left without its .ziphash is not published: the next publish stores it whole', async () => {
  const w = await makeWorld();
  const zip = await w.zip(M, 'v1.0.0', libFiles('whole'));
  await w.storage.put('corp.example.com/lib/@v/v1.0.0.zip', Buffer.from('half a zip'));
  const result = await w.publisher.publish(upload(M, 'v1.0.0', zip));
  assert.equal(result.created, true);
  assert.deepEqual(await readFile(join(w.root, 'corp.example.com', 'lib', '@v', 'v1.0.0.zip')), await readFile(zip));
});

test('with a checksum database, a version is recorded before it is stored; a record with other hashes is a conflict', async () => {
  const key = generateKey('sumdb.corp.example.com');
  const dir = await mkdtemp(join(tmpdir(), 'godepot-publisher-db-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const storage = new DiskStorage({ root: dir });
  const database = await ChecksumDatabase.open({ storage, signerKey: key.signerKey });
  const w = await makeWorld({ storage, staging: storage, database });
  const zip = await w.zip(M, 'v1.0.0', libFiles('recorded'));
  const result = await w.publisher.publish(upload(M, 'v1.0.0', zip));
  assert.equal(database.record(M, 'v1.0.0')?.text, `${M} v1.0.0 ${result.h1}\n${M} v1.0.0/go.mod ${result.goModH1}\n`);
  // Republishing the same content finds the same record.
  assert.equal((await w.publisher.publish(upload(M, 'v1.0.0', zip))).created, false);
  assert.equal(database.size, 1);

  // Storage lost the version, but the database remembers it: other content is still refused.
  await database.add(M, 'v1.1.0', { zip: 'h1:' + 'A'.repeat(43) + '=', mod: result.goModH1 });
  await assert.rejects(w.publisher.publish(upload(M, 'v1.1.0', await w.zip(M, 'v1.1.0', libFiles('other')))), (err: Error) => {
    assert.ok(err instanceof PublishConflictError);
    assert.match(err.message, /already records corp\.example\.com\/lib@v1\.1\.0 with other hashes; records never change/);
    return true;
  });
  assert.equal(await storage.stat('corp.example.com/lib/@v/v1.1.0.zip'), null);
});
