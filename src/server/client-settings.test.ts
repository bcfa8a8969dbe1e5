import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientSettings } from './client-settings.js';

const url = 'http://127.0.0.1:3000';

test('GOPROXY alone when every module is known to the public checksum database', () => {
  assert.deepEqual(clientSettings(url, { noSumdb: [], rules: [] }), [`GOPROXY=${url}`]);
});

test('GONOSUMDB names the private, no-sumdb and hosted modules, each pattern once', () => {
  const rules = [
    { match: ['corp.example.com/*'], route: 'hosted' as const, sumdb: true, source: 'rule 1' },
    { match: ['git.example.com'], route: 'direct' as const, sumdb: false, source: '--private' },
    { match: ['example.org/public'], route: 'direct' as const, sumdb: true, source: 'rule 2' },
    { match: ['evil.example.com'], route: 'deny' as const, sumdb: false, source: 'rule 3' },
  ];
  assert.deepEqual(clientSettings(url, { noSumdb: ['git.example.com', 'internal.example.net'], rules }), [
    `GOPROXY=${url}`,
    'GONOSUMDB=git.example.com,internal.example.net,corp.example.com/*',
  ]);
});

test('with a hosted checksum database: GOSUMDB with its verifier key, which vouches for the private modules too', () => {
  const key = 'sumdb.example.com+0a1b2c3d+AbCdEf';
  assert.deepEqual(clientSettings(url, { noSumdb: ['corp.example.com'], rules: [], sumdbVerifierKey: key }), [`GOPROXY=${url}`, `GOSUMDB=${key}`]);
});
