// `godepot bundle`: carry a project's module world across an air gap in one verified file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { checkBundle } from '../bundle/check.js';
import { createBundle } from '../bundle/create.js';
import { diffManifests, formatDiff } from '../bundle/diff.js';
import { exportRelease, exportVerifiedBundle } from '../bundle/export.js';
import { BundleFormatError, openBundle, type Bundle } from '../bundle/format.js';
import { importVerifiedBundle, type ImportReport } from '../bundle/import.js';
import { bundleListing, listBundle } from '../bundle/list.js';
import { manifestId } from '../bundle/manifest.js';
import { BundleVerificationError, type VerifyReport } from '../bundle/verify.js';
import { uploadBundle } from '../bundle/upload.js';
import { readPublicKey, readSigningKey } from '../bundle/signing.js';
import { ConfigError, GodepotError } from '../errors.js';
import { ownReleaseArchive, type ReleaseArchive } from '../release/own-release.js';
import { DiskStorage } from '../storage/disk.js';
import { bundleSource } from '../vendor/module-source.js';
import { vendorProject } from '../vendor/vendor.js';
import { withExamples } from './examples.js';
import { fetchRun, upstreamSettings, withFetchOptions, type FetchFlags } from './fetch-options.js';
import { packageVersion } from './version.js';
import { printVendorResult } from './vendor.js';
import { serverTransport } from './server-transport.js';

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

async function openVerified<T>(file: string, pubkey: string | undefined, use: (bundle: Bundle, report: VerifyReport) => Promise<T>): Promise<T> {
  const publicKey = pubkey === undefined ? undefined : await readPublicKey(pubkey);
  return withBundle(file, async (bundle) => use(bundle, await checkBundle(bundle, { publicKey })));
}

// What a bundle carrying godepot's release archive says on import or export: how to take it out too.
function releaseNote(bundle: Bundle): string[] {
  const { release } = bundle.manifest;
  return release === undefined ? [] : [`the bundle carries godepot ${release.version}'s release archive (${release.platform}): bundle export ${bundle.file} --self DIR writes it out`];
}

/** The line saying where `export --self` put the release archive. */
function releaseWritten(release: { file: string; written: boolean }): string {
  return `${release.file}: ${release.written ? 'written' : 'already there, the same bytes'}`;
}

