import assert from 'node:assert/strict';
import test from 'node:test';
import { goQuote, goQuoteRune } from './quote.js';

test('goQuote escapes like strconv.Quote', () => {
  assert.equal(goQuote("bad.go'"), `"bad.go'"`);
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote('tab\there\n'), '"tab\\there\\n"');
  assert.equal(goQuote('\x00\x7f'), '"\\x00\\x7f"');
  assert.equal(goQuote('héllo 世界'), '"héllo 世界"');
  assert.equal(goQuote('\u200b'), '"\\u200b"');
  assert.equal(goQuote('\ud800'), '"\\ufffd"');
});

test('goQuoteRune escapes a single quote', () => {
  assert.equal(goQuoteRune("'"), "'\\''");
  assert.equal(goQuoteRune('x'), "'x'");
  assert.equal(goQuoteRune('\n'), "'\\n'");
});
