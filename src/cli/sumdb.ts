import { Command } from 'commander';
import { parseGosumdb } from '../checksum/gosumdb.js';
import { generateKey } from '../checksum/note.js';
import { writeNewKeyFile } from '../bundle/signing.js';
import { withExamples } from './examples.js';

/** `godepot sumdb`: the checksum database godepot can host. */
export function sumdbCommand(): Command {
  const example: [string, string] = ['godepot sumdb key generate sumdb.corp.example.com --output sumdb.key', 'then serve --sumdb-host sumdb.corp.example.com --sumdb-key sumdb.key; clients set GOSUMDB to the printed verifier key'];
  const sumdb = withExamples(new Command('sumdb').description("keys of the checksum database godepot hosts (--sumdb-host)"), [example]);
  const key = withExamples(new Command('key').description('signer and verifier keys'), [example]);
  withExamples(key.command('generate'), [example])
    .description('write a new signer key for database NAME to KEYFILE (mode 0600) and print its verifier key, the value for GOSUMDB')
    .argument('<name>', 'the database name: host[/path], e.g. sumdb.example.com')
    .requiredOption('--output <keyfile>', 'where to write the signer key; must not exist')
    .action(async (name: string, opts: { output: string }) => {
      const { signerKey, verifierKey } = generateKey(name);
      // The name must also be one go accepts in GOSUMDB, or the key is of no use.
      parseGosumdb(verifierKey);
      await writeNewKeyFile(opts.output, `${signerKey}\n`, 0o600);
      process.stdout.write(`${verifierKey}\n`);
    });
  sumdb.addCommand(key);
  return sumdb;
}
