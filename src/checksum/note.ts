// Signed notes as golang.org/x/mod/sumdb/note defines them: a UTF-8 text ending in a newline, a blank
// line, then signature lines `— <name> <base64(keyhash[4] || signature)>`. Keys are Ed25519 (algorithm
// byte 1) and travel as text: verifier keys `<name>+<hash>+<base64 key>`, signer keys
// `PRIVATE+KEY+<name>+<hash>+<base64 seed>`, where hash is the first 4 bytes of SHA-256(name "\n" key).
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { SumdbVerificationError } from './errors.js';
import { verifierKeyHash } from './gosumdb.js';

/** The algorithm byte that starts every encoded key; Ed25519 is the only one. */
export const ALG_ED25519 = 1;

/** Checks signatures made by one key of one named server. */
export interface NoteVerifier {
  readonly name: string;
  /** The 32-bit key hash that signature lines carry. */
  readonly keyHash: number;
  /** True when `signature` is a valid signature of `message` by this key. */
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** Signs messages with one key of one named server. */
export interface NoteSigner {
  readonly name: string;
  readonly keyHash: number;
  sign(message: Uint8Array): Buffer;
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  keyHash: number;
  /** The signature line's base64 text, key hash included, exactly as it appeared. */
  base64: string;
}

/** A note's text with its signatures. */
export interface Note {
  /** The signed text, ending in a newline. */
  text: string;
  /** Signatures checked by a known verifier. */
  sigs: NoteSignature[];
  /** Signatures by keys nobody asked to check, kept so that re-signing carries them along. */
  unverifiedSigs: NoteSignature[];
}

// DER headers that turn a raw Ed25519 key into the SPKI / PKCS#8 forms Node's key objects import.
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SIZE = 32;
const SIGNATURE_SIZE = 64;
/** Open refuses notes with more signature lines: parsing them would cost without limit. */
const MAX_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 ';
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** unicode.IsSpace: the White_Space property, which is not quite JavaScript's `\s` (U+0085 in, U+FEFF out). */
function isGoSpace(cp: number): boolean {
  return (
    (cp >= 0x09 && cp <= 0x0d) ||
    cp === 0x20 ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/** note's isValidName: non-empty valid UTF-8 with no Unicode space and no `+`. */
export function isValidNoteName(name: string): boolean {
  if (name === '' || name.includes('+')) return false;
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    // A lone surrogate is what invalid UTF-8 becomes in a JavaScript string.
    if (isGoSpace(cp) || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  }
  return true;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** base64.StdEncoding.DecodeString: padding required, CR and LF skipped, anything else outside the alphabet refused. */
export function decodeStdBase64(text: string): Buffer | null {
  const s = text.replace(/[\r\n]/g, '');
  return BASE64.test(s) ? Buffer.from(s, 'base64') : null;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** `name+hash+key` split at the first two `+` (the base64 key may hold more), as strings.Cut does. */
function cutKey(text: string): [string, string, string] {
  const first = text.indexOf('+');
  if (first < 0) return [text, '', ''];
  const name = text.slice(0, first);
  const rest = text.slice(first + 1);
  const second = rest.indexOf('+');
  return second < 0 ? [name, rest, ''] : [name, rest.slice(0, second), rest.slice(second + 1)];
}

function parseHash16(hash16: string): number | null {
  return /^[0-9a-fA-F]{8}$/.test(hash16) ? parseInt(hash16, 16) : null;
}

function publicKeyObject(raw: Uint8Array): KeyObject | null {
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

/**
 * The verifier of an encoded verifier key `name+hash+key`, checked as note.NewVerifier does. Throws
 * ConfigError with go's reason (`malformed verifier id`, `invalid verifier hash`, `unknown verifier
 * algorithm`).
 */
export function newVerifier(verifierKey: string): NoteVerifier {
  const fail = (why: string): never => {
    throw new ConfigError(`invalid verifier key ${JSON.stringify(verifierKey)}: ${why}`);
  };
  const [name, hash16, key64] = cutKey(verifierKey);
  const hash = parseHash16(hash16);
  const key = decodeStdBase64(key64);
  if (hash === null || key === null || !isValidNoteName(name) || key.length === 0) return fail('malformed verifier id');
  if (hash !== verifierKeyHash(name, key)) return fail('invalid verifier hash');
  if (key[0] !== ALG_ED25519) return fail('unknown verifier algorithm');
  if (key.length !== 1 + ED25519_SIZE) return fail('malformed verifier id');
  // OpenSSL does not check that the key is a curve point; one it cannot import verifies nothing, as in Go.
  const publicKey = publicKeyObject(key.subarray(1));
  return {
    name,
    keyHash: hash,
    verify: (message, signature) => publicKey !== null && signature.length === SIGNATURE_SIZE && verify(null, message, publicKey, signature),
  };
}

interface ParsedSignerKey {
  name: string;
  keyHash: number;
  privateKey: KeyObject;
  publicKey: Buffer;
}

/** note.NewSigner's checks, including that the hash matches the public key derived from the seed. */
function parseSignerKey(signerKey: string): ParsedSignerKey {
  const fail = (why: string): never => {
    throw new ConfigError(`invalid signer key: ${why}`);
  };
  if (!signerKey.startsWith('PRIVATE+KEY+')) return fail('malformed verifier id');
  const [name, hash16, key64] = cutKey(signerKey.slice('PRIVATE+KEY+'.length));
  const hash = parseHash16(hash16);
  const key = decodeStdBase64(key64);
  if (hash === null || key === null || !isValidNoteName(name) || key.length === 0) return fail('malformed verifier id');
  if (key[0] !== ALG_ED25519) return fail('unknown verifier algorithm');
  if (key.length !== 1 + ED25519_SIZE) return fail('malformed verifier id');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, key.subarray(1)]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  if (hash !== verifierKeyHash(name, Buffer.concat([Buffer.of(ALG_ED25519), publicKey]))) return fail('invalid verifier hash');
  return { name, keyHash: hash, privateKey, publicKey };
}

/**
 * The signer of an encoded signer key `PRIVATE+KEY+name+hash+key`, checked as note.NewSigner does.
 * Throws ConfigError; the message never repeats the key.
 */
export function newSigner(signerKey: string): NoteSigner {
  const { name, keyHash, privateKey } = parseSignerKey(signerKey);
  return { name, keyHash, sign: (message) => sign(null, message, privateKey) };
}

/** The verifier key `name+hash+key` that checks what the signer key `PRIVATE+KEY+...` signs. Throws ConfigError. */
export function signerVerifierKey(signerKey: string): string {
  const { name, publicKey } = parseSignerKey(signerKey);
  return ed25519VerifierKey(name, publicKey);
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
}

/** The verifier key `name+hash+key` of a raw 32-byte Ed25519 public key (note.NewEd25519VerifierKey). */
export function ed25519VerifierKey(name: string, publicKey: Uint8Array): string {
  if (publicKey.length !== ED25519_SIZE) throw new ConfigError(`invalid public key size ${publicKey.length}, expected ${ED25519_SIZE}`);
  const key = Buffer.concat([Buffer.of(ALG_ED25519), publicKey]);
  return `${name}+${hex8(verifierKeyHash(name, key))}+${key.toString('base64')}`;
}

/** A fresh key pair for server `name` (note.GenerateKey): the secret signer key and the public verifier key. */
export function generateKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isValidNoteName(name)) throw new ConfigError(`invalid server name ${JSON.stringify(name)}: it must be non-empty, without spaces or +`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519.length);
  const verifierKey = ed25519VerifierKey(name, rawPublicKey(publicKey));
  const hash16 = verifierKey.split('+')[1]!;
  const signerKey = `PRIVATE+KEY+${name}+${hash16}+${Buffer.concat([Buffer.of(ALG_ED25519), seed]).toString('base64')}`;
  return { signerKey, verifierKey };
}

function malformed(): SumdbVerificationError {
  return new SumdbVerificationError('malformed note');
}

/**
 * Parses a signed note and checks its signatures against `verifiers`, as note.Open does: signatures by
 * a known key must verify (`invalid signature for key <name>+<hash>` otherwise), others are kept as
 * unverified, repeats are dropped, and at least one known key must have signed (`note has no verifiable
 * signatures`). Two verifiers with one name and hash make the key ambiguous. Throws
 * SumdbVerificationError, never anything else, whatever the bytes.
 */
export function openNote(message: Uint8Array | string, verifiers: readonly NoteVerifier[]): Note {
  const bytes = typeof message === 'string' ? Buffer.from(message) : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  let msg: string;
  try {
    msg = utf8.decode(bytes);
  } catch {
    throw malformed();
  }
  for (const b of bytes) if (b < 0x20 && b !== 0x0a) throw malformed();

  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw malformed();
  const text = msg.slice(0, split + 1);
  let sigs = msg.slice(split + 2);
  if (sigs === '' || !sigs.endsWith('\n')) throw malformed();
  const textBytes = Buffer.from(text);

  const note: Note = { text, sigs: [], unverifiedSigs: [] };
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  let count = 0;
  while (sigs !== '') {
    const nl = sigs.indexOf('\n');
    let line = sigs.slice(0, nl);
    sigs = sigs.slice(nl + 1);
    if (!line.startsWith(SIG_PREFIX)) throw malformed();
    line = line.slice(SIG_PREFIX.length);
    const space = line.indexOf(' ');
    const name = space < 0 ? line : line.slice(0, space);
    const b64 = space < 0 ? '' : line.slice(space + 1);
    const sig = decodeStdBase64(b64);
    if (sig === null || !isValidNoteName(name) || b64 === '' || sig.length < 5) throw malformed();
    const keyHash = sig.readUInt32BE(0);
    if (++count > MAX_SIGNATURES) throw malformed();

    const matching = verifiers.filter((v) => v.name === name && v.keyHash === keyHash);
    if (matching.length === 0) {
      if (seenUnverified.has(line)) continue;
      seenUnverified.add(line);
      note.unverifiedSigs.push({ name, keyHash, base64: b64 });
      continue;
    }
    if (matching.length > 1) throw new SumdbVerificationError(`ambiguous key ${name}+${hex8(keyHash)}`);
    const id = `${name}+${hex8(keyHash)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (!matching[0]!.verify(textBytes, sig.subarray(4))) throw new SumdbVerificationError(`invalid signature for key ${id}`);
    note.sigs.push({ name, keyHash, base64: b64 });
  }
  if (note.sigs.length === 0) throw new SumdbVerificationError('note has no verifiable signatures');
  return note;
}

/**
 * Encodes `note` signed by `signers` (note.Sign): the text, a blank line, the note's existing signatures
 * except those by the signers' keys, then one new signature line per signer. The text must end in a
 * newline. Throws SumdbVerificationError (`malformed note`, `invalid signer`).
 */
export function signNote(note: Pick<Note, 'text'> & Partial<Note>, ...signers: NoteSigner[]): Buffer {
  if (!note.text.endsWith('\n')) throw malformed();
  const text = Buffer.from(note.text);
  const replaced = new Set<string>();
  const lines: string[] = [];
  for (const signer of signers) {
    if (!isValidNoteName(signer.name)) throw new SumdbVerificationError('invalid signer');
    replaced.add(`${signer.name}+${hex8(signer.keyHash)}`);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(signer.keyHash >>> 0);
    lines.push(`${SIG_PREFIX}${signer.name} ${Buffer.concat([head, signer.sign(text)]).toString('base64')}\n`);
  }
  const kept: string[] = [];
  for (const sig of [...(note.sigs ?? []), ...(note.unverifiedSigs ?? [])]) {
    if (!isValidNoteName(sig.name)) throw malformed();
    if (replaced.has(`${sig.name}+${hex8(sig.keyHash)}`)) continue;
    const raw = decodeStdBase64(sig.base64);
    if (raw === null || raw.length < 4 || raw.readUInt32BE(0) !== sig.keyHash) throw malformed();
    kept.push(`${SIG_PREFIX}${sig.name} ${sig.base64}\n`);
  }
  return Buffer.concat([text, Buffer.from('\n' + kept.join('') + lines.join(''))]);
}
