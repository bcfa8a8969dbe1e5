// go.mod files as golang.org/x/mod/modfile reads them: the strict parse the go command applies to the
// main module, the lax parse it applies to dependencies, and the small edits a proxy needs to write
// one. The syntax (tokens, blocks, comments, canonical layout) lives in modsyntax.ts.

import { sep } from 'node:path';
import {
  addLine,
  Args,
  autoQuote,
  cleanup,
  DirectiveProblem,
  formatSyntax,
  goFields,
  goTrimSpace,
  markRemoved,
  parseQuotedArg,
  parseSyntax,
  Problems,
  readDirective,
  tokenValue,
  updateLine,
  type Comment,
  type FileSyntax,
  type Line,
  type LineBlock,
} from './modsyntax.js';
import { checkPathMajor, splitPathVersion } from './path.js';
import { goQuote } from './quote.js';
import { canonicalVersion, InvalidVersionError } from './version.js';

export { GoModSyntaxError, autoQuote, mustQuote } from './modsyntax.js';
export type { Comment, Comments, CommentBlock, FileSyntax, Line, LineBlock, ModFileProblem, Position, Stmt } from './modsyntax.js';

/** A module path and version; `version` is '' where a directive names no version. */
export interface ModuleVersion {
  path: string;
  version: string;
}

/** The `module` directive; `deprecated` is the text of its `// Deprecated:` paragraph, or ''. */
export interface ModuleDirective {
  mod: ModuleVersion;
  deprecated: string;
  syntax: Line;
}

/** The `go` directive: the language version, such as "1.21" or "1.21.0". */
export interface GoDirective {
  version: string;
  syntax: Line;
}

/** The `toolchain` directive: "default" or a name such as "go1.21.3". */
export interface ToolchainDirective {
  name: string;
  syntax: Line;
}

/** One `godebug key=value` setting. */
export interface Godebug {
  key: string;
  value: string;
  syntax: Line;
}

/** One `require` line; `indirect` is true when it carries a `// indirect` comment. */
export interface Require {
  mod: ModuleVersion;
  indirect: boolean;
  syntax: Line;
}

/** One `exclude` line. */
export interface Exclude {
  mod: ModuleVersion;
  syntax: Line;
}

/**
 * One `replace` line. `old.version` is '' when every version is replaced; `new.version` is '' when the
 * replacement is a directory (`=> ../dir`).
 */
export interface Replace {
  old: ModuleVersion;
  new: ModuleVersion;
  syntax: Line;
}

/** One `retract` line: the closed interval [low, high] (equal for a single version) and its comments. */
export interface Retract {
  low: string;
  high: string;
  rationale: string;
  syntax: Line;
}

/** One `tool` line: a package path. */
export interface Tool {
  path: string;
  syntax: Line;
}

/** One `ignore` line: a directory the go command skips. */
export interface Ignore {
  path: string;
  syntax: Line;
}

/** A go.mod file with its directives interpreted; `syntax` holds the text, comments included. */
export interface GoModFile {
  module: ModuleDirective | null;
  go: GoDirective | null;
  toolchain: ToolchainDirective | null;
  godebug: Godebug[];
  require: Require[];
  exclude: Exclude[];
  replace: Replace[];
  retract: Retract[];
  tool: Tool[];
  ignore: Ignore[];
  syntax: FileSyntax;
}

/**
 * Maps a (module path, version as written) pair to the version to record, as the go command does when
 * it resolves queries such as `1.2` or `master` in go.mod. Throws to reject the version: an
 * InvalidVersionError is reported as go reports module.ModuleError, anything else by its message.
 */
export type VersionFixer = (modulePath: string, version: string) => string;

