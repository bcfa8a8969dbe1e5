import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeRawZip } from '../../test/support/rawzip.js';
import { InvalidContentError } from '../errors.js';
import { hashZip } from '../module/hash.js';
import { defaultZipBudget } from '../module/zipbudget.js';
import { infoVersion, inspectZip, isStorableVersion, legacyGoMod, listedVersions, verifyInfo, verifyMod, zipGoMod } from './verify.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

test('listedVersions keeps canonical tagged versions of the right major, sorted and unique', () => {
  const listed = ['v1.10.0', 'v1.2.0', 'v1.2.0', 'v1.3.0-rc.1', 'v1.4', 'v1.0.0-20190101000000-abcdefabcdef', 'v2.0.0+incompatible', 'v2.1.0', 'v1.5.0+build', 'master', 'garbage'];
  assert.deepEqual(listedVersions('example.com/m', listed), ['v1.2.0', 'v1.3.0-rc.1', 'v1.10.0', 'v2.0.0+incompatible']);
  // go's module.Check lets a /v2 path have v2.x.x+incompatible versions; only its fetch code refuses them.
  assert.deepEqual(listedVersions('example.com/m/v2', ['v1.0.0', 'v2.0.0', 'v2.0.1', 'v3.0.0', 'v2.0.0+incompatible']), ['v2.0.0', 'v2.0.0+incompatible', 'v2.0.1']);
  assert.deepEqual(listedVersions('gopkg.in/yaml.v2', ['v2.4.0', 'v3.0.0', 'v1.0.0']), ['v2.4.0']);
  assert.deepEqual(listedVersions('example.com/m', []), []);
});

test('isStorableVersion: canonical and fitting the path', () => {
  assert.ok(isStorableVersion('example.com/m', 'v1.0.0'));
  assert.ok(isStorableVersion('example.com/m', 'v2.0.0+incompatible'));
  assert.ok(isStorableVersion('example.com/m', 'v0.0.0-20190101000000-abcdefabcdef'));
  assert.ok(isStorableVersion('example.com/m/v2', 'v2.0.0'));
  for (const v of ['v1.0', 'v1.0.0+meta', 'master', 'v2.0.0', 'latest', '']) assert.ok(!isStorableVersion('example.com/m', v), v);
  assert.ok(!isStorableVersion('example.com/m/v2', 'v1.0.0'));
});

test('infoVersion and verifyInfo accept what go accepts and say why they refuse', () => {
  const info = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
  assert.equal(infoVersion('example.com/m', info({ Version: 'v1.0.0', Time: '2023-01-02T03:04:05Z' }), '.info'), 'v1.0.0');
  assert.equal(infoVersion('example.com/m', info({ Version: 'v1.0.0', Time: '2023-01-02T03:04:05.123+02:00', Origin: {} }), '.info'), 'v1.0.0');
  assert.equal(infoVersion('example.com/m', info({ Version: 'v1.0.0' }), '.info'), 'v1.0.0');
  verifyInfo('example.com/m', 'v1.0.0', info({ Version: 'v1.0.0', Time: '2023-01-02T03:04:05Z' }));
  const bad: Array<[Buffer, RegExp]> = [
    [Buffer.from('not json'), /not JSON/],
    [info(['v1.0.0']), /not a JSON object/],
    [info({ Time: '2023-01-02T03:04:05Z' }), /invalid version undefined/],
    [info({ Version: 'v1.0' }), /invalid version "v1.0"/],
    [info({ Version: 'v2.0.0' }), /invalid version "v2.0.0"/],
    [info({ Version: 'v1.0.0', Time: 'yesterday' }), /invalid Time "yesterday"/],
  ];
  for (const [body, message] of bad) assert.throws(() => infoVersion('example.com/m', body, '.info'), (err) => err instanceof InvalidContentError && message.test(err.message));
  assert.throws(() => verifyInfo('example.com/m', 'v1.0.0', info({ Version: 'v1.0.1' })), /returned info for version v1.0.1 instead of the requested version/);
});

