// The signer key of the database godepot hosts, read once at start: a key that cannot sign, or signs for
// another name, must stop the start, not the first lookup.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { newSigner } from './note.js';

/**
 * The signer key `PRIVATE+KEY+<name>+...` in `file` (as `godepot sumdb key generate` writes it), checked
 * to sign for database `name`. Throws ConfigError naming the file, never repeating the key.
 */
export async function readSignerKey(file: string, name: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`sumdb-key: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const signerKey = text.trim();
  let keyName: string;
  try {
    keyName = newSigner(signerKey).name;
  } catch (err) {
    throw new ConfigError(`sumdb-key: ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (keyName !== name) {
    throw new ConfigError(`sumdb-key: ${file} is the key of checksum database ${JSON.stringify(keyName)}, not of ${JSON.stringify(name)} (--sumdb-host)`);
  }
  return signerKey;
}
