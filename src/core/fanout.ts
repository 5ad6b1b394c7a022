import pMap from 'p-map';

/**
 * Every fan-out in the suite: at most `concurrency` tasks in flight, results in
 * input order. Tasks report their own failures as data; an `AbortSignal` stops
 * starting new tasks (the caller marks unstarted ones itself).
 */
export function mapConcurrent<T, R>(
  items: readonly T[],
  task: (item: T, index: number) => Promise<R>,
  options: { concurrency: number; signal?: AbortSignal },
): Promise<R[]> {
  return pMap(items, task, { concurrency: Math.max(1, options.concurrency), signal: options.signal });
}
