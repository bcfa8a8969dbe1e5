// `godepot publish`: a module version's zip, built from a folder or a git tag in it, checked as the
// server will check it, then uploaded to a running godepot.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Transport } from '../http/transport.js';
import { streamToNewFile } from '../stream-to-new-file.js';
import { parseGoModLax } from '../module/gomod.js';
import type { PublishResult } from './module-publisher.js';
import { findModuleSource, ModuleSourceError, type ModuleSource } from './module-source.js';
import { checkPublishable, inspectPublishedZip } from './rules.js';
import { uploadModule } from './upload.js';

/** What to publish, and where. */
export interface PublishOptions {
  /** The module's folder. */
  dir: string;
  version: string;
  /** The module path; default: the module line of the go.mod the zip holds. */
  modulePath?: string;
  /** The godepot's base URL. */
  server: string;
  /** Its publish token. */
  token: string;
  /** Connections to the server, through the outbound proxy the environment names; undici's own when absent. */
  transport?: Transport;
  /** Told what the zip of `modulePath` was built from once it passed the checks, before it is uploaded. */
  onSource?: (source: ModuleSource, modulePath: string) => void;
  signal?: AbortSignal;
}

/**
 * Publishes `version` of the module in `dir`: its source found (findModuleSource: the folder, or the
 * version's git tag), its zip written to a temporary folder with go's rules, checked as the server
 * checks it (checkPublishable, inspectPublishedZip: PublishRefusedError), then uploaded (uploadModule:
 * PublishConflictError for a version published with other content). Nothing is left behind.
 */
export async function publishModule(options: PublishOptions): Promise<{ modulePath: string; source: ModuleSource; result: PublishResult }> {
  const { version } = options;
  const workDir = await mkdtemp(join(tmpdir(), 'godepot-publish-'));
  try {
    const source = await findModuleSource(options.dir, version, workDir);
    const modulePath = options.modulePath ?? (await declaredModule(source));
    checkPublishable(modulePath, version);
    const zipFile = join(workDir, 'module.zip');
    await streamToNewFile(zipFile, (out) => source.writeZip(out, modulePath, version));
    await inspectPublishedZip(modulePath, version, zipFile);
    options.onSource?.(source, modulePath);
    const result = await uploadModule(zipFile, options.server, options.token, { modulePath, version, time: source.time }, options);
    return { modulePath, source, result };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The module path the source's go.mod declares. */
async function declaredModule(source: ModuleSource): Promise<string> {
  const goMod = await source.goMod();
  const modulePath = goMod === null ? undefined : parseGoModLax('go.mod', goMod).module?.mod.path;
  if (modulePath === undefined) throw new ModuleSourceError(`${source.description} has ${goMod === null ? 'no go.mod' : 'a go.mod without a module line'}: give the module path with --module`);
  return modulePath;
}
