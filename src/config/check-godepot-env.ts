// A mistyped flag stops a command; a mistyped GODEPOT_* variable must too, or its setting silently keeps
// its default (GODEPOT_LIST_TLL=0 would leave list answers cached for a minute, unnoticed).
import { ConfigError } from '../errors.js';
import { configKeys, envName } from './schema.js';

/**
 * The GODEPOT_* variables read outside the settings of `serve`: the commands' own, and the test suite's,
 * which CI sets in the environment of everything it runs, godepot included.
 */
const otherVariables = [
  // `publish`'s token.
  'GODEPOT_TOKEN',
  // Read by test/support (conformance.ts, test-hosts.ts), never by godepot itself.
  'GODEPOT_CONFORMANCE_DIR',
  'GODEPOT_REQUIRE_CONFORMANCE',
  'GODEPOT_TEST_HOSTS',
] as const;

/** Every GODEPOT_* variable something reads: one per setting, GODEPOT_CONFIG, and otherVariables. */
export const knownGodepotVariables: readonly string[] = [...configKeys.map(envName), envName('config'), ...otherVariables];

/** Throws ConfigError naming the first GODEPOT_* variable (any case) of `env` that nothing reads, and the known name closest to it. */
export function checkGodepotEnv(env: Readonly<Record<string, string | undefined>>): void {
  const known = new Set(knownGodepotVariables);
  for (const name of Object.keys(env)) {
    if (!name.toUpperCase().startsWith('GODEPOT_') || known.has(name)) continue;
    const suggestion = closestName(name);
    throw new ConfigError(`${name}: unknown setting${suggestion === null ? '' : ` (did you mean ${suggestion}?)`}`);
  }
}

// The known name fewest edits away, when few enough that the typo is plausible: at most 3 edits and at
// most a third of what follows GODEPOT_, so GODEPOT_X suggests nothing.
function closestName(name: string): string | null {
  const upper = name.toUpperCase();
  const limit = Math.min(3, Math.floor((upper.length - 'GODEPOT_'.length) / 3));
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const candidate of knownGodepotVariables) {
    const distance = editDistance(upper, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, with swapping two neighbouring characters counted as one edit (the commonest typo). */
function editDistance(a: string, b: string): number {
  // d[i][j]: edits turning a's first i characters into b's first j.
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
