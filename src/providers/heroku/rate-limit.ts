import { doubling, type RateLimitRules } from '../../core/rate-limit.ts';

/**
 * Heroku's rate limit as heroku-go waits it out. The Platform API answers 429 with
 * `RateLimit-Remaining` and no `Retry-After` (devcenter.heroku.com/articles/platform-api-reference,
 * "Rate Limits": a key holds 4500 tokens and refills at about 75 a minute). heroku-go
 * (v5/round_trip_with_retry_backoff.go) retries a 429 after 30 s, doubling up to 900 s, with
 * ±25 % randomisation; here without it, so no wait is under 30 s and the log says what the wait
 * is. Jobs sharing a key spread out instead through the pacing below. One key is often shared by many jobs, so below `LOW_REMAINING` tokens every request first
 * waits one refill interval (60 s / 75), which keeps this job from draining the key.
 */

export const HEROKU_FIRST_WAIT_MS = 30_000;
export const HEROKU_MAX_WAIT_MS = 900_000;
/** 60 s / 75 requests: the interval at which the key gains a token. */
export const HEROKU_REFILL_MS = 800;
export const LOW_REMAINING = 100;

export const herokuRateLimit: RateLimitRules = {
  limited({ status, headers }, count) {
    if (status !== 429) return undefined;
    const remaining = headers['ratelimit-remaining'];
    return {
      waitMs: doubling(count, HEROKU_FIRST_WAIT_MS, HEROKU_MAX_WAIT_MS),
      limit: `HTTP 429${remaining === undefined ? '' : `, RateLimit-Remaining ${remaining}`}`,
    };
  },
  pace(headers) {
    const remaining = Number(headers['ratelimit-remaining']);
    if (headers['ratelimit-remaining'] === undefined || !(remaining < LOW_REMAINING)) return undefined;
    return {
      waitMs: HEROKU_REFILL_MS,
      limit: `RateLimit-Remaining ${remaining} on a shared key: one request per refill, 75 a minute`,
    };
  },
};
