import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeFixture, opener, sha256Hex } from '../../test/support/bundle-fixtures.js';
import { openBundle, writeBundle } from './format.js';
import { bundleListing, formatSize, listBundle, type BundleListing } from './list.js';

describe('listBundle', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'godepot-list-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the header and one line per module, zip hash or - for a go.mod alone', async () => {
    const { manifest, contents } = makeFixture(
      [
        { path: 'example.com/Upper', version: 'v1.0.0', info: '{}\n', mod: 'module example.com/Upper\n', zip: Buffer.alloc(3000) },
        { path: 'example.com/modonly', version: 'v0.1.0', mod: 'module example.com/modonly\n' },
      ],
      { sumdb: 'sum.example.com', goSum: ['example.com/modonly v0.1.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='] },
    );
    manifest.since = { sha256: 'b'.repeat(64), modules: 7 };
    const file = join(dir, 'b.gz');
    await writeBundle(file, manifest, opener(contents), { signingKey: generateKeyPairSync('ed25519').privateKey });
    const bundle = await openBundle(file);
    try {
      const zipHash = manifest.modules[0]!.zipHash!;
      assert.equal(
        listBundle(bundle),
        [
          `bundle:       ${file}`,
          `manifest id:  ${sha256Hex(bundle.manifestBytes)}`,
          'format:       1, made by godepot 0.0.0-test',
          'signed:       yes (bundle verify --pubkey KEYFILE checks the signature)',
          `adds to:      the bundle whose manifest id is ${'b'.repeat(64)} (7 module versions)`,
          'input:        go.mod (gomod, main module example.com/app, 1 go.sum lines)',
          'sumdb:        sum.example.com, tree size 3, 3 proof files',
          `modules:      2 (1 with zips), 7 files, ${formatSize([...contents.values()].reduce((n, b) => n + b.length, 0))}`,
          '',
          'MODULE               VERSION  FILES         SIZE     ZIP HASH',
          `example.com/Upper    v1.0.0   info,mod,zip  3.0 KiB  ${zipHash}`,
          'example.com/modonly  v0.1.0   mod           27 B     -',
          '',
        ].join('\n'),
      );
    } finally {
      await bundle.close();
    }
  });

  it('shows a release archive, and gives everything as JSON for --json', async () => {
    const { manifest, contents } = makeFixture([{ path: 'example.com/modonly', version: 'v0.1.0', mod: 'module example.com/modonly\n' }], { release: Buffer.alloc(2048, 1) });
    manifest.since = { sha256: 'c'.repeat(64), modules: 2 };
    const file = join(dir, 'release.gz');
    await writeBundle(file, manifest, opener(contents));
    const bundle = await openBundle(file);
    try {
      const text = listBundle(bundle);
      assert.match(text, /^format: {7}2, made by godepot 0\.0\.0-test$/m);
      assert.match(text, /^release: {6}godepot 9\.8\.7 for linux-x64, 2\.0 KiB: release\/godepot-9\.8\.7-linux-x64\.tar\.gz \(bundle export --self DIR writes it out\)$/m);
      assert.match(text, /^modules: {6}1 \(0 with zips\), 1 files, 27 B$/m, 'the release archive is not counted with the modules');
      const listing = JSON.parse(JSON.stringify(bundleListing(bundle))) as BundleListing;
      assert.deepEqual(listing, {
        file,
        manifestId: sha256Hex(bundle.manifestBytes),
        format: 2,
        createdBy: 'godepot 0.0.0-test',
        signed: false,
        since: { manifestId: 'c'.repeat(64), modules: 2 },
        inputs: [{ spec: 'go.mod', kind: 'gomod', mainModules: ['example.com/app'], goSumLines: 0 }],
        sumdb: [],
        release: { version: '9.8.7', platform: 'linux-x64', name: 'release/godepot-9.8.7-linux-x64.tar.gz', size: 2048, sha256: sha256Hex(Buffer.alloc(2048, 1)) },
        modules: [{ path: 'example.com/modonly', version: 'v0.1.0', files: ['mod'], size: 27, modHash: manifest.modules[0]!.modHash, zipHash: null }],
      });
    } finally {
      await bundle.close();
    }
  });

  it('formats sizes in binary units', () => {
    assert.deepEqual([0, 1023, 1024, 1536, 5 << 20, 3 * 2 ** 30].map(formatSize), ['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 MiB', '3.0 GiB']);
  });
});
