import { afterEach, describe, expect, it } from 'vitest';
import { cloudflareRateLimited } from '../../sandbox/fakes/cloudflare.ts';
import { createWorld, type World } from './world.ts';

/**
 * Cloudflare's rate limit met by a clone, through the committed bundle: its documented 429
 * (`Ratelimit`, `Ratelimit-Policy` and `retry-after`) waited out as `retry-after` says and
 * logged, or, when that wait would pass the clone's timeout, one error naming Cloudflare, the
 * limit and the bound, before any record is written.
 */

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

const records = () =>
  w!.cloudflare.server.requests.filter((r) => r.operation === 'dns-records-for-a-zone-create-dns-record');

describe('Cloudflare rate limits in a clone', () => {
  it('waits what retry-after says, logs it, and clones', async () => {
    w = await createWorld();
    w.cloudflare.server.inject({ route: 'zones-get', fault: cloudflareRateLimited(2) });
    const run = await w.run(
      { 'dns-provider': 'cloudflare' },
      { env: { OPS_ACTIONS_TEST_WAIT_SCALE: '0.01' } },
    );
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^rate limited by Cloudflare, waiting 2 s \(HTTP 429, retry-after 2 s, Ratelimit-Policy "default";q=1200;w=300; \S+\)$/m,
    );
    expect(
      w.cloudflare.server
        .received('zones-get')
        .map((r) => r.status)
        .slice(0, 2),
    ).toEqual([429, 200]);
    expect(records().map((r) => r.status)).toEqual([200]);
  });

  it('fails at once, naming Cloudflare and the limit, when the five-minute block would pass the timeout', async () => {
    w = await createWorld();
    w.cloudflare.server.inject({
      route: 'zones-get',
      times: Number.POSITIVE_INFINITY,
      fault: cloudflareRateLimited(300),
    });
    const run = await w.run({ 'dns-provider': 'cloudflare' });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /rate limited by Cloudflare past the input timeout \(HTTP 429, retry-after 300 s, Ratelimit-Policy "default";q=1200;w=300: waiting 300 s would pass it, \d+ s left\)/,
    );
    expect(w.cloudflare.server.received('zones-get')).toHaveLength(1);
    expect(records()).toEqual([]);
  });

  it('reads a retry-after already past (clock skew) as 1 s, not as a burst of retries', async () => {
    w = await createWorld();
    w.cloudflare.server.inject({
      route: 'zones-get',
      times: 2,
      fault: { status: 429, headers: { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' } },
    });
    const run = await w.run(
      { 'dns-provider': 'cloudflare' },
      { env: { OPS_ACTIONS_TEST_WAIT_SCALE: '0.1' } },
    );
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout.match(/^rate limited by Cloudflare, waiting 1 s /gm)).toHaveLength(2);
    const answers = w.cloudflare.server.received('zones-get').map((r) => r.status);
    expect(answers.slice(0, 3)).toEqual([429, 429, 200]);
  });
});
