import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { checkPrefixPatterns, matchPrefixPatterns, pathMatch, patternCovers, patternMatchesNothing } from './patterns.js';

// Go's path/match_test.go table: pattern, name, match, malformed.
const matchTests: [string, string, boolean, boolean][] = [
  ['abc', 'abc', true, false],
  ['*', 'abc', true, false],
  ['*c', 'abc', true, false],
  ['a*', 'a', true, false],
  ['a*', 'abc', true, false],
  ['a*', 'ab/c', false, false],
  ['a*/b', 'abc/b', true, false],
  ['a*/b', 'a/c/b', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false, false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true, false],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false, false],
  ['ab[c]', 'abc', true, false],
  ['ab[b-d]', 'abc', true, false],
  ['ab[e-g]', 'abc', false, false],
  ['ab[^c]', 'abc', false, false],
  ['ab[^b-d]', 'abc', false, false],
  ['ab[^e-g]', 'abc', true, false],
  ['a\\*b', 'a*b', true, false],
  ['a\\*b', 'ab', false, false],
  ['a?b', 'a☺b', true, false],
  ['a[^a]b', 'a☺b', true, false],
  ['a???b', 'a☺b', false, false],
  ['a[^a][^a][^a]b', 'a☺b', false, false],
  ['[a-ζ]*', 'α', true, false],
  ['*[a-ζ]', 'A', false, false],
  ['a?b', 'a/b', false, false],
  ['a*b', 'a/b', false, false],
  ['[\\]a]', ']', true, false],
  ['[\\-]', '-', true, false],
  ['[x\\-]', 'x', true, false],
  ['[x\\-]', '-', true, false],
  ['[x\\-]', 'z', false, false],
  ['[\\-x]', 'x', true, false],
  ['[\\-x]', '-', true, false],
  ['[\\-x]', 'a', false, false],
  ['[]a]', ']', false, true],
  ['[-]', '-', false, true],
  ['[x-]', 'x', false, true],
  ['[x-]', '-', false, true],
  ['[x-]', 'z', false, true],
  ['[-x]', 'x', false, true],
  ['[-x]', '-', false, true],
  ['[-x]', 'a', false, true],
  ['\\', 'a', false, true],
  ['[a-b-c]', 'a', false, true],
  ['[', 'a', false, true],
  ['[^', 'a', false, true],
  ['[^bc', 'a', false, true],
  ['a[', 'a', false, true],
  ['a[', 'ab', false, true],
  ['a[', 'x', false, true],
  ['a/b[', 'x', false, true],
  ['*x', 'xxx', true, false],
];

describe('pathMatch', () => {
  it("agrees with go's path.Match table", () => {
    for (const [pattern, name, match, bad] of matchTests) {
      const got = pathMatch(pattern, name);
      if (bad) assert.equal(typeof got, 'symbol', `${pattern} ${name}: want syntax error`);
      else assert.equal(got, match, `${pattern} ${name}`);
    }
  });
});

describe('matchPrefixPatterns', () => {
  it('matches globs against leading path elements, as GOPRIVATE does', () => {
    const cases: [string, string, boolean][] = [
      ['*/quote', 'rsc.io/quote', true],
      ['*/quo', 'rsc.io/quote', false],
      ['*/quote', 'rsc.io/quote/v3', true],
      ['rsc.io', 'rsc.io/quote', true],
      ['rsc.io/', 'rsc.io/quote', true],
      ['rsc', 'rsc.io/quote', false],
      ['rsc*', 'rsc.io/quote', true],
      ['rsc.io', 'rsc.io', true],
      ['*.io', 'rsc.io/quote', true],
      ['*.com', 'rsc.io/quote', false],
      ['rsc.io/quote', 'rsc.io/quote', true],
      ['rsc.io/quote/v2', 'rsc.io/quote', false],
      ['rsc.io/quo', 'rsc.io/quote', false],
      ['example.com/priv', 'example.com/private', false],
      ['example.com/priv', 'example.com/priv/sub', true],
      ['*.corp.example.com', 'git.corp.example.com/team/repo', true],
      ['*.corp.example.com', 'corp.example.com/team/repo', false],
      ['x.com,,rsc.io', 'rsc.io/quote', true],
      [',rsc.io,', 'rsc.io/quote', true],
      ['', 'rsc.io/quote', false],
      ['[', 'rsc.io/quote', false],
      ['github.com/Corp', 'github.com/Corp/x', true],
      ['github.com/corp', 'github.com/Corp/x', false],
    ];
    for (const [globs, path, want] of cases) assert.equal(matchPrefixPatterns(globs, path), want, `${globs} ${path}`);
  });

  it('takes a list of pattern strings', () => {
    assert.ok(matchPrefixPatterns(['a.example', 'rsc.io,b.example'], 'b.example/x'));
    assert.ok(!matchPrefixPatterns([], 'b.example/x'));
  });
});

