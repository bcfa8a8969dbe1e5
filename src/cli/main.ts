#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { checkGodepotEnv } from '../config/check-godepot-env.js';
import { isGodepotError } from '../errors.js';
import { auditCommand } from './audit.js';
import { bundleCommand } from './bundle.js';
import { withExamples } from './examples.js';
import { compareCommand, fingerprintCommand } from './fingerprint.js';
import { keyCommand } from './key.js';
import { mirrorCommand } from './mirror.js';
import { modCommand } from './mod.js';
import { publishCommand } from './publish.js';
import { serveCommand } from './serve.js';
import { addStorageVerify } from './storage-verify.js';
import { storageCommand } from './storage.js';
import { addGcCommand } from './storage-gc.js';
import { sumdbCommand } from './sumdb.js';
import { tokenCommand } from './token.js';
import { vendorCommand } from './vendor.js';
import { packageVersion } from './version.js';

/** Builds the `godepot` command tree; each subcommand lives in its own file under cli/. */
export function buildProgram(): Command {
  const program = new Command('godepot')
    .description('A Go module proxy and offline-dependency toolkit')
    .version(packageVersion(), '-V, --version', 'print the godepot version')
    .enablePositionalOptions()
    .showHelpAfterError();
  withExamples(program, [
    ['godepot serve', 'a caching Go module proxy on 127.0.0.1:3000: GOPROXY=http://127.0.0.1:3000 go build ./...'],
    ['godepot bundle create . --output deps.tar.gz', 'every module the project in . needs, for the far side of an air gap'],
    ['godepot help serve', 'every setting of serve; each command has --help'],
  ]);
  program.addCommand(modCommand());
  program.addCommand(serveCommand());
  program.addCommand(sumdbCommand());
  program.addCommand(bundleCommand());
  program.addCommand(keyCommand());
  program.addCommand(mirrorCommand());
  program.addCommand(vendorCommand());
  const storage = storageCommand();
  addStorageVerify(storage);
  addGcCommand(storage);
  program.addCommand(storage);
  program.addCommand(publishCommand());
  program.addCommand(tokenCommand());
  program.addCommand(auditCommand());
  program.addCommand(fingerprintCommand());
  program.addCommand(compareCommand());
  // Errors are reported by main(), once; commander must not exit the process from inside a subcommand.
  const overrideExits = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(overrideExits);
  };
  overrideExits(program);
  return program;
}


/** A missing or unreadable file named on the command line: the user's mistake, not a crash. */
function isFileSystemError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EPERM', 'ENOSPC'].includes(code);
}

// A reader that stops early (`godepot --help | head -3`) closes the pipe: end quietly, as other
// command-line tools do, instead of with Node's unhandled EPIPE and its stack.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

async function main(argv: string[]): Promise<number> {
  try {
    // Before any command runs, as a mistyped flag stops it before it runs.
    checkGodepotEnv(process.env);
    const program = buildProgram();
    // Nothing asked is no mistake: the help, on stdout, as --help prints it.
    if (argv.length <= 2) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (isGodepotError(err) || isFileSystemError(err)) {
      process.stderr.write(`godepot: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv);
