// The systemd unit and the sample godepot.yaml an operator copies from packaging/: the config loader
// takes the sample, its commented lines are the real defaults and name every setting, and systemd takes
// the unit.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/load.js';
import { configKeys } from '../../src/config/schema.js';
import { repositoryRoot } from '../support/repository.js';

const execFileAsync = promisify(execFile);
const packaging = join(repositoryRoot(), 'packaging');
let work: string;
let sample: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-packaging-'));
  sample = await readFile(join(packaging, 'godepot.yaml'), 'utf8');
});
after(() => rm(work, { recursive: true, force: true }));

// A setting line is `key: value`, commented out (`# key: value`) or not; a retention setting is one
// line of the `gc:` mapping, `  unusedFor: value` under a `gc:` line.
const settingLine = /^(# )?([a-z][a-z-]*): (.*)$/;
const gcLine = /^(# )?gc:$/;
const gcSettingLine = /^(# )?  ([a-zA-Z]+): (.*)$/;

function settingLines(text: string): Map<string, { line: string; active: boolean }[]> {
  const byKey = new Map<string, { line: string; active: boolean }[]>();
  let inGc = false;
  for (const line of text.split('\n')) {
    const gc: RegExpExecArray | null = inGc ? gcSettingLine.exec(line) : null;
    inGc = gcLine.test(line) || gc !== null;
    const match = gc ?? settingLine.exec(line);
    if (match === null) continue;
    const key = gc === null ? match[2]! : `gc.${match[2]!}`;
    if (!(configKeys as readonly string[]).includes(key)) continue;
    byKey.set(key, [...(byKey.get(key) ?? []), { line: line.replace(/^# /, ''), active: match[1] === undefined }]);
  }
  return byKey;
}

/** A config file of setting lines as settingLines() gives them, the retention ones under one `gc:`. */
function fileOf(lines: readonly string[]): string {
  const gc = lines.filter((line) => line.startsWith('  '));
  const top = lines.filter((line) => !line.startsWith('  '));
  return [...top, ...(gc.length > 0 ? ['gc:', ...gc] : [])].join('\n') + '\n';
}

// Nothing from the test's own environment (GOPRIVATE, GODEPOT_*) may change what the file means.
const load = async (text: string) => {
  const file = join(work, `config-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, text);
  return loadConfig({ flags: { config: file }, env: {}, cwd: work });
};

test('the sample godepot.yaml names every setting exactly once', () => {
  const byKey = settingLines(sample);
  const missing = configKeys.filter((key) => !byKey.has(key));
  assert.deepEqual(missing, [], 'a setting without a line in packaging/godepot.yaml');
  const twice = [...byKey].filter(([, lines]) => lines.length > 1).map(([key]) => key);
  assert.deepEqual(twice, [], 'a setting with more than one line');
});

test('the config loader takes the sample as it is, with the storage and state folders the systemd unit may write', async () => {
  const config = await load(sample);
  assert.equal(config.storage, '/var/lib/godepot/storage');
  assert.equal(config.stateDir, '/var/lib/godepot/state');
  const unit = await readFile(join(packaging, 'godepot.service'), 'utf8');
  const writable = (/^ReadWritePaths=(.*)$/m.exec(unit)?.[1] ?? '').split(/\s+/).filter((p) => p !== '');
  for (const dir of [config.storage, config.stateDir]) {
    assert.ok(writable.some((p) => dir === p || dir.startsWith(p.replace(/\/$/, '') + '/')), `${dir} is under the unit's ReadWritePaths (${writable.join(' ')})`);
  }
});

test('every commented line of the sample shows the real default: uncommented, they change nothing', async () => {
  const lines = [...settingLines(sample).values()].flat();
  const active = lines.filter((l) => l.active).map((l) => l.line);
  const all = lines.map((l) => l.line);
  assert.ok(all.length > active.length + 20, 'most settings are commented-out defaults');
  assert.deepEqual(await load(fileOf(all)), await load(fileOf(active)));
});

const hasSystemdAnalyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { stdio: 'ignore' }).status === 0;

test('systemd-analyze verify accepts the unit, hardened as promised', { skip: hasSystemdAnalyze ? false : 'SKIPPED: systemd-analyze is not installed (apt-get install systemd), so the unit is only read, not verified' }, async () => {
  const unit = await readFile(join(packaging, 'godepot.service'), 'utf8');
  for (const setting of ['DynamicUser=yes', 'ProtectSystem=strict', 'ReadWritePaths=']) {
    assert.match(unit, new RegExp(`^${setting}`, 'm'), `the unit sets ${setting}`);
  }
  // verify insists the ExecStart command exists: point it at the built godepot in place of /opt/godepot.
  const launcher = '/opt/godepot/bin/godepot';
  assert.ok(unit.includes(`ExecStart=${launcher} serve --config /etc/godepot/godepot.yaml`));
  const file = join(work, 'godepot.service');
  await writeFile(file, unit.replace(launcher, join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js')));
  const { stdout, stderr } = await execFileAsync('systemd-analyze', ['verify', file], { env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice' } });
  // An unknown or misspelt setting is only a warning, and exit status 0: any output at all fails.
  assert.equal(stdout + stderr, '', 'systemd-analyze verify printed nothing');
});
