import { doubling, formatWait, type RateLimitRules, retryAfterMs } from '../../core/rate-limit.ts';

/**
 * Fly Machines' rate limits (fly.io/docs/machines/api/working-with-machines-api/, "Rate
 * limits"; community.fly.io/t/20636): per action and per machine, 1 request a second,
 * bursting to 3; Get Machine 5 a second, bursting to 10. A 429 carries no documented
 * `Retry-After`, so a refused request waits until its own action's limit refills — 1 s, or
 * 0.2 s for Get Machine — doubling up to 10 s for a limit that stays, spread up to 25 % later
 * so machines limited together do not all send again at once (never earlier than the refill).
 * A `Retry-After`, if one comes, is obeyed. The limit is named by the action it belongs to.
 */

export const FLY_FIRST_WAIT_MS = 1000;
export const FLY_GET_MACHINE_FIRST_WAIT_MS = 200;
export const FLY_MAX_WAIT_MS = 10_000;
/** How much later than the refill a wait may be spread. */
export const FLY_SPREAD = 0.25;

/** `GET /v1/apps/{app}/machines/{id}`: the one action with its own, higher limit. */
const GET_MACHINE = /^GET \/(?:.*\/)?apps\/[^/]+\/machines\/[^/]+$/;

export function isGetMachine(request: string | undefined): boolean {
  return request !== undefined && GET_MACHINE.test(request);
}

export const flyRateLimit: RateLimitRules = {
  limited({ status, headers, request }, count, now, random) {
    if (status !== 429) return undefined;
    const after = retryAfterMs(headers, now);
    const getMachine = isGetMachine(request);
    const base = doubling(
      count,
      getMachine ? FLY_GET_MACHINE_FIRST_WAIT_MS : FLY_FIRST_WAIT_MS,
      FLY_MAX_WAIT_MS,
    );
    const label = getMachine
      ? 'Get Machine limit of 5 requests a second per machine, bursts of 10'
      : 'per-action limit of 1 request a second per machine, bursts of 3';
    return {
      waitMs: after ?? Math.round(base * (1 + FLY_SPREAD * random())),
      limit: `HTTP 429, ${after === undefined ? label : `retry-after ${formatWait(after)}`}`,
    };
  },
};
