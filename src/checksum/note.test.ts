import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { garbageStrings } from '../../test/support/garbage.js';
import { ConfigError } from '../errors.js';
import { SumdbVerificationError } from './errors.js';
import { parseGosumdb } from './gosumdb.js';
import { decodeStdBase64, ed25519VerifierKey, generateKey, newSigner, newVerifier, openNote, signNote, type NoteSignature, type NoteVerifier } from './note.js';

// The keys, text and signatures of x/mod's sumdb/note tests.
const peterKey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const peterSkey = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const enochKey = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const peterSig = '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const enochSig = '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const peter: NoteSignature = { name: 'PeterNeumann', keyHash: 0xc74f20a3, base64: 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=' };
const enoch: NoteSignature = { name: 'EnochRoot', keyHash: 0xaf0cfe78, base64: 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=' };

/** `s` with `insert` spliced in at UTF-8 byte offset `at`, as the Go tests slice their strings. */
function spliceBytes(s: string, at: number, insert: string): string {
  const b = Buffer.from(s);
  return Buffer.concat([b.subarray(0, at), Buffer.from(insert), b.subarray(at)]).toString();
}

function verificationError(message: string) {
  return (err: unknown) => err instanceof SumdbVerificationError && err.message === message;
}

/** Every strict substring of `key`, and `key` with each byte in turn incremented: all must be refused. */
function manglings(key: string): string[] {
  const out: string[] = [];
  const b = Buffer.from(key);
  for (let i = 0; i <= b.length; i++) {
    for (let j = i + 1; j <= b.length; j++) if (i !== 0 || j !== b.length) out.push(b.subarray(i, j).toString('latin1'));
  }
  for (let i = 0; i < b.length; i++) {
    const c = Buffer.from(b);
    c[i] = (c[i]! + 1) & 0xff;
    out.push(c.toString('latin1'));
  }
  return out;
}

function checkPair(name: string, signer: ReturnType<typeof newSigner>, verifier: NoteVerifier): void {
  assert.equal(signer.name, name);
  assert.equal(verifier.name, name);
  assert.equal(signer.keyHash, verifier.keyHash);
  const msg = Buffer.from('hi');
  const sig = signer.sign(msg);
  assert.ok(verifier.verify(msg, sig));
  sig[0]! ^= 1;
  assert.ok(!verifier.verify(msg, sig), 'corrupt signature verified');
  sig[0]! ^= 1;
  msg[0]! ^= 1;
  assert.ok(!verifier.verify(msg, sig), 'corrupt message verified');
}

describe('newVerifier', () => {
  it("accepts x/mod's key and refuses every mangling of it", () => {
    const v = newVerifier(peterKey);
    assert.equal(v.name, 'PeterNeumann');
    assert.equal(v.keyHash, 0xc74f20a3);
    for (const bad of manglings(peterKey)) assert.throws(() => newVerifier(bad), ConfigError, bad);
  });

  it("gives go's reasons", () => {
    const reason = (key: string, why: string) =>
      assert.throws(() => newVerifier(key), (err: Error) => err instanceof ConfigError && err.message.endsWith(`: ${why}`), key);
    // wrong length key with adjusted key hash; unknown algorithm with adjusted key hash (x/mod's cases)
    reason('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==', 'malformed verifier id');
    reason('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'unknown verifier algorithm');
    reason('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'invalid verifier hash');
    reason('Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'malformed verifier id');
    reason('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T', 'malformed verifier id');
  });

  it('agrees with parseGosumdb on the sum.golang.org key', () => {
    const db = parseGosumdb('sum.golang.org')!;
    const v = newVerifier(db.verifierKey);
    assert.equal(v.name, db.name);
    assert.equal(v.keyHash, db.keyHash);
  });
});

describe('newSigner', () => {
  it("accepts x/mod's key and refuses every mangling of it", () => {
    const s = newSigner(peterSkey);
    assert.equal(s.name, 'PeterNeumann');
    assert.equal(s.keyHash, 0xc74f20a3);
    for (const bad of manglings(peterSkey)) assert.throws(() => newSigner(bad), ConfigError, bad);
  });

  it('never repeats the secret key in its errors', () => {
    const bad = peterSkey.replace('c74f20a3', 'c74f20a4');
    assert.throws(() => newSigner(bad), (err: Error) => err instanceof ConfigError && !err.message.includes('AYEKFALV'));
  });

  it('signs what the matching verifier accepts', () => {
    checkPair('PeterNeumann', newSigner(peterSkey), newVerifier(peterKey));
  });
});

describe('generateKey', () => {
  it('makes a self-consistent pair in go\'s formats', () => {
    const { signerKey, verifierKey } = generateKey('EnochRoot');
    assert.match(signerKey, /^PRIVATE\+KEY\+EnochRoot\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    assert.match(verifierKey, /^EnochRoot\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    assert.equal(signerKey.split('+')[3], verifierKey.split('+')[1]);
    checkPair('EnochRoot', newSigner(signerKey), newVerifier(verifierKey));
    // A host[/path] name is what GOSUMDB needs.
    const db = generateKey('sumdb.example.com/private');
    assert.equal(parseGosumdb(db.verifierKey)?.name, 'sumdb.example.com/private');
  });

  it('refuses names a note cannot carry', () => {
    for (const name of ['', 'a b', 'a+b', 'a\u3000b']) assert.throws(() => generateKey(name), ConfigError, name);
  });

  it('makes verifier keys from raw Ed25519 keys (NewEd25519VerifierKey)', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const vkey = ed25519VerifierKey('EnochRoot', raw);
    assert.equal(newVerifier(vkey).name, 'EnochRoot');
    assert.throws(() => ed25519VerifierKey('EnochRoot', raw.subarray(1)), ConfigError);
  });
});

describe('signNote', () => {
  const signer = newSigner(peterSkey);
  const want = `${text}\n${peterSig}`;

  it("produces x/mod's signed note byte for byte", () => {
    assert.equal(signNote({ text }, signer).toString(), want);
  });

  it('replaces an existing signature by the same key', () => {
    assert.equal(signNote({ text, sigs: [{ name: 'PeterNeumann', keyHash: 0xc74f20a3, base64: 'BADSIGN=' }] }, signer).toString(), want);
  });

  it('keeps signatures by other keys ahead of the new ones', () => {
    assert.equal(signNote({ text, unverifiedSigs: [enoch] }, signer).toString(), `${text}\n${enochSig}${peterSig}`);
  });

  it("refuses bad inputs with go's errors", () => {
    assert.throws(() => signNote({ text: 'abc' }, signer), verificationError('malformed note'));
    assert.throws(() => signNote({ text, sigs: [{ name: 'a+b', keyHash: 0, base64: 'ABCD' }] }), verificationError('malformed note'));
    assert.throws(() => signNote({ text, sigs: [{ name: 'PeterNeumann', keyHash: 0xc74f20a3, base64: 'BADHASH=' }] }), verificationError('malformed note'));
    assert.throws(() => signNote({ text }, { ...signer, name: 'bad name', sign: signer.sign }), verificationError('invalid signer'));
  });
});

describe('openNote', () => {
  const peterV = newVerifier(peterKey);
  const enochV = newVerifier(enochKey);

  it('verifies one signature and keeps the other as unverified', () => {
    const n = openNote(Buffer.from(`${text}\n${peterSig}${enochSig}`), [peterV]);
    assert.equal(n.text, text);
    assert.deepEqual(n.sigs, [peter]);
    assert.deepEqual(n.unverifiedSigs, [enoch]);
  });

  it('verifies both', () => {
    const n = openNote(`${text}\n${peterSig}${enochSig}`, [peterV, enochV]);
    assert.deepEqual(n.sigs, [peter, enoch]);
    assert.deepEqual(n.unverifiedSigs, []);
  });

  it('refuses a note no known key signed', () => {
    assert.throws(() => openNote(`${text}\n${peterSig}${enochSig}`, []), verificationError('note has no verifiable signatures'));
  });

  it('refuses an ambiguous key only when a signature uses it', () => {
    assert.throws(() => openNote(`${text}\n${enochSig}`, [enochV, peterV, enochV]), verificationError('ambiguous key EnochRoot+af0cfe78'));
    assert.equal(openNote(`${text}\n${peterSig}`, [enochV, peterV, enochV]).sigs.length, 1);
  });

  it('refuses more than 100 signatures', () => {
    assert.throws(() => openNote(`${text}\n${peterSig.repeat(101)}`, [peterV]), verificationError('malformed note'));
    assert.throws(() => openNote(`${text}\n${peterSig.repeat(101)}`, []), verificationError('malformed note'));
  });

  it('refuses an invalid signature by a known key', () => {
    const bad = `${text}\n${spliceBytes(peterSig, 60, 'ABCD')}`;
    assert.throws(() => openNote(bad, [peterV]), verificationError('invalid signature for key PeterNeumann+c74f20a3'));
  });

  it('drops repeated signatures', () => {
    const enochABCD = { ...enoch, base64: 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5nABCD2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=' };
    const msg = `${text}\n${peterSig}${peterSig}${enochSig}${enochSig}${spliceBytes(enochSig, 60, 'ABCD')}`;
    const n = openNote(msg, [peterV]);
    assert.deepEqual(n.sigs, [peter]);
    assert.deepEqual(n.unverifiedSigs, [enoch, enochABCD]);
  });

  it('refuses malformed messages', () => {
    const bad = [
      text,
      `${text}\n`,
      `${text}\n${peterSig.slice(0, -1)}`,
      `\x01${text}\n${peterSig}`,
      Buffer.concat([Buffer.from([0xff]), Buffer.from(`${text}\n${peterSig}`)]),
      `${text}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${text}\n${peterSig}Unexpected line.\n`,
    ];
    for (const msg of bad) assert.throws(() => openNote(msg, [peterV]), verificationError('malformed note'), String(msg));
  });

  it('keeps a byte-order mark as part of the text', () => {
    const signer = newSigner(peterSkey);
    const msg = signNote({ text: '\ufeffhello\n' }, signer);
    assert.equal(openNote(msg, [peterV]).text, '\ufeffhello\n');
  });

  it('only ever throws SumdbVerificationError, whatever the bytes (seeded garbage)', () => {
    const valid = [`${text}\n${peterSig}`, `${text}\n${peterSig}${enochSig}`];
    for (const [i, msg] of garbageStrings(4, 3000, valid).entries()) {
      try {
        const n = openNote(msg, [peterV, enochV]);
        assert.ok(n.sigs.length > 0 && n.text.endsWith('\n'));
      } catch (err) {
        assert.ok(err instanceof SumdbVerificationError, `input #${i} ${JSON.stringify(msg)}: ${String(err)}`);
      }
    }
  });
});

describe('decodeStdBase64', () => {
  it('is as strict as base64.StdEncoding', () => {
    assert.deepEqual(decodeStdBase64('aGk='), Buffer.from('hi'));
    assert.deepEqual(decodeStdBase64('aG\r\nk='), Buffer.from('hi'));
    for (const bad of ['aGk', 'aGk==', 'aG-=', 'aG_=', 'a', '====', 'aGk=aGk=']) assert.equal(decodeStdBase64(bad), null, bad);
    assert.deepEqual(decodeStdBase64(''), Buffer.alloc(0));
  });
});
