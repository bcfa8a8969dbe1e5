// `godepot vendor`: a project's vendor/ as `go mod vendor` makes it, from a godepot storage folder or a
// running godepot, for builds with -mod=vendor where there is neither network nor go module cache.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { UpstreamClient } from '../http/upstream-client.js';
import { DiskStorage } from '../storage/disk.js';
import { serverSource, storageSource, type VendorSource } from '../vendor/module-source.js';
import { vendorProject, type VendorResult } from '../vendor/vendor.js';
import { withExamples } from './examples.js';
import { serverTransport } from './server-transport.js';

/** Prints what a vendor run wrote: one line on stdout, or go's note on stderr when there was nothing to vendor. */
export function printVendorResult(result: VendorResult): void {
  if (!result.written) {
    process.stderr.write(`no dependencies to vendor (${result.vendorDir} removed, as go mod vendor does)\n`);
    return;
  }
  process.stdout.write(`${result.vendorDir}: ${result.modules} modules, ${result.packages} packages, ${result.files} files\n`);
}

// The server's base URL with the token as the Basic password, which godepot takes as the token.
function serverUrl(server: string, token: string | undefined): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ConfigError(`--server: ${server} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--server: ${server} is not an http or https URL`);
  if (token !== undefined && token !== '') {
    url.username = 'godepot';
    url.password = token;
  }
  return url.href;
}

export function vendorCommand(): Command {
  const command = new Command('vendor')
    .description("write the project's vendor/ folder and vendor/modules.txt exactly as go mod vendor does, from a storage folder or a running godepot, with no network and no go binary; then go build -mod=vendor works offline")
    .argument('[project-dir]', "the folder of the project's go.mod (default: .)")
    .option('--storage <dir>', "read modules from this storage folder (serve's --storage; also any GOPROXY=file:// tree, or a module cache's cache/download)")
    .option('--server <url>', 'read modules from a running godepot')
    .option('--token <token>', 'a token that may read the modules on that server, for one started with --anonymous none or serving private modules (default: $GODEPOT_TOKEN)');
  return withExamples(command, [
    ['godepot vendor ./app --storage /var/lib/godepot', 'then, in ./app: GOFLAGS=-mod=vendor GOPROXY=off go build ./...'],
    ['GODEPOT_TOKEN=... godepot vendor . --server https://godepot.corp.example.com', 'from a running godepot that needs a token (from a bundle: godepot bundle export FILE --vendor DIR)'],
  ]).action(async (projectDir: string = '.', flags: { storage?: string; server?: string; token?: string }) => {
    if ((flags.storage === undefined) === (flags.server === undefined)) throw new ConfigError('vendor: give exactly one of --storage and --server');
    if (flags.storage !== undefined) {
      const root = resolve(flags.storage);
      printVendorResult(await vendorProject({ projectDir, source: storageSource(new DiskStorage({ root }), `storage ${root}`) }));
      return;
    }
    const url = serverUrl(flags.server!, flags.token ?? process.env.GODEPOT_TOKEN);
    const transport = await serverTransport();
    try {
      const source: VendorSource = serverSource(new UpstreamClient({ url, transport }));
      printVendorResult(await vendorProject({ projectDir, source }));
    } finally {
      await transport.close();
    }
  });
}
