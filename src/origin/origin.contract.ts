// The suite every Origin implementation runs (Athens' storage compliance tests, for origins): given the
// same few module versions, each origin must answer list/info/mod/zip with the same observable results
// and fail with the same typed errors. Implementations provide the modules their own way (a GOPROXY
// tree, git repositories) through `setup`.
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { GoneError, NotFoundError } from '../errors.js';
import { hash1, hashZip } from '../module/hash.js';
import { escapePath, escapeVersion } from '../module/path.js';
import { createZip } from '../module/zip.js';
import type { Origin } from './origin.js';

/** A module version the origin under test must serve: its files and the time its `.info` reports. */
export interface ContractModule {
  modulePath: string;
  version: string;
  /** RFC 3339 time of the version (commit or tag time for a VCS origin). */
  time: string;
  /** Slash-separated relative path → content; includes go.mod. */
  files: Record<string, string>;
}

/** What the contract runs against: the modules below, served by the implementation's own means. */
export const CONTRACT_MODULES: readonly ContractModule[] = [
  {
    modulePath: 'example.com/contract/plain',
    version: 'v1.0.0',
    time: '2023-01-02T03:04:05Z',
    files: { 'go.mod': 'module example.com/contract/plain\n\ngo 1.19\n', 'plain.go': 'package plain\n\nconst V = 1\n' },
  },
  {
    modulePath: 'example.com/contract/plain',
    version: 'v1.1.0',
    time: '2023-02-03T04:05:06Z',
    files: { 'go.mod': 'module example.com/contract/plain\n\ngo 1.19\n', 'plain.go': 'package plain\n\nconst V = 2\n', 'sub/sub.go': 'package sub\n' },
  },
  {
    modulePath: 'example.com/contract/Upper',
    version: 'v0.1.0',
    time: '2023-03-04T05:06:07Z',
    files: { 'go.mod': 'module example.com/contract/Upper\n\ngo 1.19\n', 'upper.go': 'package upper\n' },
  },
  {
    modulePath: 'example.com/contract/major/v2',
    version: 'v2.0.1',
    time: '2023-04-05T06:07:08Z',
    files: { 'go.mod': 'module example.com/contract/major/v2\n\ngo 1.19\n', 'major.go': 'package major\n' },
  },
];

/** The origin under test, and how to release what setup made. */
export interface ContractSubject {
  origin: Origin;
  close(): Promise<void>;
}

/**
 * Writes `modules` as a static GOPROXY tree (module-cache download layout) under `root`: `list`,
 * `.info`, `.mod` and a `.zip` made by our createZip.
 */
export async function writeGoproxyTree(root: string, modules: readonly ContractModule[]): Promise<void> {
  for (const m of modules) {
    const dir = join(root, escapePath(m.modulePath), '@v');
    await mkdir(dir, { recursive: true });
    const base = join(dir, escapeVersion(m.version));
    await writeFile(`${base}.info`, JSON.stringify({ Version: m.version, Time: m.time }) + '\n');
    await writeFile(`${base}.mod`, m.files['go.mod'] ?? `module ${m.modulePath}\n`);
    const files = Object.entries(m.files).map(([path, content]) => ({
      path,
      size: Buffer.byteLength(content),
      open: () => Readable.from([Buffer.from(content)]),
    }));
    await createZip(createWriteStream(`${base}.zip`), m.modulePath, m.version, files);
    const list = await readFile(join(dir, 'list'), 'utf8').catch(() => '');
    await writeFile(join(dir, 'list'), list + m.version + '\n');
  }
}

/** The `h1:` go computes for the module's files, whatever zip an origin built them into. */
function expectedH1(m: ContractModule): Promise<string> {
  const prefix = `${m.modulePath}@${m.version}/`;
  const names = Object.keys(m.files).map((f) => prefix + f);
  return hash1(names, (name) => Readable.from([Buffer.from(m.files[name.slice(prefix.length)]!)]));
}

function isNotThere(err: unknown): boolean {
  return err instanceof NotFoundError || err instanceof GoneError;
}

