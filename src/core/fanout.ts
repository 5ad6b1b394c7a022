import pMap from 'p-map';

/**
 * Tasks that may start in one event-loop turn. The first wave of a wide fan-out
 * (concurrency 256) would otherwise set up every connection before the event loop
 * gets to send the first request: measured at 256, the first request left 50-60 ms
 * after the fan-out began; started 16 a turn, the first ones are answered while the
 * later ones are still being set up.
 */
export const STARTS_PER_TURN = 16;

/**
 * Every fan-out in the suite: at most `concurrency` tasks in flight, results in
 * input order (p-map), at most `STARTS_PER_TURN` of them started in one
 * event-loop turn (in input order). Tasks report their own failures as data; one
 * that throws rejects the whole with its error at once, and no task starts after
 * it. An aborted `signal` rejects the whole with its reason and starts nothing
 * more (the caller marks unstarted ones itself); tasks already started run on.
 */
export function mapConcurrent<T, R>(
  items: readonly T[],
  task: (item: T, index: number) => Promise<R>,
  options: { concurrency: number; signal?: AbortSignal },
): Promise<R[]> {
  const starts = new StartsPerTurn(STARTS_PER_TURN);
  let failed: { error: unknown } | undefined;
  const paced = async (item: T, index: number): Promise<R> => {
    await starts.take();
    // p-map has already rejected the whole; a task waiting for its turn must not start after that.
    if (failed) throw failed.error;
    options.signal?.throwIfAborted();
    try {
      return await task(item, index);
    } catch (error) {
      failed ??= { error };
      throw error;
    }
  };
  return pMap(items, paced, { concurrency: Math.max(1, options.concurrency), signal: options.signal });
}

/** A count of starts that resets when the event loop next reaches its check phase (setImmediate). */
class StartsPerTurn {
  private started = 0;
  private turnEnd: Promise<void> | undefined;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Resolves when one more start fits in this turn, waiting for later turns while it does not; FIFO. */
  async take(): Promise<void> {
    while (this.started >= this.limit) await this.endOfTurn();
    this.started++;
    void this.endOfTurn();
  }

  private endOfTurn(): Promise<void> {
    this.turnEnd ??= new Promise((resolve) =>
      setImmediate(() => {
        this.started = 0;
        this.turnEnd = undefined;
        resolve();
      }),
    );
    return this.turnEnd;
  }
}
