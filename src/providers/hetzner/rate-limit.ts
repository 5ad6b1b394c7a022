import { doubling, type RateLimitRules, untilEpochSeconds } from '../../core/rate-limit.ts';

/**
 * Hetzner Cloud's rate limit as hcloud-go waits it out. A 429 carries the error code
 * `rate_limit_exceeded` and `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (epoch seconds when the whole quota is back) and no `Retry-After` (docs.hetzner.cloud,
 * "Rate Limiting": 3600 requests an hour, one more every second).
 * hcloud-go reads the headers (hcloud/client_handler_rate_limit.go) and retries a 429 with its
 * default backoff (hcloud/client.go `NewClient`, hcloud/client_handler_retry.go): 1 s doubling,
 * capped at 60 s, with full jitter above the base, at most 5 retries (`retryMaxRetries`): the
 * sixth limited answer in a row fails. A wait never outlasts `RateLimit-Reset`.
 */

export const HETZNER_FIRST_WAIT_MS = 1000;
export const HETZNER_MAX_WAIT_MS = 60_000;

/** hcloud-go's `retryMaxRetries`: 5 retries, so the 6th rate-limited answer in a row is the last. */
export const HETZNER_MAX_LIMITED_ANSWERS = 6;

export const hetznerRateLimit: RateLimitRules = {
  maxLimited: HETZNER_MAX_LIMITED_ANSWERS,
  limited({ status, headers }, count, now, random) {
    if (status !== 429) return undefined;
    const backoff = doubling(count, HETZNER_FIRST_WAIT_MS, HETZNER_MAX_WAIT_MS);
    const jittered = HETZNER_FIRST_WAIT_MS + (backoff - HETZNER_FIRST_WAIT_MS) * random();
    const untilReset = untilEpochSeconds(headers['ratelimit-reset'], now);
    const waitMs = Math.round(
      untilReset === undefined ? jittered : Math.max(HETZNER_FIRST_WAIT_MS, Math.min(jittered, untilReset)),
    );
    const parts = ['HTTP 429'];
    if (headers['ratelimit-remaining'] !== undefined)
      parts.push(
        `RateLimit-Remaining ${headers['ratelimit-remaining']}${headers['ratelimit-limit'] ? ` of ${headers['ratelimit-limit']}` : ''}`,
      );
    if (untilReset !== undefined)
      parts.push(`RateLimit-Reset ${new Date(Number(headers['ratelimit-reset']) * 1000).toISOString()}`);
    return { waitMs, limit: parts.join(', ') };
  },
};
