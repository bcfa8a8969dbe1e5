import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryCache } from './memory-cache.js';

test('the least recently used entries go first once the byte bound is passed', () => {
  const cache = new MemoryCache<string>(100);
  cache.set('a', 'A', 40);
  cache.set('b', 'B', 40);
  assert.equal(cache.get('a'), 'A');
  cache.set('c', 'C', 40);
  assert.equal(cache.get('b'), undefined);
  assert.equal(cache.get('a'), 'A');
  assert.equal(cache.get('c'), 'C');
  assert.equal(cache.bytes, 80);
});

test('replacing and deleting keep the byte count right; a value over the bound is not kept', () => {
  const cache = new MemoryCache<string>(100);
  cache.set('a', 'A', 60);
  cache.set('a', 'A2', 30);
  assert.equal(cache.bytes, 30);
  assert.equal(cache.get('a'), 'A2');
  cache.set('huge', 'H', 101);
  assert.equal(cache.get('huge'), undefined);
  assert.equal(cache.get('a'), 'A2');
  cache.delete('a');
  cache.delete('never there');
  assert.equal(cache.bytes, 0);
  assert.equal(cache.get('a'), undefined);
});
