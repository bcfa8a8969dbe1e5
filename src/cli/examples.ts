// Every command's --help ends with examples a user can copy, in one layout.
import type { Command } from 'commander';

/** Adds an "Examples:" section after `command`'s help: each item a command line, or [line, what it does]. */
export function withExamples(command: Command, examples: ReadonlyArray<string | readonly [string, string]>): Command {
  const lines = examples.map((example) => (typeof example === 'string' ? `  ${example}` : `  ${example[0]}\n      ${example[1]}`));
  return command.addHelpText('after', `\nExamples:\n${lines.join('\n')}`);
}
