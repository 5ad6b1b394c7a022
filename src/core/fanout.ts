/**
 * Every fan-out in the suite: at most `concurrency` tasks in flight, results in
 * input order. Tasks report their own failures as data; one that throws rejects
 * the whole with its error at once, and no task starts after it. An aborted
 * `signal` rejects the whole with its reason and starts nothing more (the caller
 * marks unstarted ones itself); tasks already started run on.
 *
 * `concurrency` workers, each taking the next item when its task is over, as p-map
 * does it (p-map 7 lib `mapConcurrently`) but without two async functions, a
 * pull from an iterator and a promise that never settles per item: at 10 000
 * targets those were a tenth of config-update's allocations, and alive while each
 * request was in flight (bench/config-update.ts).
 */
export function mapConcurrent<T, R>(
  items: readonly T[],
  task: (item: T, index: number) => Promise<R>,
  options: { concurrency: number; signal?: AbortSignal },
): Promise<R[]> {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const results = new Array<R>(items.length);
    let next = 0;
    let over = false;
    const end = (error?: { reason: unknown }) => {
      if (over) return;
      over = true;
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error.reason);
      else resolve(results);
    };
    const onAbort = () => end({ reason: signal?.reason });
    signal?.addEventListener('abort', onAbort, { once: true });
    const work = async () => {
      while (!over && next < items.length) {
        const index = next++;
        results[index] = await task(items[index] as T, index);
      }
    };
    const workers = Math.min(Math.max(1, options.concurrency), items.length);
    let working = workers;
    if (workers === 0) end();
    for (let w = 0; w < workers; w++)
      work().then(
        () => {
          if (--working === 0) end();
        },
        (reason: unknown) => end({ reason }),
      );
  });
}
