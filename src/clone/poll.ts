import { abortableSleep } from '../core/http.ts';

/**
 * Reads until `done` says the answer is final, sleeping between reads with a
 * growing interval; the clone's deadline (the signal) ends the wait.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  options: {
    signal?: AbortSignal | undefined;
    intervalMs?: number;
    maxIntervalMs?: number;
    onValue?: (value: T) => void;
  },
): Promise<T> {
  let interval = options.intervalMs ?? 250;
  for (;;) {
    const value = await read();
    options.onValue?.(value);
    if (done(value)) return value;
    await abortableSleep(interval, options.signal);
    interval = Math.min(Math.round(interval * 1.5), options.maxIntervalMs ?? 5000);
  }
}
