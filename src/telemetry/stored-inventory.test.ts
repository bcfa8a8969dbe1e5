import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { DiskStorage } from '../storage/disk.js';
import { registerStoredGauges, StoredInventory } from './stored-inventory.js';

function figures(inventory: StoredInventory): { modules: number; versions: number; bytes: number } {
  return { modules: inventory.modules, versions: inventory.versions, bytes: inventory.bytes };
}

test('a version counts once whatever of its .info, .mod and .zip is stored; its bytes are theirs', () => {
  const inventory = new StoredInventory();
  inventory.stored('example.com/a/@v/v1.0.0.mod', 10);
  assert.deepEqual(figures(inventory), { modules: 1, versions: 1, bytes: 10 }, 'a .mod alone is a stored version');
  inventory.stored('example.com/a/@v/v1.0.0.zip', 1000);
  inventory.stored('example.com/a/@v/v1.0.0.info', 50);
  inventory.stored('example.com/a/@v/v1.1.0.info', 51);
  inventory.stored('example.com/!b/@v/v0.1.0-!r!c.1.info', 60);
  assert.deepEqual(figures(inventory), { modules: 2, versions: 3, bytes: 1171 });
  inventory.stored('example.com/a/@v/v1.0.0.mod', 12);
  assert.deepEqual(figures(inventory), { modules: 2, versions: 3, bytes: 1173 }, 'a file stored again counts with its last size');
});

test('files that are not a version\'s .info, .mod or .zip are not counted', () => {
  const inventory = new StoredInventory();
  for (const key of ['example.com/a/@v/list', 'example.com/a/@latest', 'example.com/a/@v/v1.0.0.ziphash', 'sumdb/sum.golang.org/lookup/example.com/a@v1.0.0', 'sumdb/sum.golang.org/tile/8/0/001', 'readme.info', 'godepot/quarantine/example.com/a/@v/v1.0.0.zip']) {
    inventory.stored(key, 100);
  }
  assert.deepEqual(figures(inventory), { modules: 0, versions: 0, bytes: 0 });
});

test('removals: a version goes with its last file, a module with its last version; unknown keys change nothing', () => {
  const inventory = new StoredInventory();
  inventory.stored('example.com/a/@v/v1.0.0.mod', 10);
  inventory.stored('example.com/a/@v/v1.0.0.info', 50);
  inventory.stored('example.com/a/@v/v1.1.0.mod', 11);
  inventory.removed('example.com/a/@v/v1.0.0.mod');
  assert.deepEqual(figures(inventory), { modules: 1, versions: 2, bytes: 61 });
  inventory.removed('example.com/a/@v/v1.0.0.mod');
  inventory.removed('example.com/other/@v/v1.0.0.mod');
  assert.deepEqual(figures(inventory), { modules: 1, versions: 2, bytes: 61 });
  inventory.removed('example.com/a/@v/v1.0.0.info');
  assert.deepEqual(figures(inventory), { modules: 1, versions: 1, bytes: 11 });
  inventory.removed('example.com/a/@v/v1.1.0.mod');
  assert.deepEqual(figures(inventory), { modules: 0, versions: 0, bytes: 0 });
});

test('walk counts what a storage holds, and writes told during the walk are not counted twice', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'godepot-inventory-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const disk = new DiskStorage({ root });
  const files: Record<string, number> = {
    'example.com/a/@v/v1.0.0.info': 40,
    'example.com/a/@v/v1.0.0.mod': 20,
    'example.com/a/@v/v1.0.0.zip': 3000,
    'example.com/a/@v/v1.0.0.ziphash': 47,
    'example.com/a/@v/v1.1.0.info': 41,
    'example.com/a/@v/v1.1.0.mod': 21,
    'example.com/a/@v/list': 14,
    'example.com/b/@v/v0.1.0.info': 42,
    'example.com/b/@v/v0.1.0.mod': 22,
    'example.com/b/@v/v0.1.0.zip': 5000,
    'sumdb/sum.golang.org/latest': 100,
  };
  for (const [key, size] of Object.entries(files)) await disk.put(key, Buffer.alloc(size));
  const inventory = new StoredInventory();
  const walking = inventory.walk(disk);
  // Told while the walk runs: it is in the walk too, and counts once.
  inventory.stored('example.com/b/@v/v0.1.0.zip', 5000);
  await walking;
  assert.deepEqual(figures(inventory), { modules: 2, versions: 3, bytes: 40 + 20 + 3000 + 41 + 21 + 42 + 22 + 5000 });
});

test('the gauges show the figures at each scrape', async () => {
  const registry = new Registry();
  const inventory = new StoredInventory();
  registerStoredGauges(registry, inventory);
  inventory.stored('example.com/a/@v/v1.0.0.mod', 10);
  inventory.stored('example.com/a/@v/v1.0.0.zip', 90);
  const text = await registry.metrics();
  assert.match(text, /^godepot_stored_modules 1$/m);
  assert.match(text, /^godepot_stored_versions 1$/m);
  assert.match(text, /^godepot_stored_bytes 100$/m);
  inventory.stored('example.com/b/@v/v1.0.0.mod', 5);
  assert.match(await registry.metrics(), /^godepot_stored_bytes 105$/m);
});
