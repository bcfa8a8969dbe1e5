/**
 * Settles like `promise`, or rejects with the signal's reason if `signal` aborts first. The promise
 * itself runs on: work shared by concurrent callers (one upstream fetch, one tile read) must not stop
 * because one caller went away; that caller only stops waiting.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
