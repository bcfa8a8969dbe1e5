import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Where the Go team's golang.org/x/mod vectors live: ../shared/conformance/x-mod beside the clone, read in
 * place and never copied. Returns null when they are absent (a user's own clone); callers then skip loudly.
 * With GODEPOT_REQUIRE_CONFORMANCE=1 (set by CI) absence is an error instead, so CI can never skip them.
 */
export function conformanceDir(): string | null {
  const dir = process.env.GODEPOT_CONFORMANCE_DIR ?? resolve(process.cwd(), '../shared/conformance/x-mod');
  if (existsSync(dir)) return dir;
  if (process.env.GODEPOT_REQUIRE_CONFORMANCE === '1') {
    throw new Error(`conformance vectors required but not found at ${dir}`);
  }
  process.stderr.write(
    `\n*** SKIPPING the golang.org/x/mod conformance vectors: ${dir} does not exist. ***\n` +
      `*** Set GODEPOT_CONFORMANCE_DIR to a copy of them to run these tests.          ***\n\n`,
  );
  return null;
}