describe('checkPrefixPatterns', () => {
  it('names the malformed glob and the key', () => {
    checkPrefixPatterns(['*.corp.example.com', 'rsc.io/[a-z]*']);
    assert.throws(() => checkPrefixPatterns('ok.example,bad[', 'private'), (err: Error) => err instanceof ConfigError && err.message === 'private: malformed pattern "bad[": syntax error in pattern');
  });
});

describe('patternCovers', () => {
  it('finds the same glob, a broader one and stars, element by element', () => {
    const cases: [string, string, boolean][] = [
      ['corp.example.com', 'corp.example.com', true],
      ['corp.example.com', 'corp.example.com/x', true],
      ['corp.example.com/', 'corp.example.com/x/y', true],
      ['corp.example.com/*', 'corp.example.com/published/*', true],
      ['corp.example.com/*', 'corp.example.com/published', true],
      ['*', 'anything.example/x', true],
      ['*', '[a-z]*.example', true],
      ['*/*', 'a[/]b', true],
      ['*.corp.example', 'git.corp.example/team', true],
      ['*.corp.example', '*.corp.example/team', true],
      ['[a-m]*.example', 'git.example', true],
      ['a\\*b', 'a*b', false],
      ['a\\*b', 'a\\*b', true],
      // not covered: narrower, longer, different, or only covered in fact
      ['corp.example.com/*', 'corp.example.com', false],
      ['corp.example.com/x', 'corp.example.com', false],
      ['corp.example.com', 'corp.example.org', false],
      ['corp.example.com', 'corp.example.com*', false],
      ['*.example.net', '[a-m]*.example.net', false],
      ['git.corp.example', '*.corp.example', false],
      ['a[', 'a[', false],
      ['a[/]b', 'a[/]b', false],
    ];
    for (const [general, specific, covers] of cases) assert.equal(patternCovers(general, specific), covers, `${general} covers ${specific}`);
  });

  it('never claims a cover that a module path disproves', () => {
    const globs = ['*', '*/*', 'a', 'a/*', 'a/b', 'a*', '*b', '?', 'a?', '[ab]', '[^a]', '[a-c]*', 'a/[^b]', 'a\\*', 'b/*/c', '*/b', 'a/b/c', 'a[/]b'];
    const elements = ['a', 'b', 'c', 'ab', 'ba', 'a*', 'abc', 'x'];
    const paths: string[] = [];
    for (const e1 of elements) {
      paths.push(e1);
      for (const e2 of elements) {
        paths.push(`${e1}/${e2}`);
        for (const e3 of ['a', 'c', 'x']) paths.push(`${e1}/${e2}/${e3}`);
      }
    }
    let covers = 0;
    for (const general of globs) {
      for (const specific of globs) {
        if (!patternCovers(general, specific)) continue;
        covers++;
        for (const path of paths) {
          if (matchPrefixPatterns(specific, path)) assert.ok(matchPrefixPatterns(general, path), `${general} was said to cover ${specific}, but ${path} matches only the latter`);
        }
      }
    }
    assert.ok(covers > globs.length, `the check found covers beyond identity (${covers})`);
  });
});

describe('patternMatchesNothing', () => {
  it('is true for globs with an empty path element only', () => {
    assert.equal(patternMatchesNothing('example.com//x'), true);
    assert.equal(patternMatchesNothing('/example.com'), true);
    assert.equal(patternMatchesNothing('example.com/'), false);
    assert.equal(patternMatchesNothing('example.com/*'), false);
    assert.equal(patternMatchesNothing('a[//]'), false);
  });
});
