#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isGodepotError } from '../errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Builds the `godepot` command tree; each subcommand lives in its own file under cli/. */
export function buildProgram(): Command {
  const program = new Command('godepot')
    .description('A Go module proxy and offline-dependency toolkit')
    .version(pkg.version, '-V, --version', 'print the godepot version')
    .showHelpAfterError()
    .exitOverride();
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (isGodepotError(err)) {
      process.stderr.write(`godepot: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv);
