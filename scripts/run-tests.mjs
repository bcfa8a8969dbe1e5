// Runs every compiled *.test.js under dist/ with Node's test runner. Node 20 cannot take a glob, and
// given a folder it also runs every helper module under test/ as if it were a test file.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(full);
    return entry.name.endsWith('.test.js') ? [full] : [];
  });
}

const files = testFiles('dist').sort();
// --test-force-exit: a test file that leaves a handle open (a socket of a failed test) ends once its
// tests have, instead of holding the whole run until CI's limit.
const args = ['--test', '--test-force-exit', '--test-timeout=900000', ...process.argv.slice(2), ...files];
const { status } = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(status ?? 1);
