import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForbiddenError } from '../errors.js';
import { Routing } from '../origin/routing.js';
import type { Artifact } from '../protocol/artifact.js';
import type { Depot } from './depot.js';
import { DenyingDepot } from './denying-depot.js';

/** A depot that has every module (as a storage holding it would) and records what it was asked. */
class StoredEverything implements Depot {
  readonly calls: string[] = [];
  closed = false;
  private answer(call: string): Promise<Artifact> {
    this.calls.push(call);
    const body = Buffer.from('stored\n');
    return Promise.resolve({ contentType: 'text/plain', size: body.length, immutable: true, etag: null, cache: 'hit', body });
  }
  list(modulePath: string): Promise<Artifact> {
    return this.answer(`list ${modulePath}`);
  }
  latest(modulePath: string): Promise<Artifact> {
    return this.answer(`latest ${modulePath}`);
  }
  info(modulePath: string, query: string): Promise<Artifact> {
    return this.answer(`info ${modulePath}@${query}`);
  }
  mod(modulePath: string, version: string): Promise<Artifact> {
    return this.answer(`mod ${modulePath}@${version}`);
  }
  zip(modulePath: string, version: string): Promise<Artifact> {
    return this.answer(`zip ${modulePath}@${version}`);
  }
  forget(modulePath: string, version: string): void {
    this.calls.push(`forget ${modulePath}@${version}`);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('DenyingDepot', () => {
  const routing = new Routing({
    rules: [
      { match: ['evil.example.com/ok'], route: 'upstream', sumdb: true, source: 'config file godepot.yaml: rule 1' },
      { match: ['evil.example.com'], route: 'deny', sumdb: false, source: 'config file godepot.yaml: rule 2' },
    ],
    noSumdb: [],
    private: [],
    govcs: [],
  });

  it('refuses a denied module at every endpoint, even one the depot holds, without asking it', async () => {
    const inner = new StoredEverything();
    const depot = new DenyingDepot(inner, routing);
    const denied = (err: Error): boolean => err instanceof ForbiddenError && err.message === 'evil.example.com/x: denied by config file godepot.yaml: rule 2 (match "evil.example.com")';
    await assert.rejects(depot.list('evil.example.com/x'), denied);
    await assert.rejects(depot.latest('evil.example.com/x'), denied);
    await assert.rejects(depot.info('evil.example.com/x', 'v1.0.0'), denied);
    await assert.rejects(depot.mod('evil.example.com/x', 'v1.0.0'), denied);
    await assert.rejects(depot.zip('evil.example.com/x', 'v1.0.0'), denied);
    assert.deepEqual(inner.calls, []);
  });

  it('passes every other module, and close, to the depot it wraps', async () => {
    const inner = new StoredEverything();
    const depot = new DenyingDepot(inner, routing);
    assert.equal((await depot.zip('evil.example.com/ok', 'v1.0.0')).body?.toString(), 'stored\n');
    await depot.info('golang.org/x/text', 'v0.3.0');
    await depot.list('golang.org/x/text');
    await depot.latest('golang.org/x/text');
    await depot.mod('golang.org/x/text', 'v0.3.0');
    await depot.close();
    assert.deepEqual(inner.calls, ['zip evil.example.com/ok@v1.0.0', 'info golang.org/x/text@v0.3.0', 'list golang.org/x/text', 'latest golang.org/x/text', 'mod golang.org/x/text@v0.3.0']);
    assert.equal(inner.closed, true);
  });
});
