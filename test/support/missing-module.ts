// A module graph one module of which the upstream does not have: what bundle create and mirror must
// report as not found, with many fetches of the graph's other modules still under way when it fails.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTree } from './git.js';
import { addModule } from './modgraph.js';
import { goModText } from './projects.js';
import { startUpstream, type Upstream } from './upstream.js';

/** The module the tree lacks. */
export const missingModule = 'example.com/gone/missing';

export interface MissingModuleGraph {
  /** The GOPROXY tree to serve. */
  tree: string;
  /** A project folder whose go.mod requires every module of the tree and the missing one. */
  project: string;
  /** A module@version in the tree that requires the same: mirror's list line. */
  wants: string;
  /** The URL paths of the `.mod` files of the modules required beside the missing one. */
  otherMods: string[];
}

/**
 * Writes, under `work`, a tree of `width` small modules and `example.com/gone/wants`, which requires
 * them all and the missing module (at go 1.16, so that loading it reads every go.mod it requires), and a
 * project requiring the same.
 */
export async function writeMissingModuleGraph(work: string, width = 20): Promise<MissingModuleGraph> {
  const tree = join(work, 'goproxy');
  const require: string[] = [`${missingModule} v1.0.0`];
  const otherMods: string[] = [];
  for (let i = 0; i < width; i++) {
    const path = `example.com/gone/m${i}`;
    const entry = await addModule(tree, work, path, 'v1.0.0', { 'go.mod': goModText(path, '1.17'), 'm.go': `package m${i}\n` });
    require.push(`${path} v1.0.0`);
    otherMods.push(entry.urls.mod);
  }
  await addModule(tree, work, 'example.com/gone/wants', 'v1.0.0', { 'go.mod': goModText('example.com/gone/wants', '1.16', require), 'wants.go': 'package wants\n' });
  const project = join(work, 'project');
  await writeTree(project, { 'go.mod': goModText('example.com/gone/main', '1.17', require) });
  return { tree, project, wants: 'example.com/gone/wants@v1.0.0', otherMods };
}

/** A MissingModuleGraph served by a test upstream, in a folder of its own. */
export interface MissingModuleWorld {
  work: string;
  graph: MissingModuleGraph;
  upstream: Upstream;
  dispose(): Promise<void>;
}

/**
 * The graph, written under a new folder named after `prefix`, and served by an upstream whose other
 * go.mod files answer 300 ms late: their fetches are still under way when the missing one fails.
 */
export async function startMissingModuleWorld(prefix: string): Promise<MissingModuleWorld> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  const graph = await writeMissingModuleGraph(work);
  const upstream = await startUpstream({ root: graph.tree });
  for (const path of graph.otherMods) upstream.fault(path, { delayMs: 300 });
  return {
    work,
    graph,
    upstream,
    async dispose() {
      await upstream.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}
