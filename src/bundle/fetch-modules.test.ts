import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentProgress } from '../telemetry/progress.js';
import { fetchModules, ModuleFetchError, type FileFetcher, type NeededModule } from './fetch-modules.js';

const modules: NeededModule[] = Array.from({ length: 48 }, (_, i) => ({ path: `example.com/m${i}`, version: 'v1.0.0', files: ['mod', 'info', 'zip'] }));

// As the depot's fetches do: a few listeners on the signal while the fetch is under way.
const listening: FileFetcher = async (_module, _file, signal) => {
  const onAbort = (): void => undefined;
  for (let i = 0; i < 3; i++) signal.addEventListener('abort', onAbort);
  await sleep(2);
  for (let i = 0; i < 3; i++) signal.removeEventListener('abort', onAbort);
  return 10;
};

test('sixteen fetches at once add no MaxListenersExceededWarning', async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);
  try {
    await fetchModules(modules, listening, { progress: silentProgress, concurrency: 16 });
    // Warnings are emitted on the next tick.
    await sleep(10);
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings.map((w) => w.name), []);
});

test('the first failure stops the rest; with onFailure each failed module is reported and the rest fetched', async () => {
  const failing = (bad: Set<string>): { fetcher: FileFetcher; fetched: string[] } => {
    const fetched: string[] = [];
    return {
      fetched,
      fetcher: async (module, file, signal) => {
        await sleep(1, undefined, { signal });
        if (bad.has(module.path) && file === 'zip') throw new Error('gone upstream');
        fetched.push(`${module.path} ${file}`);
        return module.path.length;
      },
    };
  };
  const bad = new Set(['example.com/m3', 'example.com/m30']);
  const stopping = failing(bad);
  await assert.rejects(fetchModules(modules, stopping.fetcher, { progress: silentProgress, concurrency: 4 }), (err: unknown) => {
    assert.ok(err instanceof ModuleFetchError);
    assert.equal(err.message, 'example.com/m3@v1.0.0 (zip): gone upstream');
    return true;
  });
  assert.ok(stopping.fetched.length < modules.length * 3 - 3);

  const going = failing(bad);
  const reported: string[] = [];
  let bytes = 0;
  let done = 0;
  const progress = { ...silentProgress, addBytes: (n: number) => void (bytes += n), moduleDone: () => void done++ };
  await fetchModules(modules, going.fetcher, { progress, concurrency: 4, onFailure: (err) => void reported.push(err.message) });
  assert.deepEqual(reported.sort(), ['example.com/m30@v1.0.0 (zip): gone upstream', 'example.com/m3@v1.0.0 (zip): gone upstream']);
  assert.equal(going.fetched.length, modules.length * 3 - 2);
  assert.equal(done, modules.length - 2);
  assert.equal(bytes, going.fetched.reduce((sum, line) => sum + line.split(' ')[0]!.length, 0), 'only what was fetched is counted');
});
