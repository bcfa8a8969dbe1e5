import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EmbedPatternError, isGlobPattern, resolveEmbeds } from './embed.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'godepot-embed-'));
  const files = [
    'a.txt',
    'b.txt',
    'c.md',
    '.hidden',
    'static/index.html',
    'static/.dotfile',
    'static/_underscore',
    'static/css/site.css',
    'static/nested/go.mod',
    'static/nested/inner.txt',
    'other/go.mod',
    'other/x.txt',
    'empty/.only-hidden',
    '[x].txt',
  ];
  for (const f of files) {
    await mkdir(dirname(join(dir, f)), { recursive: true });
    await writeFile(join(dir, f), f);
  }
  await symlink('a.txt', join(dir, 'link.lnk'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function refusal(patterns: string[]): Promise<string> {
  try {
    await resolveEmbeds(dir, patterns);
  } catch (err) {
    assert.ok(err instanceof EmbedPatternError, String(err));
    return err.message;
  }
  assert.fail(`${patterns.join(' ')} was accepted`);
}

describe('resolveEmbeds', () => {
  test('globs match names in one folder, dot files included, and the union comes back sorted', async () => {
    assert.deepEqual(await resolveEmbeds(dir, ['*.txt']), ['[x].txt', 'a.txt', 'b.txt']);
    assert.deepEqual(await resolveEmbeds(dir, ['?.txt', 'c.md']), ['a.txt', 'b.txt', 'c.md']);
    assert.deepEqual(await resolveEmbeds(dir, ['.h*']), ['.hidden']);
    assert.deepEqual(await resolveEmbeds(dir, ['[ab].txt']), ['a.txt', 'b.txt']);
    assert.deepEqual(await resolveEmbeds(dir, ['[^a].txt']), ['b.txt']);
    assert.deepEqual(await resolveEmbeds(dir, ['\\[x\\].txt']), ['[x].txt']);
    assert.deepEqual(await resolveEmbeds(dir, ['st*/*.html']), ['static/index.html']);
  });

  test('a folder takes its files below it but hidden and _ names and nested modules; all: takes those names too', async () => {
    assert.deepEqual(await resolveEmbeds(dir, ['static']), ['static/css/site.css', 'static/index.html']);
    assert.deepEqual(await resolveEmbeds(dir, ['all:static']), ['static/.dotfile', 'static/_underscore', 'static/css/site.css', 'static/index.html']);
  });

  test('what go refuses, with go\'s words', async () => {
    assert.equal(await refusal(['missing*']), 'pattern missing*: no matching files found');
    assert.equal(await refusal(['../a.txt']), 'pattern ../a.txt: invalid pattern syntax');
    assert.equal(await refusal(['.']), 'pattern .: invalid pattern syntax');
    assert.equal(await refusal(['[a']), 'pattern [a: invalid pattern syntax');
    assert.equal(await refusal(['other/x.txt']), 'pattern other/x.txt: cannot embed file other/x.txt: in different module');
    assert.equal(await refusal(['empty']), 'pattern empty: cannot embed directory empty: contains no embeddable files');
    assert.equal(await refusal(['*.lnk']), 'pattern *.lnk: cannot embed irregular file link.lnk');
    assert.equal(await refusal(['a.txt/x']), 'pattern a.txt/x: no matching files found');
  });

  test('isGlobPattern is path.Match\'s syntax check', () => {
    for (const ok of ['*', 'a?b', '[a-z]*', '[^x]', '\\*', 'a/b/*']) assert.equal(isGlobPattern(ok), true, ok);
    for (const bad of ['[', '[a-', '[]', '\\', 'a[', '[z-']) assert.equal(isGlobPattern(bad), false, bad);
  });
});
