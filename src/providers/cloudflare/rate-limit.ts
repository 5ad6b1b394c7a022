import type { RateLimitRules } from '../../core/rate-limit.ts';
import { formatWait, retryAfterMs } from '../../core/rate-limit.ts';

/**
 * Cloudflare's API rate limit (developers.cloudflare.com/fundamentals/api/reference/limits):
 * 1200 requests per five minutes per user; past it every call is refused with 429 for the
 * next five minutes. `Ratelimit` and `Ratelimit-Policy` come with every answer, and
 * `retry-after` (seconds, rounded up, until capacity is back) only with a 429. The wait is
 * `retry-after`, or the documented five minutes when it is missing.
 */

export const CLOUDFLARE_BLOCK_MS = 5 * 60_000;

export const cloudflareRateLimit: RateLimitRules = {
  limited({ status, headers }, _count, now) {
    if (status !== 429) return undefined;
    const after = retryAfterMs(headers, now);
    const policy = headers['ratelimit-policy'] ? `, Ratelimit-Policy ${headers['ratelimit-policy']}` : '';
    return {
      waitMs: after ?? CLOUDFLARE_BLOCK_MS,
      limit: `HTTP 429, ${after === undefined ? 'no retry-after: blocked for five minutes' : `retry-after ${formatWait(after)}`}${policy}`,
    };
  },
};
