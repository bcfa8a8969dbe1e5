import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidPathError } from '../module/path.js';
import { InvalidVersionError } from '../module/version.js';
import { moduleFileOfKey, storageKey, versionOfKey, versionsPrefix } from './keys.js';

test('storage keys are the module cache download layout, !-escaped', () => {
  assert.equal(storageKey('golang.org/x/text', 'zip', 'v0.3.2'), 'golang.org/x/text/@v/v0.3.2.zip');
  assert.equal(storageKey('github.com/Azure/azure-sdk-for-go', 'info', 'v1.0.0-RC1'), 'github.com/!azure/azure-sdk-for-go/@v/v1.0.0-!r!c1.info');
  assert.equal(storageKey('example.com/m/v2', 'mod', 'v2.1.0'), 'example.com/m/v2/@v/v2.1.0.mod');
  assert.equal(storageKey('example.com/m', 'ziphash', 'v1.0.0'), 'example.com/m/@v/v1.0.0.ziphash');
  assert.equal(storageKey('example.com/M', 'list'), 'example.com/!m/@v/list');
  assert.equal(storageKey('example.com/M', 'latest'), 'example.com/!m/@latest');
  assert.equal(versionsPrefix('example.com/M'), 'example.com/!m/@v');
});

test('paths and versions that could leave the module folder are refused', () => {
  for (const modulePath of ['../etc', 'example.com/../x', '/example.com/m', 'example.com\\m', 'example.com/m\0', '']) {
    assert.throws(() => storageKey(modulePath, 'list'), InvalidPathError, modulePath);
  }
  for (const version of ['../v1.0.0', 'v1/../..', '..', 'a\\b', 'v1!', '']) {
    assert.throws(() => storageKey('example.com/m', 'info', version), InvalidVersionError, version);
  }
});

test('versionOfKey reads a version back from its key, and nothing else', () => {
  assert.equal(versionOfKey('github.com/!azure/x/@v/v1.0.0-!r!c1.info', 'info'), 'v1.0.0-RC1');
  assert.equal(versionOfKey('example.com/m/@v/v1.0.0.zip', 'zip'), 'v1.0.0');
  assert.equal(versionOfKey('example.com/m/@v/v1.0.0.zip', 'info'), null);
  assert.equal(versionOfKey('example.com/m/@v/list', 'info'), null);
  assert.equal(versionOfKey('example.com/m/@v/v1.0.0-R.info', 'info'), null);
});

test('moduleFileOfKey reads back what storageKey made, and takes no other key for a module file', () => {
  assert.deepEqual(moduleFileOfKey('github.com/!azure/x/@v/v1.0.0-!r!c1.zip'), { modulePath: 'github.com/Azure/x', file: 'zip', version: 'v1.0.0-RC1' });
  assert.deepEqual(moduleFileOfKey('example.com/m/v2/@v/v2.1.0.ziphash'), { modulePath: 'example.com/m/v2', file: 'ziphash', version: 'v2.1.0' });
  assert.deepEqual(moduleFileOfKey('example.com/!m/@v/list'), { modulePath: 'example.com/M', file: 'list' });
  assert.deepEqual(moduleFileOfKey('example.com/m/@latest'), { modulePath: 'example.com/m', file: 'latest' });
  for (const key of [
    'sumdb/sum.golang.org/lookup/example.com/m@v1.0.0',
    'godepot/quarantine/20240102T030405Z/example.com/m/@v/v1.0.0.zip',
    'example.com/m/@v/sub/v1.0.0.zip',
    'example.com/m/@v/v1.0.0.txt',
    'example.com/M/@v/v1.0.0.zip',
    'example.com/m/@v/v1!.zip',
    'example.com/m/v1.0.0.zip',
    '@v/v1.0.0.zip',
  ]) {
    assert.equal(moduleFileOfKey(key), null, key);
  }
});
