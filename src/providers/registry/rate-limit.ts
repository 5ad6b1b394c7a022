import { doubling, formatWait, type RateLimitRules, retryAfterMs } from '../../core/rate-limit.ts';

/**
 * Registry rate limits as the registries send them.
 * - Docker Hub's pull limit (docs.docker.com/docker-hub/usage/pulls/, "View pull rate and
 *   limit"): every manifest answer carries `ratelimit-limit: 100;w=21600` and
 *   `ratelimit-remaining: 76;w=21600` (pulls per window of `w` seconds, six hours); past it a
 *   manifest GET is answered 429 `TOOMANYREQUESTS` ("You have reached your pull rate limit").
 *   The window slides and no reset time is sent, so with no `Retry-After` the wait is the
 *   window: longer than any action's bound, which makes the step fail at once naming the limit.
 * - GHCR answers 429 `TOOMANYREQUESTS` with the wait in its message (`retry-after: 1.16676ms,
 *   allowed: 44000/minute`; seen in github.com/falcosecurity/plugins/issues/1069 and
 *   github.com/chainguard-images/images/issues/173) and a `Retry-After` header.
 * - Any other 429 (Docker Hub's overall per-IP limit answers a bare 429): `Retry-After` when
 *   sent, else 1 s doubling to 30 s, spread up to 25 % later.
 */

export const REGISTRY_FIRST_WAIT_MS = 1000;
export const REGISTRY_MAX_WAIT_MS = 30_000;
const SPREAD = 0.25;

/** `100;w=21600` → `{ count: 100, windowS: 21600 }`. */
export function parseQuota(value: string | undefined): { count: number; windowS?: number } | undefined {
  const match = value ? /^\s*(\d+)\s*(?:;\s*w=(\d+))?/.exec(value) : null;
  if (!match) return undefined;
  return { count: Number(match[1]), ...(match[2] ? { windowS: Number(match[2]) } : {}) };
}

const GO_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** The wait in a GHCR `TOOMANYREQUESTS` message (`retry-after: 333.939671ms`), in whole ms rounded up. */
export function retryAfterInMessage(body: unknown): number | undefined {
  const errors = (body as { errors?: { message?: unknown }[] } | undefined)?.errors;
  for (const e of Array.isArray(errors) ? errors : []) {
    const match =
      typeof e?.message === 'string' ? /retry-after:\s*([\d.]+)(ns|us|µs|ms|s|m|h)\b/.exec(e.message) : null;
    if (match) return Math.ceil(Number(match[1]) * GO_UNITS[match[2]!]!);
  }
  return undefined;
}

function hours(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : formatWait(seconds * 1000);
}

export const registryRateLimit: RateLimitRules = {
  limited({ status, headers, body }, count, now, random) {
    if (status !== 429) return undefined;
    const limit = parseQuota(headers['ratelimit-limit']);
    const remaining = parseQuota(headers['ratelimit-remaining']);
    const windowS = limit?.windowS ?? remaining?.windowS;
    const quota =
      limit && remaining
        ? `ratelimit-remaining ${remaining.count} of ${limit.count}${windowS ? ` per ${hours(windowS)}` : ''}`
        : undefined;
    const after = retryAfterMs(headers, now) ?? retryAfterInMessage(body);
    if (after !== undefined)
      return {
        waitMs: after,
        limit: `HTTP 429, retry-after ${formatWait(after)}${quota ? `, ${quota}` : ''}`,
      };
    if (remaining?.count === 0 && windowS)
      return {
        waitMs: windowS * 1000,
        limit: `HTTP 429, pull limit used up: ${quota ?? 'ratelimit-remaining 0'}, and no time given for the next free pull`,
      };
    return {
      waitMs: Math.round(
        doubling(count, REGISTRY_FIRST_WAIT_MS, REGISTRY_MAX_WAIT_MS) * (1 + SPREAD * random()),
      ),
      limit: 'HTTP 429',
    };
  },
};
