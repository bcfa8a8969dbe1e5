import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { KNOWN_GOSUMDB, parseGosumdb, verifierKeyHash } from './gosumdb.js';

/** A fresh verifier key for `name`, as note.GenerateKey would make it (algorithm byte 1, Ed25519). */
function makeVerifierKey(name: string, alg = 1): string {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const key = Buffer.concat([Buffer.from([alg]), Buffer.from(jwk.x!, 'base64url')]);
  return `${name}+${verifierKeyHash(name, key).toString(16).padStart(8, '0')}+${key.toString('base64')}`;
}

function rejects(spec: string, why: string): void {
  assert.throws(() => parseGosumdb(spec), (err: Error) => err instanceof ConfigError && err.message === `sumdb: invalid GOSUMDB ${JSON.stringify(spec)}: ${why}`, spec);
}

describe('parseGosumdb', () => {
  it('knows sum.golang.org by name, with the key go has built in', () => {
    const db = parseGosumdb('sum.golang.org');
    assert.ok(db !== null);
    assert.equal(db.name, 'sum.golang.org');
    assert.equal(db.verifierKey, 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8');
    assert.equal(db.keyHash, 0x033de0ae);
    assert.equal(db.publicKey.length, 32);
    assert.equal(db.url, null);
    // The key checks itself: its hash is what go computes from the name and key.
    assert.deepEqual(parseGosumdb(KNOWN_GOSUMDB['sum.golang.org']!), db);
  });

  it('reads sum.golang.google.cn as sum.golang.org at its own URL, as go does', () => {
    const db = parseGosumdb('sum.golang.google.cn');
    assert.equal(db?.name, 'sum.golang.org');
    assert.equal(db?.url, 'https://sum.golang.google.cn/');
  });

  it('is null for off', () => {
    assert.equal(parseGosumdb('off'), null);
  });

  it('takes a verifier key and an optional URL after whitespace', () => {
    const vkey = makeVerifierKey('sum.example.com');
    const db = parseGosumdb(`${vkey}\t https://mirror.example/sumdb/`);
    assert.equal(db?.name, 'sum.example.com');
    assert.equal(db?.verifierKey, vkey);
    assert.equal(db?.url, 'https://mirror.example/sumdb/');
    assert.equal(parseGosumdb('sum.golang.org http://127.0.0.1:9999')?.url, 'http://127.0.0.1:9999/');
    assert.equal(parseGosumdb(makeVerifierKey('localhost:8080/db'))?.name, 'localhost:8080/db');
  });

  it("rejects what go rejects, with go's reasons", () => {
    rejects('', 'missing GOSUMDB');
    rejects('  ', 'missing GOSUMDB');
    rejects('sum.golang.org https://a.example https://b.example', 'too many fields');
    rejects('sum.example.com', 'malformed verifier id');
    rejects('On', 'malformed verifier id');
    // A corrupted copy of sum.golang.org's key: 57 base64 characters do not decode.
    rejects('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ri18vi6tTAgsNS/s4ZS5Om8ps9gQl', 'malformed verifier id');
    const good = makeVerifierKey('sum.example.com');
    rejects(good.replace(/\+[0-9a-f]{8}\+/, '+00000000+'), 'invalid verifier hash');
    rejects(good.replace(/\+[0-9a-f]{8}\+/, '+0000000+'), 'malformed verifier id');
    rejects(good + '!', 'malformed verifier id');
    rejects(makeVerifierKey('sum.example.com', 2), 'unknown verifier algorithm');
    rejects(makeVerifierKey('user@sum.example.com'), 'invalid sumdb name (must be host[/path]): user@sum.example.com');
    rejects(makeVerifierKey('sum.example.com/'), 'invalid sumdb name (must be host[/path]): sum.example.com/');
    rejects(makeVerifierKey('sum.example.com?x'), 'invalid sumdb name (must be host[/path]): sum.example.com?x');
    rejects('sum.golang.org ftp://mirror.example', 'invalid GOSUMDB URL (must be http or https): ftp://mirror.example');
    rejects('sum.golang.org not-a-url', 'invalid GOSUMDB URL: not-a-url');
  });
});
