import { describe, expect, it } from 'vitest';
import { writeGapFromEnv } from '../../src/providers/github/client.ts';
import { describeRateLimit, type RefusedWait } from '../../src/providers/github/rate-limit.ts';

/** What a step that gives up on a GitHub rate limit says about it. */

const budget = { ms: 60_000, bound: 'the input timeout' };
const base: RefusedWait = { kind: 'primary', waitS: 3601, headers: {}, waitedMs: 0, budget };

describe('describeRateLimit', () => {
  it.each([
    [
      'primary, with reset and resource',
      { headers: { 'x-ratelimit-reset': '1767229200', 'x-ratelimit-resource': 'core' } },
      "GitHub's primary rate limit (x-ratelimit-remaining 0, resource core, resets at 2026-01-01T01:00:00.000Z) needs a wait of 3601 s, more than the 60 s a GitHub request may wait (the input timeout); run again later",
    ],
    [
      'primary without a readable reset',
      { headers: { 'x-ratelimit-reset': 'soon' } },
      "GitHub's primary rate limit (x-ratelimit-remaining 0) needs a wait of 3601 s, more than the 60 s a GitHub request may wait (the input timeout); run again later",
    ],
    [
      'secondary with retry-after, after an earlier wait',
      { kind: 'secondary', waitS: 50, headers: { 'retry-after': '50' }, waitedMs: 20_000 },
      "GitHub's secondary rate limit (retry-after 50 s) needs a wait of 50 s, more than the 60 s a GitHub request may wait (the input timeout), after waiting 20 s; run again later",
    ],
    [
      'secondary without retry-after',
      { kind: 'secondary', waitS: 60, budget: { ms: 20_000, bound: 'the input health-timeout' } },
      "GitHub's secondary rate limit (no retry-after: at least one minute) needs a wait of 60 s, more than the 20 s a GitHub request may wait (the input health-timeout); run again later",
    ],
    [
      'a plain 429 with retry-after',
      { kind: 'retry-after', waitS: 120, headers: { 'retry-after': '120' } },
      "GitHub's HTTP 429 (retry-after 120 s) needs a wait of 120 s, more than the 60 s a GitHub request may wait (the input timeout); run again later",
    ],
  ] as const)('%s', (_label, over, expected) => {
    expect(describeRateLimit({ ...base, ...over } as RefusedWait)).toBe(expected);
  });
});

describe('OPS_ACTIONS_TEST_GITHUB_WRITE_GAP_MS, the test-only spacing of GitHub writes', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['0', 0],
    ['10', 10],
    ['1000', 1000],
  ])('%s → %s (undefined: plugin-throttling spaces them)', (raw, gap) => {
    expect(writeGapFromEnv(raw === undefined ? {} : { OPS_ACTIONS_TEST_GITHUB_WRITE_GAP_MS: raw })).toBe(gap);
  });

  it.each(['1001', '-1', '0.5', 'none'])('refuses %s naming the variable', (raw) => {
    expect(() => writeGapFromEnv({ OPS_ACTIONS_TEST_GITHUB_WRITE_GAP_MS: raw })).toThrow(
      /^Environment variable OPS_ACTIONS_TEST_GITHUB_WRITE_GAP_MS is for tests only and must be a whole number of ms from 0 to 1000, not "/,
    );
  });
});
