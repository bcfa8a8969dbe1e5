// Runs before the test suite: the end-to-end tests need the real go and git binaries, and openssl. Where
// one is missing we install it when we can (root with apt-get), and otherwise say exactly what to install,
// instead of letting dozens of tests fail obscurely.
import { execFileSync, spawnSync } from 'node:child_process';

const needed = [
  { bin: 'go', pkg: 'golang-go', why: 'the end-to-end tests compare every zip and hash with the real go command' },
  { bin: 'git', pkg: 'git', why: 'the tests build their Go modules as git repositories' },
  { bin: 'openssl', pkg: 'openssl', why: 'the tests make throw-away CAs: for an https upstream, and for serve --tls-cert' },
];

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const missing = needed.filter((t) => !has(t.bin));
if (missing.length === 0) process.exit(0);

const pkgs = missing.map((t) => t.pkg);
const canApt = process.getuid?.() === 0 && has('apt-get');
if (canApt) {
  console.error(`godepot tests: installing ${pkgs.join(' ')} with apt-get`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (missing.every((t) => has(t.bin))) process.exit(0);
}
for (const t of missing) console.error(`godepot tests: '${t.bin}' is not on PATH; ${t.why}.`);
console.error(`Install it first, for example:  sudo apt-get install -y ${pkgs.join(' ')}`);
process.exit(1);
