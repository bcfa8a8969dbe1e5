import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors.js';
import { checkGodepotEnv, knownGodepotVariables } from './check-godepot-env.js';

function refusal(env: Record<string, string>): string {
  try {
    checkGodepotEnv(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

test('every variable something reads is accepted: the settings, GODEPOT_CONFIG, the commands\' and the test suite\'s own', () => {
  for (const name of ['GODEPOT_LIST_TTL', 'GODEPOT_STATE_DIR', 'GODEPOT_TLS_KEY', 'GODEPOT_CONFIG', 'GODEPOT_TOKEN', 'GODEPOT_IMPORT_TOKEN', 'GODEPOT_REQUIRE_CONFORMANCE', 'GODEPOT_CONFORMANCE_DIR', 'GODEPOT_TEST_HOSTS']) {
    assert.ok(knownGodepotVariables.includes(name), name);
  }
  checkGodepotEnv(Object.fromEntries(knownGodepotVariables.map((name) => [name, '1'])));
  // Other variables are not godepot's to judge.
  checkGodepotEnv({ PATH: '/bin', GOPROXY: 'off', GODEPOTX: '1', MY_GODEPOT_LISTEN: '1' });
});

test('a mistyped variable is refused, naming it and the known name it is closest to', () => {
  assert.equal(refusal({ GODEPOT_LIST_TLL: '0' }), 'GODEPOT_LIST_TLL: unknown setting (did you mean GODEPOT_LIST_TTL?)');
  assert.equal(refusal({ GODEPOT_UPSTRAEM: 'off' }), 'GODEPOT_UPSTRAEM: unknown setting (did you mean GODEPOT_UPSTREAM?)');
  assert.equal(refusal({ GODEPOT_STATEDIR: '/x' }), 'GODEPOT_STATEDIR: unknown setting (did you mean GODEPOT_STATE_DIR?)');
  assert.equal(refusal({ GODEPOT_TOKNS: 'f' }), 'GODEPOT_TOKNS: unknown setting (did you mean GODEPOT_TOKENS?)');
  // Variables are case-sensitive: a lower-case one is never read, so it is a typo too.
  assert.equal(refusal({ godepot_listen: ':3000' }), 'godepot_listen: unknown setting (did you mean GODEPOT_LISTEN?)');
});

test('a name far from every known one is refused without a guess', () => {
  assert.equal(refusal({ GODEPOT_COLOR: 'always' }), 'GODEPOT_COLOR: unknown setting');
  assert.equal(refusal({ GODEPOT_X: '1' }), 'GODEPOT_X: unknown setting');
  assert.equal(refusal({ GODEPOT_: '1' }), 'GODEPOT_: unknown setting');
});
