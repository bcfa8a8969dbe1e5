import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '../errors.js';
import type { GitRepo } from '../vcs/git-repo.js';
import { declaredModulePath, GitModuleRepo, hasPathPrefix, legacyGoMod, retractedBy } from './git-module-repo.js';

// The constructor only computes where the module lies; no git is run.
const noRepo = {} as GitRepo;

describe('git module repository helpers', () => {
  it('reads the module path of a go.mod as go\'s modfile.ModulePath does', () => {
    const path = (text: string): string => declaredModulePath(Buffer.from(text));
    assert.equal(path('module example.com/m\n'), 'example.com/m');
    assert.equal(path('// comment\n\n  module   example.com/m // trailing\ngo 1.19\n'), 'example.com/m');
    assert.equal(path('module "example.com/quoted"\n'), 'example.com/quoted');
    assert.equal(path('module `example.com/raw`\n'), 'example.com/raw');
    assert.equal(path('module "unterminated\n'), '');
    assert.equal(path('modulex example.com/m\nmodule\ngo 1.19\n'), '');
    assert.equal(path('go 1.19\n'), '');
    assert.equal(declaredModulePath(undefined), '');
  });

  it('matches path prefixes element by element', () => {
    assert.equal(hasPathPrefix('example.com/a/b', 'example.com/a'), true);
    assert.equal(hasPathPrefix('example.com/a', 'example.com/a'), true);
    assert.equal(hasPathPrefix('example.com/ab', 'example.com/a'), false);
    assert.equal(hasPathPrefix('example.com', 'example.com/a'), false);
  });

  it('makes up the go.mod of a tree without one, and reads retractions', () => {
    assert.equal(legacyGoMod('example.com/m').toString(), 'module example.com/m\n');
    const retracted = retractedBy(Buffer.from('module m\n\nretract (\n\tv1.0.0\n\t[v1.2.0, v1.3.0]\n)\n'));
    assert.deepEqual(['v1.0.0', 'v1.1.0', 'v1.2.5', 'v1.3.0', 'v1.3.1'].map(retracted), [true, false, true, true, false]);
  });

  it('places a module in its repository, never outside it', () => {
    assert.equal(new GitModuleRepo(noRepo, 'github.com/o/r', 'github.com/o/r').codeDir, '');
    assert.equal(new GitModuleRepo(noRepo, 'github.com/o/r', 'github.com/o/r/v2').codeDir, '');
    assert.equal(new GitModuleRepo(noRepo, 'github.com/o/r', 'github.com/o/r/sub/dir/v3').codeDir, 'sub/dir');
    assert.equal(new GitModuleRepo(noRepo, 'nanomsg.org/go/mangos/v2', 'nanomsg.org/go/mangos/v2').codeDir, '');
    assert.throws(() => new GitModuleRepo(noRepo, 'github.com/o/r', 'github.com/o/rx'), (err: unknown) => err instanceof NotFoundError && /mismatched repo/.test(err.message));
    assert.equal(new GitModuleRepo(noRepo, 'github.com/o/r/v2', 'github.com/o/r/v2/sub').codeDir, 'sub');
  });
});
