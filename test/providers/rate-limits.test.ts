import { afterEach, describe, expect, it } from 'vitest';
import type { FakeServer, Fault } from '../../sandbox/fake-server.ts';
import { cloudflareRateLimited, createCloudflareFake } from '../../sandbox/fakes/cloudflare.ts';
import { createDigitalOceanFake, digitalOceanRateLimited } from '../../sandbox/fakes/digitalocean.ts';
import { createFlyFake, flyRateLimited } from '../../sandbox/fakes/fly.ts';
import { createHerokuFake, herokuFault } from '../../sandbox/fakes/heroku.ts';
import { createHetznerFake, hetznerRateLimited } from '../../sandbox/fakes/hetzner.ts';
import { ApiError } from '../../src/core/errors.ts';
import type { HttpClient } from '../../src/core/http.ts';
import type { Line } from '../../src/core/message.ts';
import type { WaitBound } from '../../src/core/rate-limit.ts';
import { CloudflareHttp } from '../../src/providers/cloudflare/client.ts';
import { createDigitalOceanClient } from '../../src/providers/digitalocean/client.ts';
import { createFlyClient } from '../../src/providers/fly/client.ts';
import { createHerokuHttp } from '../../src/providers/heroku/client.ts';
import { createHetznerHttp, hcloudRetries } from '../../src/providers/hetzner/client.ts';

/**
 * Each provider client against its fake's real 429: the waits it computes (recorded by an
 * injected sleep, so nothing waits), the line it logs, and the clean failure when the next
 * wait would pass the bound.
 */

interface Harness {
  slept: number[];
  lines: string[];
  common: { redact: (t: string) => string; sleep: (ms: number) => Promise<void>; log: (l: Line) => void };
}

