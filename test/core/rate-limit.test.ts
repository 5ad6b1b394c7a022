import { describe, expect, it } from 'vitest';
import { redactMessage } from '../../src/core/message.ts';
import {
  epochMsOf,
  formatWait,
  judgeWait,
  type LimitedAnswer,
  type RateLimitRules,
  retryAfterMs,
  waitScaleFromEnv,
} from '../../src/core/rate-limit.ts';
import { Secrets } from '../../src/core/secrets.ts';
import { cloudflareRateLimit } from '../../src/providers/cloudflare/rate-limit.ts';
import { digitalOceanRateLimit } from '../../src/providers/digitalocean/rate-limit.ts';
import { flyRateLimit } from '../../src/providers/fly/rate-limit.ts';
import { herokuRateLimit } from '../../src/providers/heroku/rate-limit.ts';
import { hetznerRateLimit } from '../../src/providers/hetzner/rate-limit.ts';

const NOW = Date.UTC(2026, 10, 30, 6, 0, 0);
const epoch = (msFromNow: number) => String(Math.floor((NOW + msFromNow) / 1000));
const answer = (headers: Record<string, string>, status = 429): LimitedAnswer => ({
  status,
  headers,
  body: {},
});

interface Row {
  name: string;
  rules: RateLimitRules;
  answer: LimitedAnswer;
  /** The consecutive rate-limited answer this is (1 = first). */
  count: number;
  random?: number;
  waitMs: number | undefined;
  limit?: RegExp;
}

