/**
 * How a GitHub rate limit that outlasts the step's bound is reported. The
 * kinds and headers are those of GitHub's "Rate limits for the REST API"
 * (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api):
 * primary limits carry `x-ratelimit-remaining: 0` and `x-ratelimit-reset`
 * (UTC epoch seconds); secondary limits carry `retry-after` (seconds) or
 * nothing, and then one minute is the least to wait.
 */

/** `retry-after`: a 429 with that header and neither kind's marks, which GitHub does not document. */
export type RateLimitKind = 'primary' | 'secondary' | 'retry-after';

export interface RefusedWait {
  kind: RateLimitKind;
  /** The wait the throttling plugin asked for, in seconds. */
  waitS: number;
  /** The refused answer's headers, lower-case names. */
  headers: Record<string, string>;
  /** What this request had already waited for rate limits, in ms. */
  waitedMs: number;
  budget: { ms: number; bound: string };
}

/** One sentence naming the limit, when it ends, and the bound it would pass. */
export function describeRateLimit(r: RefusedWait): string {
  const until =
    r.kind === 'primary'
      ? primaryUntil(r.headers)
      : r.headers['retry-after'] !== undefined
        ? `retry-after ${r.headers['retry-after']} s`
        : 'no retry-after: at least one minute';
  const waited = r.waitedMs > 0 ? `, after waiting ${Math.round(r.waitedMs / 1000)} s` : '';
  const limit = r.kind === 'retry-after' ? 'HTTP 429' : `${r.kind} rate limit`;
  return `GitHub's ${limit} (${until}) needs a wait of ${r.waitS} s, more than the ${seconds(r.budget.ms)} s a GitHub request may wait (${r.budget.bound})${waited}; run again later`;
}

function primaryUntil(headers: Record<string, string>): string {
  const reset = Number(headers['x-ratelimit-reset']);
  const resource = headers['x-ratelimit-resource'] ? `, resource ${headers['x-ratelimit-resource']}` : '';
  if (!Number.isFinite(reset) || reset <= 0) return `x-ratelimit-remaining 0${resource}`;
  return `x-ratelimit-remaining 0${resource}, resets at ${new Date(reset * 1000).toISOString()}`;
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
