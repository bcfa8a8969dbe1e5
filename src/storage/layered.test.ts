import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskStorage } from './disk.js';
import { LayeredStorage } from './layered.js';
import { storageContract } from './storage.contract.js';

// With an empty read-only layer in front, the layered storage owes every caller what its writable one does.
storageContract('LayeredStorage', async () => {
  const root = await mkdtemp(join(tmpdir(), 'godepot-layered-contract-'));
  const storage = new LayeredStorage([new DiskStorage({ root: join(root, 'layer') })], new DiskStorage({ root: join(root, 'disk') }));
  return { storage, dispose: () => rm(root, { recursive: true, force: true }) };
});
