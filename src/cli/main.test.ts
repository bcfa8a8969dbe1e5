// What every godepot command does before its own work, as a user at a shell sees it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runGodepot } from '../../test/support/cli.js';

test('a mistyped GODEPOT_ variable stops every command, naming it and the setting meant', async () => {
  for (const args of [['serve'], ['token', 'list'], ['fingerprint', '.'], ['--version']]) {
    const result = await runGodepot(args, { env: { GODEPOT_LIST_TLL: '0' } });
    assert.equal(result.code, 1, args.join(' '));
    assert.equal(result.stderr, 'godepot: GODEPOT_LIST_TLL: unknown setting (did you mean GODEPOT_LIST_TTL?)\n', args.join(' '));
    assert.equal(result.stdout, '');
  }
});
