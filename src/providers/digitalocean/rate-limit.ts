import {
  doubling,
  epochMsOf,
  type RateLimitRules,
  retryAfterMs,
  untilEpochSeconds,
} from '../../core/rate-limit.ts';

/**
 * DigitalOcean's two rate limits (the droplets contract, components.responses.too_many_requests
 * and components.headers; docs.digitalocean.com/notes/changelog/add-burst-rate-limits):
 * 5000 requests an hour, and a burst limit of 250 requests a minute. A 429 carries
 * `ratelimit-limit`, `ratelimit-remaining` (of the hourly quota) and `ratelimit-reset`
 * (epoch seconds when the oldest request expires), and no `Retry-After`.
 * - hourly quota used up (`ratelimit-remaining: 0`): wait until `ratelimit-reset`, when one
 *   request is free again;
 * - otherwise it is the burst limit: godo's `RetryConfig` backoff (go-retryablehttp's default:
 *   `Retry-After` when sent, else 1 s doubling, capped at 30 s), spread up to 25 % later so
 *   jobs limited together do not all send again at once.
 */

export const DO_FIRST_WAIT_MS = 1000;
export const DO_MAX_WAIT_MS = 30_000;
export const DO_SPREAD = 0.25;

export const digitalOceanRateLimit: RateLimitRules = {
  limited({ status, headers }, count, now, random) {
    if (status !== 429) return undefined;
    const untilReset = untilEpochSeconds(headers['ratelimit-reset'], now);
    if (headers['ratelimit-remaining'] === '0' && untilReset !== undefined) {
      return {
        waitMs: Math.max(DO_FIRST_WAIT_MS, untilReset),
        limit: `HTTP 429, hourly limit: ratelimit-remaining 0, ratelimit-reset ${new Date(epochMsOf(headers['ratelimit-reset'])!).toISOString()}`,
      };
    }
    return {
      waitMs:
        retryAfterMs(headers, now) ??
        Math.round(doubling(count, DO_FIRST_WAIT_MS, DO_MAX_WAIT_MS) * (1 + DO_SPREAD * random())),
      limit: `HTTP 429, burst limit of 250 requests a minute${headers['ratelimit-remaining'] ? ` (ratelimit-remaining ${headers['ratelimit-remaining']})` : ''}`,
    };
  },
};