const ROWS: Row[] = [
  // heroku-go: 30 s, doubling, capped at 900 s, spread ±25 % (RandomizationFactor 0.25);
  // random 0.5 is the middle of the spread, 0 its low end, 1 its high end.
  ...[
    [1, 0.5, 30_000],
    [1, 0, 22_500],
    [1, 1, 37_500],
    [2, 0.5, 60_000],
    [3, 0.5, 120_000],
    [4, 0, 180_000],
    [5, 0.5, 480_000],
    [6, 0.5, 900_000],
    [9, 1, 1_125_000],
  ].map(([count, random, waitMs]) => ({
    name: `Heroku 429 #${count} (random ${random})`,
    rules: herokuRateLimit,
    answer: answer({ 'ratelimit-remaining': '0' }),
    count: count!,
    random: random!,
    waitMs,
    limit: /^HTTP 429, RateLimit-Remaining 0$/,
  })),
  {
    name: 'Heroku 503 is no rate limit',
    rules: herokuRateLimit,
    answer: answer({}, 503),
    count: 1,
    waitMs: undefined,
  },
  // hcloud-go: 1 s doubling to 60 s with jitter above the base; never past RateLimit-Reset.
  ...[
    [1, 0.5, 1000],
    [2, 0, 1000],
    [2, 1, 2000],
    [3, 0.5, 2500],
    [7, 1, 60_000],
    [10, 1, 60_000],
  ].map(([count, random, waitMs]) => ({
    name: `Hetzner 429 #${count} (random ${random})`,
    rules: hetznerRateLimit,
    answer: answer({
      'ratelimit-limit': '3600',
      'ratelimit-remaining': '0',
      'ratelimit-reset': epoch(3600_000),
    }),
    count: count!,
    random: random!,
    waitMs,
    limit: /^HTTP 429, RateLimit-Remaining 0 of 3600, RateLimit-Reset 2026-11-30T07:00:00.000Z$/,
  })),
  {
    name: 'Hetzner 429 whose reset comes before the backoff',
    rules: hetznerRateLimit,
    answer: answer({ 'ratelimit-remaining': '0', 'ratelimit-reset': epoch(3000) }),
    count: 5,
    random: 1,
    waitMs: 3000,
  },
  // DigitalOcean: hourly quota used up → until ratelimit-reset; burst → godo's 1 s doubling to 30 s,
  // spread up to 25 % later.
  {
    name: 'DigitalOcean hourly limit waits for ratelimit-reset',
    rules: digitalOceanRateLimit,
    answer: answer({
      'ratelimit-limit': '5000',
      'ratelimit-remaining': '0',
      'ratelimit-reset': epoch(42_000),
    }),
    count: 1,
    waitMs: 42_000,
    limit: /hourly limit: ratelimit-remaining 0, ratelimit-reset 2026-11-30T06:00:42/,
  },
  ...[
    [1, 0, 1000],
    [2, 0, 2000],
    [2, 1, 2500],
    [5, 0.5, 18_000],
    [6, 0, 30_000],
  ].map(([count, random, waitMs]) => ({
    name: `DigitalOcean burst limit #${count} (random ${random})`,
    rules: digitalOceanRateLimit,
    answer: answer({
      'ratelimit-limit': '5000',
      'ratelimit-remaining': '4750',
      'ratelimit-reset': epoch(60_000),
    }),
    count: count!,
    random: random!,
    waitMs,
    limit: /burst limit of 250 requests a minute \(ratelimit-remaining 4750\)/,
  })),
  // Cloudflare: retry-after, else the documented five-minute block.
  {
    name: 'Cloudflare 429 with retry-after',
    rules: cloudflareRateLimit,
    answer: answer({ 'retry-after': '17', 'ratelimit-policy': '"default";q=1200;w=300' }),
    count: 3,
    waitMs: 17_000,
    limit: /retry-after 17 s, Ratelimit-Policy "default";q=1200;w=300/,
  },
  // Without retry-after, the IETF draft `Ratelimit` field's `t` (seconds until the quota is back).
  {
    name: 'Cloudflare 429 with only the Ratelimit field',
    rules: cloudflareRateLimit,
    answer: answer({ ratelimit: '"default";r=0;t=42', 'ratelimit-policy': '"default";q=1200;w=300' }),
    count: 1,
    waitMs: 42_000,
    limit: /^HTTP 429, Ratelimit "default";r=0;t=42 \(quota "default" back in 42 s\), Ratelimit-Policy/,
  },
  // Several policies: the exhausted one binds, whatever its place in the list.
  {
    name: 'Cloudflare 429 with two policies, the second exhausted',
    rules: cloudflareRateLimit,
    answer: answer({
      ratelimit: '"default";r=900;t=240, "burst";r=0;t=7',
      'ratelimit-policy': '"default";q=1200;w=300, "burst";q=100;w=60',
    }),
    count: 1,
    waitMs: 7_000,
    limit: /\(quota "burst" back in 7 s\)/,
  },
  {
    name: 'Cloudflare 429 with an unreadable Ratelimit field',
    rules: cloudflareRateLimit,
    answer: answer({ ratelimit: 'default; r=zero' }),
    count: 1,
    waitMs: 300_000,
    limit: /no retry-after: blocked for five minutes/,
  },
  {
    name: 'Cloudflare 429 without retry-after',
    rules: cloudflareRateLimit,
    answer: answer({}),
    count: 1,
    waitMs: 300_000,
  },
  // Fly: an action's limit refills in a second (Get Machine's in 0.2 s); doubling to 10 s,
  // spread up to 25 % later; Retry-After obeyed when sent. The limit is the action's own.
  ...[
    [1, 0, 1000],
    [1, 1, 1250],
    [2, 0, 2000],
    [4, 0.5, 9000],
    [5, 0, 10_000],
  ].map(([count, random, waitMs]) => ({
    name: `Fly 429 #${count} (random ${random})`,
    rules: flyRateLimit,
    answer: { ...answer({}), request: 'POST /v1/apps/web/machines/e784/lease' },
    count: count!,
    random: random!,
    waitMs,
    limit: /^HTTP 429, per-action limit of 1 request a second per machine, bursts of 3$/,
  })),
  ...[
    [1, 0, 200],
    [2, 1, 500],
  ].map(([count, random, waitMs]) => ({
    name: `Fly Get Machine 429 #${count} (random ${random})`,
    rules: flyRateLimit,
    answer: { ...answer({}), request: 'GET /v1/apps/web/machines/e784' },
    count: count!,
    random: random!,
    waitMs,
    limit: /^HTTP 429, Get Machine limit of 5 requests a second per machine, bursts of 10$/,
  })),
  {
    name: 'Fly 429 with Retry-After',
    rules: flyRateLimit,
    answer: answer({ 'retry-after': '4' }),
    count: 1,
    waitMs: 4000,
  },
];

