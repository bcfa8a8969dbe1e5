import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../errors.js';
import { generateKey } from './note.js';
import { readSignerKey } from './signer-key.js';

test('readSignerKey returns the key of the named database and refuses any other file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-signer-key-'));
  try {
    const { signerKey } = generateKey('sumdb.example.test');
    const file = join(dir, 'key');
    await writeFile(file, `${signerKey}\n`);
    assert.equal(await readSignerKey(file, 'sumdb.example.test'), signerKey);
    const refused = async (path: string, name: string, message: RegExp): Promise<void> => {
      await assert.rejects(readSignerKey(path, name), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, message);
        assert.ok(!err.message.includes(signerKey.slice(-20)), 'the key is never repeated');
        return true;
      });
    };
    await refused(file, 'sumdb.other.test', /is the key of checksum database "sumdb\.example\.test", not of "sumdb\.other\.test"/);
    await refused(join(dir, 'missing'), 'sumdb.example.test', /^sumdb-key: cannot read .*missing: ENOENT/);
    await writeFile(join(dir, 'verifier'), generateKey('sumdb.example.test').verifierKey);
    await refused(join(dir, 'verifier'), 'sumdb.example.test', /^sumdb-key: .*verifier: invalid signer key: malformed verifier id$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
