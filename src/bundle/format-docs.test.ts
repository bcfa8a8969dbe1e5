// The standard-tool checks docs/bundle-format.md gives, run as written there.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { generateSigningKeyPair } from './signing.js';
import { makeFixture, opener, tarParts, writeGzippedTar } from '../../test/support/bundle-fixtures.js';
import { openBundle, writeBundle } from './format.js';
import { compressedOffset } from './gzip.js';

const exec = promisify(execFile);


function repositoryRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'docs', 'bundle-format.md'))) return dir;
  }
  throw new Error('docs/bundle-format.md not found above the test');
}

async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of ['openssl', 'jq', 'sha256sum', 'tar', 'gzip', 'bash']) {
    await exec('sh', ['-c', `command -v ${tool}`]).catch(() => missing.push(tool));
  }
  return missing;
}

describe('docs/bundle-format.md, section 6', () => {
  let dir: string;
  let script: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'godepot-docs-'));
    const doc = await readFile(join(repositoryRoot(), 'docs', 'bundle-format.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## 6.'), doc.indexOf('## 7.'));
    script = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('its commands pass on a signed bundle and fail on a changed byte, a changed file or release archive and an added file', async (t) => {
    const missing = await missingTools();
    if (missing.length > 0) {
      process.stderr.write(`SKIPPED: ${missing.join(', ')} not installed; the documented standard-tool checks were not run\n`);
      t.skip(`${missing.join(', ')} not installed`);
      return;
    }
    const pair = generateSigningKeyPair();
    await writeFile(join(dir, 'bundle.key.pub'), pair.publicKey);
    const { manifest, contents } = makeFixture(
      [
        { path: 'example.com/Upper', version: 'v1.0.0', info: '{}\n', mod: 'module example.com/Upper\n', zip: Buffer.alloc(70_000, 3) },
        { path: `example.com/${'long-'.repeat(25)}name`, version: 'v0.1.0', mod: 'module x\n' },
      ],
      // A release archive too (format 2): the commands check it like every other file.
      { sumdb: 'sum.example.com', release: Buffer.alloc(3000, 5) },
    );
    const bundle = join(dir, 'project.tar.gz');
    await writeBundle(bundle, manifest, opener(contents), { signingKey: createPrivateKey(pair.privateKey) });
    const run = async (text: string): Promise<string> => {
      await rm(join(dir, 'unpacked'), { recursive: true, force: true });
      return (await exec('bash', ['-e', '-o', 'pipefail', '-c', text], { cwd: dir })).stdout;
    };
    assert.match(await run(script), /Signature Verified Successfully/);
    const zipName = 'example.com/!upper/@v/v1.0.0.zip';
    const original = await openBundle(bundle);
    const signedHead: [string, Buffer][] = [['manifest.json', original.manifestBytes], ['manifest.sig', original.signature!]];
    const { offset } = original.entries.get(zipName)!;
    await original.close();

    // A changed byte: the gzip CRC catches it (gzip -t, and tar -xzf as it unpacks).
    const bytes = await readFile(bundle);
    bytes[compressedOffset(offset + 100)]! ^= 1;
    await writeFile(bundle, bytes);
    await assert.rejects(run(script), /crc error/);

    // A rebuilt gzip with a changed zip and the original signed manifest: sha256sum names the file.
    const zip = Buffer.from(contents.get(zipName)!);
    zip[100]! ^= 1;
    await writeGzippedTar(bundle, tarParts([...signedHead, ...[...contents].map(([name, data]): [string, Buffer] => [name, name === zipName ? zip : data])]));
    await assert.rejects(run(script), (err: { stdout?: string; stderr?: string }) => /example.com\/!upper\/@v\/v1.0.0.zip: FAILED/.test(`${err.stdout ?? ''}${err.stderr ?? ''}`));

    // The same for another release archive under the signed manifest.
    const releaseName = 'release/godepot-9.8.7-linux-x64.tar.gz';
    await writeGzippedTar(bundle, tarParts([...signedHead, ...[...contents].map(([name, data]): [string, Buffer] => [name, name === releaseName ? Buffer.alloc(3000, 6) : data])]));
    await assert.rejects(run(script), (err: { stdout?: string; stderr?: string }) => /release\/godepot-9\.8\.7-linux-x64\.tar\.gz: FAILED/.test(`${err.stdout ?? ''}${err.stderr ?? ''}`));

    // A file added: diff shows it.
    await writeGzippedTar(bundle, tarParts([...signedHead, ...contents, ['example.com/evil/@v/v1.0.0.zip', Buffer.from('evil')]]));
    await assert.rejects(run(script), (err: { stdout?: string }) => /^< example.com\/evil\/@v\/v1.0.0.zip$/m.test(err.stdout ?? ''));
  });
});