describe('each provider client’s rate-limit reading', () => {
  it.each(ROWS)('$name → $waitMs ms', (row) => {
    const wait = row.rules.limited(row.answer, row.count, NOW, () => row.random ?? 0);
    expect(wait?.waitMs).toBe(row.waitMs);
    if (row.limit) expect(wait?.limit).toMatch(row.limit);
  });
});

describe('Heroku pacing on a shared key', () => {
  it.each([
    [{ 'ratelimit-remaining': '4500' }, undefined],
    [{ 'ratelimit-remaining': '100' }, undefined],
    [{ 'ratelimit-remaining': '99' }, 800],
    [{ 'ratelimit-remaining': '0' }, 800],
    [{}, undefined],
  ])('%o → %s ms before the next request', (headers, waitMs) => {
    expect(herokuRateLimit.pace?.(headers)?.waitMs).toBe(waitMs);
  });
});

describe('judgeWait', () => {
  const wait = { waitMs: 30_000, limit: 'HTTP 429, RateLimit-Remaining 0' };
  it.each([
    { name: 'fits the budget', budgetMs: 60_000, deadlineIn: undefined, slept: 0, scale: 1, sleepMs: 30_000 },
    { name: 'fits exactly', budgetMs: 30_000, deadlineIn: undefined, slept: 0, scale: 1, sleepMs: 30_000 },
    {
      name: 'budget partly spent',
      budgetMs: 60_000,
      deadlineIn: undefined,
      slept: 40_000,
      scale: 1,
      sleepMs: undefined,
    },
    {
      name: 'deadline nearer than the budget',
      budgetMs: 600_000,
      deadlineIn: 12_000,
      slept: 0,
      scale: 1,
      sleepMs: undefined,
    },
    {
      name: 'scaled for a test: only the sleep is shorter',
      budgetMs: 60_000,
      deadlineIn: undefined,
      slept: 0,
      scale: 0.01,
      sleepMs: 300,
    },
    // The scale never changes the decision: 30 s does not fit 20 s, however short the test's sleep.
    {
      name: 'scaled for a test, past the bound',
      budgetMs: 20_000,
      deadlineIn: undefined,
      slept: 0,
      scale: 0.01,
      sleepMs: undefined,
    },
  ])('$name', (c) => {
    const verdict = judgeWait({
      provider: 'Heroku',
      wait,
      sleptMs: c.slept,
      bound: {
        budgetMs: c.budgetMs,
        name: 'the input timeout',
        ...(c.deadlineIn === undefined ? {} : { deadlineAt: NOW + c.deadlineIn }),
      },
      now: NOW,
      scale: c.scale,
    });
    if (c.sleepMs === undefined) {
      expect(verdict.wait).toBe(false);
      // "left" only when a deadline is what cuts the wait; a budget says what it allows.
      expect(verdict.wait === false && String(verdict.reason)).toMatch(
        c.deadlineIn === undefined
          ? /^rate limited by Heroku past the input timeout \(HTTP 429, RateLimit-Remaining 0: waiting 30 s would pass it, at most \d+ s of waits in all(, \d+ s already waited)?\)$/
          : /^rate limited by Heroku past the input timeout \(HTTP 429, RateLimit-Remaining 0: waiting 30 s would pass it, \d+ s left\)$/,
      );
    } else expect(verdict).toEqual({ wait: true, sleepMs: c.sleepMs });
  });

  it.each([
    {
      name: 'a deadline says how much was left',
      bound: { budgetMs: 60_000, deadlineAt: NOW + 1500, name: 'the input timeout' },
      slept: 0,
      room: '1.5 s left',
    },
    {
      name: 'a budget alone says what it allows, not "left"',
      bound: { budgetMs: 1500, name: 'the post step' },
      slept: 0,
      room: 'at most 1.5 s of waits in all',
    },
    {
      name: 'a budget partly spent says what was waited',
      bound: { budgetMs: 10_000, name: 'the post step' },
      slept: 9000,
      room: 'at most 10 s of waits in all, 9 s already waited',
    },
    {
      name: 'a budget nearer than the deadline is the one named',
      bound: { budgetMs: 1000, deadlineAt: NOW + 60_000, name: 'the input deadline' },
      slept: 0,
      room: 'at most 1 s of waits in all',
    },
  ])('$name', ({ bound, slept, room }) => {
    const verdict = judgeWait({
      provider: 'Hetzner',
      wait: { waitMs: 2000, limit: 'HTTP 429' },
      sleptMs: slept,
      bound,
      now: NOW,
      scale: 1,
    });
    expect(verdict.wait).toBe(false);
    if (verdict.wait) return;
    expect(String(verdict.reason)).toBe(
      `rate limited by Hetzner past ${bound.name} (HTTP 429: waiting 2 s would pass it, ${room})`,
    );
    expect(String(verdict.over)).toBe(`waiting 2 s would pass ${bound.name} (${room})`);
    // The provider's limit is the only value: a secret `in` leaves "waiting" and "in all" whole.
    const secrets = new Secrets(() => undefined);
    secrets.add('in');
    expect(redactMessage(verdict.reason, secrets.redactor)).toBe(
      `rate limited by Hetzner past ${bound.name} (HTTP 429: waiting 2 s would pass it, ${room})`,
    );
  });
});

