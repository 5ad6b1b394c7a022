import type { ActionContext } from '../core/action.ts';
import type { WaitBound } from '../core/rate-limit.ts';

/**
 * How long a rate-limited provider call of a deploy may wait: as long as the deploy
 * waits for health, the bound GitHub calls get too (main.ts), each wait logged.
 */
export function rateLimitWaits(
  settings: { healthTimeoutMs: number },
  ctx: Pick<ActionContext, 'info'>,
): { waitBound: WaitBound; log: (line: string) => void } {
  return {
    waitBound: { budgetMs: settings.healthTimeoutMs, name: 'the input health-timeout' },
    log: (line) => ctx.info(line),
  };
}
