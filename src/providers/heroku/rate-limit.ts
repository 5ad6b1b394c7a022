import { doubling, type RateLimitRules, randomized } from '../../core/rate-limit.ts';

/**
 * Heroku's rate limit as heroku-go waits it out. The Platform API answers 429 with
 * `RateLimit-Remaining` and no `Retry-After` (devcenter.heroku.com/articles/platform-api-reference,
 * "Rate Limits": a key holds 4500 tokens and refills at about 75 a minute). heroku-go
 * (v6/round_trip_with_retry_backoff.go, cenkalti/backoff `ExponentialBackOff`) retries a 429
 * after 30 s, doubling up to 900 s, each wait spread by its `RandomizationFactor` 0.25 (30 s is
 * 22.5–37.5 s), so jobs limited together do not all send again at once; the log says the wait
 * actually taken. One key is often shared by many jobs, so below `LOW_REMAINING` tokens every
 * request first waits one refill interval (60 s / 75), which keeps this job from draining the key.
 */

export const HEROKU_FIRST_WAIT_MS = 30_000;
export const HEROKU_MAX_WAIT_MS = 900_000;
/** 60 s / 75 requests: the interval at which the key gains a token. */
export const HEROKU_REFILL_MS = 800;
export const LOW_REMAINING = 100;
/** heroku-go's `RandomizationFactor`: every wait is spread by ±25 %. */
export const HEROKU_RANDOMIZATION = 0.25;

export const herokuRateLimit: RateLimitRules = {
  limited({ status, headers }, count, _now, random) {
    if (status !== 429) return undefined;
    const remaining = headers['ratelimit-remaining'];
    return {
      waitMs: randomized(
        doubling(count, HEROKU_FIRST_WAIT_MS, HEROKU_MAX_WAIT_MS),
        HEROKU_RANDOMIZATION,
        random,
      ),
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
