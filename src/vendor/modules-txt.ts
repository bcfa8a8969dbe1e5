// vendor/modules.txt as go 1.19's `go mod vendor` writes it: what `go build -mod=vendor` checks against
// go.mod, so every byte matters.
import type { ModuleVersion } from '../module/gomod.js';

/** One module entry: its `#` line, its `##` annotations and the packages vendored from it. */
export interface ModulesTxtEntry {
  module: ModuleVersion;
  /** What the main go.mod replaces it with, as written there (a folder stays relative); null when not replaced. */
  replacement: ModuleVersion | null;
  /** Required by the main go.mod (recorded from go 1.14 on). */
  explicit: boolean;
  /** The `go` line of its go.mod (recorded from go 1.17 on); '' for none. */
  goVersion: string;
  /** Import paths, sorted. */
  packages: readonly string[];
}

/** `# path version[ => path[ version]]`, with no version for a version-less side. */
export function moduleLine(m: ModuleVersion, replacement: ModuleVersion | null): string {
  let line = `# ${m.path}${m.version === '' ? '' : ` ${m.version}`}`;
  if (replacement !== null) line += ` => ${replacement.path}${replacement.version === '' ? '' : ` ${replacement.version}`}`;
  return `${line}\n`;
}

/**
 * The text of modules.txt: each entry (in the order given: go sorts them by path, then version), then
 * a `#` line for each replace directive go records beside them (those that vendored nothing).
 */
export function formatModulesTxt(entries: readonly ModulesTxtEntry[], trailingReplacements: ReadonlyArray<{ old: ModuleVersion; new: ModuleVersion }>): string {
  let text = '';
  for (const e of entries) {
    text += moduleLine(e.module, e.replacement);
    if (e.explicit && e.goVersion !== '') text += `## explicit; go ${e.goVersion}\n`;
    else if (e.explicit) text += '## explicit\n';
    else if (e.goVersion !== '') text += `## go ${e.goVersion}\n`;
    for (const pkg of e.packages) text += `${pkg}\n`;
  }
  for (const r of trailingReplacements) text += moduleLine(r.old, r.new);
  return text;
}
