import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeFixture, opener } from '../../test/support/bundle-fixtures.js';
import { openBundle, writeBundle } from './format.js';
import { formatSize, listBundle } from './list.js';

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
          'format:       1, made by godepot 0.0.0-test',
          'signed:       yes (bundle verify --pubkey KEYFILE checks the signature)',
          `incremental:  adds to a bundle of 7 modules (its manifest.json has sha256 ${'b'.repeat(64)})`,
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

  it('formats sizes in binary units', () => {
    assert.deepEqual([0, 1023, 1024, 1536, 5 << 20, 3 * 2 ** 30].map(formatSize), ['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 MiB', '3.0 GiB']);
  });
});
