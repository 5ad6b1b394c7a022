import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { actionLimits, createFlyFake, type FlyFake } from '../../sandbox/fakes/fly.ts';
import { createFlyClient } from '../../src/providers/fly/client.ts';
import { runBundle } from '../helpers/run-bundle.ts';
import { digestImage, expectNoSecrets, expectNoViolations, SECRETS } from './fixtures.ts';

/**
 * Fly's per-action rate limits (1 request a second per machine with bursts of 3; Get Machine
 * 5 a second with bursts of 10), enforced by the Fly fake: a deploy through the committed
 * bundle stays under them (no 429 at all), and a client that polls faster is answered 429 and
 * waits the refill of that action's own limit, naming it.
 */

let fly: FlyFake;
beforeEach(async () => {
  fly = createFlyFake({ token: SECRETS.fly, startDelayMs: 300, rateLimits: true });
  await fly.start();
});
afterEach(async () => {
  await fly.stop();
});

describe('Fly per-action rate limits', () => {
  it.each([
    ['GET', '/v1/apps/:app/machines/:id', { perSecond: 5, burst: 10 }],
    ['POST', '/v1/apps/:app/machines/:id', { perSecond: 1, burst: 3 }],
    ['GET', '/v1/apps/:app/machines/:id/wait', { perSecond: 1, burst: 3 }],
    ['GET', '/v1/apps/:app/machines', { perSecond: 1, burst: 3 }],
  ])('%s %s → %o', (method, pattern, limit) => expect(actionLimits(method, pattern)).toEqual(limit));

  it('a rolling deploy of three machines stays under every documented limit', async () => {
    for (const id of ['r1', 'r2', 'r3']) fly.addMachine({ id });
    const run = await runBundle('deploy', {
      inputs: {
        target: 'fly',
        image: digestImage('c'),
        'tag-image': 'false',
        'fly-app': 'test-app',
        'fly-api-token': SECRETS.fly,
        'fly-api-url': `${fly.server.url}/v1`,
        'health-timeout': '30',
      },
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs.status).toBe('success');
    expect(fly.server.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(run.stdout).not.toContain('rate limited by Fly Machines');
    expect(fly.server.received('Machines_show').length).toBeGreaterThan(0);
    expectNoSecrets(run);
    expectNoViolations(fly.server);
  });

  it('a client polling Get Machine faster than 5 a second is answered 429 and waits that limit’s refill', async () => {
    fly.addMachine({ id: 'p1' });
    const slept: number[] = [];
    const lines: string[] = [];
    const http = createFlyClient({
      baseUrl: `${fly.server.url}/v1`,
      token: SECRETS.fly,
      redact: (t) => t,
      random: () => 0,
      log: (line) => lines.push(String(line)),
      sleep: async (ms) => {
        slept.push(ms);
        await new Promise((r) => setTimeout(r, ms));
      },
    });
    for (let i = 0; i < 12; i++) await http.request({ operation: 'get', path: '/apps/test-app/machines/p1' });
    const statuses = fly.server.requests.map((r) => r.status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(statuses).toContain(429);
    expect(slept.every((ms) => ms >= 200)).toBe(true);
    expect(lines[0]).toBe(
      'rate limited by Fly Machines, waiting 0.2 s (HTTP 429, Get Machine limit of 5 requests a second per machine, bursts of 10; get)',
    );
  });
});
