import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrayElements, documentSpan, isArraySpan, isObjectSpan, objectMembers, parseSpan, type Span } from './json-spans.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
const texts = (data: Buffer, spans: Iterable<Span>): string[] => Array.from(spans, (s) => data.toString('utf8', s.start, s.end));

describe('json-spans', () => {
  it('finds each member and element of any JSON, strings with brackets, quotes and other scripts included', () => {
    const data = bytes(' {"a" : [1, "x]}\\"", {"b": [[]]}, null] ,"é\\u00e9":{"c":"}{"},"n":-1.5e3 }\n');
    const document = documentSpan(data);
    assert.ok(isObjectSpan(data, document) && !isArraySpan(data, document));
    const members = [...objectMembers(data, document)];
    assert.deepEqual(
      members.map((m) => m.name),
      ['a', 'éé', 'n'],
    );
    assert.deepEqual(texts(data, members.map((m) => m.value)), ['[1, "x]}\\"", {"b": [[]]}, null]', '{"c":"}{"}', '-1.5e3']);
    const array = members[0]!.value;
    assert.deepEqual(texts(data, arrayElements(data, array)), ['1', '"x]}\\""', '{"b": [[]]}', 'null']);
    assert.deepEqual(Array.from(arrayElements(data, array), (s) => parseSpan(data, s)), [1, 'x]}"', { b: [[]] }, null]);
    assert.deepEqual([...arrayElements(bytes('[ ]'), documentSpan(bytes('[ ]')))], []);
    assert.deepEqual([...objectMembers(bytes('{}'), documentSpan(bytes('{}')))], []);
  });

  it('refuses what is not one JSON value, naming the byte', () => {
    const walk = (text: string): void => {
      const data = bytes(text);
      const document = documentSpan(data);
      if (isObjectSpan(data, document)) for (const m of objectMembers(data, document)) parseSpan(data, m.value);
      else if (isArraySpan(data, document)) for (const e of arrayElements(data, document)) parseSpan(data, e);
      else parseSpan(data, document);
    };
    const cases: Array<[string, RegExp]> = [
      ['', /no value at byte 0/],
      ['{"a": 1} {}', /more data after the value at byte 9/],
      ['{"a": 1,', /unterminated object at byte 0/],
      ['{"a": "b', /unterminated string/],
      ['{"a" 1}', /a colon was expected at byte 5/],
      ['{"a": 1 "b": 2}', /a comma was expected at byte 8/],
      ['{a: 1}', /a member name was expected at byte 1/],
      ['[1,]', /a value was expected after the comma at byte 3/],
      ['[1, tru]', /in the value at byte 4/],
      ['[1, {"a": }]', /in the value at byte 4/],
    ];
    for (const [text, message] of cases) assert.throws(() => walk(text), (err) => err instanceof SyntaxError && message.test(err.message), text);
  });
});
