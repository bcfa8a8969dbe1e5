import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatModulesTxt, moduleLine } from './modules-txt.js';

test('module lines: versions and replacements, a folder replacement without a version', () => {
  assert.equal(moduleLine({ path: 'example.com/a', version: 'v1.0.0' }, null), '# example.com/a v1.0.0\n');
  assert.equal(moduleLine({ path: 'example.com/a', version: 'v1.0.0' }, { path: 'example.com/b', version: 'v1.0.1' }), '# example.com/a v1.0.0 => example.com/b v1.0.1\n');
  assert.equal(moduleLine({ path: 'example.com/l', version: '' }, { path: './local', version: '' }), '# example.com/l => ./local\n');
});

test('annotations as go writes them: explicit, go version, both, neither; packages; trailing replacements', () => {
  const text = formatModulesTxt(
    [
      { module: { path: 'example.com/a', version: 'v1.0.0' }, replacement: null, explicit: true, goVersion: '1.17', packages: ['example.com/a', 'example.com/a/sub'] },
      { module: { path: 'example.com/b', version: 'v1.1.0' }, replacement: null, explicit: true, goVersion: '', packages: [] },
      { module: { path: 'example.com/c', version: 'v0.1.0' }, replacement: null, explicit: false, goVersion: '1.18', packages: ['example.com/c'] },
      { module: { path: 'example.com/d', version: 'v2.0.0+incompatible' }, replacement: null, explicit: false, goVersion: '', packages: ['example.com/d'] },
      { module: { path: 'example.com/l', version: 'v1.0.0' }, replacement: { path: '../l', version: '' }, explicit: true, goVersion: '1.16', packages: ['example.com/l'] },
    ],
    [{ old: { path: 'example.com/l', version: '' }, new: { path: '../l', version: '' } }],
  );
  assert.equal(
    text,
    [
      '# example.com/a v1.0.0',
      '## explicit; go 1.17',
      'example.com/a',
      'example.com/a/sub',
      '# example.com/b v1.1.0',
      '## explicit',
      '# example.com/c v0.1.0',
      '## go 1.18',
      'example.com/c',
      '# example.com/d v2.0.0+incompatible',
      'example.com/d',
      '# example.com/l v1.0.0 => ../l',
      '## explicit; go 1.16',
      'example.com/l',
      '# example.com/l => ../l',
      '',
    ].join('\n'),
  );
});
