import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildsWithAnyTags } from './build-constraints.js';

const builds = (header: string): boolean => buildsWithAnyTags(Buffer.from(header));

test('every tag but ignore is satisfied, whichever way a condition needs it', () => {
  assert.equal(builds('//go:build linux && !linux\n\npackage p\n'), true);
  assert.equal(builds('//go:build windows\n\npackage p\n'), true);
  assert.equal(builds('//go:build !cgo\n\npackage p\n'), true);
  assert.equal(builds('//go:build ignore\n\npackage p\n'), false);
  assert.equal(builds('//go:build !ignore\n\npackage p\n'), true);
  assert.equal(builds('//go:build linux && ignore\n\npackage p\n'), false);
  assert.equal(builds('//go:build linux || ignore\n\npackage p\n'), true);
  assert.equal(builds('//go:build (ignore || ignore) && tools\n\npackage p\n'), false);
});

test('a //go:build line that does not parse, or a second one, excludes the file', () => {
  assert.equal(builds('//go:build linux &&\n\npackage p\n'), false);
  assert.equal(builds('//go:build !!linux\n\npackage p\n'), false);
  assert.equal(builds('//go:build (linux\n\npackage p\n'), false);
  assert.equal(builds('//go:build a\n//go:build b\n\npackage p\n'), false);
  assert.equal(builds('//go:builds ignore\n\npackage p\n'), true, 'not a //go:build line');
});

test('// +build lines count only before the blank line that ends the leading comments', () => {
  assert.equal(builds('// +build ignore\n\npackage p\n'), false);
  assert.equal(builds('// +build linux,!ignore darwin\n\npackage p\n'), true);
  assert.equal(builds('// +build linux\n// +build ignore\n\npackage p\n'), false, 'each line must hold');
  assert.equal(builds('// +build ignore\npackage p\n'), true, 'no blank line before the package clause');
  assert.equal(builds('// Copyright\n\n// +build ignore\n\n// Package p\npackage p\n'), false);
  assert.equal(builds('/* block */\n// +build ignore\n\npackage p\n'), true, 'a block comment ends the leading // comments');
  assert.equal(builds('// +build !\n\npackage p\n'), false, 'a lone ! stands for ignore');
  assert.equal(builds('// +build !!linux\n\npackage p\n'), false);
  assert.equal(builds('// +build !bad-tag\n\npackage p\n'), true, 'an invalid tag is ignore, negated here');
  assert.equal(builds('// +buildignore\n\npackage p\n'), true, 'not a +build line');
});

test('a //go:build line wins over // +build lines, and one inside a block comment is not one', () => {
  assert.equal(builds('//go:build linux\n// +build ignore\n\npackage p\n'), true);
  assert.equal(builds('/*\n//go:build ignore\n*/\n\npackage p\n'), true);
  assert.equal(builds('/* x */ //go:build ignore\n\npackage p\n'), true);
});
