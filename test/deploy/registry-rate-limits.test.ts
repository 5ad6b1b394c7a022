import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import {
  dockerHubPullLimit,
  ghcrRateLimited,
  pushImage,
  type Registry,
  startRegistry,
} from '../../sandbox/registry.ts';
import {
  parseQuota,
  registryRateLimit,
  retryAfterInMessage,
} from '../../src/providers/registry/rate-limit.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { expectNoSecrets, expectNoViolations, SECRETS } from './fixtures.ts';

/**
 * Registry rate limits met by a deploy, through the committed bundle: the real distribution
 * registry with token auth, fronted by a loopback proxy that answers a manifest request with
 * GHCR's 429 (waited out, logged) or Docker Hub's pull limit (no time of the next free pull:
 * one clean error naming the limit, no machine touched).
 */

const auth = { username: 'deployer', password: SECRETS.registry };
const NOW = Date.UTC(2026, 10, 30, 6, 0, 0);

describe('registry rate-limit rules', () => {
  it.each([
    {
      name: 'GHCR: Retry-After header',
      answer: ghcrRateLimited(3),
      waitMs: 3000,
      limit: /^HTTP 429, retry-after 3 s$/,
    },
    {
      name: 'GHCR: the wait only in the message, as a Go duration',
      answer: {
        status: 429,
        headers: {},
        body: {
          errors: [{ code: 'TOOMANYREQUESTS', message: 'retry-after: 333.939671ms, allowed: 44000/minute' }],
        },
      },
      waitMs: 334,
      limit: /^HTTP 429, retry-after 0\.3 s$/,
    },
    {
      name: 'Docker Hub pull limit: the six-hour window',
      answer: dockerHubPullLimit(),
      waitMs: 21_600_000,
      limit:
        /^HTTP 429, pull limit used up: ratelimit-remaining 0 of 100 per 6 h, and no time given for the next free pull$/,
    },
    {
      name: 'a bare 429 (Docker Hub overall limit)',
      answer: { status: 429, headers: {}, body: undefined },
      waitMs: 1000,
      limit: /^HTTP 429$/,
    },
    {
      name: 'not a rate limit',
      answer: { status: 404, headers: {}, body: undefined },
      waitMs: undefined,
      limit: undefined,
    },
  ])('$name', ({ answer, waitMs, limit }) => {
    const wait = registryRateLimit.limited(answer, 1, NOW, () => 0);
    expect(wait?.waitMs).toBe(waitMs);
    if (limit) expect(wait?.limit).toMatch(limit);
  });

  it.each([
    ['100;w=21600', { count: 100, windowS: 21600 }],
    ['76', { count: 76 }],
    ['x', undefined],
  ])('quota %j', (value, quota) => expect(parseQuota(value)).toEqual(quota));

  it.each([
    ['retry-after: 1.16676ms, allowed: 44000/minute', 2],
    ['retry-after: 880.092µs, allowed: 44000/minute', 1],
    ['retry-after: 2s', 2000],
    ['You have reached your pull rate limit', undefined],
  ])('GHCR message %j → %s ms', (message, ms) => {
    expect(retryAfterInMessage({ errors: [{ code: 'TOOMANYREQUESTS', message }] })).toBe(ms);
  });
});

describe('deploy bundle against a rate-limited registry', () => {
  let registry: Registry;
  let fly: FlyFake;
  beforeAll(async () => {
    registry = await startRegistry({ auth, tokenAuth: true, front: true });
    fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 50 });
    await fly.start();
  });
  afterAll(async () => {
    await fly?.stop();
    await registry?.stop();
  });

  const deploy = (tag: string) =>
    runBundle('deploy', {
      env: { OPS_ACTIONS_TEST_WAIT_SCALE: '0.01' },
      inputs: {
        target: 'fly',
        image: `${registry.host}/acme/app:${tag}`,
        'registry-username': auth.username,
        'registry-password': auth.password,
        'fly-app': 'test-app',
        'fly-api-token': SECRETS.fly,
        'fly-api-url': `${fly.server.url}/v1`,
        'health-timeout': '60',
      },
    });

  it('waits out GHCR’s 429 as it says, logs the wait, and deploys', async () => {
    const digest = await pushImage(registry, 'acme/app', '3.0.0', { content: 'ghcr' });
    fly.addMachine({ id: 'g1' });
    registry.limit('GET', 1, ghcrRateLimited(2));
    const run = await deploy('3.0.0');
    expect(run.errors).toEqual([]);
    expect(run.stdout).toContain(
      `rate limited by Registry ${registry.host}, waiting 2 s (HTTP 429, retry-after 2 s; manifest.get)`,
    );
    expect(fly.machine('g1')!.config.image).toBe(`${registry.host}/acme/app@${digest}`);
    expectNoSecrets(run);
    expectNoViolations(fly.server);
  });

  it('fails at once on Docker Hub’s pull limit, naming it and the bound, with no machine touched', async () => {
    await pushImage(registry, 'acme/app', '3.0.1', { content: 'hub' });
    fly.addMachine({ id: 'h1' });
    const before = fly.machine('h1')!.config.image;
    const updates = () => fly.server.requests.filter((r) => r.operation === 'Machines_update').length;
    const updatesBefore = updates();
    registry.limit('GET', 1, dockerHubPullLimit());
    const run = await deploy('3.0.1');
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /rate limited by Registry 127\.0\.0\.1:\d+ past the input health-timeout \(HTTP 429, pull limit used up: ratelimit-remaining 0 of 100 per 6 h, and no time given for the next free pull: waiting 21600 s would pass it, \d+ s left\)/,
    );
    expect(run.stdout).not.toMatch(/rate limited by Registry [^ ]+, waiting/);
    expect(fly.machine('h1')!.config.image).toBe(before);
    expect(updates()).toBe(updatesBefore);
    expectNoSecrets(run);
  });
});
