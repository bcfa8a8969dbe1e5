// `godepot bundle`: carry a project's module world across an air gap in one verified file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { checkBundle } from '../bundle/check.js';
import { createBundle } from '../bundle/create.js';
import { diffManifests, formatDiff } from '../bundle/diff.js';
import { exportVerifiedBundle } from '../bundle/export.js';
import { openBundle, type Bundle } from '../bundle/format.js';
import { importVerifiedBundle, type ImportReport } from '../bundle/import.js';
import { listBundle } from '../bundle/list.js';
import { uploadBundle } from '../bundle/upload.js';
import { outboundProxyFromEnv } from '../http/outbound-proxy.js';
import { Transport } from '../http/transport.js';
import { trustedRootsFromEnv } from '../http/trusted-roots.js';
import { readPublicKey, readSigningKey } from '../bundle/signing.js';
import { ConfigError, GodepotError } from '../errors.js';
import { DiskStorage } from '../storage/disk.js';
import { bundleSource } from '../vendor/module-source.js';
import { vendorProject } from '../vendor/vendor.js';
import { withExamples } from './examples.js';
import { fetchRun, upstreamSettings, withFetchOptions, type FetchFlags } from './fetch-options.js';
import { packageVersion } from './version.js';
import { printVendorResult } from './vendor.js';

/** Import or export finished, but storage held other content for some of what the bundle has. */
export class ImportConflictError extends GodepotError {
  readonly code = 'IMPORT_CONFLICT';
}

async function withBundle<T>(file: string, use: (bundle: Bundle) => Promise<T>): Promise<T> {
  const bundle = await openBundle(file);
  try {
    return await use(bundle);
  } finally {
    await bundle.close();
  }
}

async function openVerified<T>(file: string, pubkey: string | undefined, use: (bundle: Bundle) => Promise<T>): Promise<T> {
  const publicKey = pubkey === undefined ? undefined : await readPublicKey(pubkey);
  return withBundle(file, async (bundle) => {
    await checkBundle(bundle, { publicKey });
    return use(bundle);
  });
}