function harness(): Harness {
  const slept: number[] = [];
  const lines: string[] = [];
  return {
    slept,
    lines,
    common: {
      redact: (t) => t,
      sleep: async (ms) => {
        slept.push(ms);
      },
      log: (l) => lines.push(String(l)),
    },
  };
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

interface Case {
  provider: string;
  /** Starts the fake, injects `times` rate limits on one read and returns a client and the read. */
  open(
    h: Harness,
    fault: () => Fault,
    times: number,
    bound?: WaitBound,
  ): Promise<{ http: HttpClient; path: string; server: FakeServer }>;
  fault: () => Fault;
  /** The waits for three 429s in a row, in ms. */
  waits: number[];
  line: RegExp;
}

async function started<T extends { start(): Promise<unknown>; stop(): Promise<void> }>(fake: T): Promise<T> {
  await fake.start();
  stops.push(() => fake.stop());
  return fake;
}

const CASES: Case[] = [
  {
    provider: 'Heroku',
    fault: () => herokuFault(429),
    async open(h, fault, times, bound) {
      const fake = await started(createHerokuFake({ apiKeys: ['k'] }));
      fake.server.inject({ route: 'account.info', times, fault: fault() });
      const http = createHerokuHttp({
        baseUrl: fake.url,
        apiKey: 'k',
        // The middle of heroku-go's ±25 % spread.
        random: () => 0.5,
        ...h.common,
        ...(bound ? { waitBound: bound } : {}),
      });
      return { http, path: '/account', server: fake.server };
    },
    waits: [30_000, 60_000, 120_000],
    line: /^rate limited by Heroku, waiting 30 s \(HTTP 429, RateLimit-Remaining 0; read\)$/,
  },
  {
    provider: 'Hetzner',
    fault: () => hetznerRateLimited(),
    async open(h, fault, times, bound) {
      const fake = await started(createHetznerFake({ token: 't' }));
      fake.server.inject({ route: 'list_zones', times, fault: fault() });
      const http = createHetznerHttp({
        baseUrl: `${fake.server.url}/v1`,
        token: 't',
        random: () => 1,
        ...h.common,
        ...(bound ? { waitBound: bound } : {}),
      });
      return { http, path: '/zones', server: fake.server };
    },
    waits: [1000, 2000, 4000],
    line: /^rate limited by Hetzner, waiting 1 s \(HTTP 429, RateLimit-Remaining 0 of 3600, RateLimit-Reset \S+; read\)$/,
  },
  {
    provider: 'DigitalOcean',
    fault: () => digitalOceanRateLimited({ burst: true }),
    async open(h, fault, times, bound) {
      const fake = await started(createDigitalOceanFake({ token: 'd' }));
      fake.server.inject({ route: 'droplets_list', times, fault: fault() });
      const http = createDigitalOceanClient({
        baseUrl: `${fake.server.url}/v2`,
        token: 'd',
        random: () => 0,
        redact: h.common.redact,
        log: h.common.log,
        sleep: h.common.sleep,
        ...(bound ? { waitBound: bound } : {}),
      });
      return { http, path: '/droplets', server: fake.server };
    },
    waits: [1000, 2000, 4000],
    line: /^rate limited by DigitalOcean, waiting 1 s \(HTTP 429, burst limit of 250 requests a minute \(ratelimit-remaining 4750\); read\)$/,
  },
  {
    provider: 'Cloudflare',
    fault: () => cloudflareRateLimited(),
    async open(h, fault, times, bound) {
      const fake = await started(createCloudflareFake({ token: 'c' }));
      fake.server.inject({ route: 'zones-get', times, fault: fault() });
      const { http } = new CloudflareHttp({
        baseUrl: `${fake.server.url}/client/v4`,
        token: 'c',
        ...h.common,
        ...(bound ? { waitBound: bound } : {}),
      });
      return { http, path: '/zones', server: fake.server };
    },
    waits: [300_000, 300_000, 300_000],
    line: /^rate limited by Cloudflare, waiting 300 s \(HTTP 429, retry-after 300 s, Ratelimit-Policy "default";q=1200;w=300; read\)$/,
  },
  {
    provider: 'Fly Machines',
    fault: () => flyRateLimited(),
    async open(h, fault, times, bound) {
      const fake = await started(createFlyFake({ token: 'f', app: 'smooth' }));
      fake.server.inject({ route: 'Machines_list', times, fault: fault() });
      const http = createFlyClient({
        baseUrl: `${fake.server.url}/v1`,
        token: 'f',
        random: () => 0,
        redact: h.common.redact,
        log: h.common.log,
        sleep: h.common.sleep,
        ...(bound ? { waitBound: bound } : {}),
      });
      return { http, path: '/apps/smooth/machines', server: fake.server };
    },
    waits: [1000, 2000, 4000],
    line: /^rate limited by Fly Machines, waiting 1 s \(HTTP 429, per-action limit of 1 request a second per machine, bursts of 3; read\)$/,
  },
];

describe.each(CASES)('$provider client against its fake’s real 429', (c) => {
  it('waits as the provider’s own client does, logs each wait, then gets through', async () => {
    const h = harness();
    const { http, path, server } = await c.open(h, c.fault, 3);
    const res = await http.request({ operation: 'read', path });
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(4);
    expect(h.slept).toEqual(c.waits);
    expect(h.lines).toHaveLength(3);
    expect(h.lines[0]).toMatch(c.line);
    expect(server.requests.map((r) => r.status)).toEqual([429, 429, 429, 200]);
    expect(server.violations).toEqual([]);
  });

  it('fails at once, naming the provider and the limit, when the next wait would pass the bound', async () => {
    const h = harness();
    const bound = { budgetMs: c.waits[0]! + c.waits[1]! - 1, name: 'the input timeout' };
    const { http, path, server } = await c.open(h, c.fault, Number.POSITIVE_INFINITY, bound);
    const error = await http.request({ operation: 'read', path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toMatch(
      new RegExp(
        `with HTTP 429: rate limited by ${c.provider} past the input timeout \\(HTTP 429.*: waiting \\d+ s would pass it, at most [\\d.]+ s of waits in all, \\d+ s already waited\\)`,
      ),
    );
    expect(h.slept).toEqual([c.waits[0]]);
    expect(server.requests).toHaveLength(2);
  });
});

describe('Heroku on a shared key running low', () => {
  it('paces every request one refill interval apart, logged once', async () => {
    const h = harness();
    const fake = await started(createHerokuFake({ apiKeys: ['k'] }));
    fake.state.rateLimitRemaining = 60;
    const http = createHerokuHttp({ baseUrl: fake.url, apiKey: 'k', ...h.common });
    for (let i = 0; i < 3; i++) await http.request({ operation: 'account.info', path: '/account' });
    expect(h.slept).toEqual([800, 800]);
    expect(h.lines).toEqual([
      'rate limited by Heroku, waiting 0.8 s (RateLimit-Remaining 59 on a shared key: one request per refill, 75 a minute; account.info)',
    ]);
  });
});

describe('Hetzner retries what hcloud-go retries (hcloud/client_handler_retry.go retryPolicy), and locked, which hcloud-go leaves to its caller', () => {
  it.each([
    [409, 'conflict', true],
    [502, 'bad_gateway', true],
    [504, 'timeout', true],
    [502, undefined, true],
    [504, undefined, true],
    [423, 'locked', true],
    [503, 'maintenance', false],
    [500, 'server_error', false],
    [503, undefined, false],
    [500, undefined, false],
    [422, 'invalid_input', false],
  ] as const)('HTTP %i %s → retried: %s', (status, code, retried) => {
    const body = code === undefined ? undefined : { error: { code, message: 'x', details: {} } };
    expect(hcloudRetries(status, body)).toBe(retried);
  });

  it('gives up at the sixth rate-limited answer in a row: five retries, as hcloud-go', async () => {
    const h = harness();
    const fake = await started(createHetznerFake({ token: 't' }));
    fake.server.inject({ route: 'list_zones', times: Number.POSITIVE_INFINITY, fault: hetznerRateLimited() });
    const http = createHetznerHttp({
      baseUrl: `${fake.server.url}/v1`,
      token: 't',
      random: () => 0,
      ...h.common,
    });
    const error = await http.request({ operation: 'read', path: '/zones' }).catch((e: unknown) => e);
    expect((error as ApiError).message).toMatch(/rate limited by Hetzner 6 times in a row/);
    expect(fake.server.requests).toHaveLength(6);
    expect(h.slept).toHaveLength(5);
  });
});