/**
 * Registers the Origin contract tests under `describe(name)`. `setup` receives the modules to serve and
 * a scratch folder; it is called once for the suite.
 */
export function originContract(name: string, setup: (modules: readonly ContractModule[], scratch: string) => Promise<ContractSubject>): void {
  describe(`Origin contract: ${name}`, () => {
    let scratch: string;
    let subject: ContractSubject;

    before(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'godepot-origin-contract-'));
      subject = await setup(CONTRACT_MODULES, scratch);
    });

    after(async () => {
      await subject?.close();
      await rm(scratch, { recursive: true, force: true });
    });

    let files = 0;
    const scratchFile = (): string => join(scratch, `contract-${files++}.zip`);

    it('lists every version of a module', async () => {
      assert.deepEqual((await subject.origin.list('example.com/contract/plain')).sort(), ['v1.0.0', 'v1.1.0']);
    });

    it('answers a query for a version with its .info: the version and its time', async () => {
      for (const m of CONTRACT_MODULES) {
        const info = JSON.parse((await subject.origin.query(m.modulePath, m.version)).toString()) as { Version: string; Time: string };
        assert.equal(info.Version, m.version);
        assert.equal(new Date(info.Time).getTime(), new Date(m.time).getTime());
      }
    });

    it('downloads the .info, the go.mod and a zip whose h1 is that of the module files, together', async () => {
      for (const m of CONTRACT_MODULES) {
        const file = scratchFile();
        const download = subject.origin.download(m.modulePath, m.version, { info: true, mod: true, zipTo: file });
        const info = JSON.parse((await download.info!).toString()) as { Version: string };
        assert.equal(info.Version, m.version);
        assert.equal((await download.mod!).toString(), m.files['go.mod']);
        assert.equal(await download.zip!, (await stat(file)).size);
        assert.equal(await hashZip(file), await expectedH1(m), `${m.modulePath}@${m.version}`);
        await rm(file);
      }
    });

    it('downloads only the files asked for', async () => {
      const m = CONTRACT_MODULES[0]!;
      const download = subject.origin.download(m.modulePath, m.version, { mod: true });
      assert.deepEqual(Object.keys(download), ['mod']);
      assert.equal((await download.mod!).toString(), m.files['go.mod']);
    });

    it('answers the query latest with a listed version, or not found', async () => {
      try {
        const latest = JSON.parse((await subject.origin.query('example.com/contract/plain', 'latest')).toString()) as { Version: string };
        assert.ok(['v1.0.0', 'v1.1.0'].includes(latest.Version), latest.Version);
      } catch (err) {
        assert.ok(isNotThere(err), String(err));
      }
    });

    it('throws NotFoundError or GoneError for a module or version it does not have, leaving no zip file', async () => {
      const o = subject.origin;
      await assert.rejects(o.list('example.com/contract/absent'), isNotThere);
      await assert.rejects(o.query('example.com/contract/absent', 'v1.0.0'), isNotThere);
      await assert.rejects(o.query('example.com/contract/plain', 'v9.9.9'), isNotThere);
      const file = scratchFile();
      const download = o.download('example.com/contract/plain', 'v9.9.9', { info: true, mod: true, zipTo: file });
      await assert.rejects(download.info!, isNotThere);
      await assert.rejects(download.mod!, isNotThere);
      await assert.rejects(download.zip!, isNotThere);
      await assert.rejects(stat(file), { code: 'ENOENT' });
    });

    it('rejects at once when the signal is already aborted', async () => {
      const signal = AbortSignal.abort();
      const o = subject.origin;
      const download = o.download('example.com/contract/plain', 'v1.0.0', { info: true, mod: true, zipTo: scratchFile() }, signal);
      for (const call of [o.list('example.com/contract/plain', signal), o.query('example.com/contract/plain', 'v1.0.0', signal), download.info!, download.mod!, download.zip!]) {
        await assert.rejects(call, (err: Error) => err.name === 'AbortError');
      }
    });
  });
}
