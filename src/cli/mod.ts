import { open, readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { writeFileAtomically } from '../storage/atomic-file.js';
import { parseGoModLax } from '../module/gomod.js';
import { hashGoMod, hashZip } from '../module/hash.js';
import { checkZip, createZipFromDir, readZipModuleVersion } from '../module/zip.js';
import { withExamples } from './examples.js';

const ZIP_MAGIC = [Buffer.from('PK\x03\x04', 'latin1'), Buffer.from('PK\x05\x06', 'latin1')];

async function isZipFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && ZIP_MAGIC.some((magic) => magic.equals(head));
  } finally {
    await handle.close();
  }
}

/** `godepot mod`: module zips and hashes, made and checked exactly as go does. */
export function modCommand(): Command {
  const mod = withExamples(new Command('mod').description('make, hash and check module zips exactly as the go command does'), [
    'godepot mod zip . --module example.com/m --version v1.0.0 --output m.zip',
    'godepot mod hash m.zip',
    'godepot mod check m.zip',
  ]);

  withExamples(mod.command('zip'), [['godepot mod zip ./m --module example.com/m/v2 --version v2.1.0 --output v2.1.0.zip', 'prints the go.sum line of the zip']])
    .description("write the module zip of DIR and print its go.sum line; fails naming every rule DIR breaks")
    .argument('<dir>', 'the module root directory')
    .requiredOption('--module <path>', 'module path, e.g. example.com/m/v2')
    .requiredOption('--version <version>', 'canonical version, e.g. v2.1.0')
    .requiredOption('--output <file>', 'where to write the zip (replaced whole, or not at all)')
    .action(async (dir: string, opts: { module: string; version: string; output: string }) => {
      await writeFileAtomically(opts.output, (out) => createZipFromDir(out, opts.module, opts.version, dir));
      process.stdout.write(`${opts.module} ${opts.version} ${await hashZip(opts.output)}\n`);
    });

  withExamples(mod.command('hash'), ['godepot mod hash v2.1.0.zip', ['godepot mod hash go.mod --version v2.1.0', 'the go.sum line of the go.mod of version v2.1.0']])
    .description('print the h1: hash of a module zip or a go.mod, in go.sum form where module and version are known')
    .argument('<file>', 'a module zip or a go.mod file')
    .option('--module <path>', 'module path of a go.mod (default: its module line)')
    .option('--version <version>', 'version of a go.mod, to print its go.sum line')
    .action(async (file: string, opts: { module?: string; version?: string }) => {
      if (await isZipFile(file)) {
        const h1 = await hashZip(file);
        const mv = await readZipModuleVersion(file);
        process.stdout.write(mv ? `${mv.modulePath} ${mv.version} ${h1}\n` : `${h1}\n`);
        return;
      }
      const data = await readFile(file);
      const h1 = hashGoMod(data);
      const modulePath = opts.module ?? parseGoModLax(file, data).module?.mod.path;
      process.stdout.write(opts.version && modulePath ? `${modulePath} ${opts.version}/go.mod ${h1}\n` : `${h1}\n`);
    });

  withExamples(mod.command('check'), ['godepot mod check v2.1.0.zip', 'godepot mod check download.zip --module example.com/m/v2 --version v2.1.0'])
    .description('validate a module zip against go\'s rules and list every problem (exit 1 if any)')
    .argument('<zip>', 'the module zip')
    .option('--module <path>', 'module path (default: from the zip entries)')
    .option('--version <version>', 'version (default: from the zip entries)')
    .action(async (zip: string, opts: { module?: string; version?: string }) => {
      const found = opts.module && opts.version ? null : await readZipModuleVersion(zip);
      const modulePath = opts.module ?? found?.modulePath;
      const version = opts.version ?? found?.version;
      if (!modulePath || !version) {
        process.stderr.write('godepot: the zip entries share no module@version/ prefix; give --module and --version\n');
        process.exitCode = 1;
        return;
      }
      const checked = await checkZip(modulePath, version, zip);
      for (const p of checked.invalid) process.stdout.write(`invalid: ${p.path}: ${p.reason}\n`);
      if (checked.error && checked.invalid.length === 0) process.stdout.write(`invalid: ${checked.error.message}\n`);
      if (checked.error) {
        process.stderr.write(`godepot: ${zip} is not a valid module zip for ${modulePath}@${version}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`ok: ${modulePath}@${version}, ${checked.valid.length} files\n`);
    });

  return mod;
}
