import { describe, expect, it } from 'vitest';
import {
  type AttemptOutcome,
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  decideRetry,
  isRetryableStatus,
  parseRetryAfter,
} from '../../src/core/retry.ts';

const policy = {
  ...DEFAULT_RETRY_POLICY,
  retries: 3,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  retryAfterCapMs: 5000,
};
const half = () => 0.5;

describe('isRetryableStatus', () => {
  it.each([
    [408, true],
    [425, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [599, true],
    [400, false],
    [401, false],
    [404, false],
    [409, false],
    [422, false],
    [200, false],
  ])('%i → %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });
});

describe('decideRetry', () => {
  const cases: [string, string, AttemptOutcome, number, boolean | undefined, boolean][] = [
    ['GET on 503', 'GET', { kind: 'status', status: 503 }, 1, undefined, true],
    ['GET on 404', 'GET', { kind: 'status', status: 404 }, 1, undefined, false],
    ['GET on network reset', 'GET', { kind: 'network', code: 'ECONNRESET' }, 1, undefined, true],
    ['GET on timeout', 'GET', { kind: 'timeout' }, 2, undefined, true],
    ['GET after the last retry', 'GET', { kind: 'status', status: 503 }, 4, undefined, false],
    ['DELETE on 500', 'DELETE', { kind: 'status', status: 500 }, 1, undefined, true],
    ['PUT on 502', 'PUT', { kind: 'status', status: 502 }, 1, undefined, true],
    ['POST on 503', 'POST', { kind: 'status', status: 503 }, 1, undefined, false],
    ['POST on timeout', 'POST', { kind: 'timeout' }, 1, undefined, false],
    ['POST on connection reset', 'POST', { kind: 'network', code: 'ECONNRESET' }, 1, undefined, false],
    [
      'POST on connection refused (never sent)',
      'POST',
      { kind: 'network', code: 'ECONNREFUSED' },
      1,
      undefined,
      true,
    ],
    ['POST on 429 (refused before any work)', 'POST', { kind: 'status', status: 429 }, 1, undefined, true],
    ['POST marked safe on 503', 'POST', { kind: 'status', status: 503 }, 1, true, true],
    ['POST marked safe on timeout', 'POST', { kind: 'timeout' }, 3, true, true],
    ['PATCH on 500', 'PATCH', { kind: 'status', status: 500 }, 1, undefined, false],
    ['POST marked safe on 400', 'POST', { kind: 'status', status: 400 }, 1, true, false],
  ];
  it.each(cases)('%s', (_name, method, outcome, attempt, retrySafe, expected) => {
    const decision = decideRetry({ attempt, method, outcome, retrySafe, policy, random: half });
    expect(decision.retry).toBe(expected);
  });

  it('waits what Retry-After asks, in seconds', () => {
    const d = decideRetry({
      attempt: 1,
      method: 'GET',
      outcome: { kind: 'status', status: 429, retryAfter: '2' },
      policy,
      random: half,
    });
    expect(d).toEqual({ retry: true, delayMs: 2000 });
  });

  it('waits until a Retry-After date', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    const d = decideRetry({
      attempt: 1,
      method: 'GET',
      outcome: { kind: 'status', status: 503, retryAfter: 'Sun, 22 Nov 2026 10:00:03 GMT' },
      policy,
      now,
    });
    expect(d).toEqual({ retry: true, delayMs: 3000 });
  });

  it('cuts a Retry-After longer than the cap to the cap', () => {
    const d = decideRetry({
      attempt: 1,
      method: 'GET',
      outcome: { kind: 'status', status: 429, retryAfter: '3600' },
      policy,
    });
    expect(d).toEqual({ retry: true, delayMs: policy.retryAfterCapMs });
  });

  it('falls back to backoff when Retry-After is unreadable', () => {
    const d = decideRetry({
      attempt: 2,
      method: 'GET',
      outcome: { kind: 'status', status: 503, retryAfter: 'soon' },
      policy,
      random: half,
    });
    expect(d).toEqual({ retry: true, delayMs: 100 });
  });
});

describe('backoffDelay (full jitter)', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1000],
    [12, 1000],
  ])('attempt %i stays below %i ms', (attempt, ceiling) => {
    expect(backoffDelay(attempt, policy, () => 0)).toBe(0);
    expect(backoffDelay(attempt, policy, () => 0.999999)).toBe(ceiling - 1);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt, policy);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(ceiling);
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  it.each([
    ['0', 0],
    ['7', 7000],
    [' 12 ', 12_000],
    ['Sun, 22 Nov 2026 10:01:00 GMT', 60_000],
    ['Sun, 22 Nov 2026 09:00:00 GMT', 0],
    ['', undefined],
    ['-5', undefined],
    ['1.5', 1500],
    ['tomorrow-ish', undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
  it('absent header', () => expect(parseRetryAfter(undefined, now)).toBeUndefined());
});
