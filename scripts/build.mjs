// `npm run build`: a fresh dist/ (a renamed or deleted source must not leave its old output behind to be
// run or packed), compiled by tsc, and the bin made executable again. tsc writes every file without the
// executable bit, so without the chmod the `godepot` that `npm link` made stops working after a rebuild.
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const bin = 'dist/src/cli/main.js';

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const { status } = spawnSync(process.execPath, [tsc, '-p', '.'], { stdio: 'inherit' });
if (status !== 0) process.exit(status ?? 1);
chmodSync(bin, 0o755);