function printReport(report: ImportReport, where: string): void {
  const lines = [`${where}: ${report.added.length} module versions added, ${report.unchanged} already there, ${report.sumdbWritten} checksum-database files written`];
  lines.push(...report.notes);
  for (const conflict of report.conflicts) lines.push(`conflict: ${conflict.subject}: ${conflict.reason} (not overwritten)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (report.conflicts.length > 0) throw new ImportConflictError(`${report.conflicts.length} conflicts: storage keeps its own content for them`);
}

export function bundleCommand(): Command {
  const bundle = withExamples(new Command('bundle').description('offline bundles: a project\'s whole module graph in one verified, signed file'), [
    ['godepot bundle create . --output deps.tar.gz', "on the connected side: every module the project in . needs"],
    ['godepot bundle verify deps.tar.gz', 'on the far side: check it whole before use'],
    ['godepot bundle import deps.tar.gz --storage /var/lib/godepot', "add it to a proxy's storage"],
  ]);

  withExamples(withFetchOptions(
    bundle
      .command('create')
      .description('resolve the module graph of each INPUT as go does and write every file go needs offline into one bundle')
      .argument('<input...>', 'go.mod, go.work, a folder holding one, or module@version (also @latest)')
      .requiredOption('--output <file>', 'the bundle to write (.tar.gz)')
      .option('--since <bundle>', 'an older bundle: write only what it lacks')
      .option('--sign <keyfile>', 'sign the manifest with this Ed25519 private key (godepot key generate)')
      .option('--cache <dir>', 'keep fetched files in this folder, so a later create fetches only what is new (default: a temporary folder)'),
  ), [
    'godepot bundle create . --output deps.tar.gz',
    ['godepot bundle create go.work golang.org/x/tools@latest --output deps.tar.gz --sign bundle.key', 'a workspace and one more module, signed (godepot key generate)'],
    ['godepot bundle create . --since deps-march.tar.gz --output deps-april.tar.gz', 'only what the March bundle lacks'],
  ]).action(async (inputs: string[], flags: FetchFlags & { output: string; since?: string; sign?: string; cache?: string }) => {
    const { concurrency, progress, logger, flush } = fetchRun(flags, 'fetching');
    const upstream = await upstreamSettings(flags);
    const signingKey = flags.sign === undefined ? undefined : await readSigningKey(flags.sign);
    const workDir = flags.cache === undefined ? await mkdtemp(join(tmpdir(), 'godepot-bundle-')) : resolve(flags.cache);
    try {
      const result = await createBundle({
        inputs,
        output: resolve(flags.output),
        cwd: process.cwd(),
        upstream,
        since: flags.since === undefined ? undefined : resolve(flags.since),
        signingKey,
        workDir,
        createdBy: `godepot ${packageVersion()}`,
        concurrency,
        progress,
        logger,
      });
      const since = flags.since === undefined ? '' : `, ${result.alreadyInSince} left to ${flags.since}`;
      process.stdout.write(`${flags.output}: ${result.modules} module versions${since}, ${result.size} bytes, sha256 ${result.sha256}${signingKey ? ', signed' : ''}\n`);
    } finally {
      if (flags.cache === undefined) await rm(workDir, { recursive: true, force: true });
      await flush();
    }
  });

  withExamples(bundle.command('verify'), ['godepot bundle verify deps.tar.gz --pubkey bundle.key.pub'])
    .description('check the signature, every file\'s sha256, every zip\'s and go.mod\'s h1 and the checksum-database proofs; exits non-zero naming the first bad entry')
    .argument('<file>')
    .option('--pubkey <keyfile>', 'require a signature by this Ed25519 public key')
    .action(async (file: string, flags: { pubkey?: string }) => {
      await openVerified(file, flags.pubkey, async (b) => {
        const signed = b.signature === null ? 'not signed' : flags.pubkey === undefined ? 'signed (signature not checked: no --pubkey)' : 'signature good';
        process.stdout.write(`${file}: ok: ${b.manifest.modules.length} module versions, ${signed}\n`);
      });
    });

  withExamples(bundle.command('list'), ['godepot bundle list deps.tar.gz'])
    .description('print what a bundle holds')
    .argument('<file>')
    .action(async (file: string) => withBundle(file, async (b) => void process.stdout.write(listBundle(b))));

  withExamples(bundle.command('diff'), ['godepot bundle diff deps-march.tar.gz deps-april.tar.gz'])
    .description('print the module versions added, removed or changed from OLD to NEW')
    .argument('<old>')
    .argument('<new>')
    .action(async (oldFile: string, newFile: string) =>
      withBundle(oldFile, (a) => withBundle(newFile, async (b) => void process.stdout.write(formatDiff(diffManifests(a.manifest, b.manifest))))),
    );

  withExamples(bundle.command('import'), [
    'godepot bundle import deps.tar.gz --storage /var/lib/godepot --pubkey bundle.key.pub',
    ['GODEPOT_IMPORT_TOKEN=... godepot bundle import deps.tar.gz --server https://godepot.corp.example.com', 'upload it to a running godepot (serve --import-token)'],
  ])
    .description('verify a bundle, then add it to a proxy\'s storage (idempotent; content that differs from what storage holds is reported, never overwritten)')
    .argument('<file>')
    .option('--storage <dir>', 'the storage folder of a godepot proxy')
    .option('--server <url>', 'a running godepot to upload it to (it verifies and imports it itself)')
    .option('--token <token>', 'the import token of that server (default: $GODEPOT_IMPORT_TOKEN)')
    .option('--pubkey <keyfile>', 'require a signature by this Ed25519 public key')
    .action(async (file: string, flags: { storage?: string; server?: string; token?: string; pubkey?: string }) => {
      if ((flags.storage === undefined) === (flags.server === undefined)) throw new ConfigError('bundle import: give exactly one of --storage and --server');
      if (flags.server !== undefined) {
        const token = flags.token ?? process.env.GODEPOT_IMPORT_TOKEN;
        if (token === undefined || token === '') throw new ConfigError('bundle import --server: an import token is needed (--token or GODEPOT_IMPORT_TOKEN)');
        // The server verifies it too; checking here first spares uploading a bad file.
        await openVerified(file, flags.pubkey, async () => undefined);
        // Through the outbound proxy the environment names, as every request godepot makes.
        const trustedRoots = await trustedRootsFromEnv(process.env, process.cwd());
        const transport = new Transport({ proxy: outboundProxyFromEnv(process.env), ...(trustedRoots === null ? {} : { ca: trustedRoots }) });
        try {
          const onBusy = (seconds: number): void => void process.stderr.write(`${flags.server} is receiving another bundle; trying again in ${seconds} s\n`);
          printReport(await uploadBundle(file, flags.server, token, { transport, onBusy }), flags.server);
        } finally {
          await transport.close();
        }
        return;
      }
      const storage = new DiskStorage({ root: resolve(flags.storage!) });
      const report = await openVerified(file, flags.pubkey, (b) => importVerifiedBundle(b, storage));
      printReport(report, flags.storage!);
    });

  withExamples(bundle.command('export'), [
    ['godepot bundle export deps.tar.gz --dir /srv/goproxy', 'then GOPROXY=file:///srv/goproxy go build ./...'],
    ['godepot bundle export deps.tar.gz --gomodcache "$(go env GOMODCACHE)"', 'then GOPROXY=off go build ./...'],
    ['godepot bundle export deps.tar.gz --vendor ./app', 'then, in ./app: GOFLAGS=-mod=vendor GOPROXY=off go build ./...'],
  ])
    .description("verify a bundle, then write it as a GOPROXY=file:// tree (--dir), into a module cache (--gomodcache), or as a project's vendor/ folder (--vendor)")
    .argument('<file>')
    .option('--dir <dir>', 'write a GOPROXY=file://DIR tree')
    .option('--gomodcache <dir>', 'fill a module cache (GOMODCACHE), for GOPROXY=off builds')
    .option('--vendor <project-dir>', "write the project's vendor/ and vendor/modules.txt exactly as go mod vendor does, for -mod=vendor builds")
    .option('--pubkey <keyfile>', 'require a signature by this Ed25519 public key')
    .action(async (file: string, flags: { dir?: string; gomodcache?: string; vendor?: string; pubkey?: string }) => {
      const targets = [flags.dir, flags.gomodcache, flags.vendor].filter((t) => t !== undefined);
      if (targets.length !== 1) throw new ConfigError('bundle export: give exactly one of --dir, --gomodcache and --vendor');
      if (flags.vendor !== undefined) {
        const projectDir = flags.vendor;
        printVendorResult(await openVerified(file, flags.pubkey, (b) => vendorProject({ projectDir, source: bundleSource(b) })));
        return;
      }
      const target = flags.dir !== undefined ? { dir: resolve(flags.dir) } : { gomodcache: resolve(flags.gomodcache!) };
      const report = await openVerified(file, flags.pubkey, (b) => exportVerifiedBundle(b, target));
      printReport(report, flags.dir ?? flags.gomodcache!);
    });

  return bundle;
}
