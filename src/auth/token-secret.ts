// What a token is and how its secret is kept. A token is `gdp_<id>_<secret>`: the id (16 hex digits)
// is stored in clear so that a presented token is looked up without hashing against every stored one;
// the secret (32 random bytes, base64url) is stored only as a salted scrypt hash.
//
// The secret carries 256 random bits, so no amount of key stretching changes what guessing it costs;
// scrypt's cost is kept low (N=1024, r=8, p=1: about 3 ms) because the server verifies on its event
// loop and answers a token of an unknown id with a dummy hash of the same cost, so that timing does not
// tell ids apart. Verified tokens are cached by the store, so the cost is paid once per token and reload.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** How every token starts, so that one pasted into a log or a repository is recognised for what it is. */
export const TOKEN_PREFIX = 'gdp_';

const TOKEN = /^gdp_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** The parts of a token: its id (stored in clear) and its secret (stored hashed). */
export interface TokenParts {
  readonly id: string;
  readonly secret: string;
}

/** scrypt's cost parameters and output length, stored beside each hash so that they may change later. */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly keylen: number;
}

/** The parameters new tokens are hashed with. */
export const SCRYPT_PARAMS: ScryptParams = { N: 1024, r: 8, p: 1, keylen: 32 };

/** A salted hash of a token's secret, as the token file keeps it. */
export interface SecretHash {
  readonly algorithm: 'scrypt';
  readonly params: ScryptParams;
  /** base64url */
  readonly salt: string;
  /** base64url */
  readonly key: string;
}

/** Derives the key of `secret` under `salt`; scrypt unless a test counts calls. */
export type HashFunction = (secret: string, salt: Buffer, params: ScryptParams) => Buffer;

/** node:crypto's scrypt, with the memory bound the parameters need. */
export const scryptHash: HashFunction = (secret, salt, { N, r, p, keylen }) =>
  scryptSync(secret, salt, keylen, { N, r, p, maxmem: 256 * N * r });

/** A new token of a new random id and secret. */
export function newToken(): TokenParts & { token: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { token: `${TOKEN_PREFIX}${id}_${secret}`, id, secret };
}

/** The id and secret of `token`, or undefined when it is not shaped as godepot's tokens are. */
export function parseToken(token: string): TokenParts | undefined {
  const match = TOKEN.exec(token);
  return match === null ? undefined : { id: match[1]!, secret: match[2]! };
}

/** A new salted hash of `secret`. */
export function hashSecret(secret: string, hash: HashFunction = scryptHash, params: ScryptParams = SCRYPT_PARAMS): SecretHash {
  const salt = randomBytes(16);
  return { algorithm: 'scrypt', params, salt: salt.toString('base64url'), key: hash(secret, salt, params).toString('base64url') };
}

/** True when `secret` hashes to `stored`; compared in constant time. */
export function secretMatches(secret: string, stored: SecretHash, hash: HashFunction = scryptHash): boolean {
  const expected = Buffer.from(stored.key, 'base64url');
  const actual = hash(secret, Buffer.from(stored.salt, 'base64url'), stored.params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