// The language version a `go` line must carry (modfile.GoVersionRE).
const goVersionRE = /^([1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?([a-z]+[0-9]+)?$/;
// What a dependency's go.mod may say instead ("v1.2.3", "1.2.beta1"); only "1.2" is kept.
const laxGoVersionRE = /^v?(([1-9][0-9]*)\.(0|[1-9][0-9]*))([^0-9].*)$/;
// Deliberately loose so that future toolchain names still parse (modfile.ToolchainRE).
const toolchainRE = /^default$|^go1($|\.)/;
const deprecatedRE = /(?:^|\n\n)Deprecated: *([\s\S]*?)(?:$|\n\n)/;

/**
 * Parses a main module's go.mod as modfile.Parse does: every directive is checked and every version is
 * canonicalised, by `fixVersion` when given, else by semver rules ("v1.2" becomes "v1.2.0", "1.2" is an
 * error; retractions are then taken as written). The syntax tree is rewritten to match, without
 * needless quotes. Throws GoModSyntaxError listing every problem.
 */
export function parseGoMod(filename: string, data: string | Uint8Array, fixVersion?: VersionFixer): GoModFile {
  return parseToFile(filename, data, fixVersion ?? null, true);
}

/**
 * Parses a dependency's go.mod as modfile.ParseLax does: only module, go, require, retract and ignore
 * are read, unknown directives and blocks are skipped, and a `go` line such as "v1.2.3" is accepted as
 * "1.2". Throws GoModSyntaxError for bad syntax or a bad honoured directive.
 */
export function parseGoModLax(filename: string, data: string | Uint8Array, fixVersion?: VersionFixer): GoModFile {
  return parseToFile(filename, data, fixVersion ?? null, false);
}

/**
 * Prints a go.mod in the canonical layout, byte for byte as modfile.Format. (`go mod edit -fmt` also
 * sorts blocks and drops duplicate exclude and replace lines first.)
 */
export function formatGoMod(file: GoModFile): string {
  return formatSyntax(file.syntax);
}

function parseToFile(filename: string, data: string | Uint8Array, fix: VersionFixer | null, strict: boolean): GoModFile {
  const syntax = parseSyntax(filename, data);
  const f: GoModFile = {
    module: null,
    go: null,
    toolchain: null,
    godebug: [],
    require: [],
    exclude: [],
    replace: [],
    retract: [],
    tool: [],
    ignore: [],
    syntax,
  };
  const problems = new Problems(filename);
  for (const stmt of syntax.stmt) {
    if (stmt.kind === 'line') {
      addDirective(f, problems, null, stmt, stmt.token[0]!, new Args(stmt.token, 1), fix, strict);
    } else if (stmt.kind === 'block') {
      const verb = stmt.token[0]!;
      if (stmt.token.length > 1 || !blockVerbs.has(verb)) {
        if (strict) problems.add(stmt.start, `unknown block type: ${stmt.token.join(' ')}`);
        continue;
      }
      for (const line of stmt.line) addDirective(f, problems, stmt, line, verb, new Args(line.token, 0), fix, strict);
    }
  }
  // Retracted versions belong to the module itself, whose path may come last, so they are fixed last.
  fixRetract(f, problems, fix);
  problems.throwIfAny();
  return f;
}

// What a dependency's go.mod is read for; everything else there is skipped (modfile.ParseLax).
const laxVerbs = new Set(['go', 'module', 'retract', 'require', 'ignore']);

const blockVerbs = new Set(['module', 'godebug', 'require', 'exclude', 'replace', 'retract', 'tool', 'ignore']);

function addDirective(
  f: GoModFile,
  problems: Problems,
  block: LineBlock | null,
  line: Line,
  verb: string,
  args: Args,
  fix: VersionFixer | null,
  strict: boolean,
): void {
  // A dependency's go.mod may use directives newer than us, or ones that only matter in the main
  // module (replace, exclude): those are skipped rather than rejected.
  if (!strict && !laxVerbs.has(verb)) return;
  readDirective(problems, line, () => {
    if (applySharedDirective(f, line, verb, args, fix, !strict)) return;
    switch (verb) {
      case 'module': {
        if (f.module !== null) throw new DirectiveProblem('repeated module statement');
        f.module = { mod: { path: '', version: '' }, deprecated: parseDeprecation(block, line), syntax: line };
        if (args.length !== 1) throw new DirectiveProblem('usage: module module/path');
        f.module.mod = { path: parseQuotedArg(args, 0), version: '' };
        return;
      }
      case 'require':
      case 'exclude': {
        if (args.length !== 2) throw new DirectiveProblem(`usage: ${verb} module/path v1.2.3`);
        const modulePath = parseQuotedArg(args, 0);
        const version = parseVersion(verb, modulePath, args, 1, fix);
        const pathMajor = modulePathMajor(modulePath);
        if (pathMajor === null) throw new DirectiveProblem('invalid module path');
        checkMajor(verb, modulePath, version, pathMajor);
        const mod = { path: modulePath, version };
        if (verb === 'require') f.require.push({ mod, indirect: isIndirect(line), syntax: line });
        else f.exclude.push({ mod, syntax: line });
        return;
      }
      case 'retract': {
        const rationale = parseDirectiveComment(block, line);
        let interval: { low: string; high: string };
        try {
          interval = parseVersionInterval(verb, '', args, keepVersion);
        } catch (err) {
          // Dependencies may one day use interval forms we do not know (open ends); ignore them there.
          if (err instanceof DirectiveProblem && !strict) return;
          throw err;
        }
        if (args.length > 0 && strict) throw new DirectiveProblem(`unexpected token after version: ${goQuote(args.at(0))}`);
        f.retract.push({ ...interval, rationale, syntax: line });
        return;
      }
      case 'tool':
      case 'ignore': {
        if (args.length !== 1) throw new DirectiveProblem(`${verb} directive expects exactly one argument`);
        const path = parseQuotedArg(args, 0);
        if (verb === 'tool') f.tool.push({ path, syntax: line });
        else f.ignore.push({ path, syntax: line });
        return;
      }
      default:
        throw new DirectiveProblem(`unknown directive: ${verb}`);
    }
  });
}

/** The directives go.mod and go.work share. */
export interface SharedDirectives {
  go: GoDirective | null;
  toolchain: ToolchainDirective | null;
  godebug: Godebug[];
  replace: Replace[];
}

/**
 * Applies a go, toolchain, godebug or replace directive (the ones go.mod and go.work share) to `f`;
 * returns false for any other verb. `laxGo` accepts "v1.2.3"-style go lines. Throws DirectiveProblem.
 * Exported for gowork.ts.
 */
export function applySharedDirective(
  f: SharedDirectives,
  line: Line,
  verb: string,
  args: Args,
  fix: VersionFixer | null,
  laxGo: boolean,
): boolean {
  switch (verb) {
    case 'go': {
      if (f.go !== null) throw new DirectiveProblem('repeated go statement');
      if (args.length !== 1) throw new DirectiveProblem('go directive expects exactly one argument');
      if (!goVersionRE.test(args.at(0))) {
        const m = laxGo ? laxGoVersionRE.exec(args.at(0)) : null;
        if (m === null) throw new DirectiveProblem(`invalid go version '${args.at(0)}': must match format 1.23.0`);
        args.set(0, m[1]!);
      }
      f.go = { version: args.at(0), syntax: line };
      return true;
    }
    case 'toolchain': {
      if (f.toolchain !== null) throw new DirectiveProblem('repeated toolchain statement');
      if (args.length !== 1) throw new DirectiveProblem('toolchain directive expects exactly one argument');
      if (!toolchainRE.test(args.at(0))) {
        throw new DirectiveProblem(`invalid toolchain version '${args.at(0)}': must match format go1.23.0 or default`);
      }
      f.toolchain = { name: args.at(0), syntax: line };
      return true;
    }
    case 'godebug': {
      const setting = args.at(0);
      const eq = setting.indexOf('=');
      if (args.length !== 1 || /["`',]/.test(setting) || eq < 0) throw new DirectiveProblem('usage: godebug key=value');
      f.godebug.push({ key: setting.slice(0, eq), value: setting.slice(eq + 1), syntax: line });
      return true;
    }
    case 'replace':
      f.replace.push(parseReplace(line, verb, args, fix));
      return true;
  }
  return false;
}

// Reads the version argument at `i`; a malformed one is reported as a bad version of `modulePath`.
function parseVersion(verb: string, modulePath: string, args: Args, i: number, fix: VersionFixer | null): string {
  const token = args.at(i);
  const read = tokenValue(token);
  if ('reason' in read) throw invalidVersion(verb, modulePath, token, read.reason);
  let value = read.value;
  if (fix !== null) {
    value = applyFix(fix, verb, modulePath, value);
  } else {
    const canonical = canonicalVersion(value);
    if (canonical === '') {
      throw invalidVersion(verb, modulePath, value, 'must be of the form v1.2.3');
    }
    value = canonical;
  }
  // go writes the version back bare, so a retraction it takes as written ("a b") comes out as text it
  // cannot read again; quoting when needed keeps the result readable and changes nothing for real versions.
  args.set(i, autoQuote(value));
  return value;
}

// `verb modulePath: version "v" invalid: reason`, go's text for a module.InvalidVersionError in a directive.
function invalidVersion(verb: string, modulePath: string, version: string, reason: string, pseudo = false): DirectiveProblem {
  return new DirectiveProblem(new InvalidVersionError('', version, reason, { pseudo }).message, verb, modulePath);
}

function applyFix(fix: VersionFixer, verb: string, modulePath: string, version: string): string {
  try {
    return fix(modulePath, version);
  } catch (err) {
    // go strips the module.ModuleError around an invalid version and prints "verb path: version ...".
    if (err instanceof InvalidVersionError) throw invalidVersion(verb, modulePath, err.version, err.reason, err.pseudo);
    throw new DirectiveProblem(err instanceof Error ? err.message : String(err));
  }
}

// Retracted versions are taken as written until fixRetract sees the module path.
const keepVersion: VersionFixer = (_modulePath, version) => version;

function parseVersionInterval(
  verb: string,
  modulePath: string,
  args: Args,
  fix: VersionFixer,
): { low: string; high: string } {
  if (args.length === 0 || args.at(0) === '(') throw new DirectiveProblem("expected '[' or version");
  if (args.at(0) !== '[') {
    const version = parseVersion(verb, modulePath, args, 0, fix);
    args.shift(1);
    return { low: version, high: version };
  }
  args.shift(1);
  if (args.length === 0) throw new DirectiveProblem("expected version after '['");
  const low = parseVersion(verb, modulePath, args, 0, fix);
  args.shift(1);
  if (args.length === 0 || args.at(0) !== ',') throw new DirectiveProblem("expected ',' after version");
  args.shift(1);
  if (args.length === 0) throw new DirectiveProblem("expected version after ','");
  const high = parseVersion(verb, modulePath, args, 0, fix);
  args.shift(1);
  if (args.length === 0 || args.at(0) !== ']') throw new DirectiveProblem("expected ']' after version");
  args.shift(1);
  return { low, high };
}

function fixRetract(f: GoModFile, problems: Problems, fix: VersionFixer | null): void {
  if (fix === null) return;
  const modulePath = f.module?.mod.path ?? '';
  for (const r of f.retract) {
    if (modulePath === '') {
      // Said once, not once per retract line.
      problems.add(r.syntax.start, 'no module directive found, so retract cannot be used');
      return;
    }
    const tokens = r.syntax.token;
    const args = new Args(tokens, tokens[0] === 'retract' ? 1 : 0);
    readDirective(problems, r.syntax, () => {
      const interval = parseVersionInterval('retract', modulePath, args, fix);
      r.low = interval.low;
      r.high = interval.high;
    });
  }
}

function parseReplace(line: Line, verb: string, args: Args, fix: VersionFixer | null): Replace {
  const arrow = args.length >= 2 && args.at(1) === '=>' ? 1 : 2;
  if (args.length < arrow + 2 || args.length > arrow + 3 || args.at(arrow) !== '=>') {
    throw new DirectiveProblem(
      `usage: ${verb} module/path [v1.2.3] => other/module v1.4\n\t or ${verb} module/path [v1.2.3] => ../local/directory`,
    );
  }
  const oldPath = parseQuotedArg(args, 0);
  const pathMajor = modulePathMajor(oldPath);
  if (pathMajor === null) throw new DirectiveProblem('invalid module path', verb, oldPath);
  let oldVersion = '';
  if (arrow === 2) {
    oldVersion = parseVersion(verb, oldPath, args, 1, fix);
    checkMajor(verb, oldPath, oldVersion, pathMajor);
  }
  const newPath = parseQuotedArg(args, arrow + 1);
  let newVersion = '';
  if (args.length === arrow + 2) {
    if (!isDirectoryPath(newPath)) {
      if (newPath.includes('@')) {
        throw new DirectiveProblem("replacement module must match format 'path version', not 'path@version'");
      }
      throw new DirectiveProblem('replacement module without version must be directory path (rooted or starting with . or ..)');
    }
    // go makes this check only where '/' separates paths, as it does on every system but Windows.
    if (sep === '/' && newPath.includes('\\')) {
      throw new DirectiveProblem('replacement directory appears to be Windows path (on a non-windows system)');
    }
  }
  if (args.length === arrow + 3) {
    newVersion = parseVersion(verb, newPath, args, arrow + 2, fix);
    if (isDirectoryPath(newPath)) {
      throw new DirectiveProblem(`replacement module directory path ${goQuote(newPath)} cannot have version`);
    }
  }
  return { old: { path: oldPath, version: oldVersion }, new: { path: newPath, version: newVersion }, syntax: line };
}

function modulePathMajor(modulePath: string): string | null {
  return splitPathVersion(modulePath)?.pathMajor ?? null;
}

function checkMajor(verb: string, modulePath: string, version: string, pathMajor: string): void {
  try {
    checkPathMajor(version, pathMajor);
  } catch (err) {
    if (err instanceof InvalidVersionError) throw new DirectiveProblem(err.message, verb, modulePath);
    throw err;
  }
}

/**
 * Reports whether a replacement target is a directory rather than a module path: "." or "..", or
 * starting with "./", "../", "/", a backslash form of those, or a drive letter — whatever the host
 * system, because go.mod files travel between systems (modfile.IsDirectoryPath).
 */
export function isDirectoryPath(p: string): boolean {
  return (
    p === '.' || p.startsWith('./') || p.startsWith('.\\') ||
    p === '..' || p.startsWith('../') || p.startsWith('..\\') ||
    p.startsWith('/') || p.startsWith('\\') ||
    /^[A-Za-z]:/.test(p)
  );
}

// A require line is indirect when its first end-of-line comment is "// indirect" or "// indirect; ...".
function isIndirect(line: Line): boolean {
  const first = line.comments.suffix[0];
  if (first === undefined) return false;
  const words = goFields(stripSlashes(first.token));
  return (words.length === 1 && words[0] === 'indirect') || (words.length > 1 && words[0] === 'indirect;');
}

function stripSlashes(token: string): string {
  return token.startsWith('//') ? token.slice(2) : token;
}

// The comments of a directive as text, one line per comment; a line in a block without comments of
// its own takes the block's.
function parseDirectiveComment(block: LineBlock | null, line: Line): string {
  let comments = line.comments;
  if (block !== null && comments.before.length === 0 && comments.suffix.length === 0) comments = block.comments;
  const lines: string[] = [];
  for (const c of [...comments.before, ...comments.suffix]) {
    if (!c.token.startsWith('//')) continue; // a kept blank line
    lines.push(goTrimSpace(c.token.slice(2)));
  }
  return lines.join('\n');
}

// The first paragraph of the module's comments that starts with "Deprecated:", without that word.
function parseDeprecation(block: LineBlock | null, line: Line): string {
  return deprecatedRE.exec(parseDirectiveComment(block, line))?.[1] ?? '';
}

// --- Editing ------------------------------------------------------------------------------------

/** Sets the module path, adding a `module` line at the end when there is none (AddModuleStmt). */
export function setModule(f: GoModFile, modulePath: string): void {
  const tokens = ['module', autoQuote(modulePath)];
  if (f.module === null) {
    f.module = { mod: { path: modulePath, version: '' }, deprecated: '', syntax: addLine(f.syntax, null, tokens) };
  } else {
    f.module.mod.path = modulePath;
    updateLine(f.module.syntax, tokens);
  }
}

/**
 * Sets the `go` version, adding the line after `module` when there is none (AddGoStmt). Throws
 * InvalidVersionError unless `version` has the form go requires ("1.21", "1.21.0", "1.21rc1").
 */
export function setGo(f: GoModFile, version: string): void {
  if (!goVersionRE.test(version)) throw new InvalidVersionError('', version, 'must match format 1.23.0');
  if (f.go === null) {
    f.go = { version, syntax: addLine(f.syntax, f.module?.syntax ?? null, ['go', version]) };
  } else {
    f.go.version = version;
    updateLine(f.go.syntax, ['go', version]);
  }
}

/**
 * Requires `modulePath` at `version` (AddRequire): the first existing requirement keeps its place and
 * comments and gets the new version, later duplicates are dropped; with none, a line is added to the
 * last require block. The version is recorded as given.
 */
export function addRequire(f: GoModFile, modulePath: string, version: string): void {
  let found = false;
  for (const r of f.require) {
    if (r.mod.path !== modulePath) continue;
    if (!found) {
      r.mod.version = version;
      updateLine(r.syntax, ['require', autoQuote(modulePath), version]);
      found = true;
    } else {
      markRemoved(r.syntax);
    }
  }
  if (found) {
    f.require = f.require.filter((r) => r.syntax.token.length > 0);
    cleanup(f.syntax);
    return;
  }
  addNewRequire(f, modulePath, version, false);
}

/**
 * Adds a requirement at the end of the last require block even if `modulePath` is already required
 * (AddNewRequire); `indirect` adds the `// indirect` comment.
 */
export function addNewRequire(f: GoModFile, modulePath: string, version: string, indirect: boolean): void {
  const line = addLine(f.syntax, null, ['require', autoQuote(modulePath), version]);
  if (indirect) line.comments.suffix = [indirectComment()];
  f.require.push({ mod: { path: modulePath, version }, indirect, syntax: line });
}

function indirectComment(): Comment {
  return { start: { line: 0, lineRune: 0, byte: 0 }, token: '// indirect', suffix: true };
}