describe('formatWait and the test-only scale', () => {
  it.each([
    [800, '0.8 s'],
    [1000, '1 s'],
    [2500, '2.5 s'],
    [30_000, '30 s'],
    [12_400, '12 s'],
  ])('%i ms → %s', (ms, text) => expect(formatWait(ms)).toBe(text));

  it.each([
    [undefined, 1],
    ['0.01', 0.01],
    ['1', 1],
    ['.5', 0.5],
  ])('OPS_ACTIONS_TEST_WAIT_SCALE=%s → %s', (raw, scale) => {
    expect(waitScaleFromEnv(raw === undefined ? {} : { OPS_ACTIONS_TEST_WAIT_SCALE: raw })).toBe(scale);
  });

  it.each(['0', '2', 'fast', '-1'])('refuses OPS_ACTIONS_TEST_WAIT_SCALE=%s naming the variable', (raw) => {
    expect(() => waitScaleFromEnv({ OPS_ACTIONS_TEST_WAIT_SCALE: raw })).toThrow(
      /Environment variable OPS_ACTIONS_TEST_WAIT_SCALE is for tests only/,
    );
  });
});

describe('Retry-After and reset epochs, read once for every provider', () => {
  it.each([
    ['30', 30_000],
    ['1.5', 1500],
    ['Mon, 30 Nov 2026 06:00:12 GMT', 12_000],
    // 0 or a date already past (clock skew) waits the shortest wait, never a burst of retries.
    ['0', 1000],
    ['0.2', 1000],
    ['Wed, 21 Oct 2015 07:28:00 GMT', 1000],
    ['soon', undefined],
    ['', undefined],
  ])('retry-after %j → %s ms', (value, ms) => {
    expect(retryAfterMs({ 'retry-after': value }, NOW)).toBe(ms);
  });

  it.each([
    ['1796020446', 1_796_020_446_000],
    // DigitalOcean has been seen sending ms: read as ms, not as a date 57 000 years away.
    ['1796020446373', 1_796_020_446_373],
    ['x', undefined],
  ])('reset %j → epoch ms %s', (value, ms) => {
    expect(epochMsOf(value)).toBe(ms);
  });

  it('DigitalOcean names the reset as a real date when it comes in ms', () => {
    const reset = String(NOW + 20_000);
    const wait = digitalOceanRateLimit.limited(
      { status: 429, headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': reset }, body: undefined },
      1,
      NOW,
      () => 0,
    );
    expect(wait).toEqual({
      waitMs: 20_000,
      limit: 'HTTP 429, hourly limit: ratelimit-remaining 0, ratelimit-reset 2026-11-30T06:00:20.000Z',
    });
  });
});