function printReport(report: ImportReport, where: string, notes: readonly string[] = []): void {
  const lines = [`${where}: ${report.added.length} module versions added, ${report.unchanged} already there, ${report.sumdbWritten} checksum-database files written`];
  lines.push(...report.notes, ...notes);
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
      .option('--cache <dir>', 'keep fetched files in this folder, so a later create fetches only what is new (default: a temporary folder)')
      .option('--self', "also carry this godepot's release archive, to install godepot on the far side (bundle export --self takes it out)")
      .option('--force', 'replace the output file if it exists'),
  ), [
    'godepot bundle create . --output deps.tar.gz',
    ['godepot bundle create go.work golang.org/x/tools@latest --output deps.tar.gz --sign bundle.key', 'a workspace and one more module, signed (godepot key generate)'],
    ['godepot bundle create . --since deps-march.tar.gz --output deps-april.tar.gz', 'only what the March bundle lacks'],
    ['godepot bundle create . --self --output deps.tar.gz', 'with godepot itself, for a host that has no godepot yet'],
  ]).action(async (inputs: string[], flags: FetchFlags & { output: string; since?: string; sign?: string; cache?: string; self?: boolean; force?: boolean }) => {
    const { concurrency, progress, logger, flush } = fetchRun(flags, 'fetching');
    const upstream = await upstreamSettings(flags);
    const signingKey = flags.sign === undefined ? undefined : await readSigningKey(flags.sign);
    const workDir = flags.cache === undefined ? await mkdtemp(join(tmpdir(), 'godepot-bundle-')) : resolve(flags.cache);
    const releaseDir = flags.self === true ? await mkdtemp(join(tmpdir(), 'godepot-self-')) : undefined;
    try {
      const release = async (): Promise<ReleaseArchive> => {
        if (flags.quiet !== true) process.stderr.write("making this godepot's release archive (--self)\n");
        return ownReleaseArchive(releaseDir!);
      };
      const result = await createBundle({
        inputs,
        output: resolve(flags.output),
        cwd: process.cwd(),
        upstream,
        since: flags.since === undefined ? undefined : resolve(flags.since),
        ...(releaseDir === undefined ? {} : { release }),
        force: flags.force === true,
        signingKey,
        workDir,
        createdBy: `godepot ${packageVersion()}`,
        concurrency,
        progress,
        logger,
      });
      const since = flags.since === undefined ? '' : `, ${result.alreadyInSince} left to ${flags.since}`;
      const self = releaseDir === undefined ? '' : `, with godepot ${packageVersion()}'s release archive`;
      process.stdout.write(`${flags.output}: ${result.modules} module versions${since}${self}, ${result.size} bytes, sha256 ${result.sha256}${signingKey ? ', signed' : ''}\n`);
      process.stdout.write(`manifest id: ${result.manifestId}\n`);
      for (const warning of result.warnings) process.stderr.write(`godepot: warning: ${warning}\n`);
    } finally {
      if (flags.cache === undefined) await rm(workDir, { recursive: true, force: true });
      if (releaseDir !== undefined) await rm(releaseDir, { recursive: true, force: true });
      await flush();
    }
  });

  withExamples(bundle.command('verify'), ['godepot bundle verify deps.tar.gz --pubkey bundle.key.pub', 'godepot bundle verify deps.tar.gz --json'])
    .description('check the signature, every file\'s sha256, every zip\'s and go.mod\'s h1 and the checksum-database proofs; exits non-zero naming the first bad entry')
    .argument('<file>')
    .option('--pubkey <keyfile>', 'require a signature by this Ed25519 public key')
    .option('--json', 'print the outcome as one JSON object (also when the bundle fails: ok false, the entry and the error)')
    .action(async (file: string, flags: { pubkey?: string; json?: boolean }) => {
      try {
        await openVerified(file, flags.pubkey, async (b, report) => {
          if (flags.json === true) {
            const { signature, files, bytes } = report;
            const ok = { file, ok: true, manifestId: manifestId(b.manifestBytes), modules: b.manifest.modules.length, files, bytes, signature };
            process.stdout.write(`${JSON.stringify(ok)}\n`);
            return;
          }
          const signed = b.signature === null ? 'not signed' : flags.pubkey === undefined ? 'signed (signature not checked: no --pubkey)' : 'signature good';
          process.stdout.write(`${file}: ok: ${b.manifest.modules.length} module versions, ${signed}\n`);
        });
      } catch (err) {
        // The error itself still goes to stderr and sets the exit status, as without --json.
        if (flags.json === true && (err instanceof BundleVerificationError || err instanceof BundleFormatError)) {
          process.stdout.write(`${JSON.stringify({ file, ok: false, entry: err.entry ?? null, error: err.message })}\n`);
        }
        throw err;
      }
    });

  withExamples(bundle.command('list'), ['godepot bundle list deps.tar.gz', "godepot bundle list deps.tar.gz --json | jq -r '.modules[] | .path + \"@\" + .version'"])
    .description('print what a bundle holds, and its manifest id (what a bundle made with --since it names)')
    .argument('<file>')
    .option('--json', 'print it as one JSON object')
    .action(async (file: string, flags: { json?: boolean }) =>
      withBundle(file, async (b) => void process.stdout.write(flags.json === true ? `${JSON.stringify(bundleListing(b))}\n` : listBundle(b))),
    );

  withExamples(bundle.command('diff'), ['godepot bundle diff deps-march.tar.gz deps-april.tar.gz'])
    .description('print the module versions added, removed or changed from OLD to NEW; a NEW made with --since OLD only adds')
    .argument('<old>')
    .argument('<new>')
    .action(async (oldFile: string, newFile: string) =>
      withBundle(oldFile, (a) =>
        withBundle(newFile, async (b) => {
          const diff = diffManifests(a.manifest, b.manifest, manifestId(a.manifestBytes));
          process.stdout.write(formatDiff(diff, { old: oldFile, new: newFile }));
        }),
      ),
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
    .option('--allow-partial', 'import a bundle made with --since although the storage never took in the bundle it adds to')
    .action(async (file: string, flags: { storage?: string; server?: string; token?: string; pubkey?: string; allowPartial?: boolean }) => {
      const allowPartial = flags.allowPartial === true;
      if ((flags.storage === undefined) === (flags.server === undefined)) throw new ConfigError('bundle import: give exactly one of --storage and --server');
      if (flags.server !== undefined) {
        const token = flags.token ?? process.env.GODEPOT_IMPORT_TOKEN;
        if (token === undefined || token === '') throw new ConfigError('bundle import --server: an import token is needed (--token or GODEPOT_IMPORT_TOKEN)');
        // The server verifies it too; checking here first spares uploading a bad file.
        const notes = await openVerified(file, flags.pubkey, async (b) => releaseNote(b));
        const transport = await serverTransport();
        try {
          const onBusy = (seconds: number): void => void process.stderr.write(`${flags.server} is receiving another bundle; trying again in ${seconds} s\n`);
          printReport(await uploadBundle(file, flags.server, token, { transport, onBusy, allowPartial }), flags.server, notes);
        } finally {
          await transport.close();
        }
        return;
      }
      const storage = new DiskStorage({ root: resolve(flags.storage!) });
      const { report, notes } = await openVerified(file, flags.pubkey, async (b) => ({ report: await importVerifiedBundle(b, storage, { allowPartial }), notes: releaseNote(b) }));
      printReport(report, flags.storage!, notes);
    });

  withExamples(bundle.command('export'), [
    ['godepot bundle export deps.tar.gz --dir /srv/goproxy', 'then GOPROXY=file:///srv/goproxy go build ./...'],
    ['godepot bundle export deps.tar.gz --gomodcache "$(go env GOMODCACHE)"', 'then GOPROXY=off go build ./...'],
    ['godepot bundle export deps.tar.gz --vendor ./app', 'then, in ./app: GOFLAGS=-mod=vendor GOPROXY=off go build ./...'],
    ['godepot bundle export deps.tar.gz --self /tmp', 'write the godepot release archive a bundle made with --self carries'],
  ])
    .description("verify a bundle, then write it as a GOPROXY=file:// tree (--dir), into a module cache (--gomodcache) or as a project's vendor/ folder (--vendor), and/or the godepot release archive it carries (--self)")
    .argument('<file>')
    .option('--dir <dir>', 'write a GOPROXY=file://DIR tree')
    .option('--gomodcache <dir>', 'fill a module cache (GOMODCACHE), for GOPROXY=off builds')
    .option('--vendor <project-dir>', "write the project's vendor/ and vendor/modules.txt exactly as go mod vendor does, for -mod=vendor builds")
    .option('--self <dir>', 'write the godepot release archive the bundle carries (bundle create --self) into this folder')
    .option('--pubkey <keyfile>', 'require a signature by this Ed25519 public key')
    .option('--allow-partial', 'export a bundle made with --since although the bundle it adds to was never exported there')
    .action(async (file: string, flags: { dir?: string; gomodcache?: string; vendor?: string; self?: string; pubkey?: string; allowPartial?: boolean }) => {
      const targets = [flags.dir, flags.gomodcache, flags.vendor].filter((t) => t !== undefined);
      if (targets.length > 1) throw new ConfigError('bundle export: give one of --dir, --gomodcache and --vendor, not several');
      if (targets.length === 0 && flags.self === undefined) throw new ConfigError('bundle export: give --dir, --gomodcache, --vendor or --self');
      if (flags.vendor !== undefined) {
        const projectDir = flags.vendor;
        const { vendored, notes } = await openVerified(file, flags.pubkey, async (b) => {
          const release = flags.self === undefined ? null : await exportRelease(b, resolve(flags.self));
          return { vendored: await vendorProject({ projectDir, source: bundleSource(b) }), notes: release === null ? [] : [releaseWritten(release)] };
        });
        printVendorResult(vendored);
        if (notes.length > 0) process.stdout.write(`${notes.join('\n')}\n`);
        return;
      }
      const target = flags.dir !== undefined ? { dir: resolve(flags.dir) } : flags.gomodcache !== undefined ? { gomodcache: resolve(flags.gomodcache) } : null;
      const { report, notes } = await openVerified(file, flags.pubkey, async (b) => {
        // The release first: a bundle without one is refused before any module is written.
        const release = flags.self === undefined ? null : await exportRelease(b, resolve(flags.self));
        const exported = target === null ? null : await exportVerifiedBundle(b, target, { allowPartial: flags.allowPartial === true });
        return { report: exported, notes: release === null ? releaseNote(b) : [releaseWritten(release)] };
      });
      if (report === null) process.stdout.write(`${notes.join('\n')}\n`);
      else printReport(report, flags.dir ?? flags.gomodcache!, notes);
    });

  return bundle;
}