test('verifyMod refuses a go.mod go could not parse', () => {
  verifyMod('example.com/m', 'v1.0.0', Buffer.from('module example.com/m\n\ngo 1.19\n\nrequire example.com/x v1.0.0\n'));
  assert.throws(() => verifyMod('example.com/m', 'v1.0.0', Buffer.from('module example.com/m\nrequire (\n')), InvalidContentError);
});

test('legacyGoMod is the go.mod go makes up for a module without one', () => {
  assert.equal(legacyGoMod('example.com/m').toString(), 'module example.com/m\n');
  assert.equal(legacyGoMod('example.com/m v2').toString(), 'module "example.com/m v2"\n');
});

test("inspectZip gives a good zip's h1 and go.mod (go's made-up one when it has none) and refuses a bad one saying why", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-verify-'));
  dirs.push(dir);
  const prefix = 'example.com/m@v1.0.0/';
  const goMod = 'module example.com/m\n\ngo 1.19\n';
  const withMod = join(dir, 'with.zip');
  await writeRawZip(withMod, [
    { name: prefix + 'go.mod', data: goMod, deflate: true },
    { name: prefix + 'm.go', data: 'package m\n' },
    // Directory entries count in go's HashZip too, a repeated one twice.
    { name: prefix + 'sub/' },
    { name: prefix + 'sub/' },
    { name: prefix + 'sub/b.go', data: 'package sub\n'.repeat(100), deflate: true },
  ]);
  const inspected = await inspectZip('example.com/m', 'v1.0.0', withMod);
  assert.equal(inspected.h1, await hashZip(withMod));
  assert.equal(inspected.goMod.toString(), goMod);
  assert.equal((await zipGoMod('example.com/m', 'v1.0.0', withMod)).toString(), goMod);

  const without = join(dir, 'without.zip');
  await writeRawZip(without, [{ name: prefix + 'm.go', data: 'package m\n' }]);
  assert.deepEqual((await inspectZip('example.com/m', 'v1.0.0', without)).goMod, legacyGoMod('example.com/m'));

  const bad: Array<[Parameters<typeof writeRawZip>[1], RegExp]> = [
    [[{ name: prefix + '../x.go', data: 'package x\n' }], /zip from origin rejected: .*malformed file path/],
    [[{ name: 'example.com/other@v1.0.0/x.go', data: 'package x\n' }], /path does not have prefix/],
    [[{ name: prefix + 'x.go', data: 'package x\n', crc: 1 }], /checksum error/],
    [[{ name: prefix + 'x.go', data: 'package x\n', declaredSize: 3 }], /larger than declared size/],
  ];
  for (const [entries, reason] of bad) {
    const zip = join(dir, 'bad.zip');
    await writeRawZip(zip, entries);
    await assert.rejects(inspectZip('example.com/m', 'v1.0.0', zip), (err) => err instanceof InvalidContentError && reason.test(err.message));
  }
});

test('inspectZip gives the budget back whether the zip passes or not, and names at most 100 of its invalid files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-verify-'));
  dirs.push(dir);
  const prefix = 'example.com/m@v1.0.0/';
  const good = join(dir, 'good.zip');
  await writeRawZip(good, [{ name: prefix + 'm.go', data: 'package m\n' }]);
  const corrupt = join(dir, 'corrupt.zip');
  await writeRawZip(corrupt, [{ name: prefix + 'm.go', data: 'package m\n', crc: 1 }]);
  const invalid = join(dir, 'invalid.zip');
  await writeRawZip(invalid, Array.from({ length: 250 }, (_, i) => ({ name: `elsewhere/${i}.go`, data: 'package x\n' })));

  await inspectZip('example.com/m', 'v1.0.0', good);
  await assert.rejects(inspectZip('example.com/m', 'v1.0.0', corrupt), /checksum error/);
  await assert.rejects(inspectZip('example.com/m', 'v1.0.0', invalid), (err) => {
    assert.ok(err instanceof InvalidContentError);
    const lines = err.message.split('\n');
    assert.equal(lines.length, 101, 'the first 100 invalid files and a count of the rest');
    assert.match(lines[0]!, /elsewhere\/0\.go: path does not have prefix/);
    assert.equal(lines[100], '(and 150 more invalid files)');
    return true;
  });
  assert.equal(defaultZipBudget.reserved, 0);
  assert.equal(defaultZipBudget.active, 0);
});
