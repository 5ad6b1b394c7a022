import { describe, expect, it } from 'vitest';
import type { Fault } from '../../sandbox/fake-server.ts';
import { cloudflareRateLimited } from '../../sandbox/fakes/cloudflare.ts';
import { digitalOceanRateLimited } from '../../sandbox/fakes/digitalocean.ts';
import { flyRateLimited } from '../../sandbox/fakes/fly.ts';
import { herokuFault } from '../../sandbox/fakes/heroku.ts';
import { hetznerRateLimited } from '../../sandbox/fakes/hetzner.ts';

/** Each fake's 429 carries the headers its provider documents, and none it does not. */
describe.each<{ name: string; fault: Fault; present: string[]; absent: string[]; body: unknown }>([
  {
    name: 'Heroku',
    fault: herokuFault(429),
    present: ['ratelimit-remaining'],
    absent: ['retry-after'],
    body: { id: 'rate_limit' },
  },
  {
    name: 'Hetzner',
    fault: hetznerRateLimited(),
    present: ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
    absent: ['retry-after'],
    body: { error: { code: 'rate_limit_exceeded' } },
  },
  {
    name: 'DigitalOcean',
    fault: digitalOceanRateLimited(),
    present: ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
    absent: ['retry-after'],
    body: { id: 'too_many_requests' },
  },
  {
    name: 'Cloudflare',
    fault: cloudflareRateLimited(),
    present: ['ratelimit', 'ratelimit-policy', 'retry-after'],
    absent: [],
    body: { success: false },
  },
  {
    name: 'Fly Machines',
    fault: flyRateLimited(),
    present: [],
    absent: ['retry-after', 'ratelimit-remaining'],
    body: { error: 'rate limit exceeded' },
  },
])('$name 429', ({ fault, present, absent, body }) => {
  it('has the documented headers and body', () => {
    expect(fault.status).toBe(429);
    expect(fault.retryAfter).toBeUndefined();
    const headers = fault.headers ?? {};
    for (const name of present) expect(headers[name], name).toMatch(/\S/);
    for (const name of absent) expect(headers[name], name).toBeUndefined();
    expect(fault.json).toMatchObject(body as object);
  });
});

it('DigitalOcean: the hourly limit has no quota left, the burst limit has', () => {
  expect(digitalOceanRateLimited().headers?.['ratelimit-remaining']).toBe('0');
  expect(Number(digitalOceanRateLimited({ burst: true }).headers?.['ratelimit-remaining'])).toBeGreaterThan(
    0,
  );
});
