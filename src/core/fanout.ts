import pMap from 'p-map';

/**
 * Every fan-out in the suite: at most `concurrency` tasks in flight, results in
 * input order (p-map). Tasks report their own failures as data; one that throws
 * rejects the whole with its error at once, and no task starts after it. An
 * aborted `signal` rejects the whole with its reason and starts nothing more (the
 * caller marks unstarted ones itself); tasks already started run on.
 */
export function mapConcurrent<T, R>(
  items: readonly T[],
  task: (item: T, index: number) => Promise<R>,
  options: { concurrency: number; signal?: AbortSignal },
): Promise<R[]> {
  return pMap(items, task, { concurrency: Math.max(1, options.concurrency), signal: options.signal });
}
