// go.work files as golang.org/x/mod/modfile reads them (ParseWork): go, toolchain, godebug, use and
// replace directives, over the same syntax as go.mod.

import { applySharedDirective, type GoDirective, type Godebug, type Replace, type ToolchainDirective } from './gomod.js';
import {
  Args,
  DirectiveProblem,
  formatSyntax,
  parseQuotedArg,
  parseSyntax,
  Problems,
  readDirective,
  type FileSyntax,
  type Line,
} from './modsyntax.js';

/** One `use` line: a directory holding a module of the workspace. */
export interface Use {
  path: string;
  syntax: Line;
}

/** A go.work file with its directives interpreted; `syntax` holds the text, comments included. */
export interface GoWorkFile {
  go: GoDirective | null;
  toolchain: ToolchainDirective | null;
  godebug: Godebug[];
  use: Use[];
  replace: Replace[];
  syntax: FileSyntax;
}

const blockVerbs = new Set(['godebug', 'use', 'replace']);

/**
 * Parses a go.work file as modfile.ParseWork does: every directive is checked and replacement versions
 * must be semver (they are canonicalised). Throws GoModSyntaxError listing every problem.
 */
export function parseGoWork(filename: string, data: string | Uint8Array): GoWorkFile {
  const syntax = parseSyntax(filename, data);
  const f: GoWorkFile = { go: null, toolchain: null, godebug: [], use: [], replace: [], syntax };
  const problems = new Problems(filename);
  for (const stmt of syntax.stmt) {
    if (stmt.kind === 'line') {
      addWorkDirective(f, problems, stmt, stmt.token[0]!, new Args(stmt.token, 1));
    } else if (stmt.kind === 'block') {
      const verb = stmt.token[0]!;
      if (stmt.token.length > 1 || !blockVerbs.has(verb)) {
        problems.add(stmt.start, `unknown block type: ${stmt.token.join(' ')}`);
        continue;
      }
      for (const line of stmt.line) addWorkDirective(f, problems, line, verb, new Args(line.token, 0));
    }
  }
  problems.throwIfAny();
  return f;
}

/** Prints a go.work in the canonical layout, byte for byte as modfile.Format (`go work edit -fmt` also sorts blocks). */
export function formatGoWork(file: GoWorkFile): string {
  return formatSyntax(file.syntax);
}

function addWorkDirective(f: GoWorkFile, problems: Problems, line: Line, verb: string, args: Args): void {
  readDirective(problems, line, () => {
    if (applySharedDirective(f, line, verb, args, null, false)) return;
    if (verb !== 'use') throw new DirectiveProblem(`unknown directive: ${verb}`);
    if (args.length !== 1) throw new DirectiveProblem(`usage: ${verb} local/dir`);
    f.use.push({ path: parseQuotedArg(args, 0), syntax: line });
  });
}
