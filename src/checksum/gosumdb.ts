// GOSUMDB values as the go command reads them (cmd/go/internal/modfetch dbDial and
// golang.org/x/mod/sumdb/note.NewVerifier): `off`, a known database name, or a verifier key
// `name+hash+key`, optionally followed by whitespace and the URL to reach the database at.
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** The checksum database go uses when GOSUMDB is unset. */
export const DEFAULT_GOSUMDB = 'sum.golang.org';

/** Verifier keys of databases that may be named alone, as in cmd/go's knownGOSUMDB. */
export const KNOWN_GOSUMDB: Readonly<Record<string, string>> = {
  'sum.golang.org': 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8',
};

/** A checksum database to trust: its name, its verifier key, and where to reach it. */
export interface Gosumdb {
  /** The database name, e.g. `sum.golang.org`; also the first path element under `/sumdb/`. */
  name: string;
  /** The full verifier key `name+hash+key`, as go writes it to its sumdb config. */
  verifierKey: string;
  /** The key hash, the 8 hex digits of the verifier key. */
  keyHash: number;
  /** The Ed25519 public key that signs the database's tree heads (32 bytes). */
  publicKey: Buffer;
  /**
   * The URL given after the key, which go uses instead of any proxy (`https://sum.golang.google.cn`
   * for `sum.golang.google.cn`); null when none was given and the database is reached at https://<name>
   * or through a proxy.
   */
  url: string | null;
}

const ALG_ED25519 = 1;

/** The hash note.NewVerifier checks: the first 4 bytes of SHA-256(name + "\n" + key), big-endian. */
export function verifierKeyHash(name: string, key: Uint8Array): number {
  return createHash('sha256').update(name).update('\n').update(key).digest().readUInt32BE(0);
}

function fail(spec: string, why: string): never {
  throw new ConfigError(`sumdb: invalid GOSUMDB ${JSON.stringify(spec)}: ${why}`);
}

// note.NewVerifier's checks and texts.
function parseVerifierKey(spec: string, vkey: string): Pick<Gosumdb, 'name' | 'verifierKey' | 'keyHash' | 'publicKey'> {
  const [name = '', hash16 = '', ...rest] = vkey.split('+');
  const key64 = rest.join('+');
  const validName = name !== '' && !/\s/u.test(name);
  const validKey64 = key64 !== '' && /^[A-Za-z0-9+/]*={0,2}$/.test(key64) && key64.length % 4 === 0;
  if (!/^[0-9a-fA-F]{8}$/.test(hash16) || !validKey64 || !validName) fail(spec, 'malformed verifier id');
  const key = Buffer.from(key64, 'base64');
  const keyHash = parseInt(hash16, 16);
  if (keyHash !== verifierKeyHash(name, key)) fail(spec, 'invalid verifier hash');
  if (key[0] !== ALG_ED25519) fail(spec, 'unknown verifier algorithm');
  if (key.length !== 33) fail(spec, 'malformed verifier id');
  return { name, verifierKey: vkey, keyHash, publicKey: key.subarray(1) };
}

/** go's "no funny business in the database name" check: `host[/path]` and nothing else. */
function checkName(spec: string, name: string): void {
  let url: URL | null = null;
  try {
    url = new URL(`https://${name}`);
  } catch {
    // reported below
  }
  const plain = url !== null && url.username === '' && url.password === '' && url.search === '' && url.hash === '' && url.host !== '';
  const roundTrips = plain && url!.host + (url!.pathname === '/' ? '' : url!.pathname) === name;
  if (!roundTrips || name.endsWith('/')) fail(spec, `invalid sumdb name (must be host[/path]): ${name}`);
}

/**
 * The database names a `/sumdb/<name>/` URL can carry: a lower-case host, optionally with a port. go
 * allows `host/path` names, but those cannot be one element of a proxy's URL.
 */
export const PROXIED_SUMDB_NAME = /^[a-z0-9][a-z0-9.-]*(?::[0-9]{1,5})?$/;

/**
 * Throws ConfigError unless godepot can host a database named `name`: a name go accepts in GOSUMDB
 * that is also one element of `/sumdb/<name>/` (PROXIED_SUMDB_NAME).
 */
export function checkHostedName(name: string): void {
  if (!PROXIED_SUMDB_NAME.test(name) || name.length > 253) {
    throw new ConfigError(`sumdb-host: invalid checksum database name ${JSON.stringify(name)}: want a lower-case host name, optionally with :port`);
  }
  checkName(name, name);
}

/**
 * Parses a GOSUMDB value: null for `off`; otherwise the database, with go's rules: a known name alone
 * stands for its verifier key (`sum.golang.google.cn` is sum.golang.org reached at
 * https://sum.golang.google.cn), any other database needs its full `name+hash+key`, and an optional
 * http(s) URL may follow after whitespace. Throws ConfigError naming the value and go's reason.
 */
export function parseGosumdb(spec: string): Gosumdb | null {
  if (spec === 'off') return null;
  const value = spec === 'sum.golang.google.cn' ? 'sum.golang.org https://sum.golang.google.cn' : spec;
  const fields = value.split(/\s+/u).filter((f) => f !== '');
  if (fields.length === 0) fail(spec, 'missing GOSUMDB');
  if (fields.length > 2) fail(spec, 'too many fields');
  const vkey = KNOWN_GOSUMDB[fields[0]!] ?? fields[0]!;
  const verifier = parseVerifierKey(spec, vkey);
  checkName(spec, verifier.name);
  let url: string | null = null;
  if (fields[1] !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(fields[1]);
    } catch {
      return fail(spec, `invalid GOSUMDB URL: ${fields[1]}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(spec, `invalid GOSUMDB URL (must be http or https): ${fields[1]}`);
    url = parsed.href;
  }
  return { ...verifier, url };
}
