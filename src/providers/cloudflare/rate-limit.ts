import type { RateLimitRules } from '../../core/rate-limit.ts';
import { formatWait, retryAfterMs } from '../../core/rate-limit.ts';

/**
 * Cloudflare's API rate limit (developers.cloudflare.com/fundamentals/api/reference/limits):
 * 1200 requests per five minutes per user; past it every call is refused with 429 for the
 * next five minutes. `Ratelimit` and `Ratelimit-Policy` come with every answer, in the IETF
 * draft's structured form (draft-ietf-httpapi-ratelimit-headers: `"default";r=0;t=30`, `r` the
 * requests remaining, `t` the seconds until the quota is back), and `retry-after` (seconds,
 * rounded up, until capacity is back) only with a 429. The wait is `retry-after`; without it,
 * the `Ratelimit` header's `t`; without both, the documented five minutes.
 */

export const CLOUDFLARE_BLOCK_MS = 5 * 60_000;

/** `"default";r=0;t=30` → `{ remaining: 0, resetMs: 30000 }`: the first item of an IETF `RateLimit` field. */
export function parseRateLimitField(value: string | undefined): { remaining?: number; resetMs?: number } {
  if (!value) return {};
  const first = value.split(',')[0] ?? '';
  const out: { remaining?: number; resetMs?: number } = {};
  for (const param of first.split(';').slice(1)) {
    const [key, raw] = param.split('=').map((p) => p.trim());
    if (!raw || !/^\d+$/.test(raw)) continue;
    if (key === 'r') out.remaining = Number(raw);
    if (key === 't') out.resetMs = Number(raw) * 1000;
  }
  return out;
}

export const cloudflareRateLimit: RateLimitRules = {
  limited({ status, headers }, _count, now) {
    if (status !== 429) return undefined;
    const after = retryAfterMs(headers, now);
    const field = parseRateLimitField(headers.ratelimit);
    const policy = headers['ratelimit-policy'] ? `, Ratelimit-Policy ${headers['ratelimit-policy']}` : '';
    if (after !== undefined)
      return { waitMs: after, limit: `HTTP 429, retry-after ${formatWait(after)}${policy}` };
    if (field.resetMs !== undefined)
      return {
        waitMs: field.resetMs,
        limit: `HTTP 429, Ratelimit ${headers.ratelimit} (quota back in ${formatWait(field.resetMs)})${policy}`,
      };
    return {
      waitMs: CLOUDFLARE_BLOCK_MS,
      limit: `HTTP 429, no retry-after: blocked for five minutes${policy}`,
    };
  },
};
