import { ApiError } from '../core/errors.ts';
import { abortableSleep } from '../core/http.ts';
import { ComposedError, msg } from '../core/message.ts';
import { formatMs } from '../core/summary.ts';
import type { MachinesApi } from '../providers/fly/machines.ts';

/**
 * Wakes a stopped or suspended Fly machine before its update call, as `fly machine start` and
 * flyctl's wait do it (flyctl internal/command/machine/start.go; internal/machine/
 * leasable_machine.go `WaitForState`: the wait is asked again, 500 ms to 2 s apart, until its own
 * deadline). POST /start resumes a suspended machine as it starts a stopped one
 * (fly.io/docs/machines/machine-states). A machine still on its way to stopped or suspended
 * (`stopping`, `suspending`, as autostop leaves it) refuses the start with 412: the start is asked
 * again on the same backoff until the transition is over, within `timeoutMs` in all.
 *
 * Throws an Error naming the state the machine was stuck in, or what the wait last said.
 */
export async function wakeMachine(
  machines: Pick<MachinesApi, 'start' | 'wait'>,
  id: string,
  options: {
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  },
): Promise<void> {
  const sleep = options.sleep ?? abortableSleep;
  const deadline = performance.now() + options.timeoutMs;
  const left = () => deadline - performance.now();
  let delay = 500;
  for (;;) {
    const answer = await machines.start(id);
    if (answer.refused === undefined) break;
    if (left() <= 0)
      throw new ComposedError(
        msg`POST /start still answered 412 after ${formatMs(options.timeoutMs)}: ${answer.refused}`,
      );
    await sleep(Math.min(delay, left()), options.signal);
    delay = Math.min(2000, delay * 2);
  }
  for (;;) {
    try {
      await machines.wait(id, { state: 'started', timeoutSeconds: Math.ceil(Math.max(left(), 1) / 1000) });
      return;
    } catch (error) {
      // 408: the API's own wait ended first; asked again while time is left.
      if (!(error instanceof ApiError && error.status === 408) || left() <= 0) throw error;
    }
  }
}
