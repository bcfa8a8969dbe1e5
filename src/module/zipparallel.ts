// Module zips hold many small files, and reading, inflating and writing each one waits on libuv's thread
// pool; working on a few at once keeps the main thread busy instead of idle.

/**
 * Runs `work` on every item, at most `limit` at a time, in list order. After the first failure no new
 * item is started; every running one is waited for (so that nothing still touches a file the caller is
 * about to close or remove), then that first failure is thrown.
 */
export async function eachConcurrently<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await work(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}
