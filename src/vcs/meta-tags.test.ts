// Every expected answer below is what go 1.19's own parseMetaGoImports (encoding/xml, lax mode) gives
// for the same bytes; test/e2e/discovery-go.test.ts has the real go find repositories through pages
// like these.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchGoImport, parseMetaGoImports, type MetaImport } from './meta-tags.js';

const tag = (prefix: string, vcs = 'git', repo = 'https://r/x'): string => `<meta name="go-import" content="${prefix} ${vcs} ${repo}">`;
const found = (...specs: string[]): MetaImport[] =>
  specs.map((spec) => {
    const [prefix, vcs, repoRoot] = spec.split(' ');
    return { prefix: prefix!, vcs: vcs!, repoRoot: repoRoot! };
  });

function parse(page: string | Buffer): MetaImport[] | string {
  const { imports, error } = parseMetaGoImports(typeof page === 'string' ? Buffer.from(page) : page);
  return error ?? [...imports];
}

test('go-import tags: HTML as go reads it, lax XML, up to the end of the head or the start of the body', () => {
  const cases: Array<[string | Buffer, MetaImport[] | string]> = [
    [tag('a/b'), found('a/b git https://r/x')],
    // Lax: unquoted values of name characters, doctype, unclosed elements.
    [`<!doctype html><title>x</title><meta name=go-import content="a/b git https://x"><div style=position:relative>D</div>`, found('a/b git https://x')],
    [`<html><head><meta name="go-import" content="a git b"><meta name="go-import" content="c git d"></head><meta name="go-import" content="e git f">`, found('a git b', 'c git d')],
    [`<body>${tag('a')}`, []],
    [`<BODY>${tag('a')}`, []],
    [`<head/>${tag('a')}`, []],
    // Names: any case, local part only; the name attribute's value exactly `go-import`.
    [`<META NAME="go-import" CONTENT="a\tgit\nb">`, found('a git b')],
    [`<x:meta x:name="go-import" content="a git b">`, found('a git b')],
    [`<meta name="Go-Import" content="a git b">`, []],
    [`<meta content="a git b" name="go-import" name="x">`, found('a git b')],
    [`<meta name content="a git b">`, []],
    [`<meta\tname\t=\t"go-import"\ncontent\n=\n"a git b">`, found('a git b')],
    [`<meta name="go-import" content='a git b'/>`, found('a git b')],
    // Exactly three fields, split on Unicode spaces (not U+FEFF); entities decoded, unknown ones kept.
    [`<meta name="go-import" content="a git b c">${tag('d')}`, found('d git https://r/x')],
    [`<meta name="go-import" content="a&#32;git&#x20;b">`, found('a git b')],
    [`<meta name="go-import" content="a\u00a0git\u3000b">`, found('a git b')],
    [`<meta name="go-import" content="a\ufeffgit b">`, []],
    [`<meta name="go-import" content="a &nbsp;git b">`, found('a &nbsp;git b')],
    [`<meta name="go-import" content="a &amp; b">`, found('a & b')],
    // Comments, CDATA, instructions and directives hide what they hold.
    [`<!---><meta name="go-import" content="a git b">--><meta name="go-import" content="c git d">`, found('c git d')],
    [`<![CDATA[ <meta name="go-import" content="x git y"> ]]>${tag('a')}`, found('a git https://r/x')],
    [`<!DOCTYPE x [ <!ENTITY a "b"> <!-- c --> ]>${tag('a')}`, found('a git https://r/x')],
    [`<?php echo 1 ?>${tag('a')}`, found('a git https://r/x')],
    // A UTF-8 byte order mark is text; an encoding other than UTF-8 or ASCII stops go.
    [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(tag('a'))]), found('a git https://r/x')],
    [`<?xml version="1.0" encoding="ASCII"?>${tag('a')}`, found('a git https://r/x')],
    [`<?xml version="1.0" encoding="iso-8859-1"?>${tag('a')}`, `xml: opening charset "iso-8859-1": can't decode XML document using charset "iso-8859-1"`],
    [`<?xml version="1.1"?>${tag('a')}`, 'xml: unsupported version "1.1"; only version 1.0 is supported'],
    // An error before the first tag is the answer; after it, the tags found so far are.
    [`<html><head><script>if (a < b) {}</script>${tag('a')}</head>`, 'XML syntax error on line 1: expected element name after <'],
    [`<html><head>${tag('a')}<script>if (a < b) {}</script></head>`, found('a git https://r/x')],
    [Buffer.concat([Buffer.from('<p>caf'), Buffer.from([0xe9]), Buffer.from(`</p>${tag('a')}`)]), 'XML syntax error on line 1: invalid UTF-8'],
    [Buffer.concat([Buffer.from(`${tag('a')}<p>caf`), Buffer.from([0xe9]), Buffer.from('</p>')]), found('a git https://r/x')],
    [`<!-- a -- b -->${tag('a')}`, 'XML syntax error on line 1: invalid sequence "--" not allowed in comments'],
    [`<meta name=go-import content=a/b>`, 'XML syntax error on line 1: expected /> in element'],
    [`<meta name="go-import" content="a git <b>">`, 'XML syntax error on line 1: unescaped < inside quoted string'],
    [`<meta name="go-import" content="a&#0;git b">`, 'XML syntax error on line 1: illegal character code U+0000'],
    [`<meta name="go-import" content="a\x0bgit b">`, 'XML syntax error on line 1: illegal character code U+000B'],
    [`<1a>${tag('a')}`, 'XML syntax error on line 1: invalid XML name: 1a'],
    [`</head foo>${tag('a')}`, 'XML syntax error on line 1: invalid characters between </head and >'],
    [`<a\r\n\r\n<`, 'XML syntax error on line 3: expected attribute name in element'],
    [`\n\n<meta name="go-import" content="a git b"`, 'XML syntax error on line 3: unexpected EOF'],
    [`<!DOCTYPE <a <b >>${tag('a')}`, 'XML syntax error on line 1: unexpected EOF'],
    // mod tags first; a tag of another VCS for a prefix a mod tag has is dropped.
    [`${tag('a', 'mod', 'https://p')}${tag('a')}${tag('c', 'mod', 'https://q')}${tag('d')}`, found('a mod https://p', 'c mod https://q', 'd git https://r/x')],
    [`${tag('a')}${tag('a/b', 'mod', 'https://p')}`, found('a/b mod https://p', 'a git https://r/x')],
  ];
  for (const [page, want] of cases) assert.deepEqual(parse(page), want, String(page));
});

test('matching: the tag whose prefix is a path prefix; mod tags win; two of a kind are an error, whatever their length', () => {
  const imports = found('example.com/a git https://r/a', 'example.com/b git https://r/b');
  assert.deepEqual(matchGoImport(imports, 'example.com/a/sub'), { match: imports[0] });
  assert.deepEqual(matchGoImport(imports, 'example.com/b'), { match: imports[1] });
  assert.deepEqual(matchGoImport(imports, 'example.com/ab'), {
    error: 'meta tag example.com/a did not match import path example.com/ab, meta tag example.com/b did not match import path example.com/ab',
    mismatch: true,
  });
  // go 1.19 does not pick the longest prefix.
  assert.deepEqual(matchGoImport(found('example.com git https://r/root', 'example.com/a git https://r/a'), 'example.com/a'), {
    error: 'multiple meta tags match import path "example.com/a"',
    mismatch: false,
  });
  const withMod = found('example.com/a mod https://proxy', 'example.com git https://r/root');
  assert.deepEqual(matchGoImport(withMod, 'example.com/a/b'), { match: withMod[0] });
  assert.deepEqual(matchGoImport(found('example.com/a/ git https://r/a'), 'example.com/a/b'), { match: found('example.com/a/ git https://r/a')[0] });
});
