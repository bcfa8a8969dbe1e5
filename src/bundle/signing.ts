// Bundle signatures: an Ed25519 key pair in PEM (PKCS#8 private key, SPKI public key), so that openssl
// and other standard tools can check a bundle too; manifest.sig is the raw 64-byte signature of the
// exact bytes of manifest.json, which in turn holds the sha256 of every other file.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { writeNewFile } from '../storage/atomic-file.js';

/** Bytes of an Ed25519 signature. */
export const SIGNATURE_SIZE = 64;

/** A new Ed25519 key pair as PEM text: PKCS#8 private key, SPKI public key. */
export function generateSigningKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

function requireEd25519(key: KeyObject, file: string, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError(`${file}: an ${key.asymmetricKeyType ?? 'unknown'} ${what}; bundles are signed with Ed25519 keys (godepot key generate)`);
  return key;
}

// What the PEM text holds, made a key of the kind `create` makes; throws ConfigError naming `file` otherwise.
function keyFromPem(file: string, pem: string, what: 'private key' | 'public key', create: (input: { key: string; format: 'pem' }) => KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = create({ key: pem, format: 'pem' });
  } catch (err) {
    throw new ConfigError(`${file}: not a PEM ${what} (${(err as Error).message})`, { cause: err });
  }
  return requireEd25519(key, file, what);
}

/** Reads a PEM Ed25519 private key (as `godepot key generate` writes); throws ConfigError for anything else. */
export async function readSigningKey(file: string): Promise<KeyObject> {
  return keyFromPem(file, await readFile(file, 'utf8'), 'private key', createPrivateKey);
}

/**
 * Reads a PEM Ed25519 public key (the `.pub` file of `godepot key generate`); throws ConfigError for
 * anything else, a private key included: that one should never travel to where bundles are checked.
 */
export async function readPublicKey(file: string): Promise<KeyObject> {
  const pem = await readFile(file, 'utf8');
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) throw new ConfigError(`${file}: not a PEM public key (want -----BEGIN PUBLIC KEY-----)`);
  return keyFromPem(file, pem, 'public key', createPublicKey);
}

/** The signature of manifest.json's bytes; throws ConfigError unless `key` is an Ed25519 private key. */
export function signManifest(manifestBytes: Uint8Array, key: KeyObject): Buffer {
  if (key.type !== 'private') throw new ConfigError('a bundle is signed with a private key');
  return sign(null, manifestBytes, requireEd25519(key, 'signing key', 'key'));
}

/** True when `signature` is `key`'s Ed25519 signature of exactly `manifestBytes`. */
export function isManifestSignatureValid(manifestBytes: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ed25519' && signature.length === SIGNATURE_SIZE && verify(null, manifestBytes, key, signature);
}

/** `SHA256:<base64>` of the public key's SPKI encoding: a short name to compare keys by, as ssh prints them. */
export function keyFingerprint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Writes a new key file with `mode`, whole or not at all. A key replaced by mistake signs what nobody can
 * check any more: an existing file is never overwritten (ConfigError).
 */
export async function writeNewKeyFile(path: string, data: string, mode: number): Promise<void> {
  await writeNewFile(path, data, mode).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new ConfigError(`${path} already exists; godepot never overwrites a key file`);
    throw err;
  });
}

/**
 * Writes a key pair: the private key to `privateFile` (mode 0600), the public key to `publicFile` (0644).
 * Neither may exist; when the second cannot be written, the first is removed again.
 */
export async function writeSigningKeyPair(privateFile: string, publicFile: string, pair: { privateKey: string; publicKey: string }): Promise<void> {
  await writeNewKeyFile(privateFile, pair.privateKey, 0o600);
  try {
    await writeNewKeyFile(publicFile, pair.publicKey, 0o644);
  } catch (err) {
    await unlink(privateFile);
    throw err;
  }
}
