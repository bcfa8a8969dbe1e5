import { randomBytes } from 'node:crypto';
import { link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Command } from 'commander';
import { parseGosumdb } from '../checksum/gosumdb.js';
import { generateKey } from '../checksum/note.js';
import { ConfigError } from '../errors.js';
import { syncDirectory } from '../storage/atomic-file.js';

/**
 * Writes `data` to a new file `path` readable by its owner only, whole or not at all, and never over an
 * existing file: a signer key replaced by mistake is a database whose clients can no longer verify it.
 */
async function writeSecretFile(path: string, data: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // link, unlike rename, refuses to replace an existing file.
    await link(temp, path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw new ConfigError(`${path} already exists; godepot never overwrites a key file`);
      throw err;
    });
    await syncDirectory(dirname(path));
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** `godepot sumdb`: the checksum database godepot can host. */
export function sumdbCommand(): Command {
  const sumdb = new Command('sumdb').description("keys of the checksum database godepot hosts (--sumdb-host)");
  const key = new Command('key').description('signer and verifier keys');
  key
    .command('generate')
    .description('write a new signer key for database NAME to KEYFILE (mode 0600) and print its verifier key, the value for GOSUMDB')
    .argument('<name>', 'the database name: host[/path], e.g. sumdb.example.com')
    .requiredOption('--output <keyfile>', 'where to write the signer key; must not exist')
    .action(async (name: string, opts: { output: string }) => {
      const { signerKey, verifierKey } = generateKey(name);
      // The name must also be one go accepts in GOSUMDB, or the key is of no use.
      parseGosumdb(verifierKey);
      await writeSecretFile(opts.output, `${signerKey}\n`);
      process.stdout.write(`${verifierKey}\n`);
    });
  sumdb.addCommand(key);
  return sumdb;
}
