import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { govcsAllows, parseGovcs } from './govcs.js';

describe('parseGovcs and govcsAllows', () => {
  it("decide as go's TestGOVCS table (a path starting is-private is private)", () => {
    // cmd/go/internal/vcs/vcs_test.go: GOVCS value, path, command, allowed. That table checks a value
    // alone; the go command (CheckGOVCS) puts its defaults behind it, as godepot always does, so a path no
    // rule of the value matches gets public:git|hg or private:all here (unexpected.com, golang.org/y/text,
    // is-private.com under public:all).
    const cases: [string, string, string, boolean][] = [
      ['private:all', 'is-public.com/foo', 'zzz', false],
      ['private:all', 'is-private.com/foo', 'zzz', true],
      ['public:all', 'is-public.com/foo', 'zzz', true],
      ['public:all', 'is-private.com/foo', 'zzz', true],
      ['public:all,private:none', 'is-public.com/foo', 'zzz', true],
      ['public:all,private:none', 'is-private.com/foo', 'zzz', false],
      ['*:all', 'is-public.com/foo', 'zzz', true],
      ['golang.org:git', 'golang.org/x/text', 'zzz', false],
      ['golang.org:git', 'golang.org/x/text', 'git', true],
      ['golang.org:zzz', 'golang.org/x/text', 'zzz', true],
      ['golang.org:zzz', 'golang.org/x/text', 'git', false],
      ['golang.org:git|hg', 'golang.org/x/text', 'hg', true],
      ['golang.org:git|hg', 'golang.org/x/text', 'git', true],
      ['golang.org:git|hg', 'golang.org/x/text', 'zzz', false],
      ['golang.org:all', 'golang.org/x/text', 'zzz', true],
      ['other.xyz/p:none,golang.org/x:git', 'other.xyz/p/x', 'git', false],
      ['other.xyz/p:none,golang.org/x:git', 'unexpected.com', 'git', true],
      ['other.xyz/p:none,golang.org/x:git', 'golang.org/x/text', 'zzz', false],
      ['other.xyz/p:none,golang.org/x:git', 'golang.org/x/text', 'git', true],
      ['other.xyz/p:none,golang.org/x:git|hg', 'golang.org/x/text', 'hg', true],
      ['other.xyz/p:none,golang.org/x:all', 'golang.org/y/text', 'zzz', false],
      ['other.xyz/p:none,golang.org/x:all', 'golang.org/y/text', 'git', true],
      // go help vcs: the first matching pattern applies, even if later ones match too
      ['github.com:git,evil.com:off,*:git|hg', 'github.com/a/b', 'hg', false],
      ['github.com:git,evil.com:off,*:git|hg', 'evil.com/x', 'git', false],
      ['github.com:git,evil.com:off,*:git|hg', 'other.org/x', 'hg', true],
      ['*:off', 'github.com/a/b', 'git', false],
      // the defaults alone: public:git|hg, private:all
      ['', 'github.com/a/b', 'git', true],
      ['', 'github.com/a/b', 'svn', false],
      ['', 'is-private.com/foo', 'svn', true],
    ];
    for (const [value, path, vcs, ok] of cases) {
      assert.equal(govcsAllows(parseGovcs(value), path, path.startsWith('is-private'), vcs), ok, `${value} ${path} ${vcs}`);
    }
  });

  it("refuses what go's TestGOVCSErrors refuses, with go's messages", () => {
    const cases: [string, string][] = [
      [',', 'empty entry in GOVCS'],
      [',x', 'empty entry in GOVCS'],
      ['x,', 'malformed entry in GOVCS (missing colon): "x"'],
      ['x:y,', 'empty entry in GOVCS'],
      ['x', 'malformed entry in GOVCS (missing colon): "x"'],
      ['x:', 'empty VCS list in GOVCS: "x:"'],
      ['x:|', 'empty VCS name in GOVCS: "x:|"'],
      ['x:y|', 'empty VCS name in GOVCS: "x:y|"'],
      ['x:|y', 'empty VCS name in GOVCS: "x:|y"'],
      ['x:y,z:', 'empty VCS list in GOVCS: "z:"'],
      ['x:y,z:w||v', 'empty VCS name in GOVCS: "z:w||v"'],
      ['x:y,x:z', 'unreachable pattern in GOVCS: "x:z" after "x:y"'],
      [':git', 'empty pattern in GOVCS: ":git"'],
      ['./x:git', 'relative pattern not allowed in GOVCS: "./x"'],
      ['x[:git', 'malformed pattern "x[": syntax error in pattern'],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => parseGovcs(value), (err: Error) => err instanceof ConfigError && err.message === `GOVCS: ${message}`, value);
    }
    assert.deepEqual(parseGovcs('  '), []);
    assert.deepEqual(parseGovcs(' github.com : git | hg '), [{ pattern: 'github.com', allowed: ['git', 'hg'] }]);
  });
});
