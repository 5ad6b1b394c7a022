import { doubling, formatWait, type RateLimitRules, retryAfterMs } from '../../core/rate-limit.ts';

/**
 * Fly Machines' rate limits (fly.io/docs/machines/api/working-with-machines-api/, "Rate
 * limits"; community.fly.io/t/20636): per action and per machine, 1 request a second,
 * bursting to 3; Get Machine 5 a second, bursting to 10. A 429 carries no documented
 * `Retry-After`, so a refused action waits the second its limit refills, doubling up to
 * 10 s for a limit that stays (a `Retry-After`, if one comes, is obeyed).
 */

export const FLY_FIRST_WAIT_MS = 1000;
export const FLY_MAX_WAIT_MS = 10_000;

export const flyRateLimit: RateLimitRules = {
  limited({ status, headers }, count, now) {
    if (status !== 429) return undefined;
    const after = retryAfterMs(headers, now);
    return {
      waitMs: after ?? doubling(count, FLY_FIRST_WAIT_MS, FLY_MAX_WAIT_MS),
      limit: `HTTP 429, ${after === undefined ? 'per-action limit of 1 request a second' : `retry-after ${formatWait(after)}`}`,
    };
  },
};
