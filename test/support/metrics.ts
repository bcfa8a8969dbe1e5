// Reading /metrics answers in tests.
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** The value of the sample `name{labels}` in a Prometheus text exposition (labels in any order; summed over the others), or 0. */
export function sample(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const have = new Map([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) total += Number(match[3]);
  }
  return total;
}

/**
 * What a storage folder holds, counted as godepot_stored_* define it, from the files themselves:
 * versions with a `.info`, `.mod` or `.zip`, their modules, and those files' bytes.
 */
export async function storedFigures(storage: string): Promise<{ modules: number; versions: number; bytes: number }> {
  const modules = new Set<string>();
  const versions = new Set<string>();
  let bytes = 0;
  for (const entry of await readdir(storage, { recursive: true, withFileTypes: true })) {
    const key = relative(storage, join(entry.parentPath, entry.name)).split(sep).join('/');
    const match = /^([^.].*)\/@v\/([^/]+)\.(info|mod|zip)$/.exec(key);
    if (!entry.isFile() || match === null) continue;
    modules.add(match[1]!);
    versions.add(`${match[1]}@${match[2]}`);
    bytes += (await stat(join(storage, key))).size;
  }
  return { modules: modules.size, versions: versions.size, bytes };
}
