import type { ActionContext } from '../core/action.ts';
import type { Line } from '../core/message.ts';
import type { WaitBound } from '../core/rate-limit.ts';

/**
 * How long the rate-limited provider calls of a deploy may wait, all together: until
 * the deadline `healthTimeoutMs` after `startedAt` (epoch ms, the step's start), the
 * bound GitHub calls get too (main.ts), each wait logged. The runner's cancellation
 * cuts every request and every wait.
 */
export function rateLimitWaits(
  settings: { healthTimeoutMs: number },
  ctx: Pick<ActionContext, 'info' | 'cancellation'>,
  startedAt: number,
): { waitBound: WaitBound; log: (line: Line) => void; signal: AbortSignal } {
  return {
    waitBound: {
      budgetMs: settings.healthTimeoutMs,
      deadlineAt: startedAt + settings.healthTimeoutMs,
      name: 'the input health-timeout',
    },
    log: (line) => ctx.info(line),
    signal: ctx.cancellation.signal,
  };
}
