import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateKey } from '../checksum/note.js';
import { makeFixture } from '../../test/support/bundle-fixtures.js';
import { BundleFormatError } from './format-error.js';
import { MAX_MANIFEST_PIECE, formatManifest, manifestFiles, manifestId, parseManifest, type Manifest } from './manifest.js';

function sample(): Manifest {
  return makeFixture(
    [
      { path: 'example.com/Upper', version: 'v1.0.0', info: '{}\n', mod: 'module example.com/Upper\n', zip: Buffer.from('zip') },
      { path: 'example.com/a', version: 'v1.2.0', mod: 'module example.com/a\n' },
      { path: 'example.com/a', version: 'v1.10.0', info: '{}\n', mod: 'module example.com/a\n', zip: Buffer.from('zip2') },
      { path: 'example.com/a/v2', version: 'v2.0.0-20230102030405-abcdefabcdef', mod: 'module example.com/a/v2\n' },
    ],
    { sumdb: 'sum.example.com', goSum: ['example.com/a v1.10.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='] },
  ).manifest;
}

function refuses(change: (m: Manifest) => void, message: RegExp): void {
  const m = sample();
  change(m);
  assert.throws(() => parseManifest(formatManifest(m)), (err) => err instanceof BundleFormatError && message.test(err.message), String(message));
}

