import { createPublicKey } from 'node:crypto';
import { Command } from 'commander';
import { generateSigningKeyPair, keyFingerprint, writeSigningKeyPair } from '../bundle/signing.js';
import { withExamples } from './examples.js';

/**
 * `godepot key`: the Ed25519 key pair that signs bundles (`bundle create --sign`) and checks them
 * (`--pubkey`). What it prints goes to `stdout`.
 */
export function keyCommand(stdout: { write(text: string): unknown } = process.stdout): Command {
  const example: [string, string] = ['godepot key generate --output bundle.key', 'then bundle create --sign bundle.key, and bundle verify --pubkey bundle.key.pub'];
  const key = withExamples(new Command('key').description('keys that sign and check bundles'), [example]);
  withExamples(key.command('generate'), [example])
    .description('write a new Ed25519 key pair: the private key to FILE (PEM, mode 0600), the public key to FILE.pub (PEM)')
    .requiredOption('--output <file>', 'where to write the private key; the public key goes to <file>.pub; neither may exist')
    .action(async (opts: { output: string }) => {
      const pair = generateSigningKeyPair();
      const publicFile = `${opts.output}.pub`;
      await writeSigningKeyPair(opts.output, publicFile, pair);
      stdout.write(
        `private key: ${opts.output} (keep it secret: bundle create --sign ${opts.output})\n` +
          `public key:  ${publicFile} (bundle verify --pubkey ${publicFile})\n` +
          `fingerprint: ${keyFingerprint(createPublicKey(pair.publicKey))}\n`,
      );
    });
  return key;
}
