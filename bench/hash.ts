// bench/hash: how fast godepot makes module zips and h1: hashes of a large module, beside sha256sum
// reading and hashing the same bytes — the practical limit for any h1 implementation on this machine.
// Usage: npm run bench:hash [-- --megabytes N]   (prints a table; the README quotes its figures)
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashDir, hashZip } from '../src/module/hash.js';
import { createZipFromDir } from '../src/module/zip.js';

const execFileAsync = promisify(execFile);
const megabytes = Number(process.argv[process.argv.indexOf('--megabytes') + 1]) || 64;
const runs = 3;

/** Source-like text from a fixed seed: compressible like real code, so deflate does realistic work. */
function sourceText(seed: number, size: number): Buffer {
  const words = ['func', 'return', 'if', 'err', '!=', 'nil', '{', '}', 'package', 'import', 'type', 'struct', 'string', 'int', ':=', 'for', 'range', '//', 'context', 'module'];
  const parts: string[] = [];
  let length = 0;
  let s = seed;
  while (length < size) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const word = words[s % words.length]! + (s % 7 === 0 ? `${s % 1000}\n\t` : ' ');
    parts.push(word);
    length += word.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

async function makeModule(dir: string): Promise<number> {
  let total = 0;
  const target = megabytes * 1024 * 1024;
  await writeFile(join(dir, 'go.mod'), 'module example.com/big\n\ngo 1.17\n');
  for (let i = 0; total < target; i++) {
    const folder = join(dir, `pkg${i % 40}`, `sub${i % 7}`);
    await mkdir(folder, { recursive: true });
    const size = 4096 + ((i * 7919) % 120_000);
    await writeFile(join(folder, `file${i}.go`), sourceText(i + 1, size));
    total += size;
  }
  return total;
}

async function median(fn: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'godepot-bench-hash-'));
  try {
    const dir = join(work, 'module');
    await mkdir(dir);
    const bytes = await makeModule(dir);
    const zipFile = join(work, 'module.zip');
    const mb = bytes / 1024 / 1024;
    // Warm the page cache once, so every row measures hashing and not the first read from disk.
    await execFileAsync('sh', ['-c', `find "${dir}" -type f -exec cat {} + > /dev/null`]);

    const sha = await median(async () => {
      await execFileAsync('sh', ['-c', `find "${dir}" -type f -exec sha256sum {} + > /dev/null`]);
    });
    const h1Dir = await median(async () => {
      await hashDir(dir, 'example.com/big@v1.0.0/');
    });
    const create = await median(async () => {
      await createZipFromDir(createWriteStream(zipFile), 'example.com/big', 'v1.0.0', dir);
    });
    const zipBytes = (await stat(zipFile)).size;
    const h1Zip = await median(async () => {
      await hashZip(zipFile);
    });

    const row = (name: string, seconds: number) =>
      `${name.padEnd(34)} ${(mb / seconds).toFixed(1).padStart(8)} MB/s ${(seconds / sha).toFixed(2).padStart(7)}x`;
    console.log(`module: ${mb.toFixed(1)} MB of source in files, zip ${(zipBytes / 1024 / 1024).toFixed(1)} MB; median of ${runs} runs`);
    console.log(`${'what'.padEnd(34)} ${'rate'.padStart(13)} ${'time vs sha256sum'.padStart(18)}`);
    console.log(row('sha256sum of every file (limit)', sha));
    console.log(row('godepot h1 of the directory', h1Dir));
    console.log(row('godepot h1 of the zip', h1Zip));
    console.log(row('godepot zip creation (deflate)', create));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