describe('manifest', () => {
  it('is written in one canonical form and read back as it was', () => {
    const m = sample();
    m.since = { sha256: 'a'.repeat(64), modules: 3 };
    const bytes = formatManifest(m);
    const text = bytes.toString();
    assert.ok(text.endsWith('}\n'));
    assert.ok(text.startsWith('{\n  "format": 1,\n  "createdBy": "godepot 0.0.0-test",\n  "inputs": [\n    {\n      "spec": "go.mod",\n      "kind": "gomod",'));
    assert.deepEqual(Object.keys(JSON.parse(text) as object), ['format', 'createdBy', 'inputs', 'since', 'modules', 'sumdb']);
    assert.deepEqual(Object.keys((JSON.parse(text) as Manifest).modules[0]!), ['path', 'version', 'files', 'modHash', 'zipHash']);
    assert.deepEqual(Object.keys((JSON.parse(text) as Manifest).modules[1]!), ['path', 'version', 'files', 'modHash']);
    assert.deepEqual(parseManifest(bytes), m);
    // Key order in the object given makes no difference.
    const shuffled = { sumdb: m.sumdb, modules: m.modules, since: m.since, inputs: m.inputs, createdBy: m.createdBy, format: m.format };
    assert.deepEqual(formatManifest(shuffled), bytes);
  });

  it('lists files in bundle order: modules, then checksum databases', () => {
    const names = manifestFiles(sample()).map((f) => f.name);
    assert.deepEqual(names.slice(0, 4), ['example.com/!upper/@v/v1.0.0.info', 'example.com/!upper/@v/v1.0.0.mod', 'example.com/!upper/@v/v1.0.0.zip', 'example.com/a/@v/v1.2.0.mod']);
    assert.deepEqual(names.slice(-3), ['sumdb/sum.example.com/latest', 'sumdb/sum.example.com/lookup/example.com/!upper@v1.0.0', 'sumdb/sum.example.com/tile/8/0/000.p/3']);
  });

  it('refuses what the schema forbids', () => {
    assert.throws(() => parseManifest(Buffer.from('{"format": 1,')), /not valid JSON/);
    // formatManifest writes only known keys; a hand-written manifest may have more.
    assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ ...sample(), extra: true }))), (err) => err instanceof BundleFormatError && /Unrecognized key/.test(err.message));
    refuses((m) => Object.assign(m, { format: 3 }), /bundle format 3; this godepot reads formats 1 and 2: a newer godepot wrote it/);
    refuses((m) => delete (m as Partial<Manifest>).createdBy, /createdBy/);
    refuses((m) => (m.modules[0]!.files[0]!.sha256 = 'ABC'), /modules\[0\]\.files\[0\]\.sha256: want 64 lower-case hex digits/);
    refuses((m) => (m.modules[0]!.files[0]!.size = -1), /size/);
    refuses((m) => (m.modules[0]!.modHash = 'h2:abc'), /want an h1: hash/);
    refuses((m) => Object.assign(m.inputs[0]!, { kind: 'gopath' }), /kind/);
  });

  it('refuses modules out of order, twice, not canonical, or with files not where go looks for them', () => {
    refuses((m) => m.modules.reverse(), /not sorted by path and version/);
    refuses((m) => ([m.modules[1], m.modules[2]] = [m.modules[2]!, m.modules[1]!]), /not sorted by path and version, or listed twice, at example.com\/a@v1.2.0/);
    refuses((m) => m.modules.splice(1, 0, structuredClone(m.modules[1]!)), /listed twice/);
    refuses((m) => (m.modules[0]!.files[0]!.name = 'example.com/Upper/@v/v1.0.0.info'), /is not one of example.com\/!upper\/@v\/v1.0.0.info/);
    refuses((m) => m.modules[0]!.files.reverse(), /in that order, each once/);
    refuses((m) => delete m.modules[0]!.zipHash, /zipHash must be given exactly when the zip is in the bundle/);
    refuses((m) => (m.modules[1]!.zipHash = m.modules[0]!.zipHash), /zipHash must be given/);
    refuses((m) => (m.modules[3]!.version = 'v1.0.0'), /example.com\/a\/v2@v1.0.0/);
    refuses((m) => (m.modules[1]!.version = 'v1.2'), /example.com\/a@v1.2/);
  });

  it('refuses checksum-database files outside go’s names, unsorted, without latest, or for another key', () => {
    const files = (m: Manifest) => m.sumdb[0]!.files;
    refuses((m) => (files(m)[0]!.name = 'sumdb/other.example.com/latest'), /not under sumdb\/sum.example.com\//);
    refuses((m) => (files(m)[1]!.name = 'sumdb/sum.example.com/lookup/example.com/Upper@v1.0.0'), /lookup/);
    refuses((m) => (files(m)[1]!.name = 'sumdb/sum.example.com/lookup/example.com/!upper'), /malformed lookup/);
    refuses((m) => (files(m)[2]!.name = 'sumdb/sum.example.com/tile/8/0/1'), /malformed tile path/);
    refuses((m) => (files(m)[2]!.name = 'sumdb/sum.example.com/supported'), /not latest, lookup\/\.\.\. or tile\/\.\.\./);
    refuses((m) => files(m).reverse(), /files not sorted by name/);
    refuses((m) => files(m).shift(), /no sumdb\/sum.example.com\/latest/);
    refuses((m) => (m.sumdb[0]!.verifierKey = generateKey('other.example.com').verifierKey), /verifier key is for "other.example.com"/);
    refuses((m) => (m.sumdb[0]!.verifierKey = 'sum.example.com+00000000+AAAA'), /invalid verifier key/);
    refuses((m) => (m.sumdb[0]!.name = 'Sum.Example.com'), /not a lower-case host/);
  });

  it('reads a manifest however it is formatted', () => {
    const m = sample();
    assert.deepEqual(parseManifest(Buffer.from(JSON.stringify(m))), m);
    assert.deepEqual(parseManifest(Buffer.from(`\n\t${JSON.stringify(m, null, '\t').replaceAll('": ', '"\r\n :\t')}  `)), m);
  });

  it('refuses a key given twice, and a value in the wrong place, naming where', () => {
    const text = formatManifest(sample()).toString();
    const twice = (key: string, within: string): string => text.replace(within, `${within}\n${key},`);
    assert.throws(() => parseManifest(Buffer.from(twice('"createdBy": "x"', '"format": 1,'))), /manifest\.json: createdBy: given twice/);
    assert.throws(() => parseManifest(Buffer.from(twice('"spec": "x"', '"spec": "go.mod",'))), /inputs\[0\]\.spec: given twice/);
    assert.throws(() => parseManifest(Buffer.from(text.replace('"modules": [', '"modules": "none", "unused": ['))), /manifest\.json: modules: want an array/);
    assert.throws(() => parseManifest(Buffer.from('[]')), /manifest\.json: the top level: want an object/);
    assert.throws(() => parseManifest(Buffer.from(text.replace('"goSum": [', '"goSum": [{}, '))), /inputs\[0\]\.goSum\[0\]: Invalid input: expected string/);
    assert.throws(() => parseManifest(Buffer.from(text.replace('"sumdb": [', '"sumdb": [7, '))), /sumdb\[0\]: want an object/);
  });

  it('refuses a part it would parse whole when it is larger than any real one, before parsing it', () => {
    // {} takes three bytes and parses into an object of tens: a few MB of them would take a GB.
    const m = sample();
    const flood = `[${'{},'.repeat(MAX_MANIFEST_PIECE / 3)}{}]`;
    const text = formatManifest(m).toString().replace('"files": [', `"files": ${flood}, "x": [`);
    assert.throws(
      () => parseManifest(Buffer.from(text)),
      (err) => err instanceof BundleFormatError && /manifest\.json: modules\[0\]: \d+ bytes; at most 65536 are read here/.test(err.message),
    );
    const line = `example.com/a v1.0.0 h1:${'A'.repeat(MAX_MANIFEST_PIECE)}=`;
    m.inputs[0]!.goSum.push(line);
    assert.throws(() => parseManifest(formatManifest(m)), /inputs\[0\]\.goSum\[1\]: \d+ bytes; at most 65536 are read here/);
  });

  it('carries a release archive in format 2, after everything else, and refuses one out of its place', () => {
    const { manifest: m } = makeFixture([{ path: 'example.com/a', version: 'v1.0.0', mod: 'module example.com/a\n' }], { sumdb: 'sum.example.com', release: Buffer.from('archive') });
    const bytes = formatManifest(m);
    assert.deepEqual(Object.keys(JSON.parse(bytes.toString()) as object), ['format', 'createdBy', 'inputs', 'modules', 'sumdb', 'release']);
    assert.match(bytes.toString(), /^\{\n {2}"format": 2,/);
    assert.deepEqual(parseManifest(bytes), m);
    assert.equal(manifestFiles(m).at(-1)!.name, 'release/godepot-9.8.7-linux-x64.tar.gz');
    assert.equal(manifestId(bytes), createHash('sha256').update(bytes).digest('hex'));
    const refusesRelease = (change: (r: Manifest) => void, message: RegExp): void => {
      const r = structuredClone(m);
      change(r);
      assert.throws(() => parseManifest(formatManifest(r)), (err) => err instanceof BundleFormatError && message.test(err.message), String(message));
    };
    refusesRelease((r) => (r.format = 1), /a release archive travels only in bundle format 2 or later, not 1/);
    refusesRelease((r) => (r.release!.file.name = 'release/godepot.tar.gz'), /release archive "release\/godepot.tar.gz" is not named release\/godepot-9.8.7-linux-x64.tar.gz/);
    refusesRelease((r) => (r.release!.version = '9.8'), /release\.version: want a version such as 1\.2\.3/);
    refusesRelease((r) => (r.release!.platform = 'Linux x64'), /release\.platform/);
    refusesRelease((r) => (r.release!.file.name = r.sumdb[0]!.files[0]!.name), /is not named|listed twice/);
    // A format-2 reader still reads format 1, which godepot keeps writing when no release travels.
    assert.equal(parseManifest(formatManifest(sample())).format, 1);
  });

  it('refuses go.sum lines go could not read', () => {
    refuses((m) => m.inputs[0]!.goSum.push('example.com/a v1.0.0'), /input go.mod: malformed go.sum/);
  });
});
